//! The money side of one sleeve: cash, units, and what a fill costs.
//!
//! Two ways to size a trade. [`Sizing::Fraction`] is the textbook one: all cash goes in, units are
//! fractional, a side costs `c = cost_bps / 10000` of its value: entry `units = cash·(1−c)/P`,
//! exit `cash = units·P·(1−c)`. [`Sizing::Lots`] is a retail account: whole lots only, a
//! commission of `max(min_commission, value·c)` per side, the leftover cash kept.

/// How trades are sized.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sizing {
    /// All cash in, fractional units, cost a fraction of the value.
    Fraction,
    /// Whole lots from a starting capital, with a minimum commission per side.
    Lots {
        /// Starting cash, in yuan.
        capital: f64,
        /// Shares per lot (100 on the Shanghai and Shenzhen exchanges).
        lot: u32,
        /// The least commission of one side, in yuan.
        min_commission: f64,
    },
}

impl Sizing {
    /// The starting cash: 1.0, or the capital.
    pub fn capital(self) -> f64 {
        match self {
            Sizing::Fraction => 1.0,
            Sizing::Lots { capital, .. } => capital,
        }
    }
}

/// An open position: what it cost, for its trade's return.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Position {
    /// Units held.
    pub(crate) units: f64,
    /// The cash that went out for them, commission included.
    pub(crate) outlay: f64,
}

/// Cash and at most one position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Account {
    sizing: Sizing,
    /// The cost of one side as a fraction of its value.
    cost: f64,
    pub(crate) cash: f64,
    pub(crate) position: Option<Position>,
}

impl Account {
    pub(crate) fn new(sizing: Sizing, cost_bps: f64) -> Account {
        Account { sizing, cost: cost_bps / 10_000.0, cash: sizing.capital(), position: None }
    }

    /// Buys at `price` with the cash there is. `false` when not even one lot is affordable.
    pub(crate) fn buy(&mut self, price: f64) -> bool {
        debug_assert!(self.position.is_none());
        match self.sizing {
            Sizing::Fraction => {
                let units = self.cash * (1.0 - self.cost) / price;
                self.position = Some(Position { units, outlay: self.cash });
                self.cash = 0.0;
                true
            }
            Sizing::Lots { lot, min_commission, .. } => {
                let lot = f64::from(lot);
                let commission = |value: f64| (value * self.cost).max(min_commission);
                let mut lots = (self.cash / (price * lot * (1.0 + self.cost))).floor();
                while lots > 0.0 && lots * lot * price + commission(lots * lot * price) > self.cash {
                    lots -= 1.0;
                }
                if lots <= 0.0 {
                    return false;
                }
                let value = lots * lot * price;
                let outlay = value + commission(value);
                self.cash -= outlay;
                self.position = Some(Position { units: lots * lot, outlay });
                true
            }
        }
    }

    /// Sells the whole position at `price`; returns the trade's return, net of both sides' costs.
    pub(crate) fn sell(&mut self, price: f64) -> f64 {
        let position = self.position.take().expect("sell only while long");
        let value = position.units * price;
        let proceeds = match self.sizing {
            Sizing::Fraction => value * (1.0 - self.cost),
            Sizing::Lots { min_commission, .. } => value - (value * self.cost).max(min_commission),
        };
        self.cash += proceeds;
        proceeds / position.outlay - 1.0
    }

    /// The return of the open position marked at `price`, without an exit cost.
    pub(crate) fn open_return(&self, price: f64) -> Option<f64> {
        self.position.map(|it| it.units * price / it.outlay - 1.0)
    }

    /// The account's value at `price` as a multiple of the starting cash.
    pub(crate) fn nav(&self, price: Option<f64>) -> f64 {
        let held = match (self.position, price) {
            (Some(position), Some(price)) => position.units * price,
            (Some(position), None) => position.outlay,
            (None, _) => 0.0,
        };
        (self.cash + held) / self.sizing.capital()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fractional_round_trip_pays_the_cost_on_both_sides() {
        let mut account = Account::new(Sizing::Fraction, 5.0);
        assert!(account.buy(2.0));
        let units = 1.0 * (1.0 - 0.0005) / 2.0;
        assert_eq!(account.position.unwrap().units, units);
        assert_eq!(account.nav(Some(2.0)), units * 2.0);
        let trade = account.sell(2.5);
        assert_eq!(account.cash, units * 2.5 * (1.0 - 0.0005));
        assert!((trade - (2.5 / 2.0 * (1.0 - 0.0005_f64).powi(2) - 1.0)).abs() < 1e-15, "{trade}");
    }

    #[test]
    fn lots_buy_whole_lots_pay_the_minimum_commission_and_keep_the_leftover() {
        let sizing = Sizing::Lots { capital: 100_000.0, lot: 100, min_commission: 5.0 };
        let mut account = Account::new(sizing, 2.5);
        // 100000 / (3.456 * 100) = 289.35 lots; 289 lots = 99878.4 + commission max(5, 24.97) = 99903.37.
        assert!(account.buy(3.456));
        let position = account.position.unwrap();
        assert_eq!(position.units, 28_900.0);
        assert!((position.outlay - (99_878.4 + 99_878.4 * 0.000_25)).abs() < 1e-9);
        assert!((account.cash - (100_000.0 - position.outlay)).abs() < 1e-9);
        // A small sale pays the ¥5 minimum: 28900 * 0.01 = 289, commission 5.
        let mut small = Account::new(Sizing::Lots { capital: 1_000.0, lot: 100, min_commission: 5.0 }, 2.5);
        assert!(small.buy(0.5));
        // 1000 / 50 = 20 lots = 1000 + 5 > 1000, so 19 lots: 950 + 5.
        assert_eq!(small.position.unwrap().units, 1_900.0);
        assert_eq!(small.cash, 1_000.0 - 955.0);
        let trade = small.sell(0.5);
        assert_eq!(small.cash, 45.0 + 950.0 - 5.0);
        assert!((trade - (945.0 / 955.0 - 1.0)).abs() < 1e-15);
    }

    #[test]
    fn a_lot_that_is_not_affordable_is_no_buy() {
        let mut account = Account::new(Sizing::Lots { capital: 100.0, lot: 100, min_commission: 5.0 }, 2.5);
        assert!(!account.buy(1.2));
        assert_eq!(account.position, None);
        assert_eq!(account.cash, 100.0);
    }
}
