//! The stage assembly as `manifest.json` holds it: every stack in deploy order, each parameter
//! with its source, each output with what it is made of.

mod common;

use expect_test::expect;
use stacks::{ArtifactKind, Input, OutputSource, Part, StageAssembly};

#[test]
fn the_assembly_lists_the_stacks_in_deploy_order_with_the_source_of_every_parameter() {
    let (assembly, templates) = StageAssembly::synth(&common::dev(), &common::ENV).unwrap();
    let parts: Vec<Part> = assembly.stacks.iter().map(|it| it.part).collect();
    assert_eq!(parts, Part::ALL);
    assert_eq!(templates.len(), parts.len());
    for (artifact, template) in assembly.stacks.iter().zip(&templates) {
        assert_eq!(artifact.stack_name, template.stack_name());
        let declared: Vec<&String> =
            template.json()["Parameters"].as_object().map(|it| it.keys().collect()).unwrap_or_default();
        assert_eq!(artifact.inputs.keys().collect::<Vec<_>>(), declared, "{}", artifact.stack_name);
    }
    let app = assembly.stack(Part::App).unwrap();
    assert_eq!(app.inputs["ReportsBucketName"], Input::output(Part::Data, "ReportsBucketName"));
    assert_eq!(app.inputs["JobImageDigest"], Input::Artifact(ArtifactKind::JobImage));
    assert_eq!(assembly.stack(Part::Edge).unwrap().region, "us-east-1");
    assert!(assembly.stack(Part::Data).unwrap().termination_protection);
    assert!(!app.termination_protection);
    assert_eq!(assembly.stack(Part::Data).unwrap().retained, ["Reports", "Signals"]);
    assert!(app.retained.is_empty(), "{:?}", app.retained);
}

#[test]
fn outputs_made_of_physical_ids_can_be_read_back_from_the_stacks_resources() {
    let (assembly, _) = StageAssembly::synth(&common::dev(), &common::ENV).unwrap();
    let network = &assembly.stack(Part::Network).unwrap().outputs;
    assert_eq!(
        network["SubnetIds"],
        OutputSource::Joined { separator: ",".to_owned(), ids: vec!["VpcSubnetA".to_owned(), "VpcSubnetB".to_owned()] }
    );
    assert_eq!(network["SecurityGroupId"], OutputSource::PhysicalId("JobSecurityGroup".to_owned()));
    let bootstrap = &assembly.stack(Part::Bootstrap).unwrap().outputs;
    assert_eq!(bootstrap["AssetsBucketName"], OutputSource::PhysicalId("Assets".to_owned()));
    assert_eq!(bootstrap["JobRepositoryUri"], OutputSource::Evaluated);
    let data = &assembly.stack(Part::Data).unwrap().outputs;
    assert_eq!(data["SignalTopicArn"], OutputSource::PhysicalId("Signals".to_owned()));
}

#[test]
fn the_manifest_reads_back_as_the_same_assembly() {
    let (assembly, _) = StageAssembly::synth(&common::dev(), &common::ENV).unwrap();
    let json = serde_json::to_string_pretty(&assembly).unwrap();
    assert_eq!(serde_json::from_str::<StageAssembly>(&json).unwrap(), assembly);
    let data: serde_json::Value = serde_json::from_str(&json).unwrap();
    expect![[r#"{"inputs":{},"outputs":{"ReportsBucketName":{"physical_id":"Reports"},"SignalTopicArn":{"physical_id":"Signals"}},"part":"data","region":"ap-southeast-1","retained":["Reports","Signals"],"stack_name":"invest-alchemy-dev-data","template":"data.yaml","termination_protection":true}"#]]
    .assert_eq(&data["stacks"][2].to_string());
}
