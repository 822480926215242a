//! The cloud adapters against the moto server, which speaks the real S3 and SNS wire protocols.
//!
//! `cargo xtask test` starts moto and sets `AWS_ENDPOINT_URL` and dummy credentials; without it
//! these tests fail (loudly) instead of passing (`test_support::moto`). Each test makes its own
//! bucket or topic, so they run in parallel without resetting the emulator.

use platform::{
    aws::AwsConfig,
    email::Email,
    fund::FundCode,
    interest::Interest,
    notify::{FILTER_POLICY_SCOPE, FilterPolicy, Message, MessageAttributes, Notifier, SNS_MAX_MESSAGE_BYTES},
    store::{Fetched, KeyPrefix, ObjectKey, ObjectStore, StoreError},
    subscribers::{Added, Subscribers},
};
use test_support::moto::{self, sent_notifications, unique_name};

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn the_s3_store_round_trips_objects_with_their_content_types() {
    let (aws, bucket, store) = s3_store().await;
    let key = |it: &str| ObjectKey::new(it).unwrap();

    assert_eq!(store.get(&key("reports/dma-11-22/20261127.txt")).await.unwrap(), None, "missing is None");
    store.put(&key("reports/dma-11-22/20261127.txt"), "可买标的:\n".into(), "text/plain; charset=utf-8").await.unwrap();
    store.put(&key("reports/dma-11-22/20261127.json"), b"{}".to_vec(), "application/json").await.unwrap();
    store.put(&key("state/published/20261127"), b"x".to_vec(), "text/plain; charset=utf-8").await.unwrap();
    store.put(&key("reports/dma-11-22/20261127.txt"), "空仓标的:\n".into(), "text/plain; charset=utf-8").await.unwrap();

    assert_eq!(store.get(&key("reports/dma-11-22/20261127.txt")).await.unwrap(), Some("空仓标的:\n".into()));
    let listed = store.list(&KeyPrefix::new("reports/").unwrap()).await.unwrap();
    let listed: Vec<&str> = listed.iter().map(ObjectKey::as_str).collect();
    assert_eq!(listed, ["reports/dma-11-22/20261127.json", "reports/dma-11-22/20261127.txt"]);
    assert_eq!(content_type(&aws, &bucket, "reports/dma-11-22/20261127.txt").await, "text/plain; charset=utf-8");
    assert_eq!(content_type(&aws, &bucket, "reports/dma-11-22/20261127.json").await, "application/json");
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn the_s3_store_answers_unchanged_for_the_etag_seen_and_the_body_once_rewritten() {
    let (_, _, store) = s3_store().await;
    let key = ObjectKey::new("reports/index/dma-11-22.json").unwrap();
    assert_eq!(store.get_if_changed(&key, None).await.unwrap(), Fetched::Missing);
    store.put(&key, b"{\"days\":[]}".to_vec(), "application/json").await.unwrap();
    let Fetched::Changed { body, version } = store.get_if_changed(&key, None).await.unwrap() else {
        panic!("a stored object is fetched whole when no version was seen")
    };
    assert_eq!(body, b"{\"days\":[]}");
    assert_eq!(store.get_if_changed(&key, Some(&version)).await.unwrap(), Fetched::Unchanged, "304 Not Modified");
    store.put(&key, b"{\"days\":[1]}".to_vec(), "application/json").await.unwrap();
    let Fetched::Changed { body, version: second } = store.get_if_changed(&key, Some(&version)).await.unwrap() else {
        panic!("a rewritten object is fetched again")
    };
    assert_eq!((body.as_slice(), second != version), (&b"{\"days\":[1]}"[..], true));
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn the_s3_store_lists_past_one_page_of_keys() {
    let (_, _, store) = s3_store().await;
    // ListObjectsV2 returns at most 1000 keys a page.
    let mut puts = tokio::task::JoinSet::new();
    for n in 0..1005 {
        let store = store.clone();
        let key = ObjectKey::new(&format!("reports/{n:05}.json")).unwrap();
        puts.spawn(async move { store.put(&key, b"{}".to_vec(), "application/json").await });
    }
    while let Some(put) = puts.join_next().await {
        put.unwrap().unwrap();
    }
    let listed = store.list(&KeyPrefix::new("reports/").unwrap()).await.unwrap();
    assert_eq!(listed.len(), 1005);
    assert_eq!(listed[1004].as_str(), "reports/01004.json");
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn s3_failures_name_the_bucket_and_the_key() {
    let aws = moto::aws().await;
    let store = ObjectStore::s3(aws.s3(), &unique_name("it-missing"));
    let key = ObjectKey::new("reports/dma-11-22/20261127.json").unwrap();
    let read = store.get(&key).await.unwrap_err();
    assert!(matches!(read, StoreError::Read { .. }), "a missing bucket is not a missing key: {read:?}");
    let write = store.put(&key, b"{}".to_vec(), "application/json").await.unwrap_err();
    for err in [read.to_string(), write.to_string()] {
        assert!(err.contains("bucket it-missing-") && err.contains("reports/dma-11-22/20261127.json"), "{err}");
    }
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn the_sns_notifier_publishes_the_subject_and_the_body() {
    let (aws, topic_arn) = sns_topic().await;
    let notifier = Notifier::sns(aws.sns(), &topic_arn);
    let message =
        Message::new("Double MA 11/22 signals 2026-11-27 (A-share ETFs)", "可买标的:\n300ETF(510300.SH)可买\n")
            .unwrap();
    notifier.publish(&message).await.unwrap();

    let sent = sent_notifications(&topic_arn);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].subject, "Double MA 11/22 signals 2026-11-27 (A-share ETFs)");
    assert_eq!(sent[0].message, "可买标的:\n300ETF(510300.SH)可买\n");
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn a_message_over_256_kib_is_shortened_to_end_with_the_page_address_not_refused() {
    let (aws, topic_arn) = sns_topic().await;
    let notifier = Notifier::sns(aws.sns(), &topic_arn);
    // moto counts characters, SNS bytes: an ASCII body makes moto refuse what SNS would refuse.
    let body = "510300.SH HOLD since 20261101\n".repeat(10_000);
    assert!(body.len() > SNS_MAX_MESSAGE_BYTES);
    let url = "https://signals.example.com/reports/20261127";
    let message = Message::new("Double MA signals 2026-11-27", &body).unwrap().with_link(url);
    notifier.publish(&message).await.unwrap();

    let sent = sent_notifications(&topic_arn);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].message.len() <= SNS_MAX_MESSAGE_BYTES);
    assert!(sent[0].message.trim_end().ends_with(url), "{}", &sent[0].message[sent[0].message.len() - 100..]);
    assert!(sent[0].message.starts_with("510300.SH HOLD since 20261101\n"));
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn publishing_to_a_deleted_topic_fails_naming_the_topic() {
    let (aws, topic_arn) = sns_topic().await;
    aws.sns().delete_topic().topic_arn(&topic_arn).send().await.unwrap();
    let err = Notifier::sns(aws.sns(), &topic_arn)
        .publish(&Message::new("Double MA signals 2026-11-27", "body").unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&topic_arn), "{err}");
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn subscribing_the_same_address_twice_keeps_one_subscription() {
    let (aws, topic_arn) = sns_topic().await;
    let subscribers = Subscribers::sns(aws.sns(), &topic_arn);

    let email = Email::parse("investor@example.com").unwrap();
    assert_eq!(subscribers.add(&email, &Interest::EveryDay).await.unwrap(), Added::New);
    // moto would not create a duplicate either; `Existing` shows the adapter did not ask SNS again
    // (real SNS sends a second confirmation mail to a pending address).
    assert_eq!(
        subscribers.add(&Email::parse("Investor@Example.com").unwrap(), &Interest::EveryDay).await.unwrap(),
        Added::Existing
    );
    assert_eq!(
        subscribers.add(&Email::parse("other@example.com").unwrap(), &Interest::EveryDay).await.unwrap(),
        Added::New
    );

    let listed = subscribers.list().await.unwrap();
    assert_eq!(listed, [email, Email::parse("other@example.com").unwrap()]);
    let on_topic = aws.sns().list_subscriptions_by_topic().topic_arn(&topic_arn).send().await.unwrap();
    let endpoints: Vec<&str> = on_topic.subscriptions().iter().filter_map(|it| it.endpoint()).collect();
    assert_eq!(endpoints.len(), 2, "{endpoints:?}");
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn an_invalid_address_never_reaches_sns() {
    let (aws, topic_arn) = sns_topic().await;
    let subscribers = Subscribers::sns(aws.sns(), &topic_arn);
    // `add` takes only a parsed `Email`: an invalid address cannot be handed to SNS at all.
    for text in ["not-an-address", "a@localhost", "a@x.com\nBcc: b@y.com", "<a@x.com>"] {
        if let Ok(email) = Email::parse(text) {
            subscribers.add(&email, &Interest::EveryDay).await.unwrap();
        }
    }
    let on_topic = aws.sns().list_subscriptions_by_topic().topic_arn(&topic_arn).send().await.unwrap();
    assert!(on_topic.subscriptions().is_empty(), "{:?}", on_topic.subscriptions());
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn each_choice_becomes_the_subscriptions_filter_policy_and_the_publish_carries_the_days_attributes() {
    let (aws, topic_arn) = sns_topic().await;
    let subscribers = Subscribers::sns(aws.sns(), &topic_arn);
    let fund_list: Vec<FundCode> =
        ["510300.SH", "510500.SH", "159915.SZ"].map(|it| FundCode::parse(it).unwrap()).into();
    let choices = [
        ("daily@example.com", Interest::parse(None, &[], &fund_list).unwrap()),
        ("signals@example.com", Interest::parse(Some("signals"), &[], &fund_list).unwrap()),
        ("funds@example.com", Interest::parse(Some("signals"), &["510500.SH", "159915.SZ"], &fund_list).unwrap()),
    ];
    for (email, interest) in &choices {
        assert_eq!(subscribers.add(&Email::parse(email).unwrap(), interest).await.unwrap(), Added::New);
    }

    let on_topic = aws.sns().list_subscriptions_by_topic().topic_arn(&topic_arn).send().await.unwrap();
    assert_eq!(on_topic.subscriptions().len(), 3);
    for subscription in on_topic.subscriptions() {
        let endpoint = subscription.endpoint().unwrap();
        let (_, interest) = choices.iter().find(|(email, _)| *email == endpoint).unwrap();
        let arn = subscription.subscription_arn().unwrap();
        let read = aws.sns().get_subscription_attributes().subscription_arn(arn).send().await.unwrap();
        let attributes = read.attributes().unwrap();
        let policy = attributes.get("FilterPolicy").filter(|it| !it.is_empty());
        // What SNS holds reads back, through the one parser the outbox uses, as the policy of the choice.
        let stored = policy.map(|it| FilterPolicy::parse(it).unwrap());
        assert_eq!(stored, FilterPolicy::for_interest(interest), "{endpoint}: {attributes:?}");
        if stored.is_some() {
            assert_eq!(
                attributes.get("FilterPolicyScope").map(String::as_str),
                Some(FILTER_POLICY_SCOPE),
                "{endpoint}"
            );
        }
    }

    let notifier = Notifier::sns(aws.sns(), &topic_arn);
    for signal_funds in [&fund_list[1..2], &[]] {
        let message = Message::new("Double MA 11/22 signals 2026-11-27 (A-share ETFs)", "可买标的:\n").unwrap();
        notifier.publish(&message.with_attributes(MessageAttributes::for_day(signal_funds))).await.unwrap();
    }
    let sent = sent_notifications(&topic_arn);
    assert_eq!(sent.len(), 2);
    let attribute = |sent: &moto::Sent, name: &str| {
        let value = &sent.attributes[name];
        (value["Type"].as_str().unwrap_or_default().to_owned(), value["Value"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(attribute(&sent[0], "signal_day"), ("String".to_owned(), "true".to_owned()), "{:?}", sent[0]);
    assert_eq!(attribute(&sent[0], "signal_funds"), ("String.Array".to_owned(), r#"["510500.SH"]"#.to_owned()));
    assert_eq!(attribute(&sent[1], "signal_day"), ("String".to_owned(), "false".to_owned()), "{:?}", sent[1]);
    assert_eq!(attribute(&sent[1], "signal_funds"), ("String.Array".to_owned(), r#"["none"]"#.to_owned()));
}

/// The clients, a fresh bucket and the store on it.
async fn s3_store() -> (AwsConfig, String, ObjectStore) {
    let aws = moto::aws().await;
    let bucket = moto::create_bucket(&aws, "it-bucket").await;
    let store = ObjectStore::s3(aws.s3(), &bucket);
    (aws, bucket, store)
}

/// The clients and a fresh topic's ARN.
async fn sns_topic() -> (AwsConfig, String) {
    let aws = moto::aws().await;
    let topic_arn = moto::create_topic(&aws, "it-topic").await.arn;
    (aws, topic_arn)
}

async fn content_type(aws: &AwsConfig, bucket: &str, key: &str) -> String {
    let head = aws.s3().head_object().bucket(bucket).key(key).send().await.unwrap();
    head.content_type().unwrap().to_owned()
}
