//! The network stack: a VPC with two public subnets and the job's security group.
//! No NAT gateway, no VPC endpoints: they bill by the hour.

use crate::{
    config::StageConfig,
    ec2::{self, Egress, VpcProps},
    model::{error::SynthError, expr::Expr, stack::Stack},
    parts::Part,
};

/// Output: the subnets the job runs in, comma-separated (the app stack's `SubnetIds`).
pub const SUBNET_IDS: &str = "SubnetIds";
/// Output: the job's security group (the app stack's `SecurityGroupId`).
pub const SECURITY_GROUP_ID: &str = "SecurityGroupId";
/// Output: the VPC.
pub const VPC_ID: &str = "VpcId";

pub fn stack(stage: &StageConfig) -> Result<Stack, SynthError> {
    let mut stack = Stack::new(&Part::Network.stack_name(&stage.name), "a public-subnet VPC for the job")?;
    let vpc = ec2::vpc(&mut stack, "Vpc", VpcProps::default())?;
    let egress = [
        Egress { port: 443, description: "HTTPS to AWS APIs and the image registry" },
        Egress { port: 80, description: "HTTP to the Tushare Pro API, which has no HTTPS endpoint" },
    ];
    let group =
        ec2::security_group(&mut stack, "JobSecurityGroup", &vpc, "The signal job: no inbound traffic", &egress)?;

    stack.output(VPC_ID, "The VPC", vpc.vpc_id())?;
    stack.output(SUBNET_IDS, "Public subnets of the job, comma-separated", Expr::Join(",", vpc.subnet_ids()))?;
    stack.output(SECURITY_GROUP_ID, "Security group of the job", group)?;
    Ok(stack)
}
