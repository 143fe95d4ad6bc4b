"""Markov attribution of order k, its order chosen on held-out paths, and credit intervals by resampling customers.

A state is the last k channels of a path (padded with (start)); from it a customer moves to a channel,
to (conversion) or to (null), with the observed shares. Removing a channel sends every move into it to
(null); its removal effect is the relative fall in the probability of reaching (conversion) from the
start, solved exactly (a sparse linear system over the states). Effects are scaled to sum to the
purchases, as in the first-order model (which order 1 reproduces exactly).

The order (when not given) is the one among 1-3 with the highest log-likelihood of held-out customers'
paths: customers are split 80/20 at random (fixed seed), the chains fitted on the 80% with add-half
smoothing, and scored on the 20%. Credit intervals: the customers are resampled with replacement
(`resamples` times, fixed seed), the chain refitted and the credits recomputed (by iterating to the
same fixed point, 1e-13, rather than a fresh LU solve per channel); the 2.5% and 97.5% quantiles are
the 95% interval. All of it runs on the distinct paths (`attribution.channel_paths`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from journeylib.journey_map.engine import SEP, START

ORDERS = (1, 2, 3)
SMOOTHING = 0.5
SEED = 20240601


@dataclasses.dataclass
class MarkovK:
    order: int
    chosen: bool  # picked by held-out log-likelihood (False: given)
    log_likelihood: dict  # order -> held-out log-likelihood per customer (when chosen)
    credits_: pd.DataFrame  # channel: markov (credit), ci_low, ci_high, removal_effect

    def sentence(self) -> str:
        how = ("chosen among orders 1 to 3 as the one that best predicts held-out customers' paths" if self.chosen
               else "as configured")
        scores = list(self.log_likelihood.values())
        if self.chosen and len(scores) > 1 and np.allclose(scores, scores[0], rtol=1e-9, atol=0):
            # e.g. every customer on one channel: longer memory predicts nothing more
            how = "orders 1 to 3 predict held-out customers' paths equally well, so the simplest"
        top = self.credits_["markov"].idxmax()
        row = self.credits_.loc[top]
        from journeylib.labels import label

        digits = 0 if row["markov"] >= 100 else 1  # whole purchases, unless the credits are small
        return (f"The Markov model of order {self.order} ({how}) credits {label(top)} with most purchases: "
                f"{row['markov']:,.{digits}f} (95% interval from resampling customers {row['ci_low']:,.{digits}f} to "
                f"{row['ci_high']:,.{digits}f}).")


def _split(paths: pd.DataFrame) -> list:
    return [p.split(SEP) for p in paths["path"]]


class Chain:
    """The order-k chain's structure over fixed distinct paths, so refits (resampled customers) are array sums:
    each move (history -> next) is indexed once; a refit only reweighs the moves."""

    def __init__(self, sequences, order: int):
        # Each path walks its moves (history, channel), then (history, conversion) and (history, null), every
        # history the last `order` channels padded with (start). Keys and states are numbered in order of first
        # appearance along that walk, in arrays (a Python loop over every step took most of notebook 01's
        # time at a million customers): a channel is its code 1..C (0 is (start)), a history the number
        # with those codes as digits in base C + 1, a key history * (C + 3) + step (C + 1 conversion, C + 2 null).
        lengths = np.fromiter((len(steps) for steps in sequences), dtype=np.int64, count=len(sequences))
        flat = [step for steps in sequences for step in steps]
        codes, names = pd.factorize(pd.Series(flat, dtype=object), sort=False)
        codes = codes.astype(np.int64) + 1
        base, conv, null = len(names) + 1, len(names) + 1, len(names) + 2
        # per path its steps, then the two ends: position 0..L+1, the history at min(position, L)
        per_path = lengths + 2
        path = np.repeat(np.arange(len(lengths)), per_path)
        first = np.cumsum(per_path) - per_path
        position = np.arange(int(per_path.sum())) - first[path]
        at = np.minimum(position, lengths[path])
        offset = (np.cumsum(lengths) - lengths)[path]
        history = np.zeros(len(path), dtype=np.int64)
        for back in range(order, 0, -1):  # oldest first: the most recent channel is the last digit
            seen = at - back >= 0
            history = history * base + np.where(seen, codes[np.where(seen, offset + at - back, 0)] if len(codes)
                                                else 0, 0)
        is_step = position < lengths[path]
        step = np.where(is_step, codes[np.where(is_step, offset + position, 0)] if len(codes) else 0,
                        np.where(position == lengths[path], conv, null))
        key, unique = pd.factorize(history * (base + 2) + step, sort=False)
        key = key.astype(int)
        self.order, self.n_keys = order, len(unique)
        self.step_path, self.step_key = path[is_step].astype(int), key[is_step]
        self.conv_key, self.null_key = key[step == conv], key[step == null]
        key_history, key_step = unique // (base + 2), unique % (base + 2)
        self.state, histories = pd.factorize(key_history, sort=False)
        self.state = self.state.astype(int)
        self.n_states = len(histories)
        self.start = int(np.flatnonzero(histories == 0)[0]) if (histories == 0).any() else -1
        self.kind = np.where(key_step == conv, 1, np.where(key_step == null, 0, 2))  # 1 conv, 0 null, 2 move
        moves = self.kind == 2
        self.channel = np.full(len(unique), "", dtype=object)
        self.channel[moves] = np.asarray(names, dtype=object)[key_step[moves] - 1]
        following = (key_history % base ** (order - 1)) * base + key_step if order else np.full(len(unique), -1)
        target = pd.Index(histories).get_indexer(following) if order else following
        self.target = np.where(moves, target, -1).astype(int)

    def counts(self, customers, conversions, nulls) -> np.ndarray:
        customers = np.asarray(customers, dtype=float)
        out = np.bincount(self.step_key, weights=customers[self.step_path], minlength=self.n_keys)
        out += np.bincount(self.conv_key, weights=np.asarray(conversions, float), minlength=self.n_keys)
        out += np.bincount(self.null_key, weights=np.asarray(nulls, float), minlength=self.n_keys)
        return out

    def conversion_probability(self, counts: np.ndarray, removed: str | None = None, exact: bool = True) -> float:
        """P(conversion) from the start: a sparse LU solve (`exact`), or, for the resampled refits, iterating
        v = Q v + r from 0 until it changes by less than 1e-13 (the same fixed point, far cheaper)."""
        from scipy.sparse import coo_matrix, identity
        from scipy.sparse.linalg import spsolve

        if self.start < 0:
            return 0.0
        totals = np.bincount(self.state, weights=counts, minlength=self.n_states)
        p = np.divide(counts, totals[self.state], out=np.zeros_like(counts), where=totals[self.state] > 0)
        to_conversion = np.bincount(self.state[self.kind == 1], weights=p[self.kind == 1], minlength=self.n_states)
        moves = (self.kind == 2) & (self.target >= 0) & (p > 0)
        if removed is not None:
            moves &= self.channel != removed
        q = coo_matrix((p[moves], (self.state[moves], self.target[moves])),
                       shape=(self.n_states, self.n_states)).tocsc()
        if not exact:
            q, reach = q.tocsr(), to_conversion.copy()
            for _ in range(100_000):
                following = q @ reach + to_conversion
                if np.max(np.abs(following - reach)) < 1e-13:
                    return float(following[self.start])
                reach = following
        reach = spsolve(identity(self.n_states, format="csc") - q, to_conversion)
        return float(np.atleast_1d(reach)[self.start])

    def credits(self, counts: np.ndarray, channels: list, purchases: float, exact: bool = True) -> pd.DataFrame:
        base = self.conversion_probability(counts, exact=exact)
        effects = pd.Series({c: (base - self.conversion_probability(counts, removed=c, exact=exact)) / base if base else 0.0
                             for c in channels}, dtype="float64").clip(lower=0.0)  # -1e-16 is no effect
        total = effects.sum()
        credits = effects / total * purchases if total > 0 else effects * 0.0
        return pd.DataFrame({"removal_effect": effects, "markov": credits}).rename_axis("channel")


def held_out_log_likelihood(paths: pd.DataFrame, orders=ORDERS, share: float = 0.8, seed: int = SEED,
                            chains: dict | None = None, sequences: list | None = None) -> dict:
    """Per order: the log-likelihood per held-out customer of their path under the chain fitted on the rest.
    `sequences`: the paths already split into channels."""
    rng = np.random.default_rng(seed)
    sequences = _split(paths) if sequences is None else sequences
    conv, nulls = paths["conversions"].to_numpy(), paths["nulls"].to_numpy()
    train_conv, train_null = rng.binomial(conv, share), rng.binomial(nulls, share)
    test_conv, test_null = conv - train_conv, nulls - train_null
    vocabulary = len({c for steps in sequences for c in steps}) + 2
    held = int((test_conv + test_null).sum())
    chains = {} if chains is None else chains
    out = {}
    for order in orders:
        chain = chains.setdefault(order, Chain(sequences, order))
        train = chain.counts(train_conv + train_null, train_conv, train_null)
        test = chain.counts(test_conv + test_null, test_conv, test_null)
        totals = np.bincount(chain.state, weights=train, minlength=chain.n_states)[chain.state]
        out[order] = float(np.sum(test * np.log((train + SMOOTHING) / (totals + SMOOTHING * vocabulary)))) / max(held, 1)
    return out


RESAMPLES = 30


def fit(paths: pd.DataFrame, order: int | None = None, resamples: int = RESAMPLES, seed: int = SEED) -> MarkovK:
    """The order-k chain's credits with resampling intervals; `order` None: chosen by held-out log-likelihood."""
    paths = paths[paths["customers"] > 0].reset_index(drop=True)
    likelihood, chains = {}, {}
    sequences = _split(paths)
    if order is None:
        likelihood = held_out_log_likelihood(paths, chains=chains, sequences=sequences)
        order = max(likelihood, key=likelihood.get)
    channels = sorted({c for steps in sequences for c in steps})
    conv, nulls = paths["conversions"].to_numpy(), paths["nulls"].to_numpy()
    chain = chains.get(order) or Chain(sequences, order)
    credits = chain.credits(chain.counts(conv + nulls, conv, nulls), channels, float(conv.sum()))
    rng = np.random.default_rng(seed)
    cells = np.concatenate([conv, nulls]).astype(float)
    draws = []
    for _ in range(resamples):
        again = rng.multinomial(int(cells.sum()), cells / cells.sum())
        k, m = again[:len(conv)], again[len(conv):]
        draws.append(chain.credits(chain.counts(k + m, k, m), channels, float(k.sum()), exact=False)["markov"])
    draws = pd.concat(draws, axis=1) if draws else pd.DataFrame(index=credits.index)
    credits["ci_low"] = draws.quantile(0.025, axis=1) if resamples else np.nan
    credits["ci_high"] = draws.quantile(0.975, axis=1) if resamples else np.nan
    return MarkovK(int(order), not likelihood == {}, likelihood, credits)
