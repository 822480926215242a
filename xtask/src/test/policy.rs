//! Policy as code over the synthesized templates, beyond cfn-lint and checkov: cfn-guard with the
//! AWS Control Tower proactive rules, and cdk-nag's `AwsSolutions` pack (`xtask/policy/nag.js`).
//!
//! Both come from the npm packages pinned in `xtask/policy/package-lock.json`, installed into
//! `target/node/policy` (`@cdklabs/cdk-validator-cfnguard` carries the `cfn-guard` binary and the
//! rules). Any unsuppressed finding fails. A rule that does not fit a resource is suppressed in
//! that resource's `Metadata`, with its reason, by the construct that makes it: cdk-nag reads
//! `cdk_nag.rules_to_suppress` itself; cfn-guard's engine and the Control Tower rules read no
//! suppressions, so this module honours `guard.SuppressedRules` (the Guard Rules Registry's
//! convention) when it reads cfn-guard's report.
//!
//! Uses only `crate::tools`; `test.rs` decides when it runs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;
use xshell::{Shell, cmd};

use crate::tools;

/// The folder of the pinned npm packages and of `nag.js`.
const POLICY_DIR: &str = "xtask/policy";
/// The name of their install under `target/node/`.
const NODE_PACKAGES: &str = "policy";
/// cfn-guard's exit code when some rule failed (0: every rule passed; anything else: it could not run).
const GUARD_FAILED_RULES: i32 = 19;

/// The installed checkers: where the npm packages are.
pub(crate) struct Policy {
    node_modules: PathBuf,
}

impl Policy {
    /// Installs the pinned npm packages when they are missing or the lock file changed.
    pub(crate) fn install(sh: &Shell) -> anyhow::Result<Policy> {
        let package_dir = sh.current_dir().join(POLICY_DIR);
        let node_modules = tools::node_packages(sh, NODE_PACKAGES, &package_dir)?;
        Ok(Policy { node_modules })
    }

    /// cfn-guard with the Control Tower rules on every template; fails on any finding whose
    /// resource does not suppress its rule, after printing each as `template resource rule: control`.
    pub(crate) fn cfn_guard(&self, sh: &Shell, templates: &[PathBuf]) -> anyhow::Result<()> {
        let package = self.node_modules.join("@cdklabs/cdk-validator-cfnguard");
        let guard = package.join("bin/ubuntu").join(std::env::consts::ARCH).join("cfn-guard");
        let rules = package.join("rules/control-tower/cfn-guard");
        let data: Vec<String> = templates.iter().flat_map(|it| ["-d".to_owned(), it.display().to_string()]).collect();
        let output = cmd!(sh, "{guard} validate {data...} -r {rules} --structured -o json -S none")
            .quiet()
            .ignore_status()
            .output()
            .with_context(|| format!("running {}", guard.display()))?;
        let code = output.status.code();
        if code != Some(0) && code != Some(GUARD_FAILED_RULES) {
            let stderr = String::from_utf8_lossy(&output.stderr);
            anyhow::bail!("cfn-guard could not check the templates ({:?}): {}", output.status, stderr.trim());
        }
        let report: Value = serde_json::from_slice(&output.stdout).context("reading cfn-guard's JSON report")?;
        let mut unsuppressed = Vec::new();
        let mut n_suppressed = 0;
        for finding in guard_findings(&report)? {
            let template = read_template(&finding.template)?;
            if suppresses(&template, &finding.resource, &finding.rule) {
                n_suppressed += 1;
            } else {
                unsuppressed.push(finding);
            }
        }
        for finding in &unsuppressed {
            println!("{finding}");
        }
        eprintln!(
            "cfn-guard: {} unsuppressed finding(s), {n_suppressed} suppressed, in {} template(s)",
            unsuppressed.len(),
            templates.len()
        );
        anyhow::ensure!(unsuppressed.is_empty(), "cfn-guard found problems in the templates");
        Ok(())
    }

    /// cdk-nag's `AwsSolutions` pack on every template, each included into a CDK stack of its own.
    pub(crate) fn cdk_nag(&self, sh: &Shell, templates: &[PathBuf]) -> anyhow::Result<()> {
        let nag = sh.current_dir().join(POLICY_DIR).join("nag.js");
        let out = sh.current_dir().join("target/node").join(NODE_PACKAGES).join("cdk.out");
        let node_modules = &self.node_modules;
        cmd!(sh, "node {nag} {out} {templates...}")
            .env("NODE_PATH", node_modules)
            .run()
            .context("cdk-nag found problems in the templates")?;
        Ok(())
    }
}

/// One rule that one resource of one template fails.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct GuardFinding {
    template: PathBuf,
    resource: String,
    rule: String,
    /// The Control Tower control and its title, e.g. `CT.S3.PR.2: Require ...`.
    control: String,
}

impl std::fmt::Display for GuardFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let template = self.template.file_name().map_or_else(|| self.template.display(), |it| Path::new(it).display());
        write!(f, "{template} {} {}: {}", self.resource, self.rule, self.control)
    }
}

/// Every (template, resource, rule) of cfn-guard's structured report (`--structured -o json`): a
/// list of files, each with its `not_compliant` rules, whose checks name the properties they
/// looked at by path (`/Resources/<id>/...`).
fn guard_findings(report: &Value) -> anyhow::Result<BTreeSet<GuardFinding>> {
    let files = report.as_array().context("cfn-guard's report is not a list of files")?;
    let mut findings = BTreeSet::new();
    for file in files {
        let template = file["name"].as_str().context("a file of cfn-guard's report has no name")?;
        for rule in file["not_compliant"].as_array().into_iter().flatten() {
            let name = rule["Rule"]["name"].as_str().context("a failed rule of cfn-guard's report has no name")?;
            let mut resources = BTreeSet::new();
            let mut messages = Vec::new();
            walk(rule, &mut |key, value| match (key, value.as_str()) {
                ("path", Some(path)) => {
                    if let Some(id) = path.strip_prefix("/Resources/").and_then(|it| it.split('/').next()) {
                        resources.insert(id.to_owned());
                    }
                }
                ("custom_message", Some(message)) if message.contains("[CT.") => messages.push(message.to_owned()),
                _ => {}
            });
            anyhow::ensure!(!resources.is_empty(), "cfn-guard's rule {name} failed on {template} for no resource");
            let control = messages.first().map_or_else(String::new, |it| control_title(it));
            for resource in resources {
                findings.insert(GuardFinding {
                    template: PathBuf::from(template),
                    resource,
                    rule: name.to_owned(),
                    control: control.clone(),
                });
            }
        }
    }
    Ok(findings)
}

/// `[CT.S3.PR.2]: Require ...` of a rule's message, as `CT.S3.PR.2: Require ...`.
fn control_title(message: &str) -> String {
    let line = message.lines().map(str::trim).find(|it| it.starts_with("[CT.")).unwrap_or_default();
    line.trim_start_matches('[').replacen(']', "", 1)
}

/// Whether `resource` of `template` lists `rule` in its `Metadata.guard.SuppressedRules`.
fn suppresses(template: &Value, resource: &str, rule: &str) -> bool {
    let rules = &template["Resources"][resource]["Metadata"]["guard"]["SuppressedRules"];
    rules.as_array().is_some_and(|it| it.iter().any(|it| it == rule))
}

fn read_template(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_yaml::from_str(&text).with_context(|| format!("reading {} as YAML", path.display()))
}

/// Calls `visit` with every key and value of the objects in `value`, at any depth.
fn walk(value: &Value, visit: &mut dyn FnMut(&str, &Value)) {
    match value {
        Value::Object(object) => {
            for (key, item) in object {
                visit(key, item);
                walk(item, visit);
            }
        }
        Value::Array(items) => items.iter().for_each(|it| walk(it, visit)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use serde_json::json;

    use super::*;

    /// A report in cfn-guard 3.1's structured shape: one file, one failed rule with a nested check.
    fn report() -> Value {
        json!([{
            "name": "/tmp/dev-app.yaml",
            "metadata": {},
            "status": "FAIL",
            "not_compliant": [{
                "Rule": {
                    "name": "s3_bucket_logging_enabled_check",
                    "checks": [{
                        "Rule": {
                            "name": "check",
                            "messages": {
                                "custom_message": "\n  [CT.S3.PR.2]: Require an Amazon S3 bucket to have server access \
                                    logging configured\n  [FIX]: Set a LoggingConfiguration.\n",
                                "error_message": null,
                            },
                            "checks": [
                                { "Clause": { "Unary": { "check": { "UnResolved": { "value": {
                                    "traversed_to": { "path": "/Resources/Reports/Properties", "value": {} },
                                } } } } } },
                                { "Clause": { "Unary": { "check": { "UnResolved": { "value": {
                                    "traversed_to": { "path": "/Resources/Assets/Properties", "value": {} },
                                } } } } } },
                            ],
                        },
                    }],
                },
            }],
            "compliant": [],
            "not_applicable": [],
        }])
    }

    #[test]
    fn every_resource_a_failed_rule_looked_at_is_a_finding_named_by_its_control() {
        let findings: Vec<String> = guard_findings(&report()).unwrap().iter().map(|it| it.to_string()).collect();
        expect![[r#"
            dev-app.yaml Assets s3_bucket_logging_enabled_check: CT.S3.PR.2: Require an Amazon S3 bucket to have server access logging configured
            dev-app.yaml Reports s3_bucket_logging_enabled_check: CT.S3.PR.2: Require an Amazon S3 bucket to have server access logging configured"#]]
        .assert_eq(&findings.join("\n"));
    }

    #[test]
    fn a_failed_rule_that_names_no_resource_is_an_error_not_a_pass() {
        let report =
            json!([{ "name": "t.yaml", "not_compliant": [{ "Rule": { "name": "some_check", "checks": [] } }] }]);
        let err = guard_findings(&report).unwrap_err().to_string();
        assert_eq!(err, "cfn-guard's rule some_check failed on t.yaml for no resource");
    }

    #[test]
    fn the_npm_packages_are_pinned_to_exact_versions_which_the_lock_file_installs() {
        let dir = crate::project_root().join(POLICY_DIR);
        let read =
            |file: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap() };
        let (package, lock) = (read("package.json"), read("package-lock.json"));
        let dependencies = package["dependencies"].as_object().unwrap();
        assert!(dependencies.contains_key("@cdklabs/cdk-validator-cfnguard") && dependencies.contains_key("cdk-nag"));
        for (name, version) in dependencies {
            let version = version.as_str().unwrap();
            assert!(version.split('.').all(|it| it.parse::<u32>().is_ok()), "{name} {version} is not an exact version");
            assert_eq!(lock["packages"][format!("node_modules/{name}")]["version"], version, "{name}");
        }
        assert_eq!(
            lock["packages"][""]["dependencies"], package["dependencies"],
            "the lock file is of this package.json"
        );
    }

    #[test]
    fn only_the_rule_a_resource_lists_in_its_guard_metadata_is_suppressed() {
        let template = json!({ "Resources": {
            "Reports": { "Metadata": { "guard": { "SuppressedRules": ["s3_bucket_logging_enabled_check"] } } },
            "Assets": { "Metadata": { "guard-reasons": { "s3_bucket_logging_enabled_check": "a reason" } } },
        } });
        assert!(suppresses(&template, "Reports", "s3_bucket_logging_enabled_check"));
        assert!(!suppresses(&template, "Reports", "s3_bucket_versioning_enabled_check"));
        assert!(!suppresses(&template, "Assets", "s3_bucket_logging_enabled_check"));
        assert!(!suppresses(&template, "Missing", "s3_bucket_logging_enabled_check"));
    }
}
