//! Every stack's template, with and without a domain, as committed YAML: a change to a stack is
//! a reviewable diff under `stacks/snapshots/`. Update with `UPDATE_EXPECT=1 cargo test -p stacks`.

mod common;

use expect_test::expect_file;
use stacks::{Part, Template};

/// The committed snapshots, as stage and part: every part of `dev` (every default), and the
/// parts of `prod` that read the stage's settings (a domain, an alarm e-mail, arm64).
const SNAPSHOTS: [(&str, Part); 7] = [
    ("dev", Part::Bootstrap),
    ("dev", Part::Network),
    ("dev", Part::Data),
    ("dev", Part::App),
    ("dev", Part::Edge),
    ("prod", Part::App),
    ("prod", Part::Edge),
];

/// The template of `part` of the stage named `stage`, out of `common::all_templates()`.
fn template<'a>(templates: &'a [(String, Part, Template)], stage: &str, part: Part) -> &'a Template {
    let (_, _, template) = templates.iter().find(|(name, it, _)| name == stage && *it == part).unwrap();
    template
}

#[test]
fn templates_match_their_snapshots() {
    let templates = common::all_templates();
    for (stage, part) in SNAPSHOTS {
        let path = format!("{}/snapshots/{stage}-{}.yaml", env!("CARGO_MANIFEST_DIR"), part.name());
        expect_file![path].assert_eq(&template(&templates, stage, part).to_yaml());
    }
}

#[test]
fn stacks_without_stage_settings_differ_only_in_names() {
    // bootstrap, network and data read nothing but the stage name: their prod snapshots would only repeat dev's.
    let templates = common::all_templates();
    for part in [Part::Bootstrap, Part::Network, Part::Data] {
        let dev_yaml = template(&templates, "dev", part).to_yaml();
        let prod_yaml = template(&templates, "prod", part).to_yaml();
        assert_eq!(dev_yaml.replace("-dev-", "-prod-"), prod_yaml, "{}", part.name());
    }
}
