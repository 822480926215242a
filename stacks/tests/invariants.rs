//! Properties every synthesized template must have, checked over every stack of a stage without
//! a domain (`dev`) and one with everything set (`prod`). Each test walks the template JSON on its
//! own, independently of the checks inside `synth`.

mod common;

use std::collections::BTreeSet;

use expect_test::expect;
use serde_json::Value;
use stacks::Part;

/// Every `Allow` statement whose resource is `*`, as `stage part role: actions`. Each is an action
/// AWS cannot scope to a resource:
/// - `ecr:GetAuthorizationToken`: the registry login token is account-wide (the ECR docs say the
///   resource must be `*`); the pull itself is scoped to the job repository.
const WILDCARD_RESOURCES: &[&str] = &[
    "dev app JobTaskExecutionRole: ecr:GetAuthorizationToken",
    "prod app JobTaskExecutionRole: ecr:GetAuthorizationToken",
];

#[test]
fn every_ref_get_att_and_sub_resolves_within_its_template() {
    for (stage, part, template) in common::all_templates() {
        let json = template.json();
        let resources = keys(&json["Resources"]);
        let parameters = keys(&json["Parameters"]);
        let mut names = Vec::new();
        walk(json, &mut |value| {
            let Value::Object(object) = value else { return };
            if let Some(Value::String(name)) = object.get("Ref") {
                names.push((name.clone(), true));
            }
            if let Some(name) = object.get("Fn::GetAtt").and_then(|it| it[0].as_str()) {
                names.push((name.to_owned(), false));
            }
            if let Some(Value::String(sub)) = object.get("Fn::Sub") {
                for piece in sub.split("${").skip(1) {
                    let name = piece.split('}').next().unwrap();
                    if !name.starts_with('!') {
                        match name.split_once('.') {
                            Some((resource, _)) => names.push((resource.to_owned(), false)),
                            None => names.push((name.to_owned(), true)),
                        }
                    }
                }
            }
        });
        assert!(!names.is_empty());
        for (name, may_be_parameter) in names {
            let found = resources.contains(&name)
                || (may_be_parameter && (parameters.contains(&name) || name.starts_with("AWS::")));
            assert!(found, "{stage} {}: {name} does not resolve", part.name());
        }
    }
}

#[test]
fn no_allow_statement_has_a_wildcard_action() {
    let mut n_statements = 0;
    for (stage, part, template) in common::all_templates() {
        for (_, statement) in statements(template.json()) {
            if statement["Effect"] != "Allow" {
                continue;
            }
            n_statements += 1;
            for action in one_or_many(&statement["Action"]) {
                assert!(!action.contains('*'), "{stage} {}: action {action}", part.name());
            }
        }
    }
    assert!(n_statements > 20, "{n_statements}");
}

#[test]
fn wildcard_resources_are_only_the_listed_ones() {
    let mut found = Vec::new();
    for (stage, part, template) in common::all_templates() {
        for (owner, statement) in statements(template.json()) {
            if statement["Effect"] == "Allow" && one_or_many(&statement["Resource"]).contains(&"*".to_owned()) {
                let actions = one_or_many(&statement["Action"]).join(", ");
                found.push(format!("{stage} {} {owner}: {actions}", part.name()));
            }
        }
    }
    assert_eq!(found, WILDCARD_RESOURCES);
}

#[test]
fn no_managed_policies_at_all_so_no_full_access_ones() {
    for (stage, part, template) in common::all_templates() {
        walk(template.json(), &mut |value| {
            if let Value::Object(object) = value {
                assert!(!object.contains_key("ManagedPolicyArns"), "{stage} {}", part.name());
            }
            if let Value::String(text) = value {
                assert!(!text.contains("FullAccess"), "{stage} {}: {text}", part.name());
            }
        });
    }
}

#[test]
fn no_nat_gateway_and_no_vpc_endpoint() {
    for (stage, part, template) in common::all_templates() {
        for (id, resource) in template.json()["Resources"].as_object().unwrap() {
            let resource_type = resource["Type"].as_str().unwrap();
            assert!(
                !["AWS::EC2::NatGateway", "AWS::EC2::VPCEndpoint", "AWS::EC2::EIP"].contains(&resource_type),
                "{stage} {}: {id} is a {resource_type}",
                part.name()
            );
        }
    }
}

#[test]
fn the_token_reaches_the_job_only_as_a_secret() {
    for stage in [common::dev(), common::prod()] {
        let templates = stacks::synth_stage(&stage, &common::ENV).unwrap();
        let parameter = format!(":parameter/invest-alchemy/{}/tushare-token", stage.name);
        let mut places = BTreeSet::new();
        for (part, template) in &templates {
            walk_with_path(template.json(), &mut Vec::new(), &mut |path, value| {
                if value.as_str().is_some_and(|it| it.contains("tushare-token") || it == common::ENV.tushare_token) {
                    places.insert(format!("{} {}", part.name(), path.join(".")));
                }
            });
        }
        let expected = [
            // The name of the variable, and the parameter ARN it is filled from.
            "app Resources.JobTask.Properties.ContainerDefinitions.0.Secrets.0.Name",
            "app Resources.JobTask.Properties.ContainerDefinitions.0.Secrets.0.ValueFrom.Fn::Sub",
            // The execution role may read that one parameter.
            "app Resources.JobTaskExecutionRole.Properties.Policies.0.PolicyDocument.Statement.3.Resource.0.Fn::Sub",
        ];
        assert_eq!(places, expected.iter().map(|it| it.to_string()).collect::<BTreeSet<_>>(), "{}", stage.name);
        let app = &templates.iter().find(|(part, _)| *part == Part::App).unwrap().1;
        let secret = &app.json()["Resources"]["JobTask"]["Properties"]["ContainerDefinitions"][0]["Secrets"][0];
        assert!(secret["ValueFrom"]["Fn::Sub"].as_str().unwrap().ends_with(&parameter));
    }
}

#[test]
fn the_channels_variables_reach_the_job_only_as_secrets_its_execution_role_alone_may_read() {
    let stage = common::prod();
    let templates = stacks::synth_stage(&stage, &common::ENV).unwrap();
    let app = &templates.iter().find(|(part, _)| *part == Part::App).unwrap().1;
    let resources = &app.json()["Resources"];
    let container = &resources["JobTask"]["Properties"]["ContainerDefinitions"][0];
    let environment = container["Environment"].as_array().unwrap();
    let channels = environment.iter().find(|it| it["Name"] == common::ENV.channels).expect("the channels file");
    assert_eq!(channels["Value"], common::PROD_CHANNELS, "the file as written: only ${{VAR}} references");
    let secrets: Vec<(&str, &str)> = container["Secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| (it["Name"].as_str().unwrap(), it["ValueFrom"]["Fn::Sub"].as_str().unwrap()))
        .collect();
    let channel_secrets: Vec<(&str, &str)> =
        secrets.iter().copied().filter(|(name, _)| *name != "TUSHARE_TOKEN").collect();
    assert_eq!(channel_secrets.len(), 2);
    for (name, value_from) in &channel_secrets {
        assert!(value_from.ends_with(&format!(":parameter/invest-alchemy/prod/channels/{name}")), "{value_from}");
    }
    let mut readable = BTreeSet::new();
    for (owner, statement) in statements(app.json()) {
        if statement["Action"].to_string().contains("ssm:GetParameters") {
            assert_eq!(owner, "JobTaskExecutionRole");
            for resource in statement["Resource"].as_array().unwrap() {
                readable.insert(resource["Fn::Sub"].as_str().unwrap().to_owned());
            }
        }
    }
    let expected: BTreeSet<String> = secrets.iter().map(|(_, value_from)| value_from.to_string()).collect();
    assert_eq!(readable, expected, "exactly the parameters the task reads");
    // A stage without channels has neither the variable nor their parameters.
    let dev = stacks::synth_stage(&common::dev(), &common::ENV).unwrap();
    let dev_app = dev.iter().find(|(part, _)| *part == Part::App).unwrap().1.json().to_string();
    assert!(!dev_app.contains(common::ENV.channels) && !dev_app.contains("/channels/"));
}

#[test]
fn the_reports_bucket_is_retained_versioned_and_private() {
    for (stage, part, template) in common::all_templates().into_iter().filter(|(_, part, _)| *part == Part::Data) {
        let resources = &template.json()["Resources"];
        let reports = &resources["Reports"];
        assert_eq!(reports["DeletionPolicy"], "Retain", "{stage} {}", part.name());
        assert_eq!(reports["UpdateReplacePolicy"], "Retain");
        assert_eq!(reports["Properties"]["VersioningConfiguration"]["Status"], "Enabled");
        let block = &reports["Properties"]["PublicAccessBlockConfiguration"];
        for setting in ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"] {
            assert_eq!(block[setting], true, "{setting}");
        }
        let encryption = &reports["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
        assert_eq!(encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"], "AES256");
        let policy = &resources["ReportsPolicy"]["Properties"];
        assert_eq!(policy["Bucket"]["Ref"], "Reports");
        let deny = &policy["PolicyDocument"]["Statement"][0];
        assert_eq!(deny["Effect"], "Deny");
        assert_eq!(deny["Condition"]["Bool"]["aws:SecureTransport"], "false");
    }
}

#[test]
fn only_the_job_and_the_web_function_can_reach_the_reports_bucket() {
    for (stage, _, template) in common::all_templates().into_iter().filter(|(_, part, _)| *part == Part::App) {
        let mut roles = BTreeSet::new();
        for (owner, statement) in statements(template.json()) {
            if statement["Effect"] == "Allow" && statement["Resource"].to_string().contains("Reports") {
                roles.insert(owner);
            }
        }
        let expected: BTreeSet<String> = ["JobTaskRole", "WebFunctionRole"].iter().map(|it| it.to_string()).collect();
        assert_eq!(roles, expected, "{stage}");
    }
}

#[test]
fn the_schedule_starts_the_job_on_fargate_spot_with_a_public_ip() {
    for (stage, _, template) in common::all_templates().into_iter().filter(|(_, part, _)| *part == Part::App) {
        let schedules: Vec<&Value> = template.json()["Resources"]
            .as_object()
            .unwrap()
            .values()
            .filter(|it| it["Type"] == "AWS::Scheduler::Schedule")
            .collect();
        assert_eq!(schedules.len(), 1, "{stage}");
        let ecs = &schedules[0]["Properties"]["Target"]["EcsParameters"];
        assert!(ecs.get("LaunchType").is_none(), "a launch type bypasses the capacity providers");
        assert_eq!(ecs["CapacityProviderStrategy"][0]["CapacityProvider"], "FARGATE_SPOT");
        assert_eq!(ecs["CapacityProviderStrategy"].as_array().unwrap().len(), 1);
        assert_eq!(ecs["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"], "ENABLED");
        assert_eq!(schedules[0]["Properties"]["ScheduleExpressionTimezone"], "Asia/Shanghai");
    }
}

#[test]
fn a_failed_job_reaches_the_alarm_topic_and_only_its_rule_may_publish_there() {
    for (stage, _, template) in common::all_templates().into_iter().filter(|(_, part, _)| *part == Part::App) {
        let resources = &template.json()["Resources"];
        let rule = &resources["JobFailed"]["Properties"];
        assert_eq!(rule["Targets"][0]["Arn"]["Ref"], "Alarms", "{stage}");
        assert_eq!(rule["EventPattern"]["detail"]["lastStatus"][0], "STOPPED");
        let statement = &resources["AlarmsPolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
        assert_eq!(statement["Principal"]["Service"], "events.amazonaws.com");
        assert_eq!(statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"][0], "JobFailed");
        let subscribed = resources.get("AlarmsOwner").is_some();
        assert_eq!(subscribed, stage == "prod", "only prod has an alarm e-mail");
    }
}

#[test]
fn every_log_group_expires_and_no_output_is_exported() {
    for (stage, part, template) in common::all_templates() {
        let json = template.json();
        for (id, resource) in json["Resources"].as_object().unwrap() {
            if resource["Type"] == "AWS::Logs::LogGroup" {
                assert!(resource["Properties"]["RetentionInDays"].is_u64(), "{stage} {} {id}", part.name());
            }
        }
        for (id, output) in json["Outputs"].as_object().unwrap() {
            assert!(output.get("Export").is_none(), "{stage} {} {id}", part.name());
        }
    }
}

#[test]
fn synth_is_byte_identical_every_time() {
    let first: Vec<String> = common::all_templates().iter().map(|(_, _, it)| it.to_yaml()).collect();
    let second: Vec<String> = common::all_templates().iter().map(|(_, _, it)| it.to_yaml()).collect();
    assert_eq!(first, second);
}

#[test]
fn resource_counts_per_stack() {
    let counts: Vec<String> = common::all_templates()
        .iter()
        .map(|(_, _, template)| format!("{}: {}", template.stack_name(), template.resource_count()))
        .collect();
    expect![[r#"
        invest-alchemy-dev-bootstrap: 3
        invest-alchemy-dev-network: 10
        invest-alchemy-dev-data: 3
        invest-alchemy-dev-app: 25
        invest-alchemy-dev-edge: 3
        invest-alchemy-prod-bootstrap: 3
        invest-alchemy-prod-network: 10
        invest-alchemy-prod-data: 3
        invest-alchemy-prod-app: 26
        invest-alchemy-prod-edge: 6"#]]
    .assert_eq(&counts.join("\n"));
}

/// Every IAM statement of the template, with the logical id of the role or resource policy holding it.
fn statements(template: &Value) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for (id, resource) in template["Resources"].as_object().unwrap() {
        let properties = &resource["Properties"];
        let mut documents = vec![&properties["PolicyDocument"]];
        if let Some(policies) = properties["Policies"].as_array() {
            documents.extend(policies.iter().map(|it| &it["PolicyDocument"]));
        }
        for document in documents {
            if let Some(items) = document["Statement"].as_array() {
                found.extend(items.iter().map(|it| (id.clone(), it.clone())));
            }
        }
    }
    found
}

fn one_or_many(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => {
            items.iter().map(|it| it.as_str().map_or_else(|| it.to_string(), str::to_owned)).collect()
        }
        Value::String(it) => vec![it.clone()],
        other => vec![other.to_string()],
    }
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().map(|it| it.keys().cloned().collect()).unwrap_or_default()
}

fn walk(value: &Value, visit: &mut dyn FnMut(&Value)) {
    visit(value);
    match value {
        Value::Object(object) => object.values().for_each(|it| walk(it, visit)),
        Value::Array(items) => items.iter().for_each(|it| walk(it, visit)),
        _ => {}
    }
}

fn walk_with_path(value: &Value, path: &mut Vec<String>, visit: &mut dyn FnMut(&[String], &Value)) {
    visit(path, value);
    match value {
        Value::Object(object) => {
            for (key, item) in object {
                path.push(key.clone());
                walk_with_path(item, path, visit);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(index.to_string());
                walk_with_path(item, path, visit);
                path.pop();
            }
        }
        _ => {}
    }
}

#[test]
fn the_resource_ids_xtask_looks_up_name_resources_of_the_app_and_data_stacks_of_the_right_types() {
    use stacks::parts::{app::ids, data};
    let data_expected = [(data::ids::REPORTS, "AWS::S3::Bucket"), (data::ids::SIGNALS, "AWS::SNS::Topic")];
    for (stage, part, template) in common::all_templates() {
        if part != Part::Data {
            continue;
        }
        let resources = &template.json()["Resources"];
        for (id, resource_type) in data_expected {
            assert_eq!(resources[id]["Type"], resource_type, "{stage} data {id}");
            assert_eq!(resources[id]["DeletionPolicy"], "Retain", "{stage} data {id}");
            assert_eq!(resources[id]["UpdateReplacePolicy"], "Retain", "{stage} data {id}");
        }
    }
    let expected = [
        (ids::ALARMS, "AWS::SNS::Topic"),
        (ids::CLUSTER, "AWS::ECS::Cluster"),
        (ids::JOB_TASK, "AWS::ECS::TaskDefinition"),
        (ids::JOB_SCHEDULE, "AWS::Scheduler::Schedule"),
        (ids::JOB_FAILED, "AWS::Events::Rule"),
        (ids::JOB_LOGS, "AWS::Logs::LogGroup"),
        (ids::SUBSCRIBE_FUNCTION, "AWS::Lambda::Function"),
        (ids::SUBSCRIBE_LOGS, "AWS::Logs::LogGroup"),
        (ids::WEB_FUNCTION, "AWS::Lambda::Function"),
        (ids::WEB_LOGS, "AWS::Logs::LogGroup"),
        (ids::API, "AWS::ApiGatewayV2::Api"),
        (ids::API_LOGS, "AWS::Logs::LogGroup"),
    ];
    for (stage, part, template) in common::all_templates() {
        if part != Part::App {
            continue;
        }
        let resources = &template.json()["Resources"];
        for (id, resource_type) in expected {
            assert_eq!(resources[id]["Type"], resource_type, "{stage} app {id}");
        }
    }
}
