"""Expected Gradients / Hessians: transformers_ih's estimator against path_explain's PyTorch explainer.

Same model (the softplus MLP of examples/tabular_breast_cancer.ipynb, float64), same explained test rows, same
background (100 training rows, and all 426). The reference is the exact expectation over the background
(every background row, a 32-point Gauss rule per path: quadrature error below 1e-9). For each estimator and
budget (Hessian or gradient evaluation points per explained row) the error is the relative Frobenius error
``||estimate - reference|| / ||reference||`` per row, root-mean-squared over rows and repeats; for interactions
also over the off-diagonal entries only (the interactions proper; the summary uses that one).

Estimators:

* ``ours (auto)``: ``expected_hessians(..., samples=min(B, M), steps=max(1, B // M))`` with the default
  ``path_samples="auto"``: baselines without replacement, one stratified path position each; once every
  background row is used and ``B // M >= 4``, a deterministic Gauss rule of ``B // M`` nodes per baseline
  (stratified positions below that).
* ``ours (stratified)``: the same baselines with stratified positions also beyond ``M``.
* ``paper estimator``: ``path_samples="random", replace=True``: a fresh baseline and path position per
  evaluation, as in the paper and path_explain's TensorFlow explainer (run by our engine).
* ``path_explain torch``: ``PathExplainerTorch.interactions(num_samples=B)`` as shipped (0.0.7). Its inner
  baselines are independent of the outer one, so it estimates another quantity (see path_explain_compat.py);
  its error here does not go to 0.
* ``path_explain torch (tied)``: the same with inner baselines tied to the outer one: the paper's estimand.
  Per row it draws ``sqrt(B)`` baselines with ``sqrt(B)`` Hessian points each.

Evaluations are counted as Hessian (or gradient) points per explained row, the unit in which both libraries
spend their model calls: path_explain evaluates ``B`` points (``G`` double-backward passes over them), ours
``B`` points (``G`` Hessian-vector products each). Wall-clock seconds are recorded too.

Run: ``python benchmarks/expected_vs_path_explain.py`` (about 2 minutes on 1 CPU core); writes
``benchmarks/results/expected_vs_path_explain.json``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from path_explain_compat import load_path_explainer_torch  # noqa: E402

from transformers_ih.engine.expected import expected_gradients, expected_hessians  # noqa: E402

BUDGETS = (16, 64, 256, 1024)  # evaluation points per explained row (path_explain: k^2 with k = 4, 8, 16, 32)
REPEATS = {16: 40, 64: 12, 256: 3, 1024: 2}  # independent runs per budget (more where cheap)
ROWS = 10
OUT = HERE / "results" / "expected_vs_path_explain.json"


def train_model():
    """The notebook's softplus MLP on scikit-learn's breast-cancer data (standardised features)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    torch.manual_seed(0)
    data = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    standardise = lambda X: torch.tensor((X - mean) / std, dtype=torch.float32)
    model = torch.nn.Sequential(
        torch.nn.Linear(30, 32),
        torch.nn.Softplus(),
        torch.nn.Linear(32, 16),
        torch.nn.Softplus(),
        torch.nn.Linear(16, 1),
    )
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-2)
    inputs, labels = standardise(X_train), torch.tensor(y_train, dtype=torch.float32)
    for _ in range(200):
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(inputs)[:, 0], labels)
        loss.backward()
        optimiser.step()
    model = model.double().eval()
    for p in model.parameters():
        p.requires_grad_(False)
    rng = np.random.default_rng(0)
    train = standardise(X_train).double()
    return model, train[rng.choice(len(train), 100, replace=False)], train, standardise(X_test).double()


def relative_error(estimate: np.ndarray, reference: np.ndarray, off_diagonal: bool = False) -> list[float]:
    """Per row ``||estimate - reference|| / ||reference||`` (Frobenius), optionally over off-diagonal entries only
    (the interactions proper; the diagonal holds the much larger main effects)."""
    if off_diagonal:
        mask = 1.0 - np.eye(reference.shape[-1])
        estimate, reference = estimate * mask, reference * mask
    axes = tuple(range(1, reference.ndim))
    return list(np.sqrt(((estimate - reference) ** 2).sum(axis=axes) / (reference**2).sum(axis=axes)))


def shipped_estimand(model, x: torch.Tensor, background: torch.Tensor, nodes: int = 3) -> np.ndarray:
    """The exact estimand of path_explain's shipped PyTorch ``interactions`` for one row:
    ``E_{x', x''} int int (x_j - x'_j) d/dz_j[(z_i - x''_i) d_i f(x'' + a (z - x''))] da db`` at
    ``z = x' + b (x - x')``, with independent baselines ``x'`` (outer) and ``x''`` (inner), by Gauss-Legendre
    rules in ``a`` and ``b`` (the integrand is smooth; 3 nodes agree with 6 to about 1e-4)."""
    from torch.func import grad, hessian, vmap

    from transformers_ih.engine.quadrature import gauss_legendre

    f1 = lambda z: model(z[None])[0, 0]
    hess, grads = vmap(hessian(f1)), vmap(grad(f1))
    a_nodes, a_weights = (torch.tensor(v) for v in gauss_legendre(nodes))
    M, d = background.shape
    out = torch.zeros(d, d, dtype=torch.float64)
    for outer in background:
        delta = x - outer
        for b, wb in zip(*gauss_legendre(nodes)):
            z = outer + b * delta
            points = background[None] + a_nodes[:, None, None] * (z[None, None] - background[None])  # (a, x'', d)
            flat = points.reshape(-1, d)
            h, g = hess(flat).reshape(nodes, M, d, d), grads(flat).reshape(nodes, M, d)
            lever = z[None] - background  # z_i - x''_i
            term = torch.diag_embed(g) + lever[None, :, :, None] * a_nodes[:, None, None, None] * h
            out += wb * torch.einsum("a,amij->ij", a_weights, term) / M * delta[None, :]
    return (out / M).numpy()


def rms(errors: list[float]) -> float:
    return float(np.sqrt(np.mean(np.square(errors))))


def run_ours(fn, f, rows, background, budget, mode, rep):
    M = len(background)
    if mode == "paper":
        kw = dict(samples=budget, steps=1, path_samples="random", replace=True)
    elif mode == "stratified":
        kw = dict(samples=min(budget, M), steps=max(1, budget // M), path_samples="stratified")
    else:  # auto
        kw = dict(samples=min(budget, M), steps=max(1, budget // M))
    start = time.perf_counter()
    r = fn(f, rows, background, seed=1000 + rep, internal_batch_size=4096, **kw)
    seconds = time.perf_counter() - start
    estimate = r.interactions if r.interactions is not None else r.attributions
    return estimate, seconds, r.path_points / len(rows), r.path_samples


def run_path_explain(explainer_cls, model, rows, background, budget, rep, interactions):
    np.random.seed(2000 + rep)
    torch.manual_seed(2000 + rep)
    explainer = explainer_cls(model)
    x = rows.clone().requires_grad_(True)
    index = torch.zeros(len(rows), dtype=torch.long)
    start = time.perf_counter()
    if interactions:
        out = explainer.interactions(
            x, background, num_samples=budget, use_expectation=True, output_indices=index, verbose=False
        )
        points = round(np.sqrt(budget)) ** 2
    else:
        out = explainer.attributions(x, background, num_samples=budget, use_expectation=True, output_indices=index)
        points = budget
    return out.detach().double().numpy(), time.perf_counter() - start, points


def scenario(model, background, rows, compat, shipped: bool) -> dict:
    f = lambda X: model(X)[:, 0]
    M = len(background)
    start = time.perf_counter()
    ref_h = expected_hessians(f, rows, background, samples=M, steps=32, internal_batch_size=8192)
    ref_g = expected_gradients(f, rows, background, samples=M, steps=32, internal_batch_size=8192)
    reference_seconds = time.perf_counter() - start
    assert ref_h.exact and float(np.max(ref_h.quadrature_error)) < 1e-9
    out = {
        "background_size": M,
        "reference": {
            "path_points_per_row": M * 32,
            "seconds": reference_seconds,
            "max_quadrature_error": float(np.max(ref_h.quadrature_error)),
        },
    }

    def record(curve, budget, points, estimates, seconds, reference, interactions, **extra):
        entry = {
            "points_per_row": points,
            "budget": budget,
            "seconds": seconds / REPEATS[budget],
            "repeats": REPEATS[budget],
            **extra,
        }
        errors = [e for est in estimates for e in relative_error(est, reference)]
        entry["rms_relative_error"] = rms(errors)
        if interactions:
            off = [e for est in estimates for e in relative_error(est, reference, off_diagonal=True)]
            entry["rms_relative_error_off_diagonal"] = rms(off)
        curve.append(entry)

    for kind, fn, reference in (
        ("interactions", expected_hessians, ref_h.interactions),
        ("attributions", expected_gradients, ref_g.attributions),
    ):
        interactions = kind == "interactions"
        curves = {}
        for mode, label in (("auto", "ours (auto)"), ("stratified", "ours (stratified)"), ("paper", "paper estimator")):
            curve = []
            for budget in BUDGETS:
                estimates, seconds = [], 0.0
                for rep in range(REPEATS[budget]):
                    estimate, sec, points, used = run_ours(fn, f, rows, background, budget, mode, rep)
                    estimates.append(estimate)
                    seconds += sec
                record(curve, budget, points, estimates, seconds, reference, interactions, path_samples=used)
            curves[label] = curve
        variants = []
        if shipped or not interactions:
            variants.append(("path_explain torch", compat.PathExplainerTorch))
        if interactions:
            variants.append(("path_explain torch (tied)", compat.TiedPathExplainerTorch))
        for label, cls in variants:
            curve = []
            for budget in BUDGETS:
                estimates, seconds = [], 0.0
                for rep in range(REPEATS[budget]):
                    estimate, sec, points = run_path_explain(cls, model, rows, background, budget, rep, interactions)
                    estimates.append(estimate)
                    seconds += sec
                record(curve, budget, points, estimates, seconds, reference, interactions)
            curves[label] = curve
        out[kind] = curves

    if shipped:  # what the shipped torch explainer converges to, for the first two rows
        start = time.perf_counter()
        target = np.stack([shipped_estimand(model, x, background) for x in rows[:2]])
        eh = ref_h.interactions[:2]
        out["shipped_estimand"] = {
            "rows": 2,
            "relative_difference_from_expected_hessians": relative_error(target, eh),
            "relative_difference_off_diagonal": relative_error(target, eh, off_diagonal=True),
            "max_row_sum_difference": float(np.abs(target.sum(axis=2) - eh.sum(axis=2)).max()),
            "max_abs_attribution": float(np.abs(eh.sum(axis=2)).max()),
            "seconds": time.perf_counter() - start,
            "note": "path_explain 0.0.7's PyTorch interactions() draws the inner baselines independently of the "
            "outer one: its estimand differs from E_{x'}[IH(x; x')] (the paper's, and its TensorFlow "
            "explainer's); the row sums agree (IG is antisymmetric in its endpoints, so "
            "E_{x', x''}[IG(x'; x'')] = 0) but the off-diagonal interactions do not.",
        }
    return out


def evaluations_to_reach(curve: list[dict], target: float, key: str) -> float | None:
    """Points per row at which a curve first reaches ``target`` (log-log interpolation), or None."""
    pts = [(c["points_per_row"], c[key]) for c in curve]
    if pts[0][1] <= target:
        return float(pts[0][0])
    for (b0, e0), (b1, e1) in zip(pts, pts[1:]):
        if e1 <= target:
            frac = (np.log(e0) - np.log(target)) / (np.log(e0) - np.log(e1))
            return float(np.exp(np.log(b0) + frac * (np.log(b1) - np.log(b0))))
    return None


def summarise(result: dict) -> dict:
    """Ours (auto) against path_explain's PyTorch explainer (tied for interactions: same estimand), on the
    off-diagonal interactions and on the attributions."""
    summary = {}
    for sc in result["scenarios"]:
        M = sc["background_size"]
        for kind, theirs_label, key in (
            ("interactions", "path_explain torch (tied)", "rms_relative_error_off_diagonal"),
            ("attributions", "path_explain torch", "rms_relative_error"),
        ):
            ours, theirs = sc[kind]["ours (auto)"], sc[kind][theirs_label]
            at_equal = [
                {
                    "budget": o["budget"],
                    "ours_points": o["points_per_row"],
                    "ours": o[key],
                    "path_explain_points": t["points_per_row"],
                    "path_explain": t[key],
                    "ratio": t[key] / max(o[key], 1e-300),
                    "ours_seconds": o["seconds"],
                    "path_explain_seconds": t["seconds"],
                }
                for o, t in zip(ours, theirs)
            ]
            target = theirs[-1][key]
            need = evaluations_to_reach(ours, target, key)
            summary[f"{kind}, background {M}"] = {
                "metric": key,
                "at_equal_budget": at_equal,
                "path_explain_error_at_max_budget": target,
                "path_explain_points_at_max_budget": theirs[-1]["points_per_row"],
                "ours_points_for_that_error": need,
                "fewer_evaluations_factor": None if need is None else theirs[-1]["points_per_row"] / need,
            }
    return summary


def main() -> None:
    torch.set_num_threads(1)
    compat = load_path_explainer_torch()
    from importlib.metadata import version

    t0 = time.perf_counter()
    model, background, train, test = train_model()
    rows = test[:ROWS]
    result = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
        },
        "versions": {"torch": torch.__version__, "path_explain": version("path-explain"), "numpy": np.__version__},
        "setup": {
            "model": "softplus MLP 30-32-16-1 on breast cancer (float64), as in the tabular notebook",
            "rows": ROWS,
            "features": 30,
            "budgets_points_per_row": list(BUDGETS),
            "repeats_per_budget": {str(k): v for k, v in REPEATS.items()},
            "error": "relative Frobenius error vs the exact expectation over the background, RMS over rows and repeats",
        },
        "scenarios": [],
    }
    for bg, shipped in ((background, True), (train, False)):
        result["scenarios"].append(scenario(model, bg, rows, compat, shipped))
        print(f"background {len(bg)} done at {time.perf_counter() - t0:.0f}s", flush=True)
    result["summary"] = summarise(result)
    result["total_seconds"] = time.perf_counter() - t0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1))
    for name, summ in result["summary"].items():
        print(f"{name} ({summ['metric']})")
        for row in summ["at_equal_budget"]:
            print(
                f"  budget {row['budget']:>5}: ours {row['ours']:.2e} ({row['ours_points']:.0f} points)  path_explain "
                f"{row['path_explain']:.2e} ({row['path_explain_points']} points)  ratio {row['ratio']:.1f}x"
            )
        need = summ["ours_points_for_that_error"]
        print(
            f"  path_explain at {summ['path_explain_points_at_max_budget']} points: "
            f"{summ['path_explain_error_at_max_budget']:.2e}; ours reaches it with "
            f"{'-' if need is None else f'{need:.0f}'} points"
        )
    shipped = result["scenarios"][0].get("shipped_estimand")
    if shipped:
        print(
            "shipped torch estimand vs Expected Hessians (relative, off-diagonal):",
            [f"{v:.2f}" for v in shipped["relative_difference_off_diagonal"]],
        )
    print(f"total {result['total_seconds']:.0f}s -> {OUT}")


if __name__ == "__main__":
    main()
