//! The `signal` binary with a channels file of every kind, each against a fake service
//! (test-support's `channels`) over real HTTP: one delivery per channel and day however often
//! the day runs, a failing channel that fails the run (exit 1) but not the e-mail or the other
//! channels and is retried by the next run, and a bad file that stops the run before it starts.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use test_support::channels::{FakeChannel, Service};

const DING_SECRET: &str = "SEC0123456789abcdef+/=";
const FEISHU_SECRET: &str = "feishu-secret-9";
const HOOK_SECRET: &str = "hook-secret-7";

/// One fake of each kind.
struct Fakes {
    telegram: FakeChannel,
    wecom: FakeChannel,
    dingtalk: FakeChannel,
    feishu: FakeChannel,
    webhook: FakeChannel,
}

impl Fakes {
    async fn start() -> Fakes {
        Fakes {
            telegram: FakeChannel::start(Service::Telegram {
                token: "123:tg-token".to_owned(),
                chat_id: "-1001".to_owned(),
            })
            .await,
            wecom: FakeChannel::start(Service::WeCom { key: "wecom-key".to_owned() }).await,
            dingtalk: FakeChannel::start(Service::DingTalk {
                access_token: "ding-token".to_owned(),
                secret: Some(DING_SECRET.to_owned()),
                keyword: Some("告警".to_owned()),
            })
            .await,
            feishu: FakeChannel::start(Service::Feishu {
                hook: "feishu-hook".to_owned(),
                secret: Some(FEISHU_SECRET.to_owned()),
                keyword: None,
            })
            .await,
            webhook: FakeChannel::start(Service::Webhook { secret: Some(HOOK_SECRET.to_owned()) }).await,
        }
    }

    /// A channels file naming every fake, secrets as `${VAR}`.
    fn file(&self, dir: &Path) -> PathBuf {
        let text = format!(
            r#"site_url = "https://alchemy.example.com"

[[channel]]
name = "tg"
kind = "telegram"
api = "{}"
token = "${{TG_TOKEN}}"
chat_id = "-1001"

[[channel]]
name = "wx"
kind = "wecom"
api = "{}"
key = "${{WECOM_KEY}}"

[[channel]]
name = "ding"
kind = "dingtalk"
api = "{}"
access_token = "${{DING_TOKEN}}"
secret = "${{DING_SECRET}}"
keyword = "告警"

[[channel]]
name = "fs"
kind = "feishu"
api = "{}"
hook = "${{FEISHU_HOOK}}"
secret = "${{FEISHU_SECRET}}"

[[channel]]
name = "hook"
kind = "webhook"
url = "{}/alchemy"
secret = "${{HOOK_SECRET}}"

[[channel]]
name = "paused"
kind = "wecom"
api = "{}"
key = "${{WECOM_KEY}}"
enabled = false
"#,
            self.telegram.url, self.wecom.url, self.dingtalk.url, self.feishu.url, self.webhook.url, self.wecom.url
        );
        let path = dir.join("channels.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// How many messages each fake accepted: telegram, wecom, dingtalk, feishu, webhook.
    fn delivered(&self) -> [usize; 5] {
        [&self.telegram, &self.wecom, &self.dingtalk, &self.feishu, &self.webhook].map(|it| it.delivered().len())
    }
}

/// The secrets as the job's environment holds them.
fn secrets() -> Vec<(&'static str, &'static str)> {
    vec![
        ("TG_TOKEN", "123:tg-token"),
        ("WECOM_KEY", "wecom-key"),
        ("DING_TOKEN", "ding-token"),
        ("DING_SECRET", DING_SECRET),
        ("FEISHU_HOOK", "feishu-hook"),
        ("FEISHU_SECRET", FEISHU_SECRET),
        ("HOOK_SECRET", HOOK_SECRET),
    ]
}

/// Runs the job (off the runtime's threads, so the fakes keep answering) with `args` and `vars`.
async fn signal(data_dir: &Path, args: &[&str], vars: Vec<(&'static str, &'static str)>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_signal"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ALCHEMY_") || name.starts_with("TUSHARE_") {
            command.env_remove(name);
        }
    }
    command.envs(vars).arg("--data-dir").arg(data_dir).args(args);
    tokio::task::spawn_blocking(move || command.output().expect("the signal binary runs")).await.unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// A data folder with one subscriber who takes every day's e-mail: the outbox writes a mail per
/// subscriber whose choice matches, and none without subscribers.
fn data_dir(dir: &Path) -> std::path::PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let subscriber = r#"{"subscribers": [{"email": "investor@example.com", "subscribed_at": "2026-11-01T08:00:00Z"}]}"#;
    std::fs::write(data.join("subscribers.json"), subscriber).unwrap();
    data
}

fn outbox(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("outbox")).map(|it| it.count()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_of_a_day_deliver_once_to_every_channel_of_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    data_dir(dir.path());
    let fakes = Fakes::start().await;
    let file = fakes.file(dir.path());
    let args = ["--date", "20261127", "--channels", file.to_str().unwrap()];
    for run in 0..2 {
        let output = signal(&dir.path().join("data"), &args, secrets()).await;
        assert!(output.status.success(), "run {run}: {}", text(&output));
        let said = text(&output);
        let expected = if run == 0 { "delivered (1 message)" } else { "already delivered" };
        for name in ["tg (telegram)", "wx (wecom)", "ding (dingtalk)", "fs (feishu)", "hook (webhook)"] {
            assert!(said.contains(&format!("20261127: channel {name}: {expected}")), "run {run}: {said}");
        }
        assert!(said.contains("20261127: channel paused (wecom): paused (enabled = false)"), "{said}");
        for (_, value) in secrets() {
            assert!(!said.contains(value), "a secret was printed: {said}");
        }
    }
    assert_eq!(fakes.delivered(), [1, 1, 1, 1, 1], "refusals: {:?}", fakes.dingtalk.refusals());
    assert_eq!(outbox(&dir.path().join("data")), 1);
    for name in ["tg", "wx", "ding", "fs", "hook"] {
        assert!(dir.path().join("data/state/channels").join(name).join("20261127").exists(), "{name}");
    }
    assert!(!dir.path().join("data/state/channels/paused").exists());

    let telegram = &fakes.telegram.delivered()[0].text;
    assert!(telegram.starts_with("invest-alchemy 20261127: "), "{telegram}");
    assert!(telegram.contains("注意: 本报告由样例数据生成"), "the sample-data warning: {telegram}");
    assert!(telegram.contains("不构成投资建议"), "{telegram}");
    let hook = &fakes.webhook.delivered()[0].body;
    assert_eq!(hook["link"], "https://alchemy.example.com/reports/20261127");
    assert_eq!(hook["sample_data"], true);
    let funds: u64 =
        ["buy", "sell", "hold", "empty", "undecided"].iter().map(|it| hook["counts"][it].as_u64().unwrap()).sum();
    assert_eq!(funds, 46, "the bundled fund list");

    // --republish sends the e-mail and every channel again.
    let mut again = args.to_vec();
    again.push("--republish");
    let output = signal(&dir.path().join("data"), &again, secrets()).await;
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(fakes.delivered(), [2, 2, 2, 2, 2]);
    assert_eq!(outbox(&dir.path().join("data")), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_channel_fails_the_run_after_the_email_and_the_others_and_is_retried_next_run() {
    let dir = tempfile::tempdir().unwrap();
    data_dir(dir.path());
    let fakes = Fakes::start().await;
    let file = fakes.file(dir.path());
    let args = ["--date", "20261127", "--channels", file.to_str().unwrap()];
    let mut wrong = secrets();
    wrong.retain(|(name, _)| *name != "DING_SECRET");
    wrong.push(("DING_SECRET", "SECnot-the-robots-secret"));

    let output = signal(&dir.path().join("data"), &args, wrong).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let said = text(&output);
    assert!(
        said.contains("channel ding (dingtalk): dingtalk refused the message: errcode 310000: sign not match"),
        "{said}"
    );
    assert!(said.contains("the next run tries them again"), "{said}");
    assert!(!said.contains("SECnot-the-robots-secret") && !said.contains("ding-token"), "{said}");
    assert_eq!(fakes.delivered(), [1, 1, 0, 1, 1]);
    assert_eq!(fakes.dingtalk.requests(), 1, "a refusal is not retried");
    assert_eq!(outbox(&dir.path().join("data")), 1, "the e-mail went out");
    assert!(dir.path().join("data/state/published/20261127").exists());
    assert!(!dir.path().join("data/state/channels/ding/20261127").exists());

    // The secret fixed, the next run sends to DingTalk only.
    let output = signal(&dir.path().join("data"), &args, secrets()).await;
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("channel ding (dingtalk): delivered (1 message)"), "{}", text(&output));
    assert_eq!(fakes.delivered(), [1, 1, 1, 1, 1]);
    assert_eq!(outbox(&dir.path().join("data")), 1, "no second e-mail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_channels_file_exits_2_naming_the_channel_and_key_before_anything_is_fetched() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("channels.toml");
    let cases = [
        (
            "site_url = \"https://a/\"\n[[channel]]\nname = \"tg\"\nkind = \"telegram\"\ntoken = \"${TG_TOKEN}\"\n",
            "channel tg, key chat_id: missing",
        ),
        (
            "site_url = \"https://a/\"\n[[channel]]\nname = \"wx\"\nkind = \"wecom\"\nkey = \"${NOT_SET_ANYWHERE}\"\n",
            "channel wx, key key: ${NOT_SET_ANYWHERE} is not set in the environment",
        ),
        (
            "site_url = \"https://a/\"\n[[channel]]\nname = \"wx\"\nkind = \"wecom\"\nkey = \"k\"\nfunds = [\"600000.SH\"]\n",
            "channel wx, key funds: 600000.SH is not in the fund list",
        ),
    ];
    for (content, expected) in cases {
        std::fs::write(&file, content).unwrap();
        let data = dir.path().join("data");
        let output = signal(&data, &["--date", "20261127", "--channels", file.to_str().unwrap()], secrets()).await;
        assert_eq!(output.status.code(), Some(2), "{}", text(&output));
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(said.contains(&format!("channels file {}", file.display())) && said.contains(expected), "{said}");
        assert_eq!(said.lines().count(), 1, "{said}");
        assert!(!data.exists(), "nothing written");
    }
}
