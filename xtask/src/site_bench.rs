//! `cargo xtask bench --site`: requests per second and latency of the site's pages, served by the
//! release web binary on sample data (what `cargo xtask dev` serves) and driven by wrk, from
//! Debian's packages, at `--connections` connections for `--seconds` per page.
//!
//! The server and the load generator share this machine's cores, so the figures are a floor for
//! the server alone; they compare pages with one another and one build with the next.

use std::{path::Path, process::Command, time::Duration};

use anyhow::Context;
use xshell::{Shell, cmd};

use crate::{
    site_tools,
    test::server::{Server, free_port},
    tools,
};

/// wrk's threads: one per core of the 2-core machines this is measured on.
const THREADS: &str = "2";

/// What wrk said of one page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Load {
    pub(crate) requests_per_second: f64,
    pub(crate) p50: Duration,
    pub(crate) p90: Duration,
    pub(crate) p99: Duration,
    /// Answers that were not 2xx or 3xx.
    pub(crate) errors: u64,
}

/// Builds the release job and site, makes 30 sample days, serves them and drives each page.
pub(crate) fn run(sh: &Shell, connections: u32, seconds: u32) -> anyhow::Result<()> {
    anyhow::ensure!(connections > 0 && seconds > 0, "--connections and --seconds must be at least 1");
    site_tools::install_wrk(sh)?;
    eprintln!("building the release signal job and web function");
    cmd!(sh, "cargo build --quiet --release --package jobs --bin signal --package functions --bin web")
        .run()
        .context("building the release signal job and web function")?;
    let release = tools::cargo_target_dir(sh)?.join("release");
    let out = tools::cargo_target_dir(sh)?.join("bench/site");
    let data = out.join("data");
    if data.exists() {
        sh.remove_path(&data).with_context(|| format!("clearing {}", data.display()))?;
    }
    let signal = release.join("signal");
    eprintln!("making 30 sample days in {}", data.display());
    cmd!(sh, "{signal} --source sample --last 30 --no-publish --data-dir {data}")
        .quiet()
        .run()
        .context("running the job")?;
    let newest = newest_day(&data.join("reports/dma-11-22"))?;

    let port = free_port()?;
    let mut web = Command::new(release.join("web"));
    web.env(platform::env::DATA_DIR, &data).env(platform::env::PORT, port.to_string());
    let server = Server::start("the web function", web, port, "/", &out.join("web.log"), Duration::from_secs(30))?;

    let pages =
        ["/".to_owned(), format!("/reports/{newest}"), "/funds/510300.SH".to_owned(), "/performance".to_owned()];
    let (connections, duration) = (connections.to_string(), format!("{seconds}s"));
    println!("{:<22} {:>9} {:>10} {:>9} {:>9} {:>9}", "page", "bytes", "req/s", "p50", "p90", "p99");
    for page in &pages {
        let url = format!("{}{page}", server.url());
        let format = "%{http_code} %{size_download}";
        let answer = cmd!(sh, "curl --silent --output /dev/null --write-out {format} {url}").quiet().read()?;
        let bytes = match answer.split_once(' ') {
            Some(("200", bytes)) => bytes.to_owned(),
            _ => anyhow::bail!("GET {url} answered {answer} (status and bytes), not 200"),
        };
        // A second's warm-up, so the first page does not pay for the server's first connections.
        cmd!(sh, "wrk -t{THREADS} -c{connections} -d1s {url}").quiet().ignore_stdout().run().context("warming up")?;
        let output = cmd!(sh, "wrk -t{THREADS} -c{connections} -d{duration} --latency {url}")
            .quiet()
            .read()
            .with_context(|| format!("driving {url} with wrk"))?;
        let load = parse_wrk(&output).with_context(|| format!("reading wrk's report on {page}:\n{output}"))?;
        anyhow::ensure!(load.errors == 0, "{page}: {} answers were not 2xx or 3xx", load.errors);
        println!(
            "{page:<22} {bytes:>9} {:>10.0} {:>9} {:>9} {:>9}",
            load.requests_per_second,
            ms(load.p50),
            ms(load.p90),
            ms(load.p99)
        );
    }
    println!("(wrk -t{THREADS} -c{connections} -d{duration} per page; server and wrk on this machine's cores)");
    Ok(())
}

/// The newest `YYYYMMDD.txt` in `dir`, as `YYYYMMDD`.
fn newest_day(dir: &Path) -> anyhow::Result<String> {
    let names = std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    let days = names.filter_map(|it| it.ok()?.file_name().to_str()?.strip_suffix(".txt").map(str::to_owned));
    days.max().with_context(|| format!("the job wrote no report into {}", dir.display()))
}

/// Reads `wrk --latency`'s report: `Requests/sec:`, the 50/90/99 % lines of the latency
/// distribution, and `Non-2xx or 3xx responses:` when there were any.
pub(crate) fn parse_wrk(output: &str) -> anyhow::Result<Load> {
    let value = |prefix: &str| {
        output.lines().map(str::trim).find_map(|line| line.strip_prefix(prefix).map(|rest| rest.trim().to_owned()))
    };
    let percentile = |name: &str| -> anyhow::Result<Duration> {
        let text = value(&format!("{name}%")).with_context(|| format!("no {name}% latency line"))?;
        duration(&text)
    };
    let requests_per_second = value("Requests/sec:").context("no Requests/sec line")?;
    let requests_per_second =
        requests_per_second.parse().with_context(|| format!("Requests/sec is not a number: {requests_per_second}"))?;
    let errors = match value("Non-2xx or 3xx responses:") {
        Some(text) => text.parse().with_context(|| format!("the count of non-2xx answers is not a number: {text}"))?,
        None => 0,
    };
    Ok(Load { requests_per_second, p50: percentile("50")?, p90: percentile("90")?, p99: percentile("99")?, errors })
}

/// wrk's durations: `812.00us`, `1.20ms`, `2.01s`.
fn duration(text: &str) -> anyhow::Result<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic()).with_context(|| format!("no unit in {text:?}"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().with_context(|| format!("not a number in {text:?}"))?;
    let seconds = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        _ => anyhow::bail!("unknown unit {unit:?} in {text:?}"),
    };
    Ok(Duration::from_secs_f64(seconds))
}

fn ms(value: Duration) -> String {
    format!("{:.2} ms", value.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What wrk 4.1 (Debian 12) prints with `--latency`.
    const REPORT: &str = "Running 10s test @ http://127.0.0.1:3000/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02ms  512.30us  12.04ms   85.21%
    Req/Sec     7.80k   410.22     8.61k    71.00%
  Latency Distribution
     50%  812.00us
     75%    1.20ms
     90%    1.70ms
     99%    2.01s
  155262 requests in 10.00s, 1.02GB read
Requests/sec:  15523.18
Transfer/sec:    104.51MB
";

    #[test]
    fn wrk_s_report_gives_the_rate_the_percentiles_and_no_errors() {
        let load = parse_wrk(REPORT).unwrap();
        assert_eq!(
            load,
            Load {
                requests_per_second: 15523.18,
                p50: Duration::from_micros(812),
                p90: Duration::from_micros(1700),
                p99: Duration::from_millis(2010),
                errors: 0,
            }
        );
    }

    #[test]
    fn non_2xx_answers_are_counted_and_a_report_without_latencies_is_an_error_naming_the_line() {
        let with_errors = REPORT.replace("Requests/sec:", "  Non-2xx or 3xx responses: 42\nRequests/sec:");
        assert_eq!(parse_wrk(&with_errors).unwrap().errors, 42);
        let without = REPORT.replace("     90%    1.70ms\n", "");
        assert_eq!(parse_wrk(&without).unwrap_err().to_string(), "no 90% latency line");
        assert!(duration("3.5h").unwrap_err().to_string().contains("unknown unit \"h\""));
        assert_eq!(duration("1.5m").unwrap(), Duration::from_secs(90));
    }
}
