//! The sample data source: deterministic, generated prices for any code, with no network.
//!
//! Each code seeds its own random walk (FNV-1a of the code into SplitMix64), which starts on
//! [`ORIGIN`] and is always generated from there, so the bar of a given day never depends on the
//! range asked for. The walk switches between trending regimes (up, down, sideways) so that moving
//! averages cross both ways, pays an occasional dividend (the raw close drops, the adjustment factor
//! steps up, the forward-adjusted close stays continuous) and is now and then suspended for a few
//! days. The calendar is weekdays minus a fixed list of exchange holidays. Each day's open lies
//! between the previous close (less any dividend paid that day) and the close, give or take 0.2 %;
//! it comes from a second generator of its own, so adding it left every close as it was.
//!
//! None of this is market data: reports made from it say so in their header and JSON.

use crate::{
    date::TradeDate,
    fund::FundCode,
    history::{AdjFactor, Bar, History},
};

/// The first day of every sample series.
pub const ORIGIN: (i32, u32, u32) = (2018, 1, 2);

/// Exchange holidays that fall on weekdays, as `YYYYMMDD` (closures of the SSE and SZSE for the
/// New Year, Spring Festival, Qingming, Labour Day, Dragon Boat, Mid-Autumn and National Day).
const HOLIDAYS: &[u32] = &[
    20240101, 20240209, 20240212, 20240213, 20240214, 20240215, 20240216, 20240404, 20240405, 20240501, 20240502,
    20240503, 20240610, 20240916, 20240917, 20241001, 20241002, 20241003, 20241004, 20241007, 20250101, 20250128,
    20250129, 20250130, 20250131, 20250203, 20250204, 20250404, 20250501, 20250502, 20250505, 20250602, 20251001,
    20251002, 20251003, 20251006, 20251007, 20251008, 20260101, 20260102, 20260216, 20260217, 20260218, 20260219,
    20260220, 20260223, 20260406, 20260501, 20260504, 20260505, 20260619, 20260925, 20261001, 20261002, 20261005,
    20261006, 20261007, 20270101, 20270205, 20270208, 20270209, 20270210, 20270211, 20270405, 20270503, 20270504,
    20270505, 20270609, 20270915, 20271001, 20271004, 20271005, 20271006, 20271007,
];

/// The generated source. Stateless: every answer is computed from the code and the dates.
#[derive(Debug, Clone, Default)]
pub struct SampleSource {}

impl SampleSource {
    /// The sample source.
    pub fn new() -> SampleSource {
        SampleSource {}
    }

    /// Whether the sample exchange trades on `date`.
    pub fn is_trading_day(&self, date: TradeDate) -> bool {
        !date.is_weekend() && HOLIDAYS.binary_search(&date_number(date)).is_err()
    }

    /// The sample exchange's trading days in `from..=to`, oldest first.
    pub fn trading_days(&self, from: TradeDate, to: TradeDate) -> Vec<TradeDate> {
        let mut days = Vec::new();
        let mut day = Some(from);
        while let Some(date) = day.filter(|it| *it <= to) {
            if self.is_trading_day(date) {
                days.push(date);
            }
            day = date.next_day();
        }
        days
    }

    /// Bars and factors of `code` for the trading days in `from..=to` on which it traded.
    pub fn history(&self, code: &FundCode, from: TradeDate, to: TradeDate) -> History {
        let origin = TradeDate::from_ymd(ORIGIN.0, ORIGIN.1, ORIGIN.2).expect("a real day");
        let mut walk = Walk::new(code);
        let mut history = History::default();
        for date in self.trading_days(origin, to) {
            let Some((open, close, factor)) = walk.step() else {
                continue;
            };
            if date >= from {
                history.bars.push(Bar { trade_date: date, open, close });
                history.factors.push(AdjFactor { trade_date: date, factor });
            }
        }
        history
    }
}

/// The state of one code's random walk.
struct Walk {
    rng: SplitMix64,
    /// The opens' own generator: the closes never depend on it.
    opens: SplitMix64,
    /// The unadjusted price before rounding to the tick.
    price: f64,
    /// The level the price is pulled back towards, so a series stays in a plausible range for years.
    anchor: f64,
    factor: f64,
    drift: f64,
    volatility: f64,
    regime_days_left: u32,
    suspended_days_left: u32,
}

impl Walk {
    fn new(code: &FundCode) -> Walk {
        let seed = fnv1a(code.as_str().as_bytes());
        let mut rng = SplitMix64(seed);
        let price = 0.8 + 4.2 * rng.uniform();
        Walk {
            rng,
            opens: SplitMix64(seed ^ OPENS_SEED),
            price,
            anchor: price,
            factor: 1.0,
            drift: 0.0,
            volatility: 0.01,
            regime_days_left: 0,
            suspended_days_left: 0,
        }
    }

    /// One trading day: `Some((open, close, factor))`, or `None` while suspended.
    fn step(&mut self) -> Option<(f64, f64, f64)> {
        if self.suspended_days_left > 0 {
            self.suspended_days_left -= 1;
            return None;
        }
        if self.rng.uniform() < 1.0 / 500.0 {
            self.suspended_days_left = 1 + (self.rng.next() % 4) as u32;
            return None;
        }
        if self.regime_days_left == 0 {
            // Trends of a few weeks to a few months, up, down or sideways.
            self.regime_days_left = 8 + (self.rng.next() % 50) as u32;
            self.drift = (self.rng.uniform() - 0.5) * 0.008;
            self.volatility = 0.004 + 0.014 * self.rng.uniform();
        }
        self.regime_days_left -= 1;
        // Yesterday's close, the open's reference (the price does not move while suspended).
        let mut reference = self.price;
        let pull = 0.004 * (self.anchor / self.price).ln();
        let shock = self.drift + pull + self.volatility * self.rng.normal();
        self.price = (self.price * shock.exp()).clamp(0.05, 500.0);
        if self.rng.uniform() < 1.0 / 160.0 {
            // Ex-dividend day: 1 % to 4 % of the price is paid out.
            let payout = 0.01 + 0.03 * self.rng.uniform();
            self.price *= 1.0 - payout;
            reference *= 1.0 - payout;
            self.factor = round_to(self.factor / (1.0 - payout), 4);
        }
        let close = round_to(self.price, 3).max(0.001);
        Some((self.open(reference, close), close, self.factor))
    }

    /// An open between `reference` (yesterday's close, ex-dividend) and `close`, give or take
    /// 0.2 %, on the tick. Draws only from [`Walk::opens`].
    fn open(&mut self, reference: f64, close: f64) -> f64 {
        let along = self.opens.uniform();
        let noise = 0.002 * (2.0 * self.opens.uniform() - 1.0);
        let open = (reference + (close - reference) * along) * (1.0 + noise);
        round_to(open, 3).max(0.001)
    }
}

/// Mixed into a code's seed for the generator of its opens.
const OPENS_SEED: u64 = 0x6F70_656E_5F73_6565;

/// SplitMix64: a tiny, well-known generator; deterministic on every platform.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal by Box-Muller.
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round_ties_even() / scale
}

fn date_number(date: TradeDate) -> u32 {
    date.to_string().parse().expect("eight digits")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> TradeDate {
        TradeDate::parse(text).unwrap()
    }

    #[test]
    fn holidays_are_sorted_weekdays() {
        assert!(HOLIDAYS.windows(2).all(|pair| pair[0] < pair[1]));
        for day in HOLIDAYS {
            assert!(!date(&day.to_string()).is_weekend(), "{day}");
        }
    }

    #[test]
    fn the_calendar_skips_weekends_and_holidays() {
        let source = SampleSource::new();
        let days = source.trading_days(date("20260928"), date("20261009"));
        let days: Vec<String> = days.iter().map(|it| it.to_string()).collect();
        assert_eq!(days, ["20260928", "20260929", "20260930", "20261008", "20261009"]);
    }

    #[test]
    fn a_day_has_the_same_bar_whatever_the_range_asked_for() {
        let source = SampleSource::new();
        let code = FundCode::parse("510300.SH").unwrap();
        let long = source.history(&code, date("20260101"), date("20261127"));
        let short = source.history(&code, date("20261101"), date("20261127"));
        let tail = &long.bars[long.bars.len() - short.bars.len()..];
        assert_eq!(tail, short.bars.as_slice());
        assert_ne!(source.history(&FundCode::parse("510500.SH").unwrap(), date("20261101"), date("20261127")), short);
    }

    /// A hash of every day, close and factor of four codes from [`ORIGIN`] through 2027, taken
    /// before the opens were added: the sample's closes (and every report made from them) never move.
    #[test]
    fn the_closes_and_factors_are_pinned() {
        let source = SampleSource::new();
        let pinned = [
            ("510300.SH", 2506, 0x9fec_41a0_1bc9_c44d, 0x6e29_01ab_39b2_2b56),
            ("510500.SH", 2509, 0x319b_e56e_3092_48ae, 0x5c07_7b2c_bc03_19e1),
            ("159915.SZ", 2503, 0xce2c_a8dc_9ee7_c720, 0xe22e_3ec2_c5fb_2aac),
            ("600519.SH", 2517, 0x201f_a173_b5e0_070b, 0xfc44_83e1_ec31_cf6f),
        ];
        let fnv = |hash: u64, value: u64| (hash ^ value).wrapping_mul(0x0100_0000_01b3);
        for (text, days, closes, factors) in pinned {
            let history = source.history(&FundCode::parse(text).unwrap(), date("20180101"), date("20271231"));
            let hash = history.bars.iter().fold(0xcbf2_9ce4_8422_2325, |hash, bar| {
                fnv(fnv(hash, u64::from(date_number(bar.trade_date))), bar.close.to_bits())
            });
            let factor_hash =
                history.factors.iter().fold(0xcbf2_9ce4_8422_2325, |hash, it| fnv(hash, it.factor.to_bits()));
            assert_eq!((history.bars.len(), hash, factor_hash), (days, closes, factors), "{text}");
        }
    }

    #[test]
    fn opens_lie_between_the_previous_close_and_the_close() {
        let source = SampleSource::new();
        let code = FundCode::parse("510300.SH").unwrap();
        let history = source.history(&code, date("20180101"), date("20261127"));
        let on_tick = |price: f64| (price * 1000.0 - (price * 1000.0).round()).abs() < 1e-6;
        assert!(history.bars.iter().all(|bar| bar.open > 0.0 && on_tick(bar.open)));
        for (pair, factors) in history.bars.windows(2).zip(history.factors.windows(2)) {
            let (yesterday, today) = (pair[0], pair[1]);
            // Yesterday's close in today's terms: a dividend lowers the reference by the payout.
            let reference = yesterday.close * factors[0].factor / factors[1].factor;
            let (low, high) = (reference.min(today.close), reference.max(today.close));
            let slack = 0.0025 * high + 0.002;
            assert!(today.open >= low - slack && today.open <= high + slack, "{yesterday:?} {today:?}");
        }
        let differ = history.bars.iter().filter(|bar| bar.open != bar.close).count();
        assert!(differ * 10 > history.bars.len() * 9, "{differ} of {} opens differ from the close", history.bars.len());
    }

    #[test]
    fn closes_have_three_decimals_and_factors_step_up_on_dividends() {
        let source = SampleSource::new();
        let code = FundCode::parse("510300.SH").unwrap();
        let history = source.history(&code, date("20180101"), date("20261127"));
        assert!(
            history
                .bars
                .iter()
                .all(|bar| bar.close > 0.0 && (bar.close * 1000.0 - (bar.close * 1000.0).round()).abs() < 1e-6)
        );
        let steps = history.factors.windows(2).filter(|pair| pair[1].factor > pair[0].factor).count();
        assert!(steps >= 5, "{steps} dividend steps");
        assert!(history.factors.windows(2).all(|pair| pair[1].factor >= pair[0].factor));
    }
}
