//! ACM and Route53: a DNS-validated certificate for the site's domain, and alias records that
//! point the domain at the distribution.

use serde::Serialize;

use crate::model::error::SynthError;
use crate::model::expr::Expr;
use crate::model::names::LogicalId;
use crate::model::resource::Resource;
use crate::model::stack::Stack;

/// Adds a certificate for `domain`, validated through records ACM writes into `hosted_zone_id`.
/// Returns its ARN (a certificate's `Ref`).
pub fn certificate(stack: &mut Stack, id: &str, domain: &str, hosted_zone_id: &str) -> Result<Expr, SynthError> {
    let id = LogicalId::new(id)?;
    let properties = CfnCertificate {
        domain_name: domain.to_owned(),
        validation_method: "DNS",
        domain_validation_options: vec![ValidationOption {
            domain_name: domain.to_owned(),
            hosted_zone_id: hosted_zone_id.to_owned(),
        }],
    };
    stack.add(&id, Resource::new("AWS::CertificateManager::Certificate", &properties)?)?;
    Ok(Expr::Ref(id))
}

/// Adds `A` (`<id>`) and `AAAA` (`<id>Ipv6`) alias records for `name` in `hosted_zone_id`
/// pointing at `target`, a host name in the zone `target_zone_id` (CloudFront's, for a distribution).
pub fn alias_records(
    stack: &mut Stack,
    id: &str,
    hosted_zone_id: &str,
    name: &str,
    target: Expr,
    target_zone_id: &'static str,
) -> Result<(), SynthError> {
    let id = LogicalId::new(id)?;
    for (record_id, record_type) in [(id.clone(), "A"), (id.child("Ipv6")?, "AAAA")] {
        let properties = CfnRecordSet {
            hosted_zone_id: hosted_zone_id.to_owned(),
            name: name.to_owned(),
            record_type,
            alias_target: AliasTarget {
                d_n_s_name: target.clone(),
                hosted_zone_id: target_zone_id,
                evaluate_target_health: false,
            },
        };
        stack.add(&record_id, Resource::new("AWS::Route53::RecordSet", &properties)?)?;
    }
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnCertificate {
    domain_name: String,
    validation_method: &'static str,
    domain_validation_options: Vec<ValidationOption>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ValidationOption {
    domain_name: String,
    hosted_zone_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnRecordSet {
    hosted_zone_id: String,
    name: String,
    #[serde(rename = "Type")]
    record_type: &'static str,
    alias_target: AliasTarget,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AliasTarget {
    #[serde(rename = "DNSName")]
    d_n_s_name: Expr,
    hosted_zone_id: &'static str,
    evaluate_target_health: bool,
}
