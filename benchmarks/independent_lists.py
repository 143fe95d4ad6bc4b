"""Judge the action lists on an export journeylib did not shape, whose future is known.

    python benchmarks/independent_lists.py [--leads 15000] [--seed 11] [--work benchmarks/work/independent]
        [--service-gap-shape 4 --service-gap-low 150 --service-gap-high 420 --move-years 5 --never-share 0
         --spend-sigma 0.5 --spend-shape 3]
        [--name independent_lists]

A world simulated here, independently of `journeylib.sample` and with other
assumptions: a lead's daily purchase hazard decays with age, jumps for three
weeks after a test drive and rises with recent touches; buyers come to service
in near-regular gaps (Gamma, shape 4, not Poisson) until they move away at an
exponential time that nobody records; warranty work dominates the first three
years. The export (customers, touchpoints, sales, service_visits, dealers) ends
at the as-of date; the script keeps what happened in the year after it.

It runs `journey run --only 02_time_to_purchase 03_retention_churn` on the
export and compares `lead_scores.parquet` and `service_scores.parquet` with that
future: AUC against the best achievable (the true probability given what is
known at the as-of date, by Monte Carlo from the simulator's own hazard), the
summed probabilities against the purchases that happened, customer-pay revenue
in total and per buyer (Spearman). For the service scores the best achievable is
the Bayesian posterior under the simulator's priors (`best_service`: keys
best_auc_return_12m, best_spearman_customer_pay); the "oracle" keys know the
unrecorded move-away time and are no bound. The service options make other
worlds; the six in benchmarks/results (independent_lists{,_annual,_poisson,
_never,_never_regular,_loyal}.json) and their options are listed in
docs/retention_churn.md ("How good can it be: the bound"). --never-share gives
buyers who never come to the dealer's service; --spend-sigma and --spend-shape
spread the buyers' spend levels and steady each one's bills.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

DAY0 = pd.Timestamp("2023-01-01T00:00:00Z")
AS_OF_DAY = 1400  # 2026-11-01: the first day of the future; the export holds days before it (as-of 2026-10-31)
HORIZON = 365
DEALERS = {"D1": ("America/Chicago", 1.0), "D2": ("America/New_York", 1.3), "D3": ("America/Denver", 0.8),
           "D4": ("America/Los_Angeles", 1.1)}
CHANNELS = {"website": (0.30, 1.0, 1.0), "search": (0.25, 0.9, 0.9), "third_party": (0.2, 0.7, 0.8),
            "walk_in": (0.15, 1.8, 2.0), "phone": (0.10, 1.3, 1.2)}  # share, hazard factor, test-drive factor
BASE_HAZARD = 0.0025
TOUCH_EVENTS = np.array(["site_visit", "vdp_view", "email_reply", "phone_call", "quote_sent"])


def _decay(age):
    return np.exp(-age / 90.0) + 0.04


def _step(rng, age, td_day, today, recent, dealer_f, channel_f, channel_td):
    """One day for many leads: touches, test drive, purchase. Returns (touched, test_drove, bought)."""
    d = _decay(age)
    touched = rng.random(age.shape) < 0.12 * d + 0.01
    no_td = td_day < 0
    test_drove = no_td & (rng.random(age.shape) < 0.006 * channel_td * d)
    since_td = np.where(td_day >= 0, today - td_day, 10_000)
    boost = np.where(since_td <= 21, 5.0, np.where(td_day >= 0, 1.6, 1.0))
    hazard = BASE_HAZARD * dealer_f * channel_f * d * boost * (1.0 + 0.35 * np.minimum(recent, 4))
    bought = rng.random(age.shape) < np.minimum(hazard, 0.9)
    return touched, test_drove, bought


def simulate_leads(rng, n):
    first = rng.integers(0, AS_OF_DAY, n)
    names = list(CHANNELS)
    channel = rng.choice(len(names), n, p=[CHANNELS[c][0] for c in names])
    dealer = rng.choice(len(DEALERS), n)
    dealer_f = np.array([v[1] for v in DEALERS.values()])[dealer]
    channel_f = np.array([CHANNELS[c][1] for c in names])[channel]
    channel_td = np.array([CHANNELS[c][2] for c in names])[channel]
    td_day = np.full(n, -1)
    bought_day = np.full(n, -1)
    touches = []  # (lead, day, kind)
    last7 = np.zeros((n, 7), int)  # touches per day, ring buffer
    for today in range(0, AS_OF_DAY + HORIZON):
        live = (first <= today) & (bought_day < 0)
        if today == 0 and not live.any():
            continue
        idx = np.flatnonzero(live)
        if idx.size == 0:
            continue
        age = today - first[idx]
        recent = last7[idx].sum(axis=1)
        touched, test_drove, bought = _step(rng, age, td_day[idx], today, recent, dealer_f[idx],
                                            channel_f[idx], channel_td[idx])
        touched &= age > 0
        last7[:, today % 7] = 0
        last7[idx[touched], today % 7] = 1
        for j in idx[touched]:
            touches.append((j, today, "touch"))
        td_day[idx[test_drove]] = today
        for j in idx[test_drove]:
            touches.append((j, today, "test_drive"))
        bought_day[idx[bought & (age > 0)]] = today
    return dict(first=first, channel=channel, dealer=dealer, td_day=td_day, bought_day=bought_day,
                touches=touches, dealer_f=dealer_f, channel_f=channel_f, channel_td=channel_td)


def best_probabilities(rng, world, reps=400):
    """The true P(purchase within 30 / 90 days | what is known at the as-of date), by simulating futures."""
    first, td, bought = world["first"], world["td_day"].copy(), world["bought_day"]
    open_ = (first < AS_OF_DAY) & ((bought < 0) | (bought >= AS_OF_DAY))
    idx = np.flatnonzero(open_)
    known_td = np.where((td >= 0) & (td < AS_OF_DAY), td, -1)[idx]
    touches = pd.DataFrame(world["touches"], columns=["lead", "day", "kind"])
    touches = touches[(touches.day >= AS_OF_DAY - 7) & (touches.day < AS_OF_DAY)]
    ring = np.zeros((idx.size, 7), int)
    pos = pd.Series(np.arange(idx.size), index=idx)
    touches = touches[touches.lead.isin(idx)]
    ring[pos[touches.lead].to_numpy(), touches.day.to_numpy() % 7] = 1
    p30 = np.zeros(idx.size)
    p90 = np.zeros(idx.size)
    for _ in range(reps // 50):
        k = 50
        td_k = np.repeat(known_td[None, :], k, 0)
        ring_k = np.repeat(ring[None, :, :], k, 0)
        done = np.full((k, idx.size), -1)
        for today in range(AS_OF_DAY, AS_OF_DAY + 90):
            age = today - first[idx][None, :].repeat(k, 0)
            recent = ring_k.sum(axis=2)
            touched, test_drove, b = _step(rng, age, td_k, today, recent, world["dealer_f"][idx],
                                           world["channel_f"][idx], world["channel_td"][idx])
            ring_k[:, :, today % 7] = touched.astype(int)
            td_k = np.where(test_drove & (td_k < 0), today, td_k)
            done = np.where((done < 0) & b, today, done)
        p30 += ((done >= 0) & (done < AS_OF_DAY + 30)).sum(0)
        p90 += (done >= 0).sum(0)
    return idx, p30 / (reps // 50 * 50), p90 / (reps // 50 * 50)


SERVICE = {"gap_low": 150.0, "gap_high": 420.0, "gap_shape": 4.0, "move_years": 5.0,  # the default world
           "never_share": 0.0, "spend_median": 250.0, "spend_sigma": 0.5, "spend_shape": 3.0}
PAY_MIX = {"early": [0.5, 0.05, 0.45], "late": [0.1, 0.05, 0.85], "years": 3}  # warranty, internal, customer


def customer_share(years):
    """The chance a visit `years` after the purchase is customer pay (PAY_MIX)."""
    return np.where(np.asarray(years) < PAY_MIX["years"], PAY_MIX["early"][2], PAY_MIX["late"][2])


def simulate_service(rng, world, world_params=None):
    w = SERVICE | (world_params or {})
    bought = world["bought_day"]
    buyers = np.flatnonzero((bought >= 0) & (bought < AS_OF_DAY))
    mean_gap = rng.uniform(w["gap_low"], w["gap_high"], buyers.size)
    moves = bought[buyers] + rng.exponential(w["move_years"] * 365, buyers.size)
    if w["never_share"] > 0:  # serviced elsewhere from the start: gone at the purchase (no draw otherwise: same worlds)
        moves = np.where(rng.random(buyers.size) < w["never_share"], bought[buyers].astype(float), moves)
    spend = np.exp(rng.normal(np.log(w["spend_median"]), w["spend_sigma"], buyers.size))
    k, ks = w["gap_shape"], w["spend_shape"]
    rows = []
    for i, b in enumerate(buyers):
        t = bought[b] + rng.gamma(k, mean_gap[i] / k)
        while t < min(moves[i], AS_OF_DAY + HORIZON):
            years = (t - bought[b]) / 365
            pay = rng.choice(["warranty", "internal", "customer"],
                             p=PAY_MIX["early"] if years < PAY_MIX["years"] else PAY_MIX["late"])
            rows.append((b, t, pay, round(float(rng.gamma(ks, spend[i] / ks)), 2)))
            t += rng.gamma(k, mean_gap[i] / k)
    hidden = {"mean_gap": mean_gap, "moves": moves, "spend": spend}
    return buyers, pd.DataFrame(rows, columns=["lead", "t", "pay_type", "amount"]), hidden


def best_service(rng, purchase, visits, world_params=None, draws=4000, chunk=200):
    """The best achievable service scores from what is known at the as-of date: for each buyer, the posterior
    P(a visit in the year after the as-of date) and E[customer pay in it] given the purchase day and the visits
    (times, amounts) before the as-of date, under the simulator's own priors. Importance sampling: the mean gap
    g from its uniform prior, the move-away time from its prior given it is after the last visit (memoryless:
    last + Exp), weighted by the likelihood of the observed gaps and of no visit between the last one and
    min(move, as-of); the future by simulating the renewal process on from there. The spend level given the
    amounts (all pay types share it) by quadrature on its lognormal prior.

    `purchase`: purchase day per buyer; `visits`: columns pos (buyer position), t, amount, the past only.
    Returns (p_return, expected_visits, expected_customer_pay), one per buyer.
    """
    from scipy import special, stats

    w = SERVICE | (world_params or {})
    k, tau = w["gap_shape"], w["move_years"] * 365
    n = len(purchase)
    visits = visits.sort_values(["pos", "t"], kind="stable")
    pos, t = visits["pos"].to_numpy(), visits["t"].to_numpy(float)
    prev = np.where(np.r_[False, pos[1:] == pos[:-1]], np.r_[0.0, t[:-1]], purchase[pos])
    gaps = t - prev
    count = np.bincount(pos, minlength=n)
    sum_gap = np.bincount(pos, weights=gaps, minlength=n)
    last = purchase.astype(float).copy()
    np.maximum.at(last, pos, t)
    # spend: amounts ~ Gamma(ks, s / ks), log s ~ N(log median, sigma^2); E[s | amounts] on a grid
    ks = w["spend_shape"]
    amount_n = np.bincount(pos, minlength=n)
    amount_sum = np.bincount(pos, weights=visits["amount"].to_numpy(float), minlength=n)
    grid = np.log(w["spend_median"]) + w["spend_sigma"] * np.linspace(-6, 6, 401)
    logpost = (stats.norm.logpdf(grid, np.log(w["spend_median"]), w["spend_sigma"])[None, :]
               - ks * amount_n[:, None] * grid[None, :] - ks * amount_sum[:, None] * np.exp(-grid)[None, :])
    logpost -= logpost.max(axis=1, keepdims=True)
    post = np.exp(logpost)
    spend = (post * np.exp(grid)[None, :]).sum(1) / post.sum(1)
    p_return, e_visits, e_share = np.zeros(n), np.zeros(n), np.zeros(n)
    a, h = float(AS_OF_DAY), float(HORIZON)
    for lo in range(0, n, chunk):
        idx = np.arange(lo, min(lo + chunk, n))
        m = len(idx)
        g = rng.uniform(w["gap_low"], w["gap_high"], (m, draws))
        scale = g / k
        never = rng.random((m, draws)) < w["never_share"] if w["never_share"] > 0 else np.zeros((m, draws), bool)
        move = np.where(never, last[idx, None], last[idx, None] + rng.exponential(tau, (m, draws)))
        # log-likelihood of the observed gaps given g (Gamma(k, g/k)), up to terms free of g
        loglik = -count[idx, None] * k * np.log(scale) - sum_gap[idx, None] / scale
        loglik = np.where(never & (count[idx, None] > 0), -np.inf, loglik)  # one who came is no never-comer
        quiet = np.minimum(move, a) - last[idx, None]  # no visit in (last, min(move, as-of))
        loglik += np.log(np.maximum(special.gammaincc(k, quiet / scale), 1e-300))
        weight = np.exp(loglik - loglik.max(axis=1, keepdims=True))
        weight /= weight.sum(axis=1, keepdims=True)
        # the next visit given none by the as-of date (only draws still there at the as-of date get one)
        waited = (a - last[idx, None]) / scale
        tail = special.gammaincc(k, waited) * (1 - rng.random((m, draws)))
        nxt = last[idx, None] + scale * special.gammainccinv(k, np.maximum(tail, 1e-300))
        nxt = np.where(np.isfinite(nxt), np.maximum(nxt, a), a)
        end = np.where(move > a, np.minimum(move, a + h), a)
        visits_ = np.zeros((m, draws))
        share = np.zeros((m, draws))
        at = nxt
        for _ in range(64):
            inside = at < end
            if not inside.any():
                break
            visits_ += inside
            share += inside * customer_share((at - purchase[idx, None]) / 365)
            at = at + rng.gamma(k, scale)
        p_return[idx] = (weight * (visits_ > 0)).sum(1)
        e_visits[idx] = (weight * visits_).sum(1)
        e_share[idx] = (weight * share).sum(1)
    return p_return, e_visits, e_share * spend


def _ts(days):
    return (DAY0 + pd.to_timedelta(np.asarray(days, float), unit="D")).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_export(world, visits, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    n = world["first"].size
    ids = np.array([f"C{i:06d}" for i in range(n)])
    dealer_ids = np.array(list(DEALERS))
    names = np.array(list(CHANNELS))
    pd.DataFrame({"dealer_id": dealer_ids, "timezone": [v[0] for v in DEALERS.values()]}).to_csv(
        out / "dealers.csv", index=False)
    pd.DataFrame({"customer_id": ids, "created_at": _ts(world["first"] + 0.1),
                  "dealer_id": dealer_ids[world["dealer"]]}).to_csv(out / "customers.csv", index=False)
    rng = np.random.default_rng(5)
    t = pd.DataFrame(world["touches"], columns=["lead", "day", "kind"])
    t = t[t.day < AS_OF_DAY]
    kinds = np.where(t.kind == "test_drive", "test_drive", TOUCH_EVENTS[rng.integers(0, 5, len(t))])
    first = pd.DataFrame({"lead": np.arange(n), "day": world["first"] + 0.1, "kind": "lead_form"})
    t = pd.concat([first, t.assign(kind=kinds, day=t.day + rng.uniform(0.3, 0.9, len(t)))])
    t = t.sort_values(["day", "lead"], kind="stable")
    pd.DataFrame({"event_id": [f"E{i:07d}" for i in range(len(t))], "customer_id": ids[t.lead],
                  "occurred_at": _ts(t.day), "event_type": t.kind.to_numpy(),
                  "channel": names[world["channel"][t.lead]],
                  "dealer_id": dealer_ids[world["dealer"][t.lead]]}).to_csv(out / "touchpoints.csv", index=False)
    sold = np.flatnonzero((world["bought_day"] >= 0) & (world["bought_day"] < AS_OF_DAY))
    prices = np.round(np.exp(rng.normal(np.log(38000), 0.3, sold.size)), 0)
    pd.DataFrame({"deal_id": [f"S{i:06d}" for i in range(sold.size)], "customer_id": ids[sold],
                  "sold_at": _ts(world["bought_day"][sold] + 0.6), "dealer_id": dealer_ids[world["dealer"][sold]],
                  "vin": [f"VIN{i:08d}" for i in sold], "condition": "new",
                  "finance_type": rng.choice(["cash", "finance", "lease"], sold.size),
                  "price": prices}).to_csv(out / "sales.csv", index=False)
    past = visits[visits.t < AS_OF_DAY].sort_values("t", kind="stable")
    pd.DataFrame({"ro_id": [f"R{i:07d}" for i in range(len(past))], "customer_id": ids[past.lead],
                  "opened_at": _ts(past.t), "dealer_id": dealer_ids[world["dealer"][past.lead]],
                  "pay_type": past.pay_type.to_numpy(), "amount": past.amount.to_numpy()}).to_csv(
        out / "service_visits.csv", index=False)
    for table, header in (("surveys", "response_id,customer_id,survey_type,responded_at,score\n"),
                          ("referrals", "referral_id,referrer_customer_id,referred_at\n")):
        (out / f"{table}.csv").write_text(header, encoding="utf-8")
    return ids


def _service_model(run: Path):
    """The service model the run chose (metrics `retention.service_scores.model`), None when not found."""
    try:
        metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
        return metrics["retention"]["service_scores"]["model"]
    except (OSError, KeyError, TypeError, ValueError):
        return None


def auc(score, outcome):
    from scipy.stats import rankdata

    outcome = np.asarray(outcome, bool)
    if outcome.all() or not outcome.any():
        return None
    ranks = rankdata(score)
    pos = outcome.sum()
    return float((ranks[outcome].sum() - pos * (pos + 1) / 2) / (pos * (~outcome).sum()))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leads", type=int, default=15000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--work", default="benchmarks/work/independent")
    ap.add_argument("--results", default="benchmarks/results")
    ap.add_argument("--name", default="independent_lists", help="results file name (without .json)")
    ap.add_argument("--service-gap-shape", type=float, default=SERVICE["gap_shape"],
                    help="Gamma shape of the gaps between service visits (higher: more regular)")
    ap.add_argument("--service-gap-low", type=float, default=SERVICE["gap_low"], help="shortest mean gap (days)")
    ap.add_argument("--service-gap-high", type=float, default=SERVICE["gap_high"], help="longest mean gap (days)")
    ap.add_argument("--move-years", type=float, default=SERVICE["move_years"],
                    help="mean years from the purchase to an unrecorded move away")
    ap.add_argument("--never-share", type=float, default=SERVICE["never_share"],
                    help="share of buyers who never come to the dealer's service (serviced elsewhere)")
    ap.add_argument("--spend-sigma", type=float, default=SERVICE["spend_sigma"],
                    help="spread of the buyers' spend levels (sd of the log of each buyer's mean spend per visit)")
    ap.add_argument("--spend-shape", type=float, default=SERVICE["spend_shape"],
                    help="Gamma shape of one visit's amount around the buyer's mean (higher: steadier bills)")
    ap.add_argument("--bound-draws", type=int, default=4000, help="importance draws per buyer for the bound")
    a = ap.parse_args(argv)
    world_params = {"gap_shape": a.service_gap_shape, "gap_low": a.service_gap_low,
                    "gap_high": a.service_gap_high, "move_years": a.move_years, "never_share": a.never_share,
                    "spend_sigma": a.spend_sigma, "spend_shape": a.spend_shape}
    rng = np.random.default_rng(a.seed)
    work = Path(a.work)
    shutil.rmtree(work, ignore_errors=True)
    world = simulate_leads(rng, a.leads)
    buyers, visits, hidden = simulate_service(rng, world, world_params)
    ids = write_export(world, visits, work / "raw")
    lead_idx, best30, best90 = best_probabilities(np.random.default_rng(a.seed + 1), world)
    env = dict(os.environ, MPLBACKEND="Agg")
    cmd = [sys.executable, "-m", "journeylib.cli", "run", "--raw", str(work / "raw"), "--processed",
           str(work / "processed"), "--reports", str(work / "reports"), "--as-of", _ts([AS_OF_DAY - 1])[0][:10],
           "--only", "02_time_to_purchase", "03_retention_churn"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    print(done.stdout[-2000:], done.stderr[-2000:])
    run = sorted(p for p in (work / "reports").iterdir() if p.is_dir() and p.name[0].isdigit())[-1]
    out = {"leads": a.leads, "seed": a.seed, "service_world": SERVICE | world_params,
           "exit_code": done.returncode, "run": "(a temporary folder)"}
    bought = world["bought_day"]
    # leads
    truth = pd.DataFrame({"customer_id": ids[lead_idx], "best_30": best30, "best_90": best90,
                          "bought_30": (bought[lead_idx] >= AS_OF_DAY) & (bought[lead_idx] < AS_OF_DAY + 30),
                          "bought_90": (bought[lead_idx] >= AS_OF_DAY) & (bought[lead_idx] < AS_OF_DAY + 90)})
    scores_path = run / "lead_scores.parquet"
    if scores_path.exists():
        scores = pd.read_parquet(scores_path).merge(truth, on="customer_id", how="outer", indicator=True)
        both = scores[scores["_merge"] == "both"]
        out["lead_scores"] = {
            "open_leads_true": int(len(truth)), "scored": int(len(pd.read_parquet(scores_path))),
            "scored_and_open": int(len(both)),
            "auc_30d": auc(both.p_purchase_30d, both.bought_30), "best_auc_30d": auc(both.best_30, both.bought_30),
            "auc_90d": auc(both.p_purchase_90d, both.bought_90), "best_auc_90d": auc(both.best_90, both.bought_90),
            "expected_30d": float(both.p_purchase_30d.sum()), "observed_30d": int(both.bought_30.sum()),
            "expected_90d": float(both.p_purchase_90d.sum()), "observed_90d": int(both.bought_90.sum()),
            "best_expected_30d": float(both.best_30.sum()), "best_expected_90d": float(both.best_90.sum()),
        }
    # service
    fut = visits[(visits.t >= AS_OF_DAY) & (visits.t < AS_OF_DAY + HORIZON)]
    per = pd.DataFrame({"customer_id": ids[buyers]})
    came = set(ids[fut.lead])
    per["returned"] = per.customer_id.isin(came)
    pay = fut[fut.pay_type == "customer"].groupby("lead").amount.sum()
    per["customer_pay"] = pd.Series(ids[buyers]).map(dict(zip(ids[pay.index], pay.to_numpy()))).fillna(0.0).to_numpy()
    # bounds: an oracle that knows who has moved away, their gap and spend; a heuristic from what is known
    from scipy.stats import spearmanr

    alive_for = np.clip((np.minimum(hidden["moves"], AS_OF_DAY + HORIZON) - AS_OF_DAY) / HORIZON, 0, 1)
    share = np.where((AS_OF_DAY - bought[buyers]) / 365 < 3, 0.45, 0.85)
    oracle_pay = alive_for * HORIZON / hidden["mean_gap"] * hidden["spend"] * share
    last = visits[visits.t < AS_OF_DAY].groupby("lead").t.max()
    recency = AS_OF_DAY - pd.Series(buyers).map(last).fillna(pd.Series(bought[buyers])).to_numpy()
    past = visits[visits.t < AS_OF_DAY]
    position = pd.Series(np.arange(buyers.size), index=buyers)
    best_p, best_visits, best_pay = best_service(np.random.default_rng(a.seed + 2), bought[buyers].astype(float),
                                                 past.assign(pos=past.lead.map(position).to_numpy()),
                                                 world_params, draws=a.bound_draws)
    per["best_p"], per["best_pay"] = best_p, best_pay
    out["service_bounds"] = {
        "oracle_auc_return_12m": auc(alive_for, per.returned), "heuristic_auc_return_12m": auc(-recency, per.returned),
        "oracle_spearman_customer_pay": float(spearmanr(oracle_pay, per.customer_pay).statistic),
        "best_auc_return_12m": auc(best_p, per.returned),
        "best_spearman_customer_pay": float(spearmanr(best_pay, per.customer_pay).statistic),
        "best_expected_returns_12m": float(best_p.sum()), "observed_returns_12m": int(per.returned.sum()),
        "best_expected_visits_12m": float(best_visits.sum()),
        "best_expected_customer_pay_12m": float(best_pay.sum()),
    }
    service_path = run / "service_scores.parquet"
    if service_path.exists():
        s = pd.read_parquet(service_path).merge(per, on="customer_id", how="inner")
        out["service_scores"] = {
            "buyers_true": int(len(per)), "scored": int(len(pd.read_parquet(service_path))),
            "scored_buyers": int(len(s)),
            "auc_return_12m": auc(s.p_return_12m, s.returned),
            "expected_visits_12m": float(s.expected_visits_12m.sum()),
            "observed_visits_12m": int(fut.lead.isin(buyers).sum()),
            "expected_customer_pay_12m": float(s.expected_customer_pay_12m.sum()),
            "observed_customer_pay_12m": float(s.customer_pay.sum()),
            "spearman_customer_pay": float(spearmanr(s.expected_customer_pay_12m, s.customer_pay).statistic),
            "best_auc_return_12m": out["service_bounds"]["best_auc_return_12m"],
            "best_spearman_customer_pay": out["service_bounds"]["best_spearman_customer_pay"],
            "model": _service_model(run),
        }
    results = Path(a.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{a.name}.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))
    return 0 if done.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
