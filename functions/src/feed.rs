//! `GET /feed.xml`: an Atom feed of the latest reports, from the index alone.

use std::fmt::Write;

use platform::{report::json::IndexJson, strategy::DmaParams};

use crate::escape_xml;

/// How many reports the feed carries.
pub(crate) const FEED_ENTRIES: usize = 30;

/// The feed document. Links are relative to the feed's address (Atom resolves them against it), so
/// the same feed is right on 127.0.0.1 and behind CloudFront.
pub(crate) fn atom(index: &IndexJson, params: &DmaParams) -> String {
    let strategy = params.id();
    // Reports are made after the close in Shanghai; the day's 16:00 there stands for "when".
    let updated = |date: platform::date::TradeDate| format!("{}T16:00:00+08:00", date.iso());
    let feed_updated =
        index.days.first().map_or_else(|| "1990-01-01T00:00:00Z".to_owned(), |it| updated(it.trade_date));
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    write!(
        out,
        "<title>双均线({}日/{}日) A股ETF交易信号</title>\n<id>urn:invest-alchemy:{strategy}</id>\n<updated>{feed_updated}</updated>\n\
         <link rel=\"self\" href=\"/feed.xml\"/>\n<link href=\"/\"/>\n<author><name>invest-alchemy</name></author>\n",
        params.short(),
        params.long()
    )
    .expect("writing to a String");
    for day in index.days.iter().take(FEED_ENTRIES) {
        let counts = day.counts;
        let names = |funds: &[platform::report::json::IndexFund]| {
            if funds.is_empty() {
                return "无".to_owned();
            }
            funds.iter().map(|it| format!("{}({})", it.name, it.code.as_str())).collect::<Vec<_>>().join(", ")
        };
        let sample = if day.sample_data { " [样例数据]" } else { "" };
        let summary = format!(
            "买入 {} / 卖出 {} / 持仓 {} / 空仓 {}。可买: {}。可卖: {}。{sample}",
            counts.buy,
            counts.sell,
            counts.hold,
            counts.empty,
            names(&day.buy),
            names(&day.sell)
        );
        write!(
            out,
            "<entry>\n<title>{} 交易信号{}</title>\n<id>urn:invest-alchemy:{strategy}:{}</id>\n<updated>{}</updated>\n\
             <link href=\"/reports/{}\"/>\n<summary>{}</summary>\n</entry>\n",
            day.trade_date.iso(),
            escape_xml(sample),
            day.trade_date,
            updated(day.trade_date),
            day.trade_date,
            escape_xml(&summary)
        )
        .expect("writing to a String");
    }
    out.push_str("</feed>\n");
    out
}
