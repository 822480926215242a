//! The site in headless Chromium, driven through ChromeDriver's WebDriver API: a person opens the
//! home page, subscribes, sees the confirmation in place; chooses signal days for one fund, with
//! and without the page's script; opens a day page and sees a sparkline in each row; follows the
//! header to the track record and a fund to its chart and trades.
//! Screenshots go to `target/screenshots/`.

mod common;

use std::{path::Path, process::Command, time::Duration};

use base64::Engine;
use functions::{site, subscribe::SubscribeState, web::WebState};
use platform::{env, store::ObjectStore, strategy::DmaParams};
use serde_json::{Value, json};
use test_support::{performance::store_sample_performance, reports::store_sample_reports};

use common::{Running, free_port, start_tool, target_dir, tool, wait_for};

#[test]
#[ignore = "needs Chromium: cargo xtask test"]
fn a_visitor_subscribes_on_the_home_page_and_sees_sparklines_on_a_day_page() {
    let Visit { data, base, days, driver, screenshots } = Visit::start();

    driver.go(&format!("{base}/"));
    assert!(driver.text("h1").contains("双均线ETF交易信号"));
    let email = driver.find("#email");
    driver.post(&format!("element/{email}/value"), json!({ "text": "browser@example.com" }));
    let button = driver.find("#subscribe-form button");
    driver.post(&format!("element/{button}/click"), json!({}));
    let confirmation = wait_for("the confirmation in place", Duration::from_secs(20), || {
        let text = driver.text("#subscribe-result");
        text.contains("确认邮件已发往").then_some(text)
    });
    assert!(confirmation.contains("browser@example.com"), "{confirmation}");
    driver.screenshot(&screenshots.join("home-subscribed.png"));
    let subscribers = std::fs::read_to_string(data.path().join("subscribers.json")).unwrap();
    assert!(subscribers.contains("browser@example.com"), "{subscribers}");

    let newest = days.last().unwrap();
    driver.go(&format!("{base}/reports/{newest}"));
    assert!(driver.text("h1").contains(&newest.iso()));
    let sparks = driver.find_all("table.signals svg.spark");
    let rows = driver.find_all("table.signals tbody tr");
    assert_eq!(sparks.len(), rows.len(), "a sparkline in every row");
    let rect = driver.get(&format!("element/{}/rect", sparks[0]));
    assert_eq!(
        (rect["width"].as_f64(), rect["height"].as_f64()),
        (Some(118.0), Some(32.0)),
        "drawn at its size: {rect}"
    );
    // The close is drawn in the stylesheet's colour, with no fill: the CSP allows no inline style.
    let stroke = driver.script("return getComputedStyle(document.querySelector('svg.spark path.c')).stroke;");
    assert_eq!(stroke, json!("rgb(31, 41, 55)"));
    let fill = driver.script("return getComputedStyle(document.querySelector('svg.spark path.c')).fill;");
    assert_eq!(fill, json!("none"));
    let length = driver.script("return document.querySelector('svg.spark path.c').getTotalLength();");
    assert!(length.as_f64().unwrap() > 118.0, "the close runs across the box: {length}");
    driver.screenshot(&screenshots.join("day-page.png"));
    driver.screenshot_of(&rows[0], &screenshots.join("day-row.png"));

    // A phone-sized window: the table scrolls inside its box, the page does not.
    driver.post("window/rect", json!({ "width": 390, "height": 844 }));
    let page_width =
        driver.post("execute/sync", json!({ "script": "return document.documentElement.scrollWidth;", "args": [] }));
    let window_width = driver.post("execute/sync", json!({ "script": "return window.innerWidth;", "args": [] }));
    assert!(page_width.as_f64() <= window_width.as_f64(), "no sideways scrolling: {page_width} > {window_width}");
    driver.screenshot(&screenshots.join("day-page-phone.png"));

    // Without JavaScript's help the form still works: submit it as a plain form post.
    driver.go(&format!("{base}/"));
    let script = concat!(
        "document.getElementById('email').value = 'plain@example.com'; ",
        "HTMLFormElement.prototype.submit.call(document.getElementById('subscribe-form'));",
    );
    driver.post("execute/sync", json!({ "script": script, "args": [] }));
    let page = wait_for("the confirmation page", Duration::from_secs(20), || {
        let text = driver.text("body");
        text.contains("订阅成功").then_some(text)
    });
    assert!(page.contains("plain@example.com"), "{page}");
    driver.screenshot(&screenshots.join("subscribed-page.png"));
}

#[test]
#[ignore = "needs Chromium: cargo xtask test"]
fn a_visitor_ticks_a_fund_and_subscribes_to_its_signals_with_and_without_the_script() {
    let Visit { data, base, days: _, driver, screenshots } = Visit::start();

    driver.go(&format!("{base}/"));
    let email = driver.find("#email");
    driver.post(&format!("element/{email}/value"), json!({ "text": "fund@example.com" }));
    assert_eq!(driver.script("return document.querySelector('#fund-choices').open;"), json!(false), "folded");
    driver.click("#fund-choices summary");
    let legends =
        driver.script("return [...document.querySelectorAll('#fund-choices legend')].map(it => it.textContent);");
    assert_eq!(legends.as_array().unwrap()[0], "可买标的", "grouped as the report: {legends}");
    let box_of = "#fund-choices input[name=funds][value='510500.SH']";
    let signal = driver.script(&format!("return document.querySelector(\"{box_of}\").closest('label').textContent;"));
    assert!(signal.as_str().unwrap().contains("510500.SH"), "{signal}");
    driver.click(box_of);
    // Ticking a fund chooses signal days: the script does it for the visitor.
    let frequency = driver.script("return document.querySelector('input[name=frequency]:checked').value;");
    assert_eq!(frequency, json!("signals"));
    driver.screenshot(&screenshots.join("home-choices.png"));
    driver.click("#subscribe-form button");
    let confirmation = wait_for("the confirmation in place", Duration::from_secs(20), || {
        let text = driver.text("#subscribe-result");
        text.contains("确认邮件已发往").then_some(text)
    });
    assert!(confirmation.contains("仅在 510500.SH 之一有买卖信号"), "{confirmation}");
    assert_eq!(policy_of(data.path(), "fund@example.com"), json!({ "signal_funds": ["510500.SH"] }));

    // With no script at all the same form posts: signal days, no fund.
    driver.go(&format!("{base}/"));
    let script = concat!(
        "document.getElementById('email').value = 'plain-signals@example.com'; ",
        "document.querySelector('input[name=frequency][value=signals]').checked = true; ",
        "HTMLFormElement.prototype.submit.call(document.getElementById('subscribe-form'));",
    );
    driver.script(script);
    let page = wait_for("the confirmation page", Duration::from_secs(20), || {
        let text = driver.text("body");
        text.contains("订阅成功").then_some(text)
    });
    assert!(page.contains("仅在有买卖信号"), "{page}");
    assert_eq!(policy_of(data.path(), "plain-signals@example.com"), json!({ "signal_day": ["true"] }));
}

#[test]
#[ignore = "needs Chromium: cargo xtask test"]
fn a_visitor_follows_the_header_to_the_track_record_and_a_fund_to_its_chart_and_trades() {
    let Visit { data: _data, base, days, driver, screenshots } = Visit::start();

    driver.go(&format!("{base}/"));
    driver.click("header.site a[href='/performance']");
    wait_for("the performance page", Duration::from_secs(20), || driver.text("h1").contains("策略业绩").then_some(()));
    let charts = driver.find_all("section.period figure.chart svg.plot");
    assert_eq!(charts.len(), 2, "a chart for the live period and one for the backtest");
    for chart in &charts {
        let rect = driver.get(&format!("element/{chart}/rect"));
        assert!(rect["width"].as_f64().unwrap() > 300.0, "the chart is drawn wide: {rect}");
    }
    assert_eq!(driver.script("return document.querySelectorAll('svg.plot path.portfolio').length;"), json!(2));
    assert_eq!(driver.script("return document.querySelectorAll('svg.plot g.legend').length;"), json!(6));
    let collapse = driver.script("return getComputedStyle(document.querySelector('table.record')).borderCollapse;");
    assert_eq!(collapse, json!("collapse"), "the stylesheet applies under the CSP");
    assert!(driver.text("#period-backtest").contains("夏普比率"));
    driver.screenshot(&screenshots.join("performance-page.png"));
    driver.screenshot_of(&charts[1], &screenshots.join("performance-chart.png"));

    driver.click("#period-backtest table.funds a[href^='/funds/']");
    let heading = wait_for("a fund page", Duration::from_secs(20), || {
        let text = driver.text("h1");
        text.contains(".S").then_some(text)
    });
    let chart = driver.find("figure.chart svg.plot");
    assert!(driver.get(&format!("element/{chart}/rect"))["width"].as_f64().unwrap() > 300.0);
    assert_eq!(driver.script("return document.querySelectorAll('svg.plot path.entry').length;"), json!(1));
    let rows = driver.script("return document.querySelectorAll('table.trades tbody tr').length;");
    assert!(rows.as_u64().unwrap() > 10, "ten years of trades: {rows}");
    driver.screenshot(&screenshots.join("fund-page.png"));
    driver.screenshot_of(&chart, &screenshots.join("fund-chart.png"));

    // A phone-sized window: tables scroll in their boxes, charts shrink, the page does not scroll sideways.
    driver.post("window/rect", json!({ "width": 390, "height": 844 }));
    for uri in ["/performance".to_owned(), format!("/funds/{}", heading.split_whitespace().last().unwrap())] {
        driver.go(&format!("{base}{uri}"));
        let page_width = driver.script("return document.documentElement.scrollWidth;");
        let window_width = driver.script("return window.innerWidth;");
        assert!(page_width.as_f64() <= window_width.as_f64(), "{uri}: {page_width} > {window_width}");
    }
    driver.screenshot(&screenshots.join("fund-page-phone.png"));

    // A day page links each fund to its page.
    driver.post("window/rect", json!({ "width": 1280, "height": 1000 }));
    driver.go(&format!("{base}/reports/{}", days.last().unwrap()));
    driver.click("table.signals tbody td > a[href^='/funds/']");
    wait_for("a fund page from a day page", Duration::from_secs(20), || {
        driver.find_all("table.trades").len().eq(&1).then_some(())
    });
}

/// The filter policy stored for `email` in the local registry (`null` for every day).
fn policy_of(data_dir: &Path, email: &str) -> Value {
    let text = std::fs::read_to_string(data_dir.join("subscribers.json")).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let entry = file["subscribers"].as_array().unwrap().iter().find(|it| it["email"] == email).cloned();
    entry.unwrap_or_else(|| panic!("{email} is not subscribed: {text}"))["filter_policy"].clone()
}

/// A visitor's browser on a freshly served site, and where its screenshots go.
struct Visit {
    data: tempfile::TempDir,
    base: String,
    days: Vec<platform::date::TradeDate>,
    driver: Driver,
    screenshots: std::path::PathBuf,
}

impl Visit {
    fn start() -> Visit {
        let data = tempfile::tempdir().unwrap();
        let (base, days) = start_site(data.path());
        Visit { data, base, days, driver: Driver::start(), screenshots: target_dir("screenshots") }
    }
}

/// Serves the local site on a free port over the latest 30 sample days, with the track record of ten
/// years whose live period is those days; returns its address and the days.
fn start_site(data_dir: &Path) -> (String, Vec<platform::date::TradeDate>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = ObjectStore::local(data_dir);
    let days = runtime.block_on(store_sample_reports(&store, 30));
    runtime.block_on(store_sample_performance(&store, Some(days[0])));
    let app = site(WebState::new(store, DmaParams::STANDARD), SubscribeState::local(data_dir));
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || runtime.block_on(async { axum::serve(listener, app).await.unwrap() }));
    (format!("http://{address}"), days)
}

/// A ChromeDriver process with one headless Chromium session; both end when this drops.
struct Driver {
    _process: Running,
    session: String,
    _profile: tempfile::TempDir,
}

impl Driver {
    fn start() -> Driver {
        let chromedriver = tool(env::TEST_CHROMEDRIVER, "/usr/bin/chromedriver");
        let chromium = tool(env::TEST_CHROMIUM, "/usr/bin/chromium");
        let port = free_port();
        let process = start_tool(Command::new(&chromedriver).arg(format!("--port={port}")));
        let root = format!("http://127.0.0.1:{port}");
        wait_for("ChromeDriver to listen", Duration::from_secs(30), || {
            agent().get(&format!("{root}/status")).call().ok()
        });
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--window-size=1280,1000".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        } } });
        let answer = call(agent().post(&format!("{root}/session")).send_json(&capabilities), "starting Chromium");
        let session = answer["sessionId"].as_str().unwrap().to_owned();
        Driver { _process: process, session: format!("{root}/session/{session}"), _profile: profile }
    }

    fn go(&self, url: &str) {
        self.post("url", json!({ "url": url }));
    }

    fn find(&self, css: &str) -> String {
        let found = self.post("element", json!({ "using": "css selector", "value": css }));
        element_id(&found)
    }

    fn find_all(&self, css: &str) -> Vec<String> {
        let found = self.post("elements", json!({ "using": "css selector", "value": css }));
        found.as_array().unwrap().iter().map(element_id).collect()
    }

    fn click(&self, css: &str) {
        let element = self.find(css);
        self.post(&format!("element/{element}/click"), json!({}));
    }

    /// Runs `script` in the page and returns its value.
    fn script(&self, script: &str) -> Value {
        self.post("execute/sync", json!({ "script": script, "args": [] }))
    }

    fn text(&self, css: &str) -> String {
        let element = self.find(css);
        self.get(&format!("element/{element}/text")).as_str().unwrap().to_owned()
    }

    fn screenshot(&self, path: &Path) {
        let png = self.get("screenshot");
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    fn screenshot_of(&self, element: &str, path: &Path) {
        let png = self.get(&format!("element/{element}/screenshot"));
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    fn post(&self, command: &str, body: Value) -> Value {
        call(agent().post(&format!("{}/{command}", self.session)).send_json(&body), command)
    }

    fn get(&self, command: &str) -> Value {
        call(agent().get(&format!("{}/{command}", self.session)).call(), command)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Ends Chromium; ChromeDriver itself ends when `_process` drops right after.
        let _ = agent().delete(&self.session).call();
    }
}

/// The `value` of a WebDriver answer; panics with the command and WebDriver's message on an error.
fn call(answer: Result<ureq::http::Response<ureq::Body>, ureq::Error>, command: &str) -> Value {
    let mut response = answer.unwrap_or_else(|err| panic!("WebDriver {command} failed: {err}"));
    let status = response.status();
    let body: Value = response.body_mut().read_json().unwrap();
    assert!(status.is_success(), "WebDriver {command} failed with {status}: {body}");
    body["value"].clone()
}

/// WebDriver answers errors with a 4xx or 5xx and a JSON body worth reading.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

fn element_id(found: &Value) -> String {
    found["element-6066-11e4-a52e-4f735466cecf"]
        .as_str()
        .unwrap_or_else(|| panic!("not an element: {found}"))
        .to_owned()
}
