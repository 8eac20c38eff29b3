#!/usr/bin/env python
"""How far can ANY model of what is stored get towards the oracle? (issue 19, open leads)

    nice -n 19 .venv/bin/python benchmarks/scoring_bound.py [--labelled 20000] [--seed 2026]

Generates the same history as `benchmarks/scoring.py --labelled N --open natural` (no database:
Generator(seed, today in China time).generate(N, None)) and, for the leads open today whose later
outcome the generator knows (as quality() selects them: the target's label not yet set), prints ROC
AUC and Brier against their real futures of

  oracle       true_chances with the true q, e (scoring.oracle_for_open)
  diagnostic   chances_without_latents: q, e integrated out on the 33x33 grid, weighted by the path
  bound        the Bayes posterior chance given the path AND the stored proxies of q and e:

The bound weights each grid point (q, e) by  prior x path likelihood x proxy likelihood, where
the proxy likelihood is, from the generator's own formulas (Generator._simulate, _rows):
  * verdicts: every stored opinion of every screening round (each member unit: no answer 0.04,
    else reject / approve / conditional with _simulate's probabilities). These REPLACE the
    aggregate pass / conditional / fail chance of the closed rounds in the path likelihood. A
    round still open today is conditioned on the opinions already in: the units that have not
    answered yet are silent (0.04) or answer later (the answer hour is uniform 4..40 h after
    submission, as _rows draws it), and the round's outcome is averaged over their verdicts;
  * ratings: the five 1-5 ratings of each stored opinion, clip(3 + [q>0.5] - [q<-0.5]
    - [reject] + {-1: 1/4, 0: 1/2, +1: 1/4}) exactly;
  * high_tech (P = min(0.95, share exp(0.5 q))) and specialized (min(0.9, (0.35 | 0.05) exp(0.3 q)))
    when stored;
  * figures, when stored: log planned ~ N(log(chain median x node scale) + 0.15 q, 0.95) (the
    clip at 300 / 1,500,000 and the rounding ignored); log(fixed / land / standard) ~ N(0.05 + 0.1 q,
    0.35) (land's rounding and its floor of 3 ignored); output / fixed / exp(0.08 q) uniform on the
    chain's turnover range (density floored at 1e-3 of its in-range value against rounding);
  * follow-ups (approximation): the routine follow-ups are a renewal process with gaps
    max(1, floor(Exp(r))), r = exp(-3.7 + 0.6 e); counts in a window of T days are taken as
    Poisson(T / E[gap]) with E[gap] = e^-r / (1 - e^-r) + 1 - e^-r. The stored activities also hold
    the stage-change visits (each past move to a live stage: present with chance 0.5, less when
    its date would fall before creation): the count is Poisson + that Poisson-binomial count.
    Two variants:
      "simple": all activities up to today (signed leads: up to signing + 60 days) in one window
        from creation, as if the lead never went cold (a lead that failed and went cold is then
        read as low-engagement);
      "split": the window up to the day the lead entered its current stage (it was alive all of
        it) as above; the days since then (d) with the lead's fate at the current hurdle: one that
        will pass keeps being followed (Poisson over d days); one that fails went cold
        max(1, L - floor(Exp(40 d))) days after entering (L the lost delay, conditioned on L > d
        when it has not been closed, unconditioned for a never-closed zombie), so its count is
        Poisson over min(cold, d) days, averaged over that cold day. Visits that announce a move
        after today, and last calls before a closing after today, are ignored (counted as routine).
      Both ignore the cap of 60 routine follow-ups.
The "split" variant uses what happened since the lead entered its stage (follow-ups stopping) that
the oracle does not use: it can beat the oracle.

Options: --fine adds the bound on a finer q grid (160 midpoints x 33: the ratings' steps at q = ±0.5
fall between points); --parts adds the bound with one proxy group at a time, without follow-ups,
and at the true (q, e) with the within-stage information on.

Measured (2026-12-06, --labelled 20000, seed 2026; 10,065 leads open for sign, 10,666 for land;
~2 min with --fine under nice on 2 busy cores), AUC / Brier, sign | land:
  oracle                     0.9762 / 0.0318 | 0.9759 / 0.0354
  diagnostic                 0.9644 / 0.0379 | 0.9678 / 0.0399
  bound, simple follow-ups   0.9706 / 0.0348 | 0.9718 / 0.0378   (x0.9942, +0.0030 | x0.9958, +0.0023)
  bound, split follow-ups    0.9709 / 0.0347 | 0.9719 / 0.0377   (x0.9945, +0.0029 | x0.9959, +0.0023)
  (the fine grid moves these by at most 0.0001)

Sanity checks printed: every proxy switched off reproduces the diagnostic; the grid replaced by
each lead's true (q, e) (the within-stage conditioning -- an open round's opinions, the split
follow-ups -- switched off, the rest on) reproduces the oracle.

The holdout (benchmarks/scoring.py quality(), "holdout: proxy bound"): bound_for_row(row, history,
target) computes the same bound for one of the model's rows, a lead seen at row.cutoff at the rank
it had reached then (oracle_for_row's stage, days and screening), with only what was stored by the
cutoff as the row's features count it (info_as_of): the first row.activities follow-ups, the
rounds the row counts, each closed only if it closed by the cutoff, the opinions submitted by then
(on the cutoff day, or before it for a snapshot taken as the lead passed through a stage the same
day: the rule that reproduces the row's screening figures). A row at rank `screening` whose last
round has closed (in `returned`: it failed) uses that round's verdicts and its fate (the next
round, or nothing after a third failure), where the oracle and the diagnostic take the round as
undecided. A row at `signed` (land) counts the follow-ups up to its signing, in a window ending
there. Figures and high_tech / specialized as stored (they do not change). With proxies off it is
exactly the diagnostic's holdout chance (checked in quality()).
Measured (2026-12-06, scoring.py --labelled 20000 --open natural, seed 2026; 16,077 holdout rows
for sign, 15,375 for land), AUC / Brier, sign | land: oracle 0.8680 / 0.1464 | 0.8905 / 0.1174;
diagnostic 0.8199 / 0.1719 | 0.8491 / 0.1359; bound, simple 0.8472 / 0.1566 | 0.8739 / 0.1244
(x0.976, +0.0102 | x0.981, +0.0070); split 0.8491 / 0.1554 | 0.8761 / 0.1234 (x0.978, +0.0090 |
x0.984, +0.0060): the holdout aims are not reachable from what is stored.
"""
from __future__ import annotations

import argparse
import functools
import math
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scoring as S  # noqa: E402  (benchmarks/scoring.py)

from scipy.special import gammaln  # noqa: E402
from sklearn.metrics import brier_score_loss, roc_auc_score  # noqa: E402

LIVE = {"lead", "negotiating", "screening", "awaiting_decision", "admitted", "signed"}
STAY = {  # current stage → (hurdle key, move spec, lost spec, zombie share)
    "lead": ("h1", S.DURATIONS[("lead", "negotiating")], S.LOST_DAYS, S.ZOMBIE_SHARE["lead"]),
    "negotiating": ("h2", S.DURATIONS[("negotiating", "screening")], S.LOST_DAYS, S.ZOMBIE_SHARE["negotiating"]),
    "returned": ("resubmit", S.DURATIONS[("returned", "screening")], S.LOST_DAYS, S.ZOMBIE_SHARE["returned"]),
    "admitted": ("h5", S.DURATIONS[("admitted", "signed")], S.LOST_DAYS, S.ZOMBIE_SHARE["admitted"]),
}
NOISE = {-1: 0.25, 0: 0.5, 1: 0.25}
# log P(rating | base), base 1..4, rating 1..5
RATING_LOGP = np.full((5, 6), -np.inf)
for _b in range(1, 5):
    for _n, _p in NOISE.items():
        _r = max(1, min(5, _b + _n))
        RATING_LOGP[_b, _r] = np.logaddexp(RATING_LOGP[_b, _r], math.log(_p))


def grid_base():
    return S._latent_grid()


def grid_fine(nq=160, nz=33):
    """q on midpoints of a 0.05 step (±0.5, the ratings' steps, fall between points), z as the base grid."""
    step = 8.0 / nq
    qv = -4 + step / 2 + step * np.arange(nq)
    zv = np.linspace(-4, 4, nz)
    qq, zz = np.meshgrid(qv, zv, indexing="ij")
    w = np.exp(-0.5 * qq ** 2 - 0.5 * zz ** 2).ravel()
    return qq.ravel(), 0.5 * qq.ravel() + 0.85 * zz.ravel(), w / w.sum()


# ---------------------------------------------------------------------------------------------
# What is stored, per open lead
# ---------------------------------------------------------------------------------------------

def index_history(h, ids):
    ids = set(ids)
    chain_code = {c["id"]: c["code"] for c in h.chains}
    node_name = {n["id"]: n["name"] for n in h.nodes}
    info = {}
    for lead in h.leads:
        if lead["id"] in ids:
            info[lead["id"]] = {"lead": lead, "chain": chain_code[lead["chain_id"]],
                                "node": node_name[lead["chain_node_id"]], "changes": [], "cases": [],
                                "acts": []}
    for c in h.changes:
        if c["lead_id"] in ids:
            info[c["lead_id"]]["changes"].append((c["changed_at"].astimezone(S.CST).date(), c["to_stage"]))
    case_of = {}
    for c in h.cases:
        if c["lead_id"] in ids:
            case = {**c, "opinions": []}
            info[c["lead_id"]]["cases"].append(case)
            case_of[c["id"]] = case
    for o in h.opinions:
        if o["case_id"] in case_of:
            case_of[o["case_id"]]["opinions"].append(o)
    for a in h.activities:
        if a["lead_id"] in ids:
            info[a["lead_id"]]["acts"].append(a["occurred_on"])
    for v in info.values():
        v["cases"].sort(key=lambda c: c["round"])
    return info


# ---------------------------------------------------------------------------------------------
# Likelihood pieces on the grid
# ---------------------------------------------------------------------------------------------

def unit_probs(t, q, r):
    """Per member unit: (p_reject, p_approve | not reject) in round r, as _simulate draws them."""
    approve = S._sig(1.2 + 0.6 * q - 0.5 * (t.ratio < 1))
    out = []
    for unit in S.MEMBER_UNITS:
        p_rej = S._sig(-3.0 + 2.2 * t.low_eff + 1.3 * (t.ratio < 0.85) - 0.5 * q - 1.2 * (r - 1)
                       + (1.0 if unit == "三明市将乐生态环境局" and t.fine_chemical else 0.0))
        out.append((p_rej, approve))
    return out


def verdict_lik(t, q, case):
    """Likelihood of a closed round's stored verdicts (every answer of a closed round is stored)."""
    got = {o["unit_id"]: o["verdict"] for o in case["opinions"]}
    lik = np.ones_like(q)
    for unit_id, (p_rej, appr) in zip(S.Generator.MEMBER_IDS, unit_probs(t, q, case["round"])):
        v = got.get(unit_id)
        if v is None:
            lik = lik * 0.04
        elif v == "reject":
            lik = lik * 0.96 * p_rej
        elif v == "approve":
            lik = lik * 0.96 * (1 - p_rej) * appr
        else:
            lik = lik * 0.96 * (1 - p_rej) * (1 - appr)
    return lik


def open_round(t, q, case, end):
    """(likelihood of the opinions in so far, P(pass), P(conditional), P(fail)) of a round still open."""
    got = {o["unit_id"]: o["verdict"] for o in case["opinions"]}
    sub = case["submitted_at"]
    late = sum(1 for hrs in range(4, 41) if (sub + timedelta(hours=hrs)).date() > end) / 37
    p_s = 0.04 / (0.04 + 0.96 * late)
    lik = np.ones_like(q)
    no_reject, aos, silent = np.ones_like(q), np.ones_like(q), np.ones_like(q)
    any_reject = any_cond = False
    for unit_id, (p_rej, appr) in zip(S.Generator.MEMBER_IDS, unit_probs(t, q, case["round"])):
        v = got.get(unit_id)
        if v is None:
            no_reject = no_reject * (1 - (1 - p_s) * p_rej)
            aos = aos * (p_s + (1 - p_s) * (1 - p_rej) * appr)
            silent = silent * p_s
        elif v == "reject":
            lik, any_reject = lik * p_rej, True
        elif v == "approve":
            lik = lik * (1 - p_rej) * appr
        else:
            lik, any_cond = lik * (1 - p_rej) * (1 - appr), True
    zero = np.zeros_like(q)
    if any_reject:
        return lik, zero, zero, zero + 1.0
    passed = zero if any_cond else (aos - silent if not got else aos)
    return lik, passed, no_reject - passed, 1 - no_reject


def ratings_loglik(q, cases):
    base0 = 3 + (q > 0.5).astype(int) - (q < -0.5).astype(int)
    ll = np.zeros_like(q)
    for case in cases:
        for o in case["opinions"]:
            base = base0 - (o["verdict"] == "reject")
            for d in ("scale", "intensity", "tech", "prospects", "compliance"):
                ll = ll + RATING_LOGP[base, o[f"rating_{d}"]]
    return ll


def tech_loglik(q, lead, econ, t):
    ll = np.zeros_like(q)
    if lead["high_tech"] is not None:
        p = np.minimum(0.95, econ.high_tech * np.exp(0.5 * q))
        ll = ll + np.log(p if lead["high_tech"] else 1 - p)
    if lead["specialized"] is not None:
        p = np.minimum(0.9, (0.35 if t.high_tech else 0.05) * np.exp(0.3 * q))
        ll = ll + np.log(p if lead["specialized"] else 1 - p)
    return ll


def figures_loglik(q, lead, econ, node):
    ll = np.zeros_like(q)
    if lead["planned_investment_wan"] is not None:
        mu = math.log(econ.invest * S.NODE_SCALE.get(node, 1.0)) + 0.15 * q
        ll = ll - 0.5 * ((math.log(lead["planned_investment_wan"]) - mu) / 0.95) ** 2
    fixed, land = lead["fixed_asset_investment_wan"], lead["land_area_mu"]
    if fixed is not None and land is not None and fixed > 0:
        x = math.log(fixed / land / econ.standard)
        ll = ll - 0.5 * ((x - 0.05 - 0.1 * q) / 0.35) ** 2
    output = lead["expected_output_wan"]
    if output is not None and fixed is not None and fixed > 0:
        u = output / fixed / np.exp(0.08 * q)
        lo, hi = econ.turnover
        inside = (u >= lo) & (u <= hi)
        ll = ll - 0.08 * q + np.log(np.where(inside, 1.0, 1e-3))
    return ll


def rate_eff(e):
    r = np.exp(-3.7 + 0.6 * e)
    x = np.exp(-r)
    return 1.0 / (x / (1 - x) + 1 - x)


def pois_logpmf(n, mu):
    mu = np.asarray(mu, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(mu > 0, n * np.log(np.maximum(mu, 1e-300)) - mu - gammaln(n + 1), 0.0 if n == 0 else -np.inf)


def poisson_binomial(ps):
    dist = np.array([1.0])
    for p in ps:
        dist = np.convolve(dist, [1 - p, p])
    return dist


def count_lik(n, rho_t, milestone):
    """P(n activities) = sum_m P(m milestone visits) Poisson(n - m; rho_t)."""
    total = np.zeros_like(rho_t)
    for m, pm in enumerate(milestone):
        if m > n or pm == 0:
            continue
        total = total + pm * np.exp(pois_logpmf(n - m, rho_t))
    return total


def milestones(changes, created, upto):
    """Chances of the stage-change visits of the stored moves up to `upto` (each 0.5 if its date is
    not before creation: day - U{0..10})."""
    ps = []
    for day, to in changes[1:]:
        if day <= upto and to not in ("lost", "rejected", "returned"):
            ps.append(0.5 * min(11, (day - created).days + 1) / 11)
    return poisson_binomial(ps)


@functools.lru_cache(maxsize=None)
def tri_pmf(spec):
    lo, hi, _mode = spec
    sv = np.array([S._tri_survival(spec, x) for x in range(0, hi + 2)])
    pmf = np.zeros(hi + 2)
    pmf[1:] = sv[:-1] - sv[1:]
    return pmf  # P(L = l), l = 0..hi+1


_K = np.arange(0, 2000)
_KPMF = np.exp(-_K / 40) * (1 - math.exp(-1 / 40))


@functools.lru_cache(maxsize=None)
def cold_exposure(spec, d, conditioned):
    """Weights over x = 0..d: P(min(cold, d) = x) (cold = max(1, L - K)), times P(L > d) when
    `conditioned` (the lead has not been closed), else unconditioned (a zombie)."""
    pmf = tri_pmf(spec)
    w = np.zeros(d + 1)
    for l in range(len(pmf)):
        if pmf[l] == 0 or (conditioned and l <= d):
            continue
        c = np.maximum(1, l - _K)
        x = np.minimum(c, d)
        w += pmf[l] * np.bincount(x, weights=_KPMF, minlength=d + 1)[: d + 1]
    return w


# ---------------------------------------------------------------------------------------------
# The bound
# ---------------------------------------------------------------------------------------------

PARTS = ("verdicts", "ratings", "tech", "figures", "follow-ups")


def bound(t, now, info, end, grid, proxies=True, acts="split", open_round_on=True, parts=PARTS, acts_upto=None):
    """(sign, land) for an open lead: the diagnostic's computation with the grid weighted also by
    the proxies' likelihood (those in `parts`). proxies False: exactly chances_without_latents.

    `end` is the day the lead is seen (today for an open lead, a holdout row's cutoff): `info`
    must hold only what was stored by then (info_as_of). `acts_upto` (a row at `signed`: its
    signing day) ends the simple follow-ups' window instead of `end` / signing + 60 days.
    now.days None (moves not recorded): no within-stay conditioning, simple follow-ups."""
    parts = set(parts) if proxies else set()
    stage, days, rounds, conditional = now.stage, now.days, now.rounds, now.conditional
    if stage in ("started", "completed", "producing", "above_scale"):
        return 1.0, 1.0
    if stage in ("lost", "rejected") or (stage == "returned" and rounds >= 3):
        return 0.0, 0.0
    q, e, w = grid
    h = S.hurdles(t, q, e)
    lead, cases = info["lead"], info["cases"]
    econ = S.CHAIN_ECON[info["chain"]]
    created = lead["created_on"]
    s = end - timedelta(days=days) if days is not None else None
    if days is None:
        acts = "simple"
    ones = np.ones_like(q)

    def stay(p, move_spec, lost_spec, zombie, a_pass=1.0, a_zombie=1.0, a_closed=None):
        if days is None:
            return p, 1.0
        moving = p * S._tri_survival(move_spec, days)
        closed = (1 - zombie) * (S._tri_survival(lost_spec, days) if a_closed is None else a_closed)
        return moving * a_pass, moving * a_pass + (1 - p) * (zombie * a_zombie + closed)

    k = max(1, rounds)
    closed_cases = [c for c in cases if c["result"] is not None]
    open_cases = [c for c in cases if c["result"] is None]
    use_verdicts = "verdicts" in parts
    vl = {c["round"]: verdict_lik(t, q, c) for c in closed_cases} if use_verdicts else {}
    fail_r = {r: (vl[r] if use_verdicts and r in vl else h["fail_in"][r]) for r in (1, 2)}
    reach = {1: 1.0}
    for r in (2, 3):
        reach[r] = reach[r - 1] * fail_r[r - 1] * h["resubmit"]
    last = vl.get(k) if use_verdicts else (h["cond_in"][k] if conditional else h["pass_in"][k])
    screened = h["h1"] * h["h2"] * reach[k] * (last if last is not None else 1.0)

    # proxies of q and e other than the verdicts, and the follow-ups
    logw = np.zeros_like(q)
    a_pass = a_zombie = a_closed = 1.0
    a_closed = None
    if "ratings" in parts:
        logw = logw + ratings_loglik(q, cases)
    if "tech" in parts:
        logw = logw + tech_loglik(q, lead, econ, t)
    if "figures" in parts:
        logw = logw + figures_loglik(q, lead, econ, info["node"])
    if "follow-ups" in parts:
        rho = rate_eff(e)
        n_all = [d for d in info["acts"] if d <= end]
        if stage == "signed" or acts == "simple":
            if acts_upto is not None:
                upto = acts_upto
            else:
                upto = min(end, lead["signed_on"] + timedelta(days=60)) if lead["signed_on"] else end
            n = sum(1 for d in n_all if d <= upto)
            logw = logw + np.log(np.maximum(count_lik(n, rho * (upto - created).days,
                                                      milestones(info["changes"], created, upto)), 1e-300))
        else:
            n_b = sum(1 for d in n_all if d <= s)
            n_a = len(n_all) - n_b
            logw = logw + np.log(np.maximum(count_lik(n_b, rho * (s - created).days,
                                                      milestones(info["changes"], created, s)), 1e-300))
            after = np.exp(pois_logpmf(n_a, rho * days))
            if stage in STAY and S._tri_survival(STAY[stage][1], days) > 0:
                _key, _move, lost_spec, _z = STAY[stage]
                x = np.arange(days + 1)
                lp = pois_logpmf(n_a, rho[:, None] * x[None, :])
                pm = np.exp(lp)
                a_pass = after
                a_zombie = pm @ cold_exposure(lost_spec, days, False)
                a_closed = pm @ cold_exposure(lost_spec, days, True)
            else:
                logw = logw + np.log(np.maximum(after, 1e-300))
    lw = np.exp(logw - logw.max())

    lost = S.LOST_DAYS
    if stage == "lead":
        passed, (num, den) = 1.0, stay(h["h1"], S.DURATIONS[("lead", "negotiating")], lost, S.ZOMBIE_SHARE["lead"],
                                       a_pass, a_zombie, a_closed)
        num = num * h["h2"] * h["admit_from"][1] * h["h5"]
    elif stage == "negotiating":
        passed = h["h1"]
        num, den = stay(h["h2"], S.DURATIONS[("negotiating", "screening")], lost, S.ZOMBIE_SHARE["negotiating"],
                        a_pass, a_zombie, a_closed)
        num = num * h["admit_from"][1] * h["h5"]
    elif stage == "screening":
        passed, num, den = h["h1"] * h["h2"] * reach[k], h["admit_from"][k] * h["h5"], 1.0
        if use_verdicts and open_round_on and open_cases:
            lik, p_pass, p_cond, p_fail = open_round(t, q, open_cases[-1], info.get("opinions_until", end))
            passed = passed * lik
            later = h["resubmit"] * h["admit_from"][k + 1] if k < 3 else 0.0
            num = (p_pass * h["decision"][0] + p_cond * h["decision"][1] + p_fail * later) * h["h5"]
        elif use_verdicts and open_round_on and k in vl and cases and cases[-1]["round"] == k:
            # Round k closed by `end` while the row is still at rank `screening` (a holdout row in
            # `returned`: the round failed; a pass moves the lead on the day it closes). Its
            # verdicts are known: the lead is past round k, the next round or nothing ahead.
            passed = passed * vl[k]
            if cases[-1]["result"] == "fail":
                num = (h["resubmit"] * h["admit_from"][k + 1] if k < 3 else 0.0) * h["h5"]
            else:
                num = h["decision"][int(cases[-1]["result"] == "conditional")] * h["h5"]
    elif stage == "returned":
        passed = h["h1"] * h["h2"] * reach[k] * (vl[k] if use_verdicts else h["fail_in"][k])
        num, den = stay(h["resubmit"], S.DURATIONS[("returned", "screening")], lost, S.ZOMBIE_SHARE["returned"],
                        a_pass, a_zombie, a_closed)
        num = num * h["admit_from"][k + 1] * h["h5"]
    elif stage == "awaiting_decision":
        passed, num, den = screened, h["decision"][int(conditional)] * h["h5"], 1.0
    elif stage == "admitted":
        passed = screened * h["decision"][int(conditional)]
        num, den = stay(h["h5"], S.DURATIONS[("admitted", "signed")], lost, S.ZOMBIE_SHARE["admitted"],
                        a_pass, a_zombie, a_closed)
    elif stage == "signed":
        passed = screened * h["decision"][int(conditional)] * h["h5"]
        num, den = stay(h["h6"], S.DURATIONS[("signed", "started")], S.LOST_AFTER_SIGNING_DAYS, 0.0)
        weight = w * passed * lw
        return 1.0, float(np.sum(weight * num) / np.sum(weight * den))
    else:
        raise ValueError(stage)
    weight = w * passed * lw * ones
    total = np.sum(weight * den * ones)
    return float(np.sum(weight * num) / total), float(np.sum(weight * num * h["h6"]) / total)


# ---------------------------------------------------------------------------------------------
# The holdout's rows: a lead seen at a cutoff (crm.scoring.training.snapshots)
# ---------------------------------------------------------------------------------------------

def row_state(row):
    """(Now at the row's cutoff as oracle_for_row reads it, the day its stage was entered)."""
    rank = row.stage_reached
    if rank == len(S.RANK_STAGE) - 1:
        entered = row.signed_day
    else:
        entered = row.created_on if rank == 0 else row.stage_days.get(rank, row.created_on)
    days = (row.cutoff - entered).days if row.history_known else None
    return S.Now(S.RANK_STAGE[rank], days, row.screening_rounds, row.screening_result == "conditional"), entered


def _screening_known(info, row, before):
    """The lead's first `row.screening_rounds` rounds as known at the row's cutoff (on the day, or
    before it when `before`), as features._apply_screening / training.screening_as_of count them:
    a round closed later is open, an opinion submitted later is not in. Dates are UTC dates, as
    the features read the stored aware datetimes."""
    def known(d):
        return d < row.cutoff if before else d <= row.cutoff

    out = []
    for case in info["cases"][:row.screening_rounds]:
        closed = case["closed_at"] is not None and case["result"] is not None and known(case["closed_at"].date())
        out.append({**case, "result": case["result"] if closed else None,
                    "opinions": [o for o in case["opinions"] if known(o["submitted_at"].date())]})
    return out


def info_as_of(info, row):
    """What was stored about the lead by the row's cutoff, as the row's features count it:
    the follow-ups (the first row.activities of them: features' cutoff rules), the stage changes up
    to the cutoff, the rounds and opinions known then. A snapshot taken before pre-screening
    closed (rank <= screening) knows the opinions of its cutoff day or only those before it
    (screening_as_of's `before`, not kept on the row): the rule that reproduces the row's
    screening figures is taken. Returns (info, whether the row's screening figures were matched)."""
    acts = sorted(info["acts"])[:row.activities]
    changes = [c for c in info["changes"] if c[0] <= row.cutoff]
    matched = False
    cases, until = None, row.cutoff
    for before in (False, True):
        cand = _screening_known(info, row, before)
        ops = [o for c in cand for o in c["opinions"]]
        closed = [c for c in cand if c["result"] is not None]
        share = sum(o["verdict"] == "approve" for o in ops) / len(ops) if ops else None
        if (sum(o["verdict"] == "reject" for o in ops) == row.screening_rejects
                and share == row.screening_approve_share
                and (closed[-1]["result"] if closed else None) == row.screening_result):
            cases, matched = cand, True
            until = row.cutoff - timedelta(days=1) if before else row.cutoff
            break
        if cases is None:
            cases = cand
    # an open round's answers not in yet are those dated after `opinions_until` (open_round)
    return {**info, "acts": acts, "changes": changes, "cases": cases, "opinions_until": until}, matched


_INDEX = {}


def bound_for_row(row, history, target, grid=None, acts="simple", proxies=True, stats=None):
    """The proxy-aware bound for one of the model's rows (a holdout snapshot): the lead at the
    stage it had reached at row.cutoff, with the days it had sat there and its screening as the
    row knows them (oracle_for_row), and the proxies stored up to the cutoff. `history` is the
    generator's History. proxies False: exactly oracle_for_row(..., without_latents=True)."""
    key = id(history)
    if key not in _INDEX:
        _INDEX.clear()
        _INDEX[key] = index_history(history, [lead["id"] for lead in history.leads])
    info, matched = info_as_of(_INDEX[key][row.id], row)
    if stats is not None:
        stats["rows"] = stats.get("rows", 0) + 1
        stats["unmatched"] = stats.get("unmatched", 0) + (not matched)
    now, _entered = row_state(row)
    upto = None
    if now.stage == "signed":  # the land model's row at `signed`: follow-ups as of its signing
        upto = row.signed_day
    sign, land = bound(history.truth[row.id], now, info, row.cutoff, grid or grid_base(), proxies=proxies,
                       acts=acts, acts_upto=upto)
    return float(sign if target == "sign" else land)


def true_grid(t):
    return np.array([t.q]), np.array([t.e]), np.array([1.0])


def evaluate(y, p):
    return roc_auc_score(y, p), brier_score_loss(y, p)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labelled", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--end", help="today (YYYY-MM-DD); default: today in China time, as scoring.py main()")
    parser.add_argument("--fine", action="store_true", help="also the bound on a finer q grid (160 x 33)")
    parser.add_argument("--parts", action="store_true",
                        help="also the bound with one proxy at a time, and the split follow-ups at the true q, e")
    args = parser.parse_args(argv)
    end = datetime.strptime(args.end, "%Y-%m-%d").date() if args.end else datetime.now(S.CST).date()
    t0 = time.perf_counter()
    h = S.Generator(args.seed, end).generate(args.labelled, None)
    print(f"generated {len(h.leads):,} leads (end {end}) in {time.perf_counter() - t0:.1f} s", flush=True)

    open_ids = {"sign": [], "land": []}
    for lead in h.leads:
        stage = lead["stage"]
        ended = stage in ("lost", "rejected")
        rank = S._RANK.get(stage, -1)
        if lead["signed_on"] is None and rank < S._RANK["signed"] and not ended:
            open_ids["sign"].append(lead["id"])
        if lead["started_on"] is None and rank < S._RANK["started"] and not ended:
            open_ids["land"].append(lead["id"])
    ids = sorted(set(open_ids["sign"]) | set(open_ids["land"]))
    info = index_history(h, ids)
    print(f"open leads: {len(open_ids['sign']):,} for sign, {len(open_ids['land']):,} for land", flush=True)

    variants = {
        "oracle": lambda i: S.true_chances(h.truth[i], h.now[i].stage, h.now[i].days, h.now[i].rounds,
                                           h.now[i].conditional),
        "diagnostic": lambda i: S.chances_without_latents(h.truth[i], h.now[i].stage, h.now[i].days,
                                                          h.now[i].rounds, h.now[i].conditional),
        "check: bound, proxies off": lambda i: bound(h.truth[i], h.now[i], info[i], end, grid_base(), proxies=False),
        "check: bound at true q,e": lambda i: bound(h.truth[i], h.now[i], info[i], end, true_grid(h.truth[i]),
                                                    acts="simple", open_round_on=False),
        "bound (simple follow-ups)": lambda i: bound(h.truth[i], h.now[i], info[i], end, grid_base(), acts="simple"),
        "bound (split follow-ups)": lambda i: bound(h.truth[i], h.now[i], info[i], end, grid_base(), acts="split"),
    }
    if args.fine:
        fine = grid_fine()
        variants["bound fine grid (simple)"] = lambda i: bound(h.truth[i], h.now[i], info[i], end, fine, acts="simple")
        variants["bound fine grid (split)"] = lambda i: bound(h.truth[i], h.now[i], info[i], end, fine, acts="split")
    if args.parts:
        for part in PARTS:
            variants[f"only {part}"] = (lambda part: lambda i: bound(h.truth[i], h.now[i], info[i], end, grid_base(),
                                                                    acts="simple", parts=(part,)))(part)
        variants["all but follow-ups"] = lambda i: bound(h.truth[i], h.now[i], info[i], end, grid_base(),
                                                         parts=PARTS[:-1])
        variants["true q,e + within-stage info"] = lambda i: bound(h.truth[i], h.now[i], info[i], end,
                                                                   true_grid(h.truth[i]), acts="split")
    preds, secs = {}, {}
    for name, fn in variants.items():
        t1 = time.perf_counter()
        preds[name] = {i: fn(i) for i in ids}
        secs[name] = time.perf_counter() - t1
        print(f"  {name}: {secs[name]:.1f} s", flush=True)

    def diff(a, b):
        return max(abs(preds[a][i][k] - preds[b][i][k]) for i in ids for k in (0, 1))

    print(f"\nsanity: max |bound with proxies off - diagnostic| = {diff('check: bound, proxies off', 'diagnostic'):.2e}")
    print(f"sanity: max |bound at the true (q, e) - oracle|  = {diff('check: bound at true q,e', 'oracle'):.2e}")

    ys = {tgt: np.array([int(h.eventual[i][k]) for i in open_ids[tgt]]) for k, tgt in enumerate(("sign", "land"))}
    res = {}
    print(f"\nopen leads' real futures (n sign {len(ys['sign']):,}, positive {ys['sign'].mean():.3f}; "
          f"n land {len(ys['land']):,}, positive {ys['land'].mean():.3f})")
    print(f"{'':28} {'sign AUC':>9} {'Brier':>7}   {'land AUC':>9} {'Brier':>7}")
    for name in preds:
        row = []
        for k, tgt in enumerate(("sign", "land")):
            p = np.array([preds[name][i][k] for i in open_ids[tgt]])
            res[name, tgt] = evaluate(ys[tgt], p)
            row.append(f"{res[name, tgt][0]:9.4f} {res[name, tgt][1]:7.4f}")
        print(f"{name:28} " + "   ".join(row))
    print("\naims against the oracle (AUC ratio >= 0.98, Brier - oracle's <= 0.005):")
    for name in preds:
        if not name.startswith(("oracle", "check")):
            parts = []
            for tgt in ("sign", "land"):
                ratio = res[name, tgt][0] / res["oracle", tgt][0]
                delta = res[name, tgt][1] - res["oracle", tgt][1]
                parts.append(f"{tgt}: AUC x{ratio:.4f} ({'met' if ratio >= S.AIM_ORACLE_AUC else 'NOT met'}), "
                             f"Brier {delta:+.4f} ({'met' if delta <= S.AIM_ORACLE_BRIER else 'NOT met'})")
            print(f"  {name:28} " + "; ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
