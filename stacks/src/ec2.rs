//! EC2 networking: a VPC of public subnets only, and security groups with no ingress.
//!
//! No NAT gateway and no VPC endpoints: both bill by the hour, more than the rest of the app.
//! Tasks reach AWS and Tushare through the internet gateway with a public IP instead.

use serde::Serialize;

use crate::model::error::SynthError;
use crate::model::expr::Expr;
use crate::model::names::LogicalId;
use crate::model::resource::Resource;
use crate::model::stack::Stack;

/// How a VPC differs from the default.
#[derive(Debug, Clone)]
pub struct VpcProps {
    /// The VPC's address range. Default: `10.0.0.0/16`.
    pub cidr: &'static str,
    /// One public subnet per entry, in the stack region's availability zones in order.
    /// Default: `10.0.0.0/24` and `10.0.1.0/24` (two zones).
    pub public_subnets: Vec<&'static str>,
}

impl Default for VpcProps {
    fn default() -> VpcProps {
        VpcProps { cidr: "10.0.0.0/16", public_subnets: vec!["10.0.0.0/24", "10.0.1.0/24"] }
    }
}

/// A VPC and its public subnets.
#[derive(Debug, Clone)]
pub struct VpcRef {
    id: LogicalId,
    subnets: Vec<LogicalId>,
}

/// Adds a VPC with an internet gateway, one route table with a default route to it, and
/// public subnets (`<id>SubnetA`, `<id>SubnetB`, ...) that do not give instances public IPs on their own.
pub fn vpc(stack: &mut Stack, id: &str, props: VpcProps) -> Result<VpcRef, SynthError> {
    let id = LogicalId::new(id)?;
    let vpc = CfnVpc { cidr_block: props.cidr, enable_dns_hostnames: true, enable_dns_support: true };
    let vpc = Resource::new("AWS::EC2::VPC", &vpc)?.suppress_nag(
        "AwsSolutions-VPC7",
        "flow logs bill CloudWatch ingestion by the GB; the VPC holds one outbound-only task a day, no inbound rule",
    );
    stack.add(&id, vpc)?;
    let vpc_id = Expr::Ref(id.clone());

    let gateway = id.child("Gateway")?;
    stack.add(&gateway, Resource::new("AWS::EC2::InternetGateway", &serde_json::json!({}))?)?;
    let attachment = id.child("GatewayAttachment")?;
    let attach = CfnGatewayAttachment { vpc_id: vpc_id.clone(), internet_gateway_id: Expr::Ref(gateway.clone()) };
    stack.add(&attachment, Resource::new("AWS::EC2::VPCGatewayAttachment", &attach)?)?;

    let route_table = id.child("RouteTable")?;
    stack.add(&route_table, Resource::new("AWS::EC2::RouteTable", &CfnRouteTable { vpc_id: vpc_id.clone() })?)?;
    let route = CfnRoute {
        route_table_id: Expr::Ref(route_table.clone()),
        destination_cidr_block: "0.0.0.0/0",
        gateway_id: Expr::Ref(gateway),
    };
    stack.add(&id.child("DefaultRoute")?, Resource::new("AWS::EC2::Route", &route)?.depends_on(&attachment))?;

    let mut subnets = Vec::new();
    for (index, cidr) in props.public_subnets.iter().enumerate() {
        let letter = char::from(b'A' + u8::try_from(index).expect("fewer than 26 subnets"));
        let subnet_id = id.child(&format!("Subnet{letter}"))?;
        let subnet = CfnSubnet {
            vpc_id: vpc_id.clone(),
            cidr_block: cidr,
            availability_zone: Expr::Select(
                u32::try_from(index).expect("fewer than 26 subnets"),
                Box::new(Expr::GetAzs),
            ),
            map_public_ip_on_launch: false,
        };
        stack.add(&subnet_id, Resource::new("AWS::EC2::Subnet", &subnet)?)?;
        let association = CfnRouteTableAssociation {
            route_table_id: Expr::Ref(route_table.clone()),
            subnet_id: Expr::Ref(subnet_id.clone()),
        };
        stack.add(
            &id.child(&format!("Subnet{letter}RouteTable"))?,
            Resource::new("AWS::EC2::SubnetRouteTableAssociation", &association)?,
        )?;
        subnets.push(subnet_id);
    }
    Ok(VpcRef { id, subnets })
}

impl VpcRef {
    pub fn vpc_id(&self) -> Expr {
        Expr::Ref(self.id.clone())
    }

    /// The public subnets' ids, in zone order.
    pub fn subnet_ids(&self) -> Vec<Expr> {
        self.subnets.iter().map(|it| Expr::Ref(it.clone())).collect()
    }
}

/// One outbound rule: TCP to anywhere on one port.
#[derive(Debug, Clone)]
pub struct Egress {
    pub port: u16,
    pub description: &'static str,
}

/// Adds a security group in `vpc` with no inbound rule and only the outbound rules in `egress`.
pub fn security_group(
    stack: &mut Stack,
    id: &str,
    vpc: &VpcRef,
    description: &'static str,
    egress: &[Egress],
) -> Result<Expr, SynthError> {
    let id = LogicalId::new(id)?;
    let properties = CfnSecurityGroup {
        group_description: description,
        vpc_id: vpc.vpc_id(),
        security_group_egress: egress
            .iter()
            .map(|rule| CfnEgress {
                ip_protocol: "tcp",
                from_port: rule.port,
                to_port: rule.port,
                cidr_ip: "0.0.0.0/0",
                description: rule.description,
            })
            .collect(),
    };
    stack.add(&id, Resource::new("AWS::EC2::SecurityGroup", &properties)?)?;
    Ok(Expr::GetAtt(id, "GroupId"))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnVpc {
    cidr_block: &'static str,
    enable_dns_hostnames: bool,
    enable_dns_support: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnGatewayAttachment {
    vpc_id: Expr,
    internet_gateway_id: Expr,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnRouteTable {
    vpc_id: Expr,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnRoute {
    route_table_id: Expr,
    destination_cidr_block: &'static str,
    gateway_id: Expr,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnSubnet {
    vpc_id: Expr,
    cidr_block: &'static str,
    availability_zone: Expr,
    map_public_ip_on_launch: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnRouteTableAssociation {
    route_table_id: Expr,
    subnet_id: Expr,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnSecurityGroup {
    group_description: &'static str,
    vpc_id: Expr,
    security_group_egress: Vec<CfnEgress>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnEgress {
    ip_protocol: &'static str,
    from_port: u16,
    to_port: u16,
    cidr_ip: &'static str,
    description: &'static str,
}
