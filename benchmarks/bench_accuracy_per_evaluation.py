"""Benchmark 2: accuracy per model evaluation. Completeness error of Integrated Hessians vs the number of path
points, for our rules and for the paper's uniform sampling, on SST-2 dev sentences with the real model.

The completeness error of any path rule is ``|sum_k w_k (F'(t_k) + t_k F''(t_k)) - (F(1) - F(0))|`` with
``F(t)`` the model along the straight path: the interaction matrix built at those nodes sums to exactly that
quadrature (checked against the full explainer below). So every rule is scored from the scalar integrand at its
nodes, without computing the ``W x W`` Hessians (each path point of a real explanation costs ``W`` Hessian-vector
products; the adaptive rule's search costs one scalar evaluation - one forward and two backward passes along
``t`` - per point it tries, about ``1/W`` of a path point).

Rules (``t = a * b`` for the paper's double integral, weight ``-ln t`` for ours):

* ``adaptive``: our default rule (Gauss panels for ``-ln t``, bisected on the exact per-panel completeness error),
  for a sweep of ``rtol``; x = its final nodes (where Hessians are evaluated); its search evaluations are reported.
* ``gauss``: our fixed N-point Gauss rule for ``-ln t``.
* ``paper: Monte Carlo``: the paper's sampling, ``a, b ~ U(0, 1)`` (``method="montecarlo"``).
* ``paper: grid (path_explain)``: what ``path_explain`` runs with ``use_expectation=False``: ``a, b`` on
  ``i / (k - 1)``, ``k = sqrt(N)``.
* ``paper: midpoint grid``: ``a, b`` midpoints of ``k`` cells (``method="riemann"``).

IG (weight 1) is reported alongside: our adaptive rule and Gauss-Legendre vs the uniform Riemann sums that
Captum offers (middle, trapezoid).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import numpy as np  # noqa: E402
import path_explain_runner as per  # noqa: E402

NAME = "accuracy_per_evaluation"


class CachedPath:
    """``path_fn(ts, order)`` for the adaptive rule, evaluating each distinct ``t`` once (rules share nodes)."""

    def __init__(self, reduced, order: int):
        self.reduced, self.order = reduced, order
        self.cache: dict[float, np.ndarray] = {}
        self.new = 0

    def __call__(self, ts, order):
        ts = np.asarray(ts, dtype=float)
        todo = sorted({float(t) for t in ts} - set(self.cache))
        if todo:
            d = self.reduced.path_derivatives(np.array(todo), self.order)
            for j, t in enumerate(todo):
                self.cache[t] = d[:, j]
            self.new += len(todo)
        return np.stack([self.cache[float(t)] for t in ts], axis=1)[: order + 1]


def ih_rules(grid_points, gauss_points, mc_points, seed):
    from transformers_ih.engine import fixed_rule

    rules = {}
    for n in gauss_points:
        r = fixed_rule("log", n, "gauss")
        rules[("ours: gauss", n)] = (r.nodes, r.weights)
    for n in mc_points:
        r = fixed_rule("log", n, "montecarlo", seed=seed)
        rules[("paper: Monte Carlo", n)] = (r.nodes, r.weights)
    for n in grid_points:
        rules[("paper: grid (path_explain)", n)] = per.grid_rule(n)
        r = fixed_rule("log", n, "riemann")
        rules[("paper: midpoint grid", n)] = (r.nodes, r.weights)
    return rules


def ig_rules(points):
    from transformers_ih.engine import fixed_rule

    rules = {}
    for n in points:
        r = fixed_rule("uniform", n, "gauss")
        rules[("ours: gauss-legendre", n)] = (r.nodes, r.weights)
        a = np.arange(n)
        rules[("riemann_middle", n)] = ((a + 0.5) / n, np.full(n, 1.0 / n))
        if n >= 2:
            w = np.full(n, 1.0 / (n - 1))
            w[[0, -1]] /= 2
            rules[("riemann_trapezoid", n)] = (a / (n - 1), w)
    return rules


def score(path: CachedPath, rules: dict, measure: str) -> dict:
    out = {}
    ends = path(np.array([0.0, 1.0]), path.order)
    delta = ends[0, 1] - ends[0, 0]
    for key, (nodes, weights) in rules.items():
        d = path(np.asarray(nodes), path.order)
        integrand = d[1] + (np.asarray(nodes) * d[2] if measure == "log" else 0.0)
        out[key] = abs(float(np.dot(weights, integrand)) - delta) / abs(delta)
    return out, float(delta)


def adaptive_sweep(path: CachedPath, measure: str, rtols, words: int | None = None) -> list[dict]:
    """The adaptive rule at each ``rtol``; for IH (``words`` given) with the explainer's node cost (a final node
    costs ``words`` Hessian-vector products), so that the converged rule is coarsened as in the explainer."""
    from transformers_ih.engine import NodeCapWarning, adaptive_rule

    rows = []
    for rtol in rtols:
        before = len(path.cache)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NodeCapWarning)
            rule, info = adaptive_rule(
                path, measure, rtol=rtol, atol=1e-12, node_cost=None if words is None else (words + 1) / 2
            )
        err = info.completeness_error
        ends = path(np.array([0.0, 1.0]), path.order)
        rows.append(
            {
                "rtol": rtol,
                "nodes": len(rule),
                "search_evaluations": info.scalar_evaluations,
                "relative_error": err / abs(ends[0, 1] - ends[0, 0]),
                "converged": bool(info.converged),
                "new_cache_points": len(path.cache) - before,
            }
        )
    return rows


def verify_with_explainer(ex, sentence, target) -> list[dict]:
    """The full explainer's completeness error vs the scalar-integrand score for two fixed rules."""
    out = []
    for method, steps in (("gauss", 3), ("montecarlo", 9)):
        r = ex(sentence, target=target, steps=steps, method=method)
        out.append(
            {
                "sentence": sentence,
                "method": method,
                "steps": steps,
                "explainer_relative_error": r.completeness_error / abs(r.f_input - r.f_baseline),
                "rule": r.method,
            }
        )
    return out


def main(argv=None):
    args = common.parse_args(__doc__.splitlines()[0], argv)
    quick = args.quick
    cfg = dict(
        sentences=3 if quick else 12,
        seed=0,
        grid_points=[4, 16, 64] if quick else [4, 16, 64, 256],
        gauss_points=[1, 2, 4, 8, 16] if quick else [1, 2, 4, 8, 16, 32, 64],
        mc_points=[4, 16, 64] if quick else [4, 16, 64, 256],
        rtols=[1e-1, 1e-2, 1e-3] if quick else [3e-1, 1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 1e-4, 1e-5],
        ig_points=[4, 16, 64] if quick else [4, 8, 16, 32, 64],
        max_words=12 if quick else None,
    )
    rec = common.Recorder(NAME, args, **cfg)
    from transformers_ih import SequenceClassificationInteractionExplainer

    model, tok = common.load_real_model()
    ex = SequenceClassificationInteractionExplainer(model, tok)
    dev = [s for _, s in common.dev_sentences()]
    rng = np.random.default_rng(cfg["seed"])
    pool = (
        dev
        if not cfg["max_words"]
        else [s for w, _, s in common.word_counts_and_sentences(tok, dev) if w <= cfg["max_words"]]
    )
    chosen = [pool[i] for i in sorted(rng.choice(len(pool), size=cfg["sentences"], replace=False))]
    ih = ih_rules(cfg["grid_points"], cfg["gauss_points"], cfg["mc_points"], cfg["seed"])
    ig = ig_rules(cfg["ig_points"])
    per_sentence = []
    for i, sentence in enumerate(chosen):
        t0 = time.perf_counter()
        case = common.Case(ex, sentence)
        with case.engine_context() as smoothing:
            rec["smoothing"] = smoothing
            red = case.reduced()
            p2 = CachedPath(red, 2)
            ih_err, delta = score(p2, ih, "log")
            ih_adapt = adaptive_sweep(p2, "log", cfg["rtols"], words=case.W)
            p1 = CachedPath(red, 1)
            ig_err, _ = score(p1, ig, "uniform")
            ig_adapt = adaptive_sweep(p1, "uniform", cfg["rtols"])
        per_sentence.append(
            {
                "sentence": sentence,
                "words": case.W,
                "tokens": case.L,
                "target": case.target,
                "f_delta": delta,
                "ih": [
                    {
                        "rule": k[0],
                        "points": k[1],
                        "distinct_points": int(len(np.unique(ih[k][0]))),
                        "relative_error": v,
                    }
                    for k, v in ih_err.items()
                ],
                "ih_adaptive": ih_adapt,
                "ig": [{"rule": k[0], "points": k[1], "relative_error": v} for k, v in ig_err.items()],
                "ig_adaptive": ig_adapt,
                "scalar_evaluations": {"ih": p2.new, "ig": p1.new},
                "seconds": time.perf_counter() - t0,
            }
        )
        common.log(
            NAME,
            f"{i + 1}/{len(chosen)} {case.W} words: {p2.new + p1.new} scalar evaluations, "
            f"{time.perf_counter() - t0:.1f} s; adaptive rtol=1e-3 -> "
            f"{[a for a in ih_adapt if a['rtol'] == 1e-3][0]['nodes'] if 1e-3 in cfg['rtols'] else '-'} nodes",
        )
        rec["per_sentence"] = per_sentence
    # the scalar score is the explainer's completeness error: check on the two shortest chosen sentences
    shortest = sorted(per_sentence, key=lambda r: r["words"])[:2]
    checks = []
    for row in shortest:
        for v in verify_with_explainer(ex, row["sentence"], row["target"]):
            key = ("ours: gauss", 3) if v["method"] == "gauss" else ("paper: Monte Carlo", 9)
            case = common.Case(ex, row["sentence"])
            with case.engine_context():
                nodes, weights = ih[key] if key in ih else _rule(v["method"], v["steps"], cfg["seed"])
                errs, _ = case.completeness_errors({"r": (nodes, weights)}, "log")
            v["scalar_relative_error"] = errs["r"] / abs(row["f_delta"])
            checks.append(v)
    rec["explainer_check"] = checks
    rec.save()


def _rule(method, steps, seed):
    from transformers_ih.engine import fixed_rule

    r = fixed_rule("log", steps, method, seed=seed)
    return r.nodes, r.weights


if __name__ == "__main__":
    main()
