//! Every stack's template, with and without a domain, as committed YAML: a change to a stack is
//! a reviewable diff under `stacks/snapshots/`. Update with `UPDATE_EXPECT=1 cargo test -p stacks`.

mod common;

use expect_test::expect_file;
use stacks::{Part, synth_stage};

fn check(stage: &stacks::StageConfig, part: Part) {
    let templates = common::all_templates();
    let (_, _, template) = templates.iter().find(|(name, it, _)| *name == stage.name && *it == part).unwrap();
    let path = format!("{}/snapshots/{}-{}.yaml", env!("CARGO_MANIFEST_DIR"), stage.name, part.name());
    expect_file![path].assert_eq(&template.to_yaml());
}

#[test]
fn dev_bootstrap_matches_the_snapshot() {
    check(&common::dev(), Part::Bootstrap);
}

#[test]
fn dev_network_matches_the_snapshot() {
    check(&common::dev(), Part::Network);
}

#[test]
fn dev_app_matches_the_snapshot() {
    check(&common::dev(), Part::App);
}

#[test]
fn dev_edge_without_a_domain_matches_the_snapshot() {
    check(&common::dev(), Part::Edge);
}

#[test]
fn prod_app_with_a_domain_and_alarm_email_matches_the_snapshot() {
    check(&common::prod(), Part::App);
}

#[test]
fn prod_edge_with_a_domain_matches_the_snapshot() {
    check(&common::prod(), Part::Edge);
}

#[test]
fn stacks_without_stage_settings_differ_only_in_names() {
    // bootstrap and network read nothing but the stage name: their prod snapshots would only repeat dev's.
    for part in [Part::Bootstrap, Part::Network] {
        let dev = synth_stage(&common::dev(), &common::ENV).unwrap();
        let prod = synth_stage(&common::prod(), &common::ENV).unwrap();
        let dev_yaml = dev.iter().find(|(it, _)| *it == part).unwrap().1.to_yaml();
        let prod_yaml = prod.iter().find(|(it, _)| *it == part).unwrap().1.to_yaml();
        assert_eq!(dev_yaml.replace("-dev-", "-prod-"), prod_yaml, "{}", part.name());
    }
}
