//! The edge stack, always in us-east-1 (where CloudFront needs its certificate): the
//! distribution in front of the HTTP API and, with a domain, its certificate and DNS records.

use crate::{
    cloudfront::{self, CustomDomain, DistributionProps},
    config::StageConfig,
    dns,
    model::{error::SynthError, expr::Expr, parameter::Parameter, stack::Stack},
    parts::{Input, Part, app},
};

/// Parameter: the HTTP API's host name, the app stack's `ApiDomainName` output.
pub const API_DOMAIN_NAME: &str = "ApiDomainName";
/// Output: the site's address.
pub const SITE_URL: &str = "SiteUrl";
/// Output: the distribution id, for invalidations.
pub const DISTRIBUTION_ID: &str = "DistributionId";

/// The edge stack's one parameter comes from the app stack, in another region.
pub fn inputs() -> Vec<(&'static str, Input)> {
    vec![(API_DOMAIN_NAME, Input::output(Part::App, app::API_DOMAIN_NAME))]
}

pub fn stack(stage: &StageConfig) -> Result<Stack, SynthError> {
    let mut stack = Stack::new(&Part::Edge.stack_name(&stage.name), "CloudFront in front of the API and pages")?;
    let api_domain = stack.parameter(
        API_DOMAIN_NAME,
        Parameter::string(
            "Host name of the HTTP API (app stack output ApiDomainName)",
            "^[a-z0-9][a-z0-9.-]+[a-z0-9]$",
        ),
    )?;

    let domain = match &stage.domain {
        Some(domain) => {
            let certificate_arn =
                dns::certificate(&mut stack, "SiteCertificate", &domain.name, &domain.hosted_zone_id)?;
            Some(CustomDomain { name: domain.name.clone(), certificate_arn })
        }
        None => None,
    };
    let props = DistributionProps { origin_domain: api_domain, domain, price_class: "PriceClass_200" };
    let site = cloudfront::distribution(&mut stack, "Site", props)?;
    let site_url = match &stage.domain {
        Some(domain) => {
            dns::alias_records(
                &mut stack,
                "SiteRecord",
                &domain.hosted_zone_id,
                &domain.name,
                site.domain_name(),
                cloudfront::HOSTED_ZONE_ID,
            )?;
            Expr::str(&format!("https://{}", domain.name))
        }
        None => Expr::Sub("https://${Site.DomainName}".to_owned()),
    };

    stack.output(SITE_URL, "The site's address", site_url)?;
    stack.output(DISTRIBUTION_ID, "The CloudFront distribution", site.id())?;
    Ok(stack)
}
