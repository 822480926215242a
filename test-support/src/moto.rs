//! The AWS emulator as the tests see it: moto (`moto_server`, PyPI `moto[server]`) on 127.0.0.1,
//! which speaks the real S3 (REST-XML) and SNS (AWS query) wire protocols, plus its own
//! `/moto-api/data.json` (every model it holds, as JSON) for what AWS cannot be asked, such as what
//! SNS "sent".
//!
//! Nothing here starts moto. `cargo xtask test` does (`xtask/src/test/moto.rs`): it starts
//! `moto_server` on a free port, sets `AWS_ENDPOINT_URL` to it with dummy credentials
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`), `AWS_REGION` and `AWS_EC2_METADATA_DISABLED=true`
//! (`test_env` in `xtask/src/test.rs`), and runs the tests marked
//! `#[ignore = "needs the AWS emulator: cargo xtask test"]` with `--include-ignored`. Without that
//! environment these helpers panic, so such a test fails loudly instead of passing. Each test makes
//! its own buckets and topics ([`unique_name`]), so the tests run in parallel without resetting the
//! emulator.

use std::{
    io::{Read, Write},
    net::TcpStream,
    sync::atomic::{AtomicU32, Ordering},
};

use platform::aws::AwsConfig;

/// Why a test fails without the emulator, and what runs it.
pub const NEEDS_MOTO: &str = "needs the AWS emulator: cargo xtask test";

/// The emulator's address, `AWS_ENDPOINT_URL`; panics when it is not set.
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| panic!("AWS_ENDPOINT_URL is not set: {NEEDS_MOTO}"))
}

/// `platform`'s clients as the binaries load them (from the environment), checked to point at the
/// emulator; panics when `AWS_ENDPOINT_URL` is not set.
pub async fn aws() -> AwsConfig {
    let endpoint = endpoint();
    let aws = AwsConfig::load(None).await;
    assert_eq!(aws.endpoint_url(), Some(endpoint.as_str()));
    aws
}

/// A name no other test uses, valid for buckets and topics: `<what>-<pid>-<nanos>-<n>`.
pub fn unique_name(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{what}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Creates a bucket named [`unique_name`]`(what)` and returns the name; panics when the emulator
/// does not answer.
pub async fn create_bucket(aws: &AwsConfig, what: &str) -> String {
    let bucket = unique_name(what);
    aws.s3().create_bucket().bucket(&bucket).send().await.unwrap_or_else(|err| panic!("{NEEDS_MOTO}: {err:?}"));
    bucket
}

/// A topic [`create_topic`] made.
#[derive(Debug, Clone)]
pub struct Topic {
    /// The name it was created with: creating it again gives the same ARN.
    pub name: String,
    /// Its ARN.
    pub arn: String,
}

/// Creates a topic named [`unique_name`]`(what)`; panics when the emulator does not answer.
pub async fn create_topic(aws: &AwsConfig, what: &str) -> Topic {
    let name = unique_name(what);
    let created =
        aws.sns().create_topic().name(&name).send().await.unwrap_or_else(|err| panic!("{NEEDS_MOTO}: {err:?}"));
    Topic { name, arn: created.topic_arn().unwrap().to_owned() }
}

/// One notification moto's SNS "sent".
#[derive(Debug)]
pub struct Sent {
    pub subject: String,
    pub message: String,
    /// The `MessageAttributes` of the `Publish`, as moto keeps them: by name,
    /// `{"Type": "String" | "String.Array", "Value": "..."}`.
    pub attributes: serde_json::Value,
}

/// What SNS "sent" to `topic_arn`, oldest first: moto keeps every published notification in
/// `/moto-api/data.json` (`sns.Topic[].sent_notifications`).
pub fn sent_notifications(topic_arn: &str) -> Vec<Sent> {
    let data = http_get(&format!("{}/moto-api/data.json", endpoint()));
    let data: serde_json::Value = serde_json::from_str(&data).unwrap();
    let topics = data["sns"]["Topic"].as_array().cloned().unwrap_or_default();
    // moto lists every topic object it made: a deleted topic and its re-creation share the ARN.
    let sent: Vec<serde_json::Value> = topics
        .iter()
        .filter(|it| it["arn"] == topic_arn)
        .flat_map(|it| it["sent_notifications"].as_array().cloned().unwrap_or_default())
        .collect();
    // Each is `[message_id, message, subject, attributes, group_id]`.
    sent.iter()
        .map(|it| Sent {
            message: it[1].as_str().unwrap_or_default().to_owned(),
            subject: it[2].as_str().unwrap_or_default().to_owned(),
            attributes: it[3].clone(),
        })
        .collect()
}

/// A plain HTTP/1.0 GET on 127.0.0.1: the body.
///
/// moto's `/moto-api/data.json` serializes every model of every service and now and then fails (500)
/// when another test changes S3 objects at that moment: such an answer is asked again.
fn http_get(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut last_head = String::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(host).unwrap();
        stream.write_all(format!("GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes()).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let response = String::from_utf8(response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        if head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200") {
            return body.to_owned();
        }
        last_head = head.to_owned();
    }
    panic!("GET {url} failed 20 times; the last answer:\n{last_head}");
}
