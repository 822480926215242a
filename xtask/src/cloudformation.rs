//! The deploy engine: one stack at a time through a change set, the way the CDK CLI does it.
//!
//! [`deploy_stack`] creates a change set (CREATE or UPDATE by the stack's state), waits for it,
//! treats "no changes" as success (and deletes the empty change set), prints a summary, asks on
//! protected stages, executes it, follows the events with a progress bar, and on failure returns
//! an error that starts with the first failing resource and its reason. [`diff_stack`] stops
//! after the summary and deletes the change set. [`delete_stack`] deletes and waits.
//! Every step is safe to run twice.

mod changes;
mod events;

use std::{collections::BTreeMap, time::Duration};

use anyhow::Context;
use aws_sdk_cloudformation::{
    Client,
    error::ProvideErrorMetadata,
    types::{Capability, ChangeSetStatus, ChangeSetType, Parameter, ResourceToImport, Stack},
};

use crate::aws::AwsContext;
use crate::prompt::Prompt;

pub(crate) use changes::{Action, ResourceChange};

/// One stack to deploy: what the stacks crate synthesized plus the values only known at deploy time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StackPlan {
    /// The CloudFormation stack name, e.g. `invest-alchemy-dev-app`.
    pub(crate) name: String,
    /// The region of the stack when it is not the configured one (the edge stack: us-east-1).
    pub(crate) region: Option<String>,
    /// The template, YAML or JSON, as `cargo xtask synth` writes it. At most 51,200 bytes: the
    /// engine sends the body inline, not through a bucket.
    pub(crate) template_body: String,
    /// Parameter values by key (artifact keys, the image digest, earlier stacks' outputs).
    /// Parameters the template gives a default may be left out.
    pub(crate) parameters: BTreeMap<String, ParameterValue>,
    /// Existing resources to bring into the stack: when the stack does not exist and this is not
    /// empty, the change set is an IMPORT of them, and `template_body` may hold nothing else.
    pub(crate) import: Vec<Import>,
}

/// The value a change set gives a parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParameterValue {
    Value(String),
    /// The value the stack was last deployed with (`UsePreviousValue`): what `diff` gives an
    /// artifact parameter it has no packaged artifact for.
    UsePrevious,
}

/// An existing resource an IMPORT change set brings into a stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Import {
    pub(crate) logical_id: String,
    pub(crate) resource_type: String,
    /// The resource's identifier properties, e.g. `BucketName`.
    pub(crate) identifier: BTreeMap<String, String>,
}

/// A stack's outputs by key.
pub(crate) type Outputs = BTreeMap<String, String>;

/// What a deploy may do without asking, and whom it asks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeployOptions {
    /// Ask before executing a change set (stages marked `protected`).
    pub(crate) protected: bool,
    pub(crate) prompt: Prompt,
}

/// Deploys `plan` and returns the stack's outputs. A stack without changes costs a few
/// requests, changes nothing, and prints "no changes".
pub(crate) async fn deploy_stack(client: &Client, plan: &StackPlan, options: DeployOptions) -> anyhow::Result<Outputs> {
    let name = plan.name.as_str();
    let mut existing = describe_stack(client, name).await?;
    if let Some(stack) = &existing {
        let status = status_of(stack);
        if status == "ROLLBACK_COMPLETE" {
            // A failed first create leaves a stack that can only be deleted.
            eprintln!("{name}: in ROLLBACK_COMPLETE after a failed first create; it holds no resources");
            if !options.prompt.confirm(&format!("Delete {name} and create it again?"))? {
                anyhow::bail!("{name} is in ROLLBACK_COMPLETE and was not deleted: nothing deployed");
            }
            delete_stack(client, name).await?;
            existing = None;
        } else if !events::is_final(&status) && status != "REVIEW_IN_PROGRESS" {
            anyhow::bail!("{name} is busy ({status}): wait for the running operation to finish, then deploy again");
        }
    }
    // A stack in REVIEW_IN_PROGRESS was made by a CREATE change set never executed: create it.
    let change_set_type = match &existing {
        Some(stack) if status_of(stack) != "REVIEW_IN_PROGRESS" => ChangeSetType::Update,
        _ if !plan.import.is_empty() => ChangeSetType::Import,
        _ => ChangeSetType::Create,
    };
    let change_set = create_change_set(client, plan, change_set_type.clone()).await?;
    let Some(changes) = &change_set.changes else {
        eprintln!("{name}: no changes");
        return stack_outputs(client, name).await;
    };
    print_changes(plan, existing.as_ref(), changes);
    if options.protected
        && !options.prompt.confirm(&format!("{name} is on a protected stage. Execute these changes?"))?
    {
        discard(client, name, &change_set, &change_set_type).await?;
        anyhow::bail!("deploy of {name} cancelled; nothing was changed");
    }
    let seen = events::Seen::current(client, &change_set.stack_id).await?;
    client
        .execute_change_set()
        .change_set_name(&change_set.id)
        .send()
        .await
        .aws_context(|| format!("executing the change set of {name}"))?;
    let outcome = events::follow(client, name, &change_set.stack_id, seen, changes.len()).await?;
    if !matches!(outcome.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE") {
        let mut message = outcome.failure_summary(name);
        if outcome.status == "ROLLBACK_COMPLETE" {
            message.push_str("\nthe next deploy offers to delete the empty stack and create it again");
        }
        anyhow::bail!(message);
    }
    stack_outputs(client, name).await
}

/// What deploying a plan would do to its stack, as a change set tells it.
#[derive(Debug)]
pub(crate) enum Planned {
    /// The stack is in ROLLBACK_COMPLETE: no change set can be made; deploy deletes it first.
    RollbackComplete,
    /// The change set was empty.
    NoChanges,
    /// These resources would change.
    Changes(Vec<ResourceChange>),
}

/// Prints what deploying `plan` would change, without changing anything.
pub(crate) async fn diff_stack(client: &Client, plan: &StackPlan) -> anyhow::Result<()> {
    let name = plan.name.as_str();
    let (existing, planned) = plan_changes(client, plan).await?;
    match planned {
        Planned::RollbackComplete => eprintln!(
            "{name}: in ROLLBACK_COMPLETE after a failed first create; deploy offers to delete it and create it again"
        ),
        Planned::NoChanges => eprintln!("{name}: no changes"),
        Planned::Changes(changes) => print_changes(plan, existing.as_ref(), &changes),
    }
    Ok(())
}

/// What deploying `plan` would change, without changing anything: a change set is created,
/// described and deleted (with the empty stack a CREATE change set makes). Also returns the stack
/// as it is.
pub(crate) async fn plan_changes(client: &Client, plan: &StackPlan) -> anyhow::Result<(Option<Stack>, Planned)> {
    let name = plan.name.as_str();
    let existing = describe_stack(client, name).await?;
    let change_set_type = match existing.as_ref().map(status_of).as_deref() {
        Some("ROLLBACK_COMPLETE") => return Ok((existing, Planned::RollbackComplete)),
        Some(status) if status != "REVIEW_IN_PROGRESS" => ChangeSetType::Update,
        _ => ChangeSetType::Create,
    };
    let change_set = create_change_set(client, plan, change_set_type.clone()).await?;
    let Some(changes) = change_set.changes.clone() else {
        return Ok((existing, Planned::NoChanges));
    };
    discard(client, name, &change_set, &change_set_type).await?;
    Ok((existing, Planned::Changes(changes)))
}

/// The physical ids of a stack's resources by logical id (every endpoint fills them, outputs or
/// not: the emulator gives a stack made by a change set no outputs).
pub(crate) async fn physical_ids(client: &Client, name: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut ids = BTreeMap::new();
    let mut pages = client.list_stack_resources().stack_name(name).into_paginator().items().send();
    while let Some(it) = pages.next().await {
        let it = it.aws_context(|| format!("listing the resources of {name}"))?;
        if let (Some(logical), Some(physical)) = (it.logical_resource_id(), it.physical_resource_id()) {
            ids.insert(logical.to_owned(), physical.to_owned());
        }
    }
    Ok(ids)
}

/// Prints the resource and parameter changes of `plan` against the stack as it is.
fn print_changes(plan: &StackPlan, existing: Option<&Stack>, changes: &[ResourceChange]) {
    eprint!("{}", changes::summary(&plan.name, changes));
    let new: BTreeMap<String, String> = plan
        .parameters
        .iter()
        .filter_map(|(key, value)| match value {
            ParameterValue::Value(value) => Some((key.clone(), value.clone())),
            ParameterValue::UsePrevious => None,
        })
        .collect();
    eprint!("{}", changes::parameter_changes(&parameters_of(existing), &new));
}

/// Deletes a change set that will not be executed and, for a CREATE change set, the empty stack
/// in REVIEW_IN_PROGRESS it made: nothing is left behind.
async fn discard(
    client: &Client,
    name: &str,
    change_set: &CreatedChangeSet,
    change_set_type: &ChangeSetType,
) -> anyhow::Result<()> {
    delete_change_set(client, &change_set.id).await?;
    if matches!(change_set_type, ChangeSetType::Create | ChangeSetType::Import) {
        client
            .delete_stack()
            .stack_name(&change_set.stack_id)
            .send()
            .await
            .aws_context(|| format!("deleting the empty stack {name} its change set made"))?;
    }
    Ok(())
}

/// Deletes a stack and waits until it is gone, following its events. A stack that does not
/// exist is already deleted. Resources with `DeletionPolicy: Retain` stay.
pub(crate) async fn delete_stack(client: &Client, name: &str) -> anyhow::Result<()> {
    let Some(stack) = describe_stack(client, name).await? else {
        eprintln!("{name}: does not exist");
        return Ok(());
    };
    let stack_id = stack.stack_id().unwrap_or(name).to_owned();
    let seen = events::Seen::current(client, &stack_id).await?;
    client.delete_stack().stack_name(&stack_id).send().await.aws_context(|| format!("deleting {name}"))?;
    let total = client
        .list_stack_resources()
        .stack_name(&stack_id)
        .send()
        .await
        .map(|it| it.stack_resource_summaries().len())
        .unwrap_or(0);
    let outcome = events::follow(client, name, &stack_id, seen, total).await?;
    if outcome.status != "DELETE_COMPLETE" {
        anyhow::bail!(outcome.failure_summary(name));
    }
    eprintln!("{name}: deleted");
    Ok(())
}

/// The stack, or `None` when it does not exist (or was deleted).
pub(crate) async fn describe_stack(client: &Client, name: &str) -> anyhow::Result<Option<Stack>> {
    match client.describe_stacks().stack_name(name).send().await {
        Ok(res) => Ok(res.stacks().first().filter(|it| status_of(it) != "DELETE_COMPLETE").cloned()),
        Err(err)
            if err.code() == Some("ValidationError")
                && err.message().is_some_and(|it| it.contains("does not exist")) =>
        {
            Ok(None)
        }
        Err(err) => Err(err).aws_context(|| format!("describing stack {name}")),
    }
}

/// The outputs of an existing stack.
pub(crate) async fn stack_outputs(client: &Client, name: &str) -> anyhow::Result<Outputs> {
    let stack = describe_stack(client, name).await?.with_context(|| format!("stack {name} does not exist"))?;
    Ok(outputs_of(&stack))
}

pub(crate) fn outputs_of(stack: &Stack) -> Outputs {
    stack
        .outputs()
        .iter()
        .filter_map(|it| Some((it.output_key()?.to_owned(), it.output_value().unwrap_or_default().to_owned())))
        .collect()
}

/// The status and its reason, by stack id (which still answers after the stack is deleted).
pub(crate) async fn stack_status(client: &Client, stack_id: &str) -> anyhow::Result<(String, Option<String>)> {
    let res = client.describe_stacks().stack_name(stack_id).send().await;
    match res {
        Ok(res) => {
            let stack = res.stacks().first().with_context(|| format!("stack {stack_id} is not listed"))?;
            Ok((status_of(stack), stack.stack_status_reason().map(str::to_owned)))
        }
        // Some endpoints forget a deleted stack at once.
        Err(err) if err.message().is_some_and(|it| it.contains("does not exist")) => {
            Ok(("DELETE_COMPLETE".to_owned(), None))
        }
        Err(err) => Err(err).aws_context(|| format!("describing stack {stack_id}")),
    }
}

/// The parameter values a stack was last deployed with (none for a stack not yet there).
pub(crate) fn parameters_of(stack: Option<&Stack>) -> BTreeMap<String, String> {
    let Some(stack) = stack else { return BTreeMap::new() };
    stack
        .parameters()
        .iter()
        .filter_map(|it| Some((it.parameter_key()?.to_owned(), it.parameter_value().unwrap_or_default().to_owned())))
        .collect()
}

fn status_of(stack: &Stack) -> String {
    stack.stack_status().map(|it| it.as_str().to_owned()).unwrap_or_default()
}

/// A created change set: `changes` is `None` when it contained no changes (then it is already deleted).
struct CreatedChangeSet {
    id: String,
    stack_id: String,
    changes: Option<Vec<ResourceChange>>,
}

async fn create_change_set(
    client: &Client,
    plan: &StackPlan,
    change_set_type: ChangeSetType,
) -> anyhow::Result<CreatedChangeSet> {
    let name = plan.name.as_str();
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
    let created = match change_set_request(client, plan, change_set_type, millis).stack_name(name).send().await {
        // CloudFormation says "no changes" through the change set's status (below); an
        // endpoint may say it at once, as UpdateStack does. Both mean the same.
        Err(err) if err.message().is_some_and(is_no_changes) => {
            return Ok(CreatedChangeSet { id: String::new(), stack_id: name.to_owned(), changes: None });
        }
        res => res.aws_context(|| format!("creating a change set for {name}"))?,
    };
    let id = created.id().context("CreateChangeSet returned no id")?.to_owned();
    let stack_id = created.stack_id().unwrap_or(name).to_owned();

    let mut delay = Duration::from_millis(100);
    loop {
        let mut changes = Vec::new();
        let mut next_token = None;
        let (status, reason) = loop {
            let page = client
                .describe_change_set()
                .change_set_name(&id)
                .stack_name(&stack_id)
                .set_next_token(next_token)
                .send()
                .await
                .aws_context(|| format!("describing the change set of {name}"))?;
            changes.extend_from_slice(page.changes());
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                break (page.status().cloned(), page.status_reason().unwrap_or_default().to_owned());
            }
        };
        match status {
            Some(ChangeSetStatus::CreateComplete) => {
                return Ok(CreatedChangeSet { id, stack_id, changes: Some(ResourceChange::from_changes(&changes)) });
            }
            Some(ChangeSetStatus::Failed) if is_no_changes(&reason) => {
                delete_change_set(client, &id).await?;
                return Ok(CreatedChangeSet { id, stack_id, changes: None });
            }
            Some(ChangeSetStatus::Failed) => {
                // Keep nothing behind; the reason is what the user needs.
                let _ = delete_change_set(client, &id).await;
                anyhow::bail!("the change set for {name} failed: {reason}");
            }
            _ => {}
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// The CreateChangeSet request of `plan`: its template, parameters and, for an IMPORT, the
/// resources to import.
pub(crate) fn change_set_request(
    client: &Client,
    plan: &StackPlan,
    change_set_type: ChangeSetType,
    millis: u128,
) -> aws_sdk_cloudformation::operation::create_change_set::builders::CreateChangeSetFluentBuilder {
    let parameters: Vec<Parameter> = plan
        .parameters
        .iter()
        .map(|(key, value)| match value {
            ParameterValue::Value(value) => Parameter::builder().parameter_key(key).parameter_value(value).build(),
            ParameterValue::UsePrevious => Parameter::builder().parameter_key(key).use_previous_value(true).build(),
        })
        .collect();
    let mut request = client
        .create_change_set()
        .stack_name(&plan.name)
        .change_set_name(format!("xtask-{millis}"))
        .template_body(&plan.template_body)
        .set_parameters(Some(parameters))
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam)
        .description("cargo xtask deploy");
    if change_set_type == ChangeSetType::Import {
        for import in &plan.import {
            let resource = ResourceToImport::builder()
                .resource_type(&import.resource_type)
                .logical_resource_id(&import.logical_id)
                .set_resource_identifier(Some(import.identifier.clone().into_iter().collect()))
                .build();
            request = request.resources_to_import(resource);
        }
    }
    request.change_set_type(change_set_type)
}

/// Turns the stack's termination protection on (or off), unless it already is. An endpoint
/// without the call (the emulator; `custom_endpoint`: not AWS's) gets a warning: the stack is
/// then not protected.
pub(crate) async fn set_termination_protection(
    client: &Client,
    name: &str,
    enabled: bool,
    custom_endpoint: bool,
) -> anyhow::Result<()> {
    let stack = describe_stack(client, name).await?.with_context(|| format!("stack {name} does not exist"))?;
    if stack.enable_termination_protection() == Some(enabled) {
        return Ok(());
    }
    let res =
        client.update_termination_protection().stack_name(name).enable_termination_protection(enabled).send().await;
    match res {
        Ok(_) => {
            let state = if enabled { "on" } else { "off" };
            eprintln!("{name}: termination protection {state}");
            Ok(())
        }
        // An emulator answers a call it lacks with its own error or a bare HTTP 500 (moto: "not
        // implemented"); AWS always names its error.
        Err(err) if is_unsupported(err.code(), custom_endpoint) => {
            eprintln!(
                "warning: {name}: this endpoint does not support UpdateTerminationProtection ({}): \
                 the stack's termination protection is not set",
                err.code().unwrap_or("HTTP error without an AWS error code")
            );
            Ok(())
        }
        Err(err) => Err(err).aws_context(|| format!("setting the termination protection of {name}")),
    }
}

/// Whether an error says the endpoint does not implement the call: an error code that says so,
/// or, from an endpoint other than AWS's, no error code at all.
fn is_unsupported(code: Option<&str>, custom_endpoint: bool) -> bool {
    match code {
        Some(code) => matches!(code, "InvalidAction" | "NotImplemented" | "UnknownOperationException"),
        None => custom_endpoint,
    }
}

async fn delete_change_set(client: &Client, id: &str) -> anyhow::Result<()> {
    client.delete_change_set().change_set_name(id).send().await.aws_context(|| format!("deleting change set {id}"))?;
    Ok(())
}

/// CloudFormation's ways of saying a change set is empty.
fn is_no_changes(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}
