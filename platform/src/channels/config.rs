//! The channels file: which chat robots and webhooks get the day's signals, read from TOML.
//!
//! ```toml
//! site_url = "https://alchemy.example.com/"
//!
//! [[channel]]
//! name = "tg"
//! kind = "telegram"
//! token = "${TG_TOKEN}"
//! chat_id = "-1001234567890"
//! ```
//!
//! Any string value may hold `${VAR}` references, replaced by the environment variable `VAR` when
//! the file is read; a reference to an unset variable is an error naming the channel, the key and
//! the variable. What a service authenticates with (a bot token, a robot key, a signing secret, a
//! webhook address) is a [`Secret`]: no `Display`, a redacted `Debug`, masked in every error.
//! Every problem is an error naming the channel and the key, found before anything is sent.
//!
//! Uses [`crate::fund`] (the `funds` filter) only.

use std::{collections::HashSet, fmt};

use toml::{Table, Value};

use crate::fund::FundCode;

/// The real services' addresses, the default `api` of each kind.
pub const TELEGRAM_API: &str = "https://api.telegram.org";
/// WeCom (企业微信) group robots.
pub const WECOM_API: &str = "https://qyapi.weixin.qq.com";
/// DingTalk (钉钉) custom robots.
pub const DINGTALK_API: &str = "https://oapi.dingtalk.com";
/// Feishu (飞书) custom bots.
pub const FEISHU_API: &str = "https://open.feishu.cn";

/// The parsed channels file.
#[derive(Debug, Clone)]
pub struct ChannelsFile {
    /// The site's address, ending with `/`: messages link to `{site_url}reports/YYYYMMDD`.
    pub site_url: String,
    /// The channels, in file order; names are unique.
    pub channels: Vec<Channel>,
}

/// One channel: a name, what it wants to hear and where it goes.
#[derive(Debug, Clone)]
pub struct Channel {
    /// The unique name; also the folder of its delivery markers.
    pub name: ChannelName,
    /// False pauses the channel without deleting it. Default: true.
    pub enabled: bool,
    /// Every trading day, or only the days with a BUY or SELL. Default: [`Only::All`].
    pub only: Only,
    /// Only these funds' lines (and, with [`Only::Signals`], only the days one of them signals).
    /// Default: empty, every fund.
    pub funds: Vec<FundCode>,
    /// The service and how to reach it.
    pub target: Target,
}

/// Which days a channel hears about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Only {
    /// Every trading day.
    All,
    /// Only the days with a BUY or SELL (of the channel's funds, when it names any).
    Signals,
}

/// A channel's service, with its settings.
#[derive(Debug, Clone)]
pub enum Target {
    /// A Telegram bot posting to a chat.
    Telegram(TelegramTarget),
    /// A WeCom (企业微信) group robot.
    WeCom(WeComTarget),
    /// A DingTalk (钉钉) custom robot.
    DingTalk(DingTalkTarget),
    /// A Feishu (飞书) custom bot.
    Feishu(FeishuTarget),
    /// Any HTTPS endpoint taking the day as JSON.
    Webhook(WebhookTarget),
}

/// `kind = "telegram"`: `POST {api}/bot{token}/sendMessage`.
#[derive(Debug, Clone)]
pub struct TelegramTarget {
    /// The Bot API's base address. Default: [`TELEGRAM_API`].
    pub api: String,
    /// The bot token.
    pub token: Secret,
    /// The chat: a numeric id or `@channelname`.
    pub chat_id: String,
    /// The forum topic to post in. Default: none.
    pub message_thread_id: Option<i64>,
}

/// `kind = "wecom"`: `POST {api}/cgi-bin/webhook/send?key=KEY`.
#[derive(Debug, Clone)]
pub struct WeComTarget {
    /// The base address. Default: [`WECOM_API`].
    pub api: String,
    /// The robot's key.
    pub key: Secret,
}

/// `kind = "dingtalk"`: `POST {api}/robot/send?access_token=T`, signed when `secret` is set.
#[derive(Debug, Clone)]
pub struct DingTalkTarget {
    /// The base address. Default: [`DINGTALK_API`].
    pub api: String,
    /// The robot's access token.
    pub access_token: Secret,
    /// The signing secret (加签, `SEC...`). Default: none, unsigned.
    pub secret: Option<Secret>,
    /// The keyword every message must contain (自定义关键词). Default: none.
    pub keyword: Option<String>,
}

/// `kind = "feishu"`: `POST {api}/open-apis/bot/v2/hook/HOOK`, signed when `secret` is set.
#[derive(Debug, Clone)]
pub struct FeishuTarget {
    /// The base address. Default: [`FEISHU_API`].
    pub api: String,
    /// The hook's id, the last segment of the bot's address.
    pub hook: Secret,
    /// The signing secret (签名校验). Default: none, unsigned.
    pub secret: Option<Secret>,
    /// The keyword every message must contain (自定义关键词). Default: none.
    pub keyword: Option<String>,
}

/// `kind = "webhook"`: `POST url` with the day as JSON.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    /// The address (it may carry a token, so it is a secret).
    pub url: Secret,
    /// Signs the body: header `X-Alchemy-Signature: sha256=<hex HMAC-SHA256 of the body>`. Default: none.
    pub secret: Option<Secret>,
}

/// A channel's name: 1 to 64 of `[a-z0-9-]`; a valid object key segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChannelName(String);

impl ChannelName {
    /// Checks a name.
    pub fn parse(text: &str) -> Option<ChannelName> {
        let valid = (1..=64).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        valid.then(|| ChannelName(text.to_owned()))
    }
}

crate::text::checked_text!(ChannelName);

/// A value a service authenticates with. No `Display`; `Debug` is redacted; [`Secret::mask`]
/// takes it out of any text a service answers.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the value replaced by `<secret>`.
    pub fn mask(&self, text: &str) -> String {
        if self.0.is_empty() { text.to_owned() } else { text.replace(&self.0, "<secret>") }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Channel {
    /// The kind's name as the file spells it: `telegram`, `wecom`, `dingtalk`, `feishu`, `webhook`.
    pub fn kind(&self) -> &'static str {
        match self.target {
            Target::Telegram(_) => "telegram",
            Target::WeCom(_) => "wecom",
            Target::DingTalk(_) => "dingtalk",
            Target::Feishu(_) => "feishu",
            Target::Webhook(_) => "webhook",
        }
    }

    /// Every secret of the channel, to mask in what its service answers.
    pub fn secrets(&self) -> Vec<&Secret> {
        match &self.target {
            Target::Telegram(it) => vec![&it.token],
            Target::WeCom(it) => vec![&it.key],
            Target::DingTalk(it) => std::iter::once(&it.access_token).chain(&it.secret).collect(),
            Target::Feishu(it) => std::iter::once(&it.hook).chain(&it.secret).collect(),
            Target::Webhook(it) => std::iter::once(&it.url).chain(&it.secret).collect(),
        }
    }

    /// `text` with every secret of the channel masked.
    pub fn mask(&self, text: &str) -> String {
        self.secrets().iter().fold(text.to_owned(), |text, secret| secret.mask(&text))
    }
}

/// Why the channels file cannot be used. Names the channel and the key; never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML at all.
    #[error("the channels file is not valid TOML: {reason}")]
    Toml { reason: String },
    /// A top-level key is wrong.
    #[error("the channels file's {key}: {reason}")]
    File { key: String, reason: String },
    /// A channel's key is wrong.
    #[error("channel {channel}, key {key}: {reason}")]
    Key { channel: String, key: String, reason: String },
}

/// One `${VAR}` reference of the file: where it is and whether the value is a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The channel's name (or `#N` when it has none yet).
    pub channel: String,
    /// The key holding the reference.
    pub key: String,
    /// The variable's name.
    pub variable: String,
    /// Whether the key is one of the secrets (`token`, `key`, `access_token`, `hook`, `secret`, a webhook's `url`).
    pub secret: bool,
    /// Whether the value is exactly `${VAR}`, nothing around it.
    pub whole: bool,
}

impl ChannelsFile {
    /// Reads the file's `text`, taking each `${VAR}` from `lookup` (the environment, in the job).
    pub fn parse(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<ChannelsFile, ConfigError> {
        let table: Table = text.parse().map_err(|err: toml::de::Error| ConfigError::Toml { reason: one_line(&err) })?;
        parse_file(&table, &mut |_, name| lookup(name))
    }

    /// The `${VAR}` references of the file's `text`, in file order, after checking everything else
    /// (what `cargo xtask` needs to give the job those variables in the cloud).
    pub fn references(text: &str) -> Result<Vec<Reference>, ConfigError> {
        Ok(parse_with_stand_ins(text)?.1)
    }

    /// The variables the job needs for the file's `text` in the cloud, sorted, each once. Every
    /// credential (`token`, `key`, `access_token`, `hook`, `secret`) must be a whole `${VAR}`, so
    /// that the file itself, which the job gets as a plain value, holds no secret; a webhook's
    /// `url` may be written out or hold references.
    pub fn cloud_variables(text: &str) -> Result<Vec<String>, ConfigError> {
        let (file, references) = parse_with_stand_ins(text)?;
        for channel in &file.channels {
            let credentials: Vec<(&str, &Secret)> = match &channel.target {
                Target::Telegram(it) => vec![("token", &it.token)],
                Target::WeCom(it) => vec![("key", &it.key)],
                Target::DingTalk(it) => std::iter::once(("access_token", &it.access_token))
                    .chain(it.secret.iter().map(|it| ("secret", it)))
                    .collect(),
                Target::Feishu(it) => {
                    std::iter::once(("hook", &it.hook)).chain(it.secret.iter().map(|it| ("secret", it))).collect()
                }
                Target::Webhook(it) => it.secret.iter().map(|it| ("secret", it)).collect(),
            };
            for (key, secret) in credentials {
                if secret.expose() != STAND_IN {
                    return Err(key_error(
                        channel.name.as_str(),
                        key,
                        "must be a whole ${VAR} reference in the cloud: the file reaches the job as a plain value, \
                         the variable as a SecureString parameter",
                    ));
                }
            }
        }
        let mut variables: Vec<String> = references.into_iter().map(|it| it.variable).collect();
        variables.sort();
        variables.dedup();
        Ok(variables)
    }
}

/// What a reference reads as while only the references are wanted: passes every check a real value
/// must pass, and no file would write it.
const STAND_IN: &str = "\u{0}stand-in";

/// The file read with every `${VAR}` as [`STAND_IN`] (a webhook's `url` as an address), and the references.
fn parse_with_stand_ins(text: &str) -> Result<(ChannelsFile, Vec<Reference>), ConfigError> {
    let table: Table = text.parse().map_err(|err: toml::de::Error| ConfigError::Toml { reason: one_line(&err) })?;
    let mut found = Vec::new();
    let file = parse_file(&table, &mut |place: &Place<'_>, name: &str| {
        found.push(Reference {
            channel: place.channel.to_owned(),
            key: place.key.to_owned(),
            variable: name.to_owned(),
            secret: place.secret,
            whole: place.whole,
        });
        let stand_in = if place.whole { STAND_IN.to_owned() } else { "stand-in".to_owned() };
        Some(if place.whole && (place.key == "url" || place.key == "site_url" || place.key == "api") {
            "https://stand-in.invalid/".to_owned()
        } else {
            stand_in
        })
    })?;
    Ok((file, found))
}

/// Where a `${VAR}` reference is, for the lookup.
struct Place<'a> {
    channel: &'a str,
    key: &'a str,
    secret: bool,
    whole: bool,
}

type Lookup<'l> = dyn FnMut(&Place<'_>, &str) -> Option<String> + 'l;

fn parse_file(table: &Table, lookup: &mut Lookup<'_>) -> Result<ChannelsFile, ConfigError> {
    let file_error = |key: &str, reason: &str| ConfigError::File { key: key.to_owned(), reason: reason.to_owned() };
    for key in table.keys() {
        if key != "site_url" && key != "channel" {
            return Err(file_error(key, "unknown key: the file has site_url and [[channel]] tables"));
        }
    }
    let site_url = match table.get("site_url") {
        None => return Err(file_error("site_url", "missing: messages link to the site's day pages")),
        Some(Value::String(text)) => {
            let place = Place { channel: "", key: "site_url", secret: false, whole: is_whole_reference(text) };
            let url = expand(text, &place, lookup).map_err(|reason| file_error("site_url", &reason))?.trim().to_owned();
            check_url(&url).map_err(|reason| file_error("site_url", &reason))?;
            if url.ends_with('/') { url } else { format!("{url}/") }
        }
        Some(_) => return Err(file_error("site_url", "must be a string")),
    };
    let tables = match table.get("channel") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(_) => return Err(file_error("channel", "must be [[channel]] tables")),
    };
    let mut names = HashSet::new();
    let mut channels = Vec::new();
    for (idx, item) in tables.into_iter().enumerate() {
        let Value::Table(entry) = item else {
            return Err(file_error("channel", "must be [[channel]] tables"));
        };
        let channel = parse_channel(entry, idx, lookup)?;
        if !names.insert(channel.name.clone()) {
            return Err(ConfigError::Key {
                channel: channel.name.to_string(),
                key: "name".to_owned(),
                reason: "another channel has this name: names must be unique".to_owned(),
            });
        }
        channels.push(channel);
    }
    Ok(ChannelsFile { site_url, channels })
}

/// The keys every kind takes.
const COMMON_KEYS: [&str; 5] = ["name", "kind", "enabled", "only", "funds"];

fn parse_channel(entry: &Table, idx: usize, lookup: &mut Lookup<'_>) -> Result<Channel, ConfigError> {
    let unnamed = format!("#{}", idx + 1);
    let name_text = match entry.get("name") {
        Some(Value::String(text)) => text.clone(),
        Some(_) => return Err(key_error(&unnamed, "name", "must be a string")),
        None => return Err(key_error(&unnamed, "name", "missing: every channel has a unique name")),
    };
    let Some(name) = ChannelName::parse(&name_text) else {
        return Err(key_error(
            &format!("{name_text:?}"),
            "name",
            "must be 1 to 64 lowercase letters, digits and '-', like \"team-tg\"",
        ));
    };
    let mut reader = Reader { entry, channel: name.to_string(), lookup };
    let kind = reader.required_string("kind", false)?;
    let kind_keys: &[&str] = match kind.as_str() {
        "telegram" => &["api", "token", "chat_id", "message_thread_id"],
        "wecom" => &["api", "key"],
        "dingtalk" => &["api", "access_token", "secret", "keyword"],
        "feishu" => &["api", "hook", "secret", "keyword"],
        "webhook" => &["url", "secret"],
        other => {
            return Err(reader
                .error("kind", &format!("{other:?} is not a kind: use telegram, wecom, dingtalk, feishu or webhook")));
        }
    };
    for key in entry.keys() {
        if !COMMON_KEYS.contains(&key.as_str()) && !kind_keys.contains(&key.as_str()) {
            return Err(reader.error(key, &format!("unknown key for kind {kind}: it takes {}", kind_keys.join(", "))));
        }
    }
    let enabled = match entry.get("enabled") {
        None => true,
        Some(Value::Boolean(it)) => *it,
        Some(_) => return Err(reader.error("enabled", "must be true or false")),
    };
    let only = match reader.optional_string("only", false)?.as_deref() {
        None | Some("all") => Only::All,
        Some("signals") => Only::Signals,
        Some(other) => return Err(reader.error("only", &format!("{other:?} is not \"all\" or \"signals\""))),
    };
    let funds = match entry.get("funds") {
        None => Vec::new(),
        Some(Value::Array(items)) => {
            let mut codes = Vec::new();
            for item in items {
                let Value::String(text) = item else {
                    return Err(reader.error("funds", "must be a list of fund codes like \"510300.SH\""));
                };
                let code = FundCode::parse(text).map_err(|err| reader.error("funds", &err.to_string()))?;
                if !codes.contains(&code) {
                    codes.push(code);
                }
            }
            codes
        }
        Some(_) => return Err(reader.error("funds", "must be a list of fund codes like [\"510300.SH\"]")),
    };
    let target = match kind.as_str() {
        "telegram" => Target::Telegram(TelegramTarget {
            api: reader.api(TELEGRAM_API)?,
            token: reader.secret("token")?,
            chat_id: reader.required_string("chat_id", false)?,
            message_thread_id: match entry.get("message_thread_id") {
                None => None,
                Some(Value::Integer(id)) if *id > 0 => Some(*id),
                Some(_) => return Err(reader.error("message_thread_id", "must be a positive integer")),
            },
        }),
        "wecom" => Target::WeCom(WeComTarget { api: reader.api(WECOM_API)?, key: reader.secret("key")? }),
        "dingtalk" => Target::DingTalk(DingTalkTarget {
            api: reader.api(DINGTALK_API)?,
            access_token: reader.secret("access_token")?,
            secret: reader.optional_secret("secret")?,
            keyword: reader.keyword()?,
        }),
        "feishu" => Target::Feishu(FeishuTarget {
            api: reader.api(FEISHU_API)?,
            hook: reader.secret("hook")?,
            secret: reader.optional_secret("secret")?,
            keyword: reader.keyword()?,
        }),
        _ => {
            let url = reader.secret("url")?;
            check_url(url.expose()).map_err(|reason| reader.error("url", &reason))?;
            Target::Webhook(WebhookTarget { url, secret: reader.optional_secret("secret")? })
        }
    };
    Ok(Channel { name, enabled, only, funds, target })
}

/// Reads one channel's keys, expanding `${VAR}`.
struct Reader<'a, 'l> {
    entry: &'a Table,
    channel: String,
    lookup: &'a mut Lookup<'l>,
}

impl Reader<'_, '_> {
    fn error(&self, key: &str, reason: &str) -> ConfigError {
        key_error(&self.channel, key, reason)
    }

    fn optional_string(&mut self, key: &str, secret: bool) -> Result<Option<String>, ConfigError> {
        match self.entry.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => {
                let whole = is_whole_reference(text);
                let place = Place { channel: &self.channel, key, secret, whole };
                let value = expand(text, &place, self.lookup).map_err(|reason| self.error(key, &reason))?;
                let value = value.trim().to_owned();
                if value.is_empty() {
                    return Err(self.error(key, "is empty"));
                }
                Ok(Some(value))
            }
            Some(_) => Err(self.error(key, "must be a string")),
        }
    }

    fn required_string(&mut self, key: &str, secret: bool) -> Result<String, ConfigError> {
        self.optional_string(key, secret)?.ok_or_else(|| self.error(key, "missing"))
    }

    fn secret(&mut self, key: &str) -> Result<Secret, ConfigError> {
        Ok(Secret(self.required_string(key, true)?))
    }

    fn optional_secret(&mut self, key: &str) -> Result<Option<Secret>, ConfigError> {
        Ok(self.optional_string(key, true)?.map(Secret))
    }

    fn keyword(&mut self) -> Result<Option<String>, ConfigError> {
        let keyword = self.optional_string("keyword", false)?;
        if keyword.as_deref().is_some_and(|it| it.contains(['\n', '\r'])) {
            return Err(self.error("keyword", "must be on one line"));
        }
        Ok(keyword)
    }

    fn api(&mut self, default: &str) -> Result<String, ConfigError> {
        let api = self.optional_string("api", false)?.unwrap_or_else(|| default.to_owned());
        check_url(&api).map_err(|reason| self.error("api", &reason))?;
        Ok(api.trim_end_matches('/').to_owned())
    }
}

fn key_error(channel: &str, key: &str, reason: &str) -> ConfigError {
    ConfigError::Key { channel: channel.to_owned(), key: key.to_owned(), reason: reason.to_owned() }
}

/// `text` with each `${VAR}` replaced; an unset variable or a bad reference is the reason why not.
fn expand(text: &str, place: &Place<'_>, lookup: &mut Lookup<'_>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("has a ${ without its closing }".to_owned());
        };
        let name = &after[..end];
        let valid = !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            && !name.as_bytes()[0].is_ascii_digit();
        if !valid {
            return Err(format!(
                "${{{name}}} is not a variable reference: names are A-Z, 0-9 and _, like ${{TG_TOKEN}}"
            ));
        }
        match lookup(place, name) {
            Some(value) => out.push_str(&value),
            None => return Err(format!("${{{name}}} is not set in the environment")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn is_whole_reference(text: &str) -> bool {
    let text = text.trim();
    text.starts_with("${") && text.ends_with('}') && text[2..].find('}') == Some(text.len() - 3)
}

fn check_url(url: &str) -> Result<(), String> {
    let valid = (url.starts_with("https://") || url.starts_with("http://"))
        && url.split_once("://").is_some_and(|(_, rest)| !rest.is_empty() && !rest.contains(char::is_whitespace));
    if valid { Ok(()) } else { Err("is not an address: it must start with https:// or http://".to_owned()) }
}

fn one_line(err: &toml::de::Error) -> String {
    err.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
site_url = "https://alchemy.example.com"

[[channel]]
name = "tg"
kind = "telegram"
token = "${TG_TOKEN}"
chat_id = "-1001234567890"
message_thread_id = 7
only = "signals"
funds = ["510300.SH", "159915"]

[[channel]]
name = "wx"
kind = "wecom"
key = "${WECOM_KEY}"
enabled = false

[[channel]]
name = "ding"
kind = "dingtalk"
access_token = "${DING_TOKEN}"
secret = "${DING_SECRET}"
keyword = "信号"

[[channel]]
name = "fs"
kind = "feishu"
api = "http://127.0.0.1:9/"
hook = "${FEISHU_HOOK}"

[[channel]]
name = "hook"
kind = "webhook"
url = "https://example.com/alchemy?t=${HOOK_TOKEN}"
secret = "${HOOK_SECRET}"
"#;

    fn env(name: &str) -> Option<String> {
        Some(format!("value-of-{name}"))
    }

    fn check_error(text: &str, expected: &str) {
        let err = ChannelsFile::parse(text, &env).unwrap_err();
        assert_eq!(err.to_string(), expected);
    }

    #[test]
    fn the_example_file_reads_with_defaults_and_variables_from_the_environment() {
        let file = ChannelsFile::parse(EXAMPLE, &env).unwrap();
        assert_eq!(file.site_url, "https://alchemy.example.com/");
        let names: Vec<&str> = file.channels.iter().map(|it| it.name.as_str()).collect();
        assert_eq!(names, ["tg", "wx", "ding", "fs", "hook"]);
        let tg = &file.channels[0];
        assert_eq!(tg.only, Only::Signals);
        assert_eq!(tg.funds, [FundCode::parse("510300.SH").unwrap(), FundCode::parse("159915.SZ").unwrap()]);
        let Target::Telegram(telegram) = &tg.target else { panic!("telegram") };
        assert_eq!(telegram.api, TELEGRAM_API);
        assert_eq!(telegram.token.expose(), "value-of-TG_TOKEN");
        assert_eq!(telegram.message_thread_id, Some(7));
        assert!(!file.channels[1].enabled);
        assert_eq!(file.channels[1].only, Only::All);
        let Target::DingTalk(ding) = &file.channels[2].target else { panic!("dingtalk") };
        assert_eq!(ding.api, DINGTALK_API);
        assert_eq!(ding.keyword.as_deref(), Some("信号"));
        assert_eq!(ding.secret.as_ref().unwrap().expose(), "value-of-DING_SECRET");
        let Target::Feishu(feishu) = &file.channels[3].target else { panic!("feishu") };
        assert_eq!(feishu.api, "http://127.0.0.1:9");
        assert!(feishu.secret.is_none());
        let Target::Webhook(hook) = &file.channels[4].target else { panic!("webhook") };
        assert_eq!(hook.url.expose(), "https://example.com/alchemy?t=value-of-HOOK_TOKEN");
    }

    #[test]
    fn no_secret_appears_in_debug_output_or_errors() {
        let file = ChannelsFile::parse(EXAMPLE, &env).unwrap();
        let debug = format!("{file:?}");
        assert!(!debug.contains("value-of-TG_TOKEN") && !debug.contains("value-of-HOOK_TOKEN"), "{debug}");
        assert!(debug.contains("Secret(<redacted>)"), "{debug}");
        let hook = &file.channels[4];
        let answer = "refused https://example.com/alchemy?t=value-of-HOOK_TOKEN signed value-of-HOOK_SECRET";
        assert_eq!(hook.mask(answer), "refused <secret> signed <secret>");
    }

    #[test]
    fn the_references_are_listed_with_whether_they_hold_a_secret() {
        let found = ChannelsFile::references(EXAMPLE).unwrap();
        let listed: Vec<(&str, &str, &str, bool, bool)> = found
            .iter()
            .map(|it| (it.channel.as_str(), it.key.as_str(), it.variable.as_str(), it.secret, it.whole))
            .collect();
        assert_eq!(
            listed,
            [
                ("tg", "token", "TG_TOKEN", true, true),
                ("wx", "key", "WECOM_KEY", true, true),
                ("ding", "access_token", "DING_TOKEN", true, true),
                ("ding", "secret", "DING_SECRET", true, true),
                ("fs", "hook", "FEISHU_HOOK", true, true),
                ("hook", "url", "HOOK_TOKEN", true, false),
                ("hook", "secret", "HOOK_SECRET", true, true),
            ]
        );
    }

    #[test]
    fn in_the_cloud_every_credential_is_a_whole_reference() {
        let site = "site_url = \"${SITE_URL}\"\n[[channel]]\nname = \"wx\"\nkind = \"wecom\"\nkey = \"${K}\"\n";
        assert_eq!(ChannelsFile::cloud_variables(site).unwrap(), ["K", "SITE_URL"]);
        assert_eq!(
            ChannelsFile::cloud_variables(EXAMPLE).unwrap(),
            ["DING_SECRET", "DING_TOKEN", "FEISHU_HOOK", "HOOK_SECRET", "HOOK_TOKEN", "TG_TOKEN", "WECOM_KEY"]
        );
        let literal = concat!(
            "site_url = \"https://a/\"\n[[channel]]\nname = \"ding\"\nkind = \"dingtalk\"\n",
            "access_token = \"${T}\"\nsecret = \"SECabc\"\n"
        );
        let err = ChannelsFile::cloud_variables(literal).unwrap_err().to_string();
        assert!(err.starts_with("channel ding, key secret: must be a whole ${VAR} reference in the cloud"), "{err}");
        let partial = "site_url = \"https://a/\"\n[[channel]]\nname = \"wx\"\nkind = \"wecom\"\nkey = \"k-${K}\"\n";
        assert!(ChannelsFile::cloud_variables(partial).unwrap_err().to_string().starts_with("channel wx, key key: "));
    }

    #[test]
    fn a_bad_file_is_an_error_naming_the_channel_and_the_key() {
        let head = "site_url = \"https://a.example/\"\n[[channel]]\n";
        check_error(
            &format!("{head}name = \"tg\"\nkind = \"telegram\"\ntoken = \"${{TG}}\"\n"),
            "channel tg, key chat_id: missing",
        );
        check_error(
            &format!("{head}name = \"tg\"\nkind = \"telegrm\"\n"),
            "channel tg, key kind: \"telegrm\" is not a kind: use telegram, wecom, dingtalk, feishu or webhook",
        );
        check_error(
            &format!("{head}name = \"Team TG\"\nkind = \"telegram\"\n"),
            "channel \"Team TG\", key name: must be 1 to 64 lowercase letters, digits and '-', like \"team-tg\"",
        );
        check_error(
            &format!("{head}kind = \"wecom\"\n"),
            "channel #1, key name: missing: every channel has a unique name",
        );
        check_error(
            &format!("{head}name = \"wx\"\nkind = \"wecom\"\nkey = \"k\"\nchat_id = \"1\"\n"),
            "channel wx, key chat_id: unknown key for kind wecom: it takes api, key",
        );
        check_error(
            &format!("{head}name = \"wx\"\nkind = \"wecom\"\nkey = \"k\"\nonly = \"some\"\n"),
            "channel wx, key only: \"some\" is not \"all\" or \"signals\"",
        );
        check_error(
            &format!("{head}name = \"wx\"\nkind = \"wecom\"\nkey = \"k\"\nfunds = [\"51030\"]\n"),
            "channel wx, key funds: \"51030\" is not a security code like 510300.SH (six digits, then .SH, .SZ or .BJ)",
        );
        check_error(
            &format!(
                "{head}name = \"wx\"\nkind = \"wecom\"\nkey = \"k\"\n[[channel]]\nname = \"wx\"\nkind = \"wecom\"\nkey = \"k\"\n"
            ),
            "channel wx, key name: another channel has this name: names must be unique",
        );
        check_error(
            &format!("{head}name = \"hook\"\nkind = \"webhook\"\nurl = \"ftp://x\"\n"),
            "channel hook, key url: is not an address: it must start with https:// or http://",
        );
        check_error(
            &format!("{head}name = \"wx\"\nkind = \"wecom\"\nkey = \"${{wecom}}\"\n"),
            "channel wx, key key: ${wecom} is not a variable reference: names are A-Z, 0-9 and _, like ${TG_TOKEN}",
        );
        check_error(
            "[[channel]]\nname = \"a\"\n",
            "the channels file's site_url: missing: messages link to the site's day pages",
        );
        check_error(
            "site_url = \"https://a/\"\nchannels = []\n",
            "the channels file's channels: unknown key: the file has site_url and [[channel]] tables",
        );
        assert!(matches!(ChannelsFile::parse("site_url = ", &env), Err(ConfigError::Toml { .. })));
    }

    #[test]
    fn an_unset_variable_is_named_without_any_value() {
        let text = "site_url = \"https://a/\"\n[[channel]]\nname = \"wx\"\nkind = \"wecom\"\nkey = \"${WECOM_KEY}\"\n";
        let err = ChannelsFile::parse(text, &|_| None).unwrap_err();
        assert_eq!(err.to_string(), "channel wx, key key: ${WECOM_KEY} is not set in the environment");
    }
}
