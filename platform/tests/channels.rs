//! The chat channels against fake services over real HTTP (test-support's `channels`): what each
//! service validates (signature, timestamp, keyword, size, escaping), its error bodies and its
//! rate-limit answers.

use std::time::Duration;

use platform::{
    channels::{Channel, ChannelError, ChannelsFile, Digest, RetryPolicy, Sender},
    date::TradeDate,
    fund::{Fund, FundCode},
    history::SourceKind,
    report::{FundReport, Report},
    strategy::{DmaParams, Evaluation, Levels, Run, State},
};
use test_support::channels::{FakeChannel, Service};

const SECRET: &str = "SECf00dbabe+/=secret";

fn sender() -> Sender {
    Sender::new(RetryPolicy { tries: 3, base_delay: Duration::from_millis(10), max_delay: Duration::from_secs(5) })
        .unwrap()
}

/// A report of `n_signals` BUY/SELL funds (alternating) and two HOLD and one EMPTY fund.
fn report(n_signals: usize, name: &str) -> Report {
    let levels = Some(Levels { close: 4.012, ma_short: 3.998, ma_long: 3.990 });
    let run = Run { since: TradeDate::parse("20261101").unwrap(), days: 26, pct: 3.5, since_is_window_start: false };
    let mut states: Vec<State> =
        (0..n_signals).map(|idx| if idx % 2 == 0 { State::Buy } else { State::Sell }).collect();
    states.extend([State::Hold(run), State::Hold(run), State::Empty(run)]);
    let funds = states
        .into_iter()
        .enumerate()
        .map(|(idx, state)| FundReport {
            fund: Fund {
                code: FundCode::parse(&format!("{:06}.SH", 510_000 + idx)).unwrap(),
                name: format!("{name}{idx}"),
            },
            evaluation: Evaluation { state, levels, series: Default::default(), notes: Vec::new() },
        })
        .collect();
    Report {
        trade_date: TradeDate::parse("20261127").unwrap(),
        source: SourceKind::Tushare,
        params: DmaParams::STANDARD,
        funds,
        complete: true,
    }
}

/// The one channel of a file whose channel table is `body`, with `${VAR}` values `value-of-VAR`.
fn configured(body: &str) -> (Channel, String) {
    let text = format!("site_url = \"https://alchemy.example.com/\"\n[[channel]]\nname = \"c\"\n{body}");
    let file = ChannelsFile::parse(&text, &|name| Some(format!("value-of-{name}"))).unwrap();
    (file.channels[0].clone(), file.site_url)
}

fn digest(report: &Report, channel: &Channel, site_url: &str) -> Digest {
    Digest::for_channel(report, channel, site_url).expect("the channel hears about the day")
}

#[tokio::test]
async fn telegram_gets_html_with_the_fund_names_escaped_the_link_and_the_thread() {
    let fake =
        FakeChannel::start(Service::Telegram { token: "value-of-TG".to_owned(), chat_id: "-100".to_owned() }).await;
    let (channel, site) = configured(&format!(
        "kind = \"telegram\"\napi = \"{}\"\ntoken = \"${{TG}}\"\nchat_id = \"-100\"\nmessage_thread_id = 42\n",
        fake.url
    ));
    let report = report(2, "A&B<ETF>");
    let messages = sender().deliver(&channel, &digest(&report, &channel, &site)).await.unwrap();
    assert_eq!(messages, 1);
    let delivered = fake.delivered();
    assert_eq!(delivered.len(), 1, "{:?}", fake.refusals());
    let text = &delivered[0].text;
    assert!(text.starts_with("invest-alchemy 20261127: 1 可买, 1 可卖\n"), "{text}");
    assert!(text.contains("A&B<ETF>0(510000.SH)可买, 收盘价4.012, 11日均线3.998, 22日均线3.990"), "{text}");
    assert!(text.contains("其余: 持仓 2, 空仓 1"), "{text}");
    assert!(text.contains("不构成投资建议"), "{text}");
    assert!(!text.contains("样例数据"), "not sample data: {text}");
    assert_eq!(delivered[0].body["message_thread_id"], 42);
    assert_eq!(delivered[0].body["parse_mode"], "HTML");
    let html = delivered[0].body["text"].as_str().unwrap();
    assert!(html.contains("<a href=\"https://alchemy.example.com/reports/20261127\">"), "{html}");
}

#[tokio::test]
async fn the_telegram_fake_refuses_what_telegram_cannot_parse() {
    use test_support::channels::telegram::parse_html;
    assert_eq!(parse_html("<b>x</b> &amp; &lt;y&gt;").unwrap(), "x & <y>");
    assert!(parse_html("A<B").unwrap_err().contains("Unclosed start tag"));
    assert!(parse_html("A & B").unwrap_err().contains("Can't find end of the entity"));
    assert!(parse_html("<script>x</script>").unwrap_err().contains("Unsupported start tag"));
    assert!(parse_html("<b>x</i>").unwrap_err().contains("Unmatched end tag"));
}

#[tokio::test]
async fn telegram_waits_out_retry_after_and_a_wrong_token_is_refused_without_showing_it() {
    let fake =
        FakeChannel::start(Service::Telegram { token: "value-of-TG".to_owned(), chat_id: "-100".to_owned() }).await;
    let (channel, site) =
        configured(&format!("kind = \"telegram\"\napi = \"{}\"\ntoken = \"${{TG}}\"\nchat_id = \"-100\"\n", fake.url));
    fake.rate_limit_next(1);
    sender().deliver(&channel, &digest(&report(1, "ETF"), &channel, &site)).await.unwrap();
    assert_eq!(fake.requests(), 2);
    assert_eq!(fake.delivered().len(), 1);
    assert!(fake.refusals()[0].contains("\"retry_after\":1"), "{:?}", fake.refusals());

    let (wrong, _) = configured(&format!(
        "kind = \"telegram\"\napi = \"{}\"\ntoken = \"${{WRONG}}\"\nchat_id = \"-100\"\n",
        fake.url
    ));
    let err = sender().deliver(&wrong, &digest(&report(1, "ETF"), &wrong, &site)).await.unwrap_err();
    assert_eq!(err.to_string(), "telegram refused the message: 401 Unauthorized");
    assert_eq!(fake.requests(), 3, "a refusal is not retried");
}

#[tokio::test]
async fn wecom_splits_a_long_day_into_messages_of_at_most_4096_bytes_in_order() {
    let fake = FakeChannel::start(Service::WeCom { key: "value-of-KEY".to_owned() }).await;
    let (channel, site) = configured(&format!("kind = \"wecom\"\napi = \"{}\"\nkey = \"${{KEY}}\"\n", fake.url));
    let report = report(80, "沪深300交易型开放式指数ETF");
    let messages = sender().deliver(&channel, &digest(&report, &channel, &site)).await.unwrap();
    assert!(messages > 1, "80 signals do not fit 4,096 bytes");
    let delivered = fake.delivered();
    assert_eq!(delivered.len(), messages, "{:?}", fake.refusals());
    let mut seen = Vec::new();
    for (idx, message) in delivered.iter().enumerate() {
        assert!(message.text.len() <= 4096);
        assert!(
            message
                .text
                .starts_with(&format!("**invest-alchemy 20261127: 40 可买, 40 可卖 ({}/{messages})**", idx + 1))
        );
        assert!(message.text.contains("[查看当日完整报告](https://alchemy.example.com/reports/20261127)"));
        seen.extend(message.text.lines().filter(|it| it.contains("收盘价")).map(str::to_owned));
    }
    let expected: Vec<String> = {
        let buys =
            (0..80).step_by(2).map(|idx| format!("沪深300交易型开放式指数ETF{idx}({:06}.SH)可买", 510_000 + idx));
        let sells =
            (1..80).step_by(2).map(|idx| format!("沪深300交易型开放式指数ETF{idx}({:06}.SH)可卖", 510_000 + idx));
        buys.chain(sells).collect()
    };
    let names: Vec<String> = seen.iter().map(|it| it.split(", ").next().unwrap().to_owned()).collect();
    assert_eq!(names, expected, "every line once, whole, BUY before SELL, in fund-list order");
}

#[tokio::test]
async fn wecom_retries_its_rate_limit_and_reports_a_wrong_key_with_its_errcode() {
    let fake = FakeChannel::start(Service::WeCom { key: "value-of-KEY".to_owned() }).await;
    let (channel, site) = configured(&format!("kind = \"wecom\"\napi = \"{}\"\nkey = \"${{KEY}}\"\n", fake.url));
    fake.rate_limit_next(2);
    sender().deliver(&channel, &digest(&report(1, "ETF"), &channel, &site)).await.unwrap();
    assert_eq!((fake.requests(), fake.delivered().len()), (3, 1));

    fake.rate_limit_next(3);
    let err = sender().deliver(&channel, &digest(&report(1, "ETF"), &channel, &site)).await.unwrap_err();
    assert!(matches!(err, ChannelError::RateLimited { tries: 3, .. }), "{err}");
    assert!(err.to_string().contains("errcode 45009: api freq out of limit"), "{err}");

    let (wrong, _) = configured(&format!("kind = \"wecom\"\napi = \"{}\"\nkey = \"${{OTHER}}\"\n", fake.url));
    let err = sender().deliver(&wrong, &digest(&report(1, "ETF"), &wrong, &site)).await.unwrap_err();
    assert_eq!(err.to_string(), "wecom refused the message: errcode 93000: invalid webhook url, hint: [fake]");
}

#[tokio::test]
async fn dingtalk_signs_every_message_and_adds_the_keyword_it_is_secured_by() {
    let fake = FakeChannel::start(Service::DingTalk {
        access_token: "value-of-TOKEN".to_owned(),
        secret: Some(SECRET.to_owned()),
        keyword: Some("信号".to_owned()),
    })
    .await;
    let (channel, site) = configured(&format!(
        "kind = \"dingtalk\"\napi = \"{}\"\naccess_token = \"${{TOKEN}}\"\nsecret = \"{SECRET}\"\nkeyword = \"信号\"\n",
        fake.url
    ));
    let report = report(400, "ETF");
    let messages = sender().deliver(&channel, &digest(&report, &channel, &site)).await.unwrap();
    assert!(messages > 1, "400 signals do not fit 20,000 bytes");
    let delivered = fake.delivered();
    assert_eq!(delivered.len(), messages, "{:?}", fake.refusals());
    for message in &delivered {
        assert!(message.text.contains("信号"));
        assert!(message.body["markdown"]["title"].as_str().unwrap().starts_with("invest-alchemy 20261127"));
        assert!(message.query.contains_key("sign") && message.query.contains_key("timestamp"));
    }
}

#[tokio::test]
async fn dingtalk_refuses_a_wrong_signature_and_a_missing_keyword_and_retries_its_rate_limit() {
    let fake = FakeChannel::start(Service::DingTalk {
        access_token: "value-of-TOKEN".to_owned(),
        secret: Some(SECRET.to_owned()),
        keyword: Some("告警".to_owned()),
    })
    .await;
    let table = |secret: &str, keyword: &str| {
        format!(
            "kind = \"dingtalk\"\napi = \"{}\"\naccess_token = \"${{TOKEN}}\"\nsecret = \"{secret}\"\n{keyword}",
            fake.url
        )
    };
    let (wrong_secret, site) = configured(&table("SECwrong-secret", "keyword = \"告警\"\n"));
    let err = sender().deliver(&wrong_secret, &digest(&report(1, "ETF"), &wrong_secret, &site)).await.unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("dingtalk refused the message: errcode 310000: sign not match"), "{text}");
    assert!(!text.contains("SECwrong-secret") && !text.contains("value-of-TOKEN"), "{text}");

    let (no_keyword, _) = configured(&table(SECRET, ""));
    let err = sender().deliver(&no_keyword, &digest(&report(1, "ETF"), &no_keyword, &site)).await.unwrap_err();
    assert!(err.to_string().contains("errcode 310000: keywords not in content"), "{err}");

    let (right, _) = configured(&table(SECRET, "keyword = \"告警\"\n"));
    fake.rate_limit_next(1);
    sender().deliver(&right, &digest(&report(1, "ETF"), &right, &site)).await.unwrap();
    assert_eq!(fake.delivered().len(), 1);
    assert!(fake.refusals().iter().any(|it| it.contains("130101")), "{:?}", fake.refusals());
}

#[tokio::test]
async fn feishu_signs_with_the_timestamp_and_secret_as_the_key_and_posts_rich_text() {
    let fake = FakeChannel::start(Service::Feishu {
        hook: "value-of-HOOK".to_owned(),
        secret: Some(SECRET.to_owned()),
        keyword: Some("invest-alchemy".to_owned()),
    })
    .await;
    let (channel, site) = configured(&format!(
        "kind = \"feishu\"\napi = \"{}\"\nhook = \"${{HOOK}}\"\nsecret = \"{SECRET}\"\n",
        fake.url
    ));
    fake.rate_limit_next(1);
    let report = report(600, "ETF");
    let messages = sender().deliver(&channel, &digest(&report, &channel, &site)).await.unwrap();
    assert!(messages > 1, "600 signals do not fit 20 KB");
    let delivered = fake.delivered();
    assert_eq!(delivered.len(), messages, "{:?}", fake.refusals());
    assert!(fake.refusals()[0].contains("11232"), "{:?}", fake.refusals());
    let last = &delivered[messages - 1].text;
    assert!(last.contains("查看当日完整报告") && last.contains("不构成投资建议"), "{last}");
    let lines: usize = delivered.iter().map(|it| it.text.lines().filter(|line| line.contains("收盘价")).count()).sum();
    assert_eq!(lines, 600);

    let (wrong, _) = configured(&format!(
        "kind = \"feishu\"\napi = \"{}\"\nhook = \"${{HOOK}}\"\nsecret = \"SECother\"\n",
        fake.url
    ));
    let err = sender().deliver(&wrong, &digest(&report, &wrong, &site)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "feishu refused the message: code 19021: sign match fail or timestamp is not within one hour from current time"
    );
}

#[tokio::test]
async fn a_webhook_gets_the_day_as_json_with_the_body_signed() {
    let fake = FakeChannel::start(Service::Webhook { secret: Some(SECRET.to_owned()) }).await;
    let (channel, site) = configured(&format!(
        "kind = \"webhook\"\nurl = \"{}/alchemy\"\nsecret = \"{SECRET}\"\nfunds = [\"510001.SH\", \"510002.SH\"]\n",
        fake.url
    ));
    fake.rate_limit_next(1);
    sender().deliver(&channel, &digest(&report(2, "ETF"), &channel, &site)).await.unwrap();
    let delivered = fake.delivered();
    assert_eq!(delivered.len(), 1, "{:?}", fake.refusals());
    let body = &delivered[0].body;
    assert_eq!(body["schema"], 1);
    assert_eq!(body["trade_date"], "20261127");
    assert_eq!(body["title"], "invest-alchemy 20261127: 0 可买, 1 可卖");
    assert_eq!(body["signals"][0]["code"], "510001.SH");
    assert_eq!(body["signals"][0]["signal"], "sell");
    assert_eq!(body["counts"]["hold"], 1, "only the channel's funds are counted");

    let (unsigned, _) = configured(&format!("kind = \"webhook\"\nurl = \"{}/alchemy\"\n", fake.url));
    let err = sender().deliver(&unsigned, &digest(&report(2, "ETF"), &unsigned, &site)).await.unwrap_err();
    assert_eq!(err.to_string(), "webhook refused the message: HTTP 401: {\"error\":\"bad signature\"}");
}

#[test]
fn a_channel_for_signal_days_hears_nothing_on_a_day_without_a_signal_of_its_funds() {
    let (channel, site) = configured("kind = \"wecom\"\nkey = \"k\"\nonly = \"signals\"\nfunds = [\"510002.SH\"]\n");
    assert!(Digest::for_channel(&report(2, "ETF"), &channel, &site).is_none(), "510002.SH holds");
    let digest = Digest::for_channel(&report(3, "ETF"), &channel, &site).expect("510002.SH buys");
    assert_eq!(digest.title, "invest-alchemy 20261127: 1 可买, 0 可卖");
    let (every_day, _) = channel_all();
    let quiet = Digest::for_channel(&report(0, "ETF"), &every_day, &site).unwrap();
    assert!(quiet.footer().contains(&"今日无可买或可卖信号".to_owned()));
}

fn channel_all() -> (Channel, String) {
    configured("kind = \"wecom\"\nkey = \"k\"\n")
}

#[tokio::test]
async fn the_fakes_refuse_a_correct_signature_over_a_timestamp_more_than_an_hour_old() {
    let http = reqwest::Client::new();
    let two_hours_ago = chrono::Utc::now() - chrono::Duration::hours(2);

    let ding = FakeChannel::start(Service::DingTalk {
        access_token: "t".to_owned(),
        secret: Some(SECRET.to_owned()),
        keyword: None,
    })
    .await;
    let timestamp = two_hours_ago.timestamp_millis();
    let mut url = reqwest::Url::parse(&format!("{}/robot/send", ding.url)).unwrap();
    url.query_pairs_mut()
        .append_pair("access_token", "t")
        .append_pair("timestamp", &timestamp.to_string())
        .append_pair("sign", &platform::channels::dingtalk::sign(timestamp, SECRET));
    let body = r#"{"msgtype":"markdown","markdown":{"title":"t","text":"x"}}"#;
    let answer: serde_json::Value = http.post(url).body(body).send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["errcode"], 310000, "{answer}");

    let feishu =
        FakeChannel::start(Service::Feishu { hook: "h".to_owned(), secret: Some(SECRET.to_owned()), keyword: None })
            .await;
    let timestamp = two_hours_ago.timestamp();
    let body = serde_json::json!({
        "timestamp": timestamp.to_string(),
        "sign": platform::channels::feishu::sign(timestamp, SECRET),
        "msg_type": "post",
        "content": {"post": {"zh_cn": {"title": "t", "content": [[{"tag": "text", "text": "x"}]]}}},
    });
    let url = format!("{}/open-apis/bot/v2/hook/h", feishu.url);
    let answer: serde_json::Value = http.post(url).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["code"], 19021, "{answer}");
    assert!(ding.delivered().is_empty() && feishu.delivered().is_empty());
}

#[tokio::test]
async fn telegram_splits_a_long_day_into_messages_each_within_4096_characters_after_parsing() {
    let fake =
        FakeChannel::start(Service::Telegram { token: "value-of-TG".to_owned(), chat_id: "-100".to_owned() }).await;
    let (channel, site) =
        configured(&format!("kind = \"telegram\"\napi = \"{}\"\ntoken = \"${{TG}}\"\nchat_id = \"-100\"\n", fake.url));
    let report = report(120, "R&D<ETF>");
    let messages = sender().deliver(&channel, &digest(&report, &channel, &site)).await.unwrap();
    assert!(messages > 1);
    let delivered = fake.delivered();
    assert_eq!(delivered.len(), messages, "{:?}", fake.refusals());
    let lines: usize = delivered.iter().map(|it| it.text.matches("R&D<ETF>").count()).sum();
    assert_eq!(lines, 120, "every fund line once");
    assert!(delivered.iter().all(|it| it.text.encode_utf16().count() <= 4096));
}

#[tokio::test]
async fn the_fakes_refuse_messages_over_the_services_size_limits() {
    let http = reqwest::Client::new();
    let long = "长".repeat(7000);

    let wecom = FakeChannel::start(Service::WeCom { key: "k".to_owned() }).await;
    let body = serde_json::json!({"msgtype": "markdown", "markdown": {"content": long}});
    let url = format!("{}/cgi-bin/webhook/send?key=k", wecom.url);
    let answer: serde_json::Value = http.post(url).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["errcode"], 40058, "{answer}");

    let telegram = FakeChannel::start(Service::Telegram { token: "t".to_owned(), chat_id: "1".to_owned() }).await;
    let body = serde_json::json!({"chat_id": "1", "text": long, "parse_mode": "HTML"});
    let url = format!("{}/bott/sendMessage", telegram.url);
    let answer = http.post(url).json(&body).send().await.unwrap();
    assert_eq!(answer.status(), 400);
    let answer: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(answer["description"], "Bad Request: message is too long");

    let ding =
        FakeChannel::start(Service::DingTalk { access_token: "t".to_owned(), secret: None, keyword: None }).await;
    let body = serde_json::json!({"msgtype": "markdown", "markdown": {"title": "t", "text": long}});
    let url = format!("{}/robot/send?access_token=t", ding.url);
    let answer: serde_json::Value = http.post(url).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["errcode"], 460101, "{answer}");

    let feishu = FakeChannel::start(Service::Feishu { hook: "h".to_owned(), secret: None, keyword: None }).await;
    let rows = serde_json::json!([[{"tag": "text", "text": long}]]);
    let body = serde_json::json!({"msg_type": "post", "content": {"post": {"zh_cn": {"title": "t", "content": rows}}}});
    let url = format!("{}/open-apis/bot/v2/hook/h", feishu.url);
    let answer = http.post(url).json(&body).send().await.unwrap();
    assert_eq!(answer.status(), 400);
    assert!(wecom.delivered().is_empty() && telegram.delivered().is_empty() && ding.delivered().is_empty());
    assert!(feishu.delivered().is_empty());
}
