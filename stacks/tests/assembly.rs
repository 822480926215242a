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
    let files: Vec<&str> = templates.iter().map(|(file, _)| file.as_str()).collect();
    assert_eq!(files, ["bootstrap.yaml", "network.yaml", "data-import.yaml", "data.yaml", "app.yaml", "edge.yaml"]);
    let stack_templates = templates.iter().filter(|(file, _)| !file.ends_with("-import.yaml"));
    for (artifact, (file, template)) in assembly.stacks.iter().zip(stack_templates) {
        assert_eq!(&artifact.template, file);
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
fn the_data_stack_adopts_the_reports_bucket_the_app_stack_held_with_an_import_of_it_alone() {
    let (assembly, templates) = StageAssembly::synth(&common::dev(), &common::ENV).unwrap();
    let adopt = assembly.stack(Part::Data).unwrap().adopt.clone().unwrap();
    assert_eq!(adopt.resources.len(), 1);
    let bucket = &adopt.resources[0];
    assert_eq!((bucket.logical_id.as_str(), bucket.identifier.as_str()), ("Reports", "BucketName"));
    assert_eq!(bucket.name_prefix, "invest-alchemy-dev-app-reports-");
    assert_eq!(bucket.previous_stack, "invest-alchemy-dev-app");
    let (_, import) = templates.iter().find(|(file, _)| *file == adopt.template).unwrap();
    let resources: Vec<&String> = import.json()["Resources"].as_object().unwrap().keys().collect();
    assert_eq!(resources, ["Reports"]);
    assert_eq!(import.json()["Resources"]["Reports"]["DeletionPolicy"], "Retain");
    assert!(import.json().get("Outputs").is_none());
    assert!(assembly.stacks.iter().filter(|it| it.part != Part::Data).all(|it| it.adopt.is_none()));
}

#[test]
fn the_manifest_reads_back_as_the_same_assembly() {
    let (assembly, _) = StageAssembly::synth(&common::dev(), &common::ENV).unwrap();
    let json = serde_json::to_string_pretty(&assembly).unwrap();
    assert_eq!(serde_json::from_str::<StageAssembly>(&json).unwrap(), assembly);
    let data: serde_json::Value = serde_json::from_str(&json).unwrap();
    expect![[r#"{"adopt":{"resources":[{"identifier":"BucketName","logical_id":"Reports","name_prefix":"invest-alchemy-dev-app-reports-","previous_stack":"invest-alchemy-dev-app","resource_type":"AWS::S3::Bucket"}],"template":"data-import.yaml"},"inputs":{},"outputs":{"ReportsBucketName":{"physical_id":"Reports"},"SignalTopicArn":{"physical_id":"Signals"}},"part":"data","region":"ap-southeast-1","resources":{"Reports":"AWS::S3::Bucket","ReportsPolicy":"AWS::S3::BucketPolicy","Signals":"AWS::SNS::Topic"},"retained":["Reports","Signals"],"stack_name":"invest-alchemy-dev-data","template":"data.yaml","termination_protection":true}"#]]
    .assert_eq(&data["stacks"][2].to_string());
}
