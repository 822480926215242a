//! What a real account refuses, or silently gets wrong, in templates that cfn-lint, checkov,
//! cfn-guard and cdk-nag all pass: each test follows the references of the synthesized stage
//! (`prod`, with a domain, so the edge stack has its certificate and records; `dev` without) from
//! the resource that uses a value to the resource that makes it, through small typed helpers.
//! No emulator deploys CloudFront, ACM, API Gateway v2 or IAM for real, so these are the proof.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;
use stacks::{
    Part, StageConfig,
    parts::{app, edge, network},
};

/// The account id the pseudo parameter `AWS::AccountId` stands for here.
const ACCOUNT: &str = "123456789012";
/// CloudFront's managed origin request policy AllViewerExceptHostHeader: every viewer header but
/// `Host`, which API Gateway needs to be its own host name (it answers 403 to any other).
const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

#[test]
fn the_scheduler_role_may_pass_exactly_the_task_role_and_the_execution_role_of_its_task() {
    for stage in Stage::both() {
        let app = stage.template(Part::App);
        let schedules = app.resources_of_type("AWS::Scheduler::Schedule");
        assert_eq!(schedules.len(), 1, "{}", stage.name());
        let target = &schedules[0].1["Properties"]["Target"];
        let task = app.resource(&app.referenced_id(&target["EcsParameters"]["TaskDefinitionArn"]));
        // RunTask needs to pass both: the task role to the container, the execution role to ECS.
        let needed: BTreeSet<String> = ["TaskRoleArn", "ExecutionRoleArn"]
            .iter()
            .map(|it| stage.resolve(&task["Properties"][it], Part::App))
            .collect();
        assert_eq!(needed.len(), 2, "{}: two distinct roles", stage.name());

        let scheduler_role = app.referenced_id(&target["RoleArn"]);
        let mut passable = BTreeSet::new();
        for statement in app.statements_of(&scheduler_role) {
            if statement["Effect"] == "Allow" && strings(&statement["Action"]).contains(&"iam:PassRole".to_owned()) {
                let passed_to = &statement["Condition"]["StringEquals"]["iam:PassedToService"];
                assert_eq!(passed_to, "ecs-tasks.amazonaws.com", "{}: only to ECS tasks", stage.name());
                for resource in as_list(&statement["Resource"]) {
                    passable.insert(stage.resolve(resource, Part::App));
                }
            }
        }
        assert_eq!(passable, needed, "{}: what {scheduler_role} may pass", stage.name());
    }
}

#[test]
fn each_api_lambda_permission_is_for_its_own_route_of_this_api_in_this_region_and_account() {
    for stage in Stage::both() {
        let app = stage.template(Part::App);
        let apis = app.resources_of_type("AWS::ApiGatewayV2::Api");
        assert_eq!(apis.len(), 1);
        let api = apis[0].0;
        let permissions = app.resources_of_type("AWS::Lambda::Permission");
        let routes = app.resources_of_type("AWS::ApiGatewayV2::Route");
        assert_eq!(permissions.len(), routes.len(), "{}: one permission per route", stage.name());
        let mut default_route = None;
        for (route_id, route) in &routes {
            let route = &route["Properties"];
            assert_eq!(app.referenced_id(&route["ApiId"]), api);
            let target = stage.resolve(&route["Target"], Part::App);
            let integration_id = target.strip_prefix("integrations/<").and_then(|it| it.strip_suffix('>'));
            let integration = &app.resource(integration_id.expect("a route targets an integration"))["Properties"];
            let function = stage.resolve(&integration["IntegrationUri"], Part::App);
            let invoke: Vec<&Value> = permissions
                .iter()
                .map(|(_, it)| &it["Properties"])
                .filter(|it| stage.resolve(&it["FunctionName"], Part::App) == function)
                .collect();
            assert_eq!(invoke.len(), 1, "{}: {route_id} has one permission for {function}", stage.name());
            assert_eq!(invoke[0]["Principal"], "apigateway.amazonaws.com");
            assert_eq!(invoke[0]["Action"], "lambda:InvokeFunction");

            // `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<method>/<path>`: the
            // `$default` route is any method on any path of any stage.
            let route_key = route["RouteKey"].as_str().unwrap();
            let method_and_path = match route_key.split_once(' ') {
                Some((method, path)) => format!("{method}{path}"),
                None => {
                    default_route = Some(route_id);
                    "*".to_owned()
                }
            };
            let expected = format!("arn:aws:execute-api:{}:{ACCOUNT}:<{api}>/*/{method_and_path}", stage.region());
            assert_eq!(stage.resolve(&invoke[0]["SourceArn"], Part::App), expected, "{}: {route_id}", stage.name());
        }
        assert!(default_route.is_some(), "{}: the pages are the $default route", stage.name());
    }
}

#[test]
fn the_cloudfront_origin_is_the_api_host_name_alone_with_every_viewer_header_but_host() {
    for stage in Stage::both() {
        let edge = stage.template(Part::Edge);
        let distributions = edge.resources_of_type("AWS::CloudFront::Distribution");
        assert_eq!(distributions.len(), 1);
        let config = &distributions[0].1["Properties"]["DistributionConfig"];
        let origins = config["Origins"].as_array().unwrap();
        assert_eq!(origins.len(), 1, "{}", stage.name());
        let origin = &origins[0];
        assert_eq!(origin["CustomOriginConfig"]["OriginProtocolPolicy"], "https-only");
        assert!(origin.get("OriginPath").is_none(), "an HTTP API's $default stage has no path");

        // The origin is the edge parameter that xtask fills from the app stack's output of the same name.
        let parameter = edge.referenced_id(&origin["DomainName"]);
        assert_eq!(parameter, edge::API_DOMAIN_NAME);
        assert_eq!(edge::API_DOMAIN_NAME, app::API_DOMAIN_NAME);
        let app_output = &stage.template(Part::App).json["Outputs"][app::API_DOMAIN_NAME]["Value"];
        let host = stage.resolve(app_output, Part::App);
        assert_eq!(host, format!("<{}>.execute-api.{}.amazonaws.com", app::ids::API, stage.region()));
        let host = host.replace(&format!("<{}>", app::ids::API), "a1b2c3d4e5");
        assert!(is_bare_host_name(&host), "{host}");
        // The parameter refuses what is not a bare host name (`https://...`, `.../path`).
        assert_eq!(edge.json["Parameters"][parameter]["AllowedPattern"], "^[a-z0-9][a-z0-9.-]+[a-z0-9]$");

        let mut behaviors = vec![&config["DefaultCacheBehavior"]];
        behaviors.extend(config["CacheBehaviors"].as_array().into_iter().flatten());
        for behavior in behaviors {
            assert_eq!(behavior["TargetOriginId"], origin["Id"]);
            assert_eq!(behavior["OriginRequestPolicyId"], ALL_VIEWER_EXCEPT_HOST_HEADER, "{}", stage.name());
        }
    }
}

#[test]
fn the_certificate_is_in_us_east_1_and_dns_validated_in_the_zone_of_the_site_records() {
    let stage = Stage::new(common::prod());
    let domain = stage.config.domain.clone().expect("prod has a domain");
    let mut certificates = Vec::new();
    for (stage_name, part, template) in common::all_templates() {
        let view = TemplateView { json: template.json().clone() };
        for (id, _) in view.resources_of_type("AWS::CertificateManager::Certificate") {
            certificates.push((stage_name.clone(), part, id.to_owned()));
        }
    }
    // CloudFront takes certificates from us-east-1 only; a certificate has no region of its own
    // but its stack's.
    assert_eq!(certificates, [("prod".to_owned(), Part::Edge, "SiteCertificate".to_owned())]);
    assert_eq!(Part::Edge.region(&stage.config.region), "us-east-1");

    let edge = stage.template(Part::Edge);
    let certificate = &edge.resource("SiteCertificate")["Properties"];
    assert_eq!(certificate["ValidationMethod"], "DNS");
    let mut names = vec![certificate["DomainName"].as_str().unwrap()];
    names.extend(certificate["SubjectAlternativeNames"].as_array().into_iter().flatten().filter_map(Value::as_str));
    // With the zone given for every name, CloudFormation writes the validation CNAMEs there
    // itself; a name without one leaves the stack waiting until someone adds the record by hand.
    for name in &names {
        let options = certificate["DomainValidationOptions"].as_array().unwrap();
        let option = options.iter().find(|it| it["DomainName"] == *name);
        let option = option.unwrap_or_else(|| panic!("no validation option for {name}"));
        assert_eq!(option["HostedZoneId"], domain.hosted_zone_id.as_str(), "{name}");
    }
    assert_eq!(names, [domain.name.as_str()]);

    let distribution = &edge.resources_of_type("AWS::CloudFront::Distribution")[0].1["Properties"];
    let viewer = &distribution["DistributionConfig"]["ViewerCertificate"];
    assert_eq!(edge.referenced_id(&viewer["AcmCertificateArn"]), "SiteCertificate");
    assert_eq!(viewer["SslSupportMethod"], "sni-only");
    assert_eq!(distribution["DistributionConfig"]["Aliases"], serde_json::json!([domain.name]));
    let records = edge.resources_of_type("AWS::Route53::RecordSet");
    let kinds: BTreeSet<&str> = records.iter().map(|(_, it)| it["Properties"]["Type"].as_str().unwrap()).collect();
    assert_eq!(kinds, BTreeSet::from(["A", "AAAA"]));
    for (id, record) in records {
        let record = &record["Properties"];
        assert_eq!(record["Name"], domain.name.as_str(), "{id}");
        assert_eq!(
            record["HostedZoneId"],
            domain.hosted_zone_id.as_str(),
            "{id}: the zone the certificate validates in"
        );
        assert_eq!(edge.referenced_id(&record["AliasTarget"]["DNSName"]), "Site");
    }

    // Without a domain there is no certificate to get wrong: CloudFront's own serves.
    let dev = Stage::new(common::dev());
    let dev_edge = dev.template(Part::Edge);
    assert!(dev_edge.resources_of_type("AWS::CertificateManager::Certificate").is_empty());
    let viewer = &dev_edge.resources_of_type("AWS::CloudFront::Distribution")[0].1["Properties"]["DistributionConfig"]
        ["ViewerCertificate"];
    assert_eq!(viewer["CloudFrontDefaultCertificate"], true);
}

#[test]
fn the_job_runs_in_public_subnets_with_a_public_ip_as_there_is_no_nat() {
    for stage in Stage::both() {
        let network = stage.template(Part::Network);
        // A public subnet: its route table sends 0.0.0.0/0 to an internet gateway attached to the VPC.
        let attached: BTreeSet<String> = network
            .resources_of_type("AWS::EC2::VPCGatewayAttachment")
            .iter()
            .map(|(_, it)| network.referenced_id(&it["Properties"]["InternetGatewayId"]))
            .collect();
        let public_tables: BTreeSet<String> = network
            .resources_of_type("AWS::EC2::Route")
            .iter()
            .map(|(_, it)| &it["Properties"])
            .filter(|it| it["DestinationCidrBlock"] == "0.0.0.0/0")
            .filter(|it| attached.contains(&network.referenced_id(&it["GatewayId"])))
            .map(|it| network.referenced_id(&it["RouteTableId"]))
            .collect();
        let public_subnets: BTreeSet<String> = network
            .resources_of_type("AWS::EC2::SubnetRouteTableAssociation")
            .iter()
            .map(|(_, it)| &it["Properties"])
            .filter(|it| public_tables.contains(&network.referenced_id(&it["RouteTableId"])))
            .map(|it| format!("<{}>", network.referenced_id(&it["SubnetId"])))
            .collect();
        assert_eq!(public_subnets.len(), 2, "{}", stage.name());

        // The subnets the job gets are those: the network output feeds the app parameter of the same name.
        assert_eq!(network::SUBNET_IDS, app::SUBNET_IDS);
        let output = stage.resolve(&network.json["Outputs"][network::SUBNET_IDS]["Value"], Part::Network);
        assert_eq!(output.split(',').map(str::to_owned).collect::<BTreeSet<_>>(), public_subnets);

        let app = stage.template(Part::App);
        let schedule = &app.resources_of_type("AWS::Scheduler::Schedule")[0].1["Properties"];
        let vpc = &schedule["Target"]["EcsParameters"]["NetworkConfiguration"]["AwsvpcConfiguration"];
        assert_eq!(app.referenced_id(&vpc["Subnets"]), app::SUBNET_IDS);
        // Without a public IP a task in a public subnet reaches nothing: not ECR, not S3, not Tushare.
        assert_eq!(vpc["AssignPublicIp"], "ENABLED", "{}", stage.name());
        assert!(network.resources_of_type("AWS::EC2::NatGateway").is_empty());
    }
}

#[test]
fn the_cluster_associates_fargate_spot_and_the_schedule_asks_only_for_associated_providers() {
    for stage in Stage::both() {
        let app = stage.template(Part::App);
        let clusters = app.resources_of_type("AWS::ECS::Cluster");
        assert_eq!(clusters.len(), 1);
        let (cluster_id, cluster) = clusters[0];
        let associated = strings(&cluster["Properties"]["CapacityProviders"]);
        assert!(associated.contains(&"FARGATE_SPOT".to_owned()), "{}: {associated:?}", stage.name());
        let default_providers = providers(&cluster["Properties"]["DefaultCapacityProviderStrategy"]);
        assert_eq!(default_providers, ["FARGATE_SPOT"]);

        // RunTask fails on a provider the cluster does not associate, and a launch type bypasses them all.
        let target = &app.resources_of_type("AWS::Scheduler::Schedule")[0].1["Properties"]["Target"];
        assert_eq!(app.referenced_id(&target["Arn"]), cluster_id);
        let ecs = &target["EcsParameters"];
        assert!(ecs.get("LaunchType").is_none(), "{}", stage.name());
        let asked = providers(&ecs["CapacityProviderStrategy"]);
        assert_eq!(asked, ["FARGATE_SPOT"], "{}", stage.name());
        assert!(asked.iter().all(|it| associated.contains(it)), "{}", stage.name());
    }
}

/// One stage's templates, and how its values resolve.
struct Stage {
    config: StageConfig,
    templates: Vec<(Part, TemplateView)>,
}

impl Stage {
    fn new(config: StageConfig) -> Stage {
        let templates = stacks::synth_stage(&config, &common::ENV).expect("the stage synthesizes");
        let templates =
            templates.into_iter().map(|(part, it)| (part, TemplateView { json: it.json().clone() })).collect();
        Stage { config, templates }
    }

    /// `prod` (a domain, arm64, channels) and `dev` (every default).
    fn both() -> [Stage; 2] {
        [Stage::new(common::prod()), Stage::new(common::dev())]
    }

    fn name(&self) -> &str {
        &self.config.name
    }

    fn region(&self) -> &str {
        &self.config.region
    }

    fn template(&self, part: Part) -> &TemplateView {
        &self.templates.iter().find(|(it, _)| *it == part).expect("every part is synthesized").1
    }

    /// `value` of the stack `part` as a string: pseudo parameters replaced by this stage's values
    /// in `part`'s region, `Ref X` written `<X>` and `Fn::GetAtt [X, A]` written `<X.A>`, through
    /// `Fn::Sub` and `Fn::Join`.
    fn resolve(&self, value: &Value, part: Part) -> String {
        let region = part.region(&self.config.region);
        let pseudo = |name: &str| match name {
            "AWS::Region" => Some(region.clone()),
            "AWS::AccountId" => Some(ACCOUNT.to_owned()),
            "AWS::Partition" => Some("aws".to_owned()),
            "AWS::URLSuffix" => Some("amazonaws.com".to_owned()),
            "AWS::StackName" => Some(part.stack_name(&self.config.name)),
            _ => None,
        };
        let Value::Object(object) = value else {
            return value.as_str().unwrap_or_else(|| panic!("{value} is not a string")).to_owned();
        };
        if let Some(Value::String(name)) = object.get("Ref") {
            return pseudo(name).unwrap_or_else(|| format!("<{name}>"));
        }
        if let Some(Value::Array(args)) = object.get("Fn::GetAtt") {
            return format!("<{}.{}>", args[0].as_str().unwrap(), args[1].as_str().unwrap());
        }
        if let Some(Value::String(template)) = object.get("Fn::Sub") {
            let mut resolved = String::new();
            let mut rest = template.as_str();
            while let Some(start) = rest.find("${") {
                resolved.push_str(&rest[..start]);
                let end = rest[start..].find('}').expect("a closed ${") + start;
                let name = &rest[start + 2..end];
                resolved.push_str(&pseudo(name).unwrap_or_else(|| format!("<{name}>")));
                rest = &rest[end + 1..];
            }
            resolved.push_str(rest);
            return resolved;
        }
        if let Some(Value::Array(args)) = object.get("Fn::Join") {
            let separator = args[0].as_str().unwrap();
            let parts: Vec<String> = args[1].as_array().unwrap().iter().map(|it| self.resolve(it, part)).collect();
            return parts.join(separator);
        }
        panic!("cannot resolve {value}")
    }
}

/// One synthesized template's JSON, with lookups by type and by reference.
struct TemplateView {
    json: Value,
}

impl TemplateView {
    /// Every resource of `resource_type`, with its logical id.
    fn resources_of_type(&self, resource_type: &str) -> Vec<(&str, &Value)> {
        let resources = self.json["Resources"].as_object().expect("a template has resources");
        resources.iter().filter(|(_, it)| it["Type"] == resource_type).map(|(id, it)| (id.as_str(), it)).collect()
    }

    fn resource(&self, id: &str) -> &Value {
        let resource = &self.json["Resources"][id];
        assert!(resource.is_object(), "{id} is not a resource of the template");
        resource
    }

    /// The logical id `value` points to: `Ref X` or `Fn::GetAtt [X, _]`, X a resource or a parameter.
    fn referenced_id(&self, value: &Value) -> String {
        let id = match (value.get("Ref"), value.get("Fn::GetAtt")) {
            (Some(Value::String(id)), _) => id.clone(),
            (_, Some(Value::Array(args))) => args[0].as_str().unwrap().to_owned(),
            _ => panic!("{value} is neither a Ref nor a Fn::GetAtt"),
        };
        let known = self.json["Resources"].get(&id).is_some() || self.json["Parameters"].get(&id).is_some();
        assert!(known, "{id} is neither a resource nor a parameter of the template");
        id
    }

    /// The statements of the inline policies of the role `role`.
    fn statements_of(&self, role: &str) -> Vec<&Value> {
        let role = self.resource(role);
        assert_eq!(role["Type"], "AWS::IAM::Role");
        let policies = role["Properties"]["Policies"].as_array().into_iter().flatten();
        policies.flat_map(|it| it["PolicyDocument"]["Statement"].as_array().into_iter().flatten()).collect()
    }
}

/// A host name as CloudFront's `DomainName` takes it: no scheme, no port, no path.
fn is_bare_host_name(host: &str) -> bool {
    let allowed = host.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    allowed && host.contains('.') && !host.starts_with(['.', '-']) && !host.ends_with(['.', '-'])
}

fn as_list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn strings(value: &Value) -> Vec<String> {
    as_list(value).into_iter().map(|it| it.as_str().expect("a string").to_owned()).collect()
}

fn providers(strategy: &Value) -> Vec<String> {
    as_list(strategy).into_iter().map(|it| it["CapacityProvider"].as_str().unwrap().to_owned()).collect()
}
