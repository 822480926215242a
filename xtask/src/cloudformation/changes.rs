//! The readable summary of a change set: what is added, modified (and whether it is replaced),
//! and removed, with IAM resources called out.

use std::{collections::BTreeMap, fmt::Write};

use aws_sdk_cloudformation::types::{Change, ChangeAction, Replacement};

/// One resource change, reduced to what the summary shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceChange {
    pub(crate) action: Action,
    pub(crate) logical_id: String,
    pub(crate) resource_type: String,
    /// Whether a modification replaces the resource: `Some(true)` yes, `Some(false)` no,
    /// `None` when CloudFormation cannot tell before it runs (`Conditional`) or does not say.
    pub(crate) replacement: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Action {
    Add,
    Modify,
    Remove,
    /// Import, Dynamic and what a newer API may add: shown as CloudFormation names it.
    Other,
}

impl ResourceChange {
    /// The resource changes of a change set's `Changes`; other kinds of change are skipped.
    pub(crate) fn from_changes(changes: &[Change]) -> Vec<ResourceChange> {
        let mut res: Vec<ResourceChange> = changes
            .iter()
            .filter_map(|change| change.resource_change())
            .map(|change| ResourceChange {
                action: match change.action() {
                    Some(ChangeAction::Add) => Action::Add,
                    Some(ChangeAction::Modify) => Action::Modify,
                    Some(ChangeAction::Remove) => Action::Remove,
                    _ => Action::Other,
                },
                logical_id: change.logical_resource_id().unwrap_or("?").to_owned(),
                resource_type: change.resource_type().unwrap_or("?").to_owned(),
                replacement: match change.replacement() {
                    Some(Replacement::True) => Some(true),
                    Some(Replacement::False) => Some(false),
                    _ => None,
                },
            })
            .collect();
        res.sort_by(|a, b| (a.action, &a.logical_id).cmp(&(b.action, &b.logical_id)));
        res
    }

    /// IAM resources change who may do what: the summary marks them.
    pub(crate) fn is_iam(&self) -> bool {
        self.resource_type.starts_with("AWS::IAM::")
            || matches!(
                self.resource_type.as_str(),
                "AWS::S3::BucketPolicy" | "AWS::SNS::TopicPolicy" | "AWS::Lambda::Permission" | "AWS::SQS::QueuePolicy"
            )
    }
}

/// The summary printed before a change set is executed (or by `diff`), one line per resource.
pub(crate) fn summary(stack_name: &str, changes: &[ResourceChange]) -> String {
    let count = |action| changes.iter().filter(|it| it.action == action).count();
    let mut out = format!(
        "{stack_name}: {} to add, {} to modify, {} to remove\n",
        count(Action::Add),
        count(Action::Modify),
        count(Action::Remove)
    );
    for change in changes {
        let sign = match change.action {
            Action::Add => "+",
            Action::Modify => "~",
            Action::Remove => "-",
            Action::Other => "?",
        };
        let replacement = match (change.action, change.replacement) {
            (Action::Modify, Some(true)) => " (REPLACED: a new resource, the old one deleted)",
            (Action::Modify, None) => " (may be replaced)",
            _ => "",
        };
        let iam = if change.is_iam() { " [IAM: changes permissions]" } else { "" };
        writeln!(out, "  {sign} {} {}{replacement}{iam}", change.logical_id, change.resource_type)
            .expect("writing to a String cannot fail");
    }
    if changes.iter().any(ResourceChange::is_iam) {
        out.push_str("  This change set changes IAM permissions: review the lines marked [IAM].\n");
    }
    out
}

/// The parameters that change, old value to new: new code keys and image digests show here.
/// Empty when none changes.
pub(crate) fn parameter_changes(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (key, value) in new {
        match old.get(key) {
            Some(previous) if previous == value => Ok(()),
            Some(previous) => writeln!(out, "  parameter {key}: {previous} -> {value}"),
            None => writeln!(out, "  parameter {key}: {value}"),
        }
        .expect("writing to a String cannot fail");
    }
    out
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudformation::types::ResourceChange as SdkResourceChange;
    use expect_test::expect;

    use super::*;

    fn change(action: ChangeAction, id: &str, resource_type: &str, replacement: Option<Replacement>) -> Change {
        let mut resource =
            SdkResourceChange::builder().action(action).logical_resource_id(id).resource_type(resource_type);
        if let Some(replacement) = replacement {
            resource = resource.replacement(replacement);
        }
        Change::builder().resource_change(resource.build()).build()
    }

    #[test]
    fn parameter_changes_show_new_and_changed_values_only() {
        let old = BTreeMap::from([
            ("JobImageDigest".to_owned(), "sha256:aa".to_owned()),
            ("Same".to_owned(), "x".to_owned()),
        ]);
        let new = BTreeMap::from([
            ("JobImageDigest".to_owned(), "sha256:bb".to_owned()),
            ("Same".to_owned(), "x".to_owned()),
            ("WebCodeKey".to_owned(), "web/1.zip".to_owned()),
        ]);
        assert_eq!(
            parameter_changes(&old, &new),
            "  parameter JobImageDigest: sha256:aa -> sha256:bb\n  parameter WebCodeKey: web/1.zip\n"
        );
    }

    #[test]
    fn summary_groups_by_action_and_calls_out_replacements_and_iam() {
        let changes = ResourceChange::from_changes(&[
            change(ChangeAction::Remove, "Old", "AWS::SNS::Topic", None),
            change(ChangeAction::Modify, "Reports", "AWS::S3::Bucket", Some(Replacement::True)),
            change(ChangeAction::Add, "JobRole", "AWS::IAM::Role", None),
            change(ChangeAction::Modify, "Token", "AWS::SSM::Parameter", Some(Replacement::False)),
            change(ChangeAction::Modify, "Cluster", "AWS::ECS::Cluster", Some(Replacement::Conditional)),
        ]);
        expect![[r#"
            invest-alchemy-dev-app: 1 to add, 3 to modify, 1 to remove
              + JobRole AWS::IAM::Role [IAM: changes permissions]
              ~ Cluster AWS::ECS::Cluster (may be replaced)
              ~ Reports AWS::S3::Bucket (REPLACED: a new resource, the old one deleted)
              ~ Token AWS::SSM::Parameter
              - Old AWS::SNS::Topic
              This change set changes IAM permissions: review the lines marked [IAM].
        "#]]
        .assert_eq(&summary("invest-alchemy-dev-app", &changes));
    }
}
