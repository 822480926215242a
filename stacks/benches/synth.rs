//! How long synthesizing every stack of a stage takes: the model, the constructs, the reference
//! checks and the YAML, for a stage without and with a domain.

use criterion::{Criterion, criterion_group, criterion_main};
use stacks::{EnvNames, StageConfig, config::DomainConfig, synth_stage};

const ENV: EnvNames = EnvNames {
    reports_bucket: "ALCHEMY_REPORTS_BUCKET",
    topic_arn: "ALCHEMY_TOPIC_ARN",
    site_url: "ALCHEMY_SITE_URL",
    source: "ALCHEMY_SOURCE",
    tushare_token: "TUSHARE_TOKEN",
    channels: "ALCHEMY_CHANNELS",
};

fn synth_every_stack(c: &mut Criterion) {
    let plain = StageConfig::new("dev", "ap-southeast-1").expect("a valid stage");
    let mut with_domain = StageConfig::new("prod", "ap-southeast-1").expect("a valid stage");
    with_domain.domain =
        Some(DomainConfig { name: "alchemy.example.com".to_owned(), hosted_zone_id: "Z0123456789ABC".to_owned() });

    let mut group = c.benchmark_group("synth");
    for (name, stage) in [("four stacks to YAML", &plain), ("four stacks to YAML, with a domain", &with_domain)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let templates = synth_stage(stage, &ENV).expect("the stage synthesizes");
                templates.iter().map(|(_, template)| template.to_yaml().len()).sum::<usize>()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, synth_every_stack);
criterion_main!(benches);
