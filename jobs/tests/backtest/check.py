"""An independent computation of `signal backtest`, in numpy, from the README's definitions.

Usage: python check.py PRICES.json BACKTEST.json

PRICES.json: {"calendar": [YYYYMMDD...], "from", "to", "short", "long", "lookback_days",
"cost_bps", "fill", "benchmark", "funds": [{"code", "bars": [[day, open, close]...],
"factors": [[day, factor]...]}]}. BACKTEST.json is what `signal backtest --json` wrote.
Exits 1 naming the first figure that differs (relative tolerance 1e-9).
"""

import datetime
import json
import math
import sys

import numpy as np

TOL = 1e-9


def day(text):
    return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))


def sma_talib(values, period):
    """TA-Lib's MA: the first sum added up, then + new, / period, - oldest."""
    out = [None] * len(values)
    if len(values) < period:
        return out
    total = 0.0
    for i in range(period - 1):
        total += values[i]
    trailing = 0
    for i in range(period - 1, len(values)):
        total += values[i]
        out[i] = total / period
        total -= values[trailing]
        trailing += 1
    return out


def signal_on(joined, d, short, long, lookback):
    """BUY / SELL / None: the daily job's classification of day d."""
    start = day(d) - datetime.timedelta(days=lookback)
    window = [row for row in joined if start <= day(row[0]) <= day(d)]
    if not window or window[-1][0] != d or len(window) < long + 1:
        return None
    last_factor = window[-1][3]
    closes = [row[2] * row[3] / last_factor for row in window]
    s = [None if x is None else float(np.round(x, 3)) for x in sma_talib(closes, short)]
    l = [None if x is None else float(np.round(x, 3)) for x in sma_talib(closes, long)]
    s1, l1, s2, l2 = s[-1], l[-1], s[-2], l[-2]
    if s1 > l1 and s2 <= l2:
        return "BUY"
    if s1 < l1 and s2 >= l2:
        return "SELL"
    return None


def joined_rows(fund, lo, hi):
    factors = {d: f for d, f in fund["factors"] if math.isfinite(f) and f > 0}
    rows = []
    for d, o, c in sorted(fund["bars"]):
        if lo <= d <= hi and d in factors and o > 0 and c > 0:
            rows.append((d, o, c, factors[d]))
    return rows


def simulate(p, fund):
    c = p["cost_bps"] / 10000.0
    history = joined_rows(fund, "00000000", p["to"])
    in_range = [r for r in history if p["from"] <= r[0] <= p["to"]]
    if not in_range:
        return None
    last_factor = in_range[-1][3]
    bars = [(d, o * f / last_factor, cl * f / last_factor) for d, o, cl, f in in_range]
    signals = {d: signal_on(history, d, p["short"], p["long"], p["lookback_days"]) for d, _, _ in bars}
    cash, units, outlay = 1.0, 0.0, None
    trades, pending, order, entry = [], [], None, None
    by_day = {b[0]: (i, b) for i, b in enumerate(bars)}
    nav, hold, in_pos = [], [], 0
    hold_units, last_close = None, None

    def fill(signal, signal_date, d, price):
        nonlocal cash, units, outlay, entry
        if signal == "BUY":
            units, outlay, cash = cash * (1 - c) / price, cash, 0.0
            entry = {"signal_date": signal_date, "entry_date": d, "entry_price": price}
        else:
            cash, units = units * price * (1 - c), 0.0
            entry.update(exit_signal_date=signal_date, exit_date=d, exit_price=price,
                         ret=cash / outlay - 1)
            trades.append(entry)
            entry = None

    for d in p["calendar"]:
        if d in by_day:
            i, (_, o, cl) = by_day[d]
            if i == 0:
                hold_units = (1 - c) / o
            if order:
                fill(order[0], order[1], d, o)
                order = None
            s = signals[d]
            if (s == "BUY" and units == 0) or (s == "SELL" and units > 0):
                if p["fill"] == "close":
                    fill(s, d, d, cl)
                elif i + 1 < len(bars):
                    order = (s, d)
                else:
                    pending.append({"signal": s, "signal_date": d})
            last_close = cl
        nav.append(cash + units * last_close if units else cash)
        hold.append(hold_units * last_close if hold_units is not None else 1.0)
        in_pos += units > 0
    if entry:
        entry.update(exit_signal_date=None, exit_date=None, exit_price=None,
                     ret=units * last_close / outlay - 1)
        trades.append(entry)
    return {"trades": trades, "pending": pending, "nav": np.array(nav), "hold": np.array(hold),
            "exposure": in_pos / len(p["calendar"])}


def curve(calendar, v):
    prev = np.concatenate([[1.0], v[:-1]])
    r = v / prev - 1
    days = (day(calendar[-1]) - day(calendar[0])).days
    std = np.std(r, ddof=1) if len(r) > 1 else 0.0
    peak = np.maximum(1.0, np.maximum.accumulate(v))
    return {
        "total_return": v[-1] - 1,
        "cagr": v[-1] ** (365.25 / days) - 1 if days else None,
        "sharpe": np.mean(r) / std * math.sqrt(252) if std > 0 else None,
        "max_drawdown": float(np.max(1 - v / peak)),
    }


def trade_stats(rets):
    n = len(rets)
    return {"trades": n, "win_rate": sum(r > 0 for r in rets) / n if n else None}


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return abs(a - b) <= TOL * max(1.0, abs(a), abs(b))


def expect(what, ours, theirs):
    if not close(ours, theirs):
        sys.exit(f"{what}: numpy says {ours!r}, signal backtest says {theirs!r}")


def compare_metrics(what, ours, theirs):
    for key, value in ours.items():
        expect(f"{what}.{key}", value, theirs[key])


def main():
    p = json.load(open(sys.argv[1]))
    got = json.load(open(sys.argv[2]))
    calendar = p["calendar"]
    runs, codes = [], []
    by_code = {f["code"]: f for f in got["funds"]}
    for fund in p["funds"]:
        run = simulate(p, fund)
        if run is None:
            assert fund["code"] in [u["code"] for u in got["undecided_funds"]], fund["code"]
            continue
        code = fund["code"]
        theirs = by_code[code]
        expect(f"{code} trade count", len(run["trades"]), len(theirs["trades"]))
        for k, (a, b) in enumerate(zip(run["trades"], theirs["trades"])):
            for key in ["signal_date", "entry_date", "entry_price", "exit_signal_date", "exit_date", "exit_price"]:
                expect(f"{code} trade {k} {key}", a[key], b[key])
            expect(f"{code} trade {k} return", a["ret"], b["return"])
        expect(f"{code} pending", json.dumps(run["pending"]), json.dumps(theirs["pending"]))
        closed = [t["ret"] for t in run["trades"] if t["exit_date"]]
        m = curve(calendar, run["nav"]) | trade_stats(closed) | {"exposure": run["exposure"]}
        compare_metrics(f"{code} metrics", m, theirs["metrics"])
        compare_metrics(f"{code} buy_and_hold", curve(calendar, run["hold"]), theirs["buy_and_hold"])
        runs.append(run)
        codes.append(code)
    portfolio = got["portfolio"]
    nav = np.mean([r["nav"] for r in runs], axis=0)
    hold = np.mean([r["hold"] for r in runs], axis=0)
    for k, (d, value) in enumerate(portfolio["nav"]):
        expect(f"portfolio nav {d}", float(nav[k]), value)
    pooled = [t["ret"] for r in runs for t in r["trades"] if t["exit_date"]]
    m = curve(calendar, nav) | trade_stats(pooled) | {"exposure": float(np.mean([r["exposure"] for r in runs]))}
    compare_metrics("portfolio metrics", m, portfolio["metrics"])
    compare_metrics("portfolio buy_and_hold", curve(calendar, hold), portfolio["buy_and_hold"])
    if p["benchmark"] in codes:
        bench = runs[codes.index(p["benchmark"])]["hold"]
        compare_metrics("benchmark", curve(calendar, bench), portfolio["benchmark"])
    trades = sum(len(r["trades"]) for r in runs)
    print(f"numpy agrees: {len(runs)} funds, {trades} trades, {len(calendar)} days")


main()
