//! Transient AWS faults (throttling, 5xx) are retried by the SDK's retry configuration.
//!
//! moto never throttles and never fails with a 5xx on its own, so these tests put a scripted
//! HTTP server on 127.0.0.1 in its place: it answers with the given responses in order, then
//! counts how many requests the adapter made.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use platform::{
    aws::{AwsConfig, MAX_ATTEMPTS},
    notify::{Message, Notifier},
    store::{ObjectKey, ObjectStore},
};

#[tokio::test]
async fn s3_slow_down_and_5xx_answers_are_retried() {
    let server = Scripted::start(vec![S3_SLOW_DOWN, S3_INTERNAL_ERROR, S3_PUT_OK]);
    let aws = AwsConfig::emulator(&server.endpoint).await;
    let store = ObjectStore::s3(aws.s3(), "reports");
    let key = ObjectKey::new("reports/dma-11-22/20261127.json").unwrap();
    store.put(&key, b"{}".to_vec(), "application/json").await.unwrap();
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn s3_gives_up_after_the_configured_attempts_naming_bucket_and_key() {
    let server = Scripted::start(vec![S3_SLOW_DOWN; 10]);
    let aws = AwsConfig::emulator(&server.endpoint).await;
    let store = ObjectStore::s3(aws.s3(), "reports");
    let key = ObjectKey::new("reports/dma-11-22/20261127.json").unwrap();
    let err = store.put(&key, b"{}".to_vec(), "application/json").await.unwrap_err();
    assert!(err.to_string().contains("bucket reports"), "{err}");
    assert!(err.to_string().contains("reports/dma-11-22/20261127.json"), "{err}");
    assert_eq!(server.requests(), MAX_ATTEMPTS as usize);
}

#[tokio::test]
async fn sns_throttling_and_5xx_answers_are_retried() {
    let server = Scripted::start(vec![SNS_THROTTLING, SNS_INTERNAL_ERROR, SNS_PUBLISH_OK]);
    let aws = AwsConfig::emulator(&server.endpoint).await;
    let notifier = Notifier::sns(aws.sns(), "arn:aws:sns:us-east-1:123456789012:signals");
    notifier.publish(&Message::new("Double MA signals 2026-11-27", "可买标的:\n无\n").unwrap()).await.unwrap();
    assert_eq!(server.requests(), 3);
}

const S3_SLOW_DOWN: (u16, &str) = (
    503,
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>\
     <Message>Please reduce your request rate.</Message><RequestId>r1</RequestId></Error>",
);
const S3_INTERNAL_ERROR: (u16, &str) = (
    500,
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>\
     <Message>We encountered an internal error. Please try again.</Message><RequestId>r2</RequestId></Error>",
);
const S3_PUT_OK: (u16, &str) = (200, "");
const SNS_THROTTLING: (u16, &str) = (
    400,
    "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type>\
     <Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r1</RequestId></ErrorResponse>",
);
const SNS_INTERNAL_ERROR: (u16, &str) = (
    500,
    "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Receiver</Type>\
     <Code>InternalError</Code><Message>Internal failure</Message></Error><RequestId>r2</RequestId></ErrorResponse>",
);
const SNS_PUBLISH_OK: (u16, &str) = (
    200,
    "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult>\
     <MessageId>m1</MessageId></PublishResult><ResponseMetadata><RequestId>r3</RequestId>\
     </ResponseMetadata></PublishResponse>",
);

/// An HTTP server on 127.0.0.1 answering each request with the next scripted `(status, XML body)`,
/// one request per connection.
struct Scripted {
    endpoint: String,
    requests: Arc<AtomicUsize>,
}

impl Scripted {
    fn start(script: Vec<(u16, &'static str)>) -> Scripted {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        std::thread::spawn(move || {
            for (stream, (status, body)) in listener.incoming().zip(script) {
                let Ok(stream) = stream else { return };
                if answer(stream, status, body).is_ok() {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        Scripted { endpoint, requests }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads one request (head, then a `Content-Length` or chunked body) and writes the answer.
fn answer(stream: TcpStream, status: u16, body: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut content_length = 0;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            content_length = value.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
        if line == "\r\n" {
            break;
        }
    }
    if chunked {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line)?;
            let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
        }
    } else {
        let mut request_body = vec![0; content_length];
        reader.read_exact(&mut request_body)?;
    }
    let reason = if status == 200 { "OK" } else { "Error" };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nETag: \"e1\"\r\n\
         x-amz-request-id: r\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}
