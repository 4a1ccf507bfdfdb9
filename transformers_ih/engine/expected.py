"""Expected Gradients and Expected Hessians: attributions and interactions averaged over baselines drawn from
a background data set (Erion et al., 2021; Janizek et al., 2021).

For an input ``x`` and a background distribution ``D`` (the rows of a background tensor, each equally likely)

    EG(x) = E_{x' ~ D}[ IG(x; x') ],        EH(x) = E_{x' ~ D}[ IH(x; x') ],

with ``IG`` / ``IH`` the Integrated Gradients / Hessians along the straight path from ``x'`` to ``x`` (see
:mod:`.integrated_hessians`). By linearity ``sum EG(x) = sum EH(x) = f(x) - E_D[f(x')]``: completeness holds in
expectation.

The estimator samples ``n`` baselines per input row, without replacement by default (so the spread of the
estimate shrinks by the finite-population factor ``sqrt((M - n) / (M - 1))``, and ``n = M`` gives the exact
expectation over the background), and integrates each baseline's path with one of:

* ``"gauss"``: a deterministic Gauss rule (Gauss-Legendre for EG, Gauss for the weight ``-ln t`` for EH), so
  only baselines are sampled; its small bias is the rule's quadrature error, reported exactly through
  completeness (``quadrature_error``).
* ``"stratified"``: path positions drawn from the path measure, stratified over the row's baselines (each
  position alone has the measure's distribution: unbiased).
* ``"random"``: independent positions, ``t ~ U(0, 1)`` for EG and ``t = a * b`` with ``a, b ~ U(0, 1)`` for EH:
  the paper's (and path_explain's) estimator.
* ``"adaptive"``: a per-baseline adaptive rule to a completeness tolerance (for sharp models such as
  fine-tuned text classifiers).
* ``"auto"`` (default): ``"gauss"`` (8 nodes unless ``steps`` says otherwise) when the draw covers the whole
  background, which makes the result exact up to quadrature; else ``"stratified"`` with one position per
  baseline (also when ``steps < 4`` is asked for: a 2- or 3-node rule's bias on the interactions is larger
  than sampling's error). On tabular MLPs the baseline-to-baseline spread dominates the path-position spread,
  so while baselines remain undrawn, a model evaluation is best spent on a new baseline; once all are used, on
  a deterministic rule (see ``benchmarks/expected_vs_path_explain.py``).

Each row's per-baseline estimates are independent draws (unbiased up to a ``"gauss"`` rule's quadrature error),
so their mean is the estimate and their spread gives the standard error of every entry (two-stage sampling
formula; see :func:`.sampling.standard_error`).

All (row, baseline, path point) evaluations of many input rows share the calls of ``f`` (at most
``internal_batch_size`` rows each, counting a Hessian's ``G`` directions), through the multi-problem
:class:`~.reduction.ReducedFunction`; rows are processed in blocks so that memory stays bounded.
The sampling helpers are in :mod:`.sampling`; the result type is :class:`~.results.ExpectedResult`.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import torch

from .adaptive import adaptive_rules
from .path import PathSettings
from .quadrature import fixed_rule
from .reduction import BatchedFn, ReducedFunction, _as_output_vector, normalise_groups
from .results import ExpectedResult
from .sampling import draw_baselines, make_generator, random_positions, standard_error, stratified_positions
from .smoothing import warn_if_relu_hessian

__all__ = ["ExpectedResult", "expected_gradients", "expected_hessians"]

PATH_SAMPLES = ("auto", "gauss", "stratified", "random", "adaptive")
DEFAULT_STEPS = {"gauss": 8, "stratified": 1, "random": 1}
AUTO_MIN_GAUSS_STEPS = 4
_BLOCK_FLOATS = 1 << 23  # per-baseline results held at once (64 MiB of float64); rows are processed in blocks


# ------------------------------------------------------------------------------------------------ estimator
def _as_rows(x, background) -> tuple[torch.Tensor, torch.Tensor, bool]:
    background = torch.as_tensor(background)
    x = torch.as_tensor(x)
    if not torch.is_floating_point(x):
        raise TypeError(f"x must be a floating-point tensor, got {x.dtype}")
    background = background.to(dtype=x.dtype, device=x.device).detach()
    if background.dim() < 1 or len(background) == 0:
        raise ValueError("background must be a tensor of rows (M, *shape) with M >= 1")
    shape = tuple(background.shape[1:])
    if tuple(x.shape) == shape:
        return x.detach()[None], background, False
    if x.dim() >= 1 and tuple(x.shape[1:]) == shape:
        return x.detach(), background, True
    raise ValueError(
        f"x has shape {tuple(x.shape)}; expected {shape} (one input) or (N, *{shape}) (rows) to match "
        f"the background's rows {tuple(background.shape)}"
    )


def _check_finite_rows(X: torch.Tensor, background: torch.Tensor, held: torch.Tensor, batched: bool) -> None:
    """``ValueError`` naming the input row or background row with NaN/inf entries (background entries held at
    the input's value are not used, so not checked). One vectorised test each in the normal case."""
    fix = (
        "the paths from the baselines to the input need finite values: replace NaN/inf (e.g. with "
        "torch.nan_to_num, or impute them as for training) or drop those rows"
    )
    for name, T, used in (("x", X, torch.ones_like(held)), ("background", background, ~held)):
        bad = ~torch.isfinite(T) & used
        if not bool(bad.any()):
            continue
        per_row = bad.reshape(len(T), -1).sum(dim=1)
        rows = torch.nonzero(per_row).flatten().tolist()
        r = rows[0]
        nan = int((bad[r] & torch.isnan(T[r])).sum())
        count = int(per_row[r])
        entry = "entry" if count == 1 else "entries"
        which = f"background row {r}" if name == "background" else (f"x row {r}" if batched else "x")
        more = f" ({len(rows)} rows have some)" if len(rows) > 1 else ""
        raise ValueError(
            f"{which} has {count} non-finite {entry} (NaN or inf: {nan} NaN, {count - nan} inf){more}; {fix}"
        )


def _counted(f: BatchedFn, counter: list[int]):
    def multi(X: torch.Tensor, problems: torch.Tensor) -> torch.Tensor:
        counter[0] += X.shape[0]
        return f(X)

    return multi


def _forward(f: BatchedFn, X: torch.Tensor, batch: int, counter: list[int], where) -> np.ndarray:
    """``f`` at the rows of ``X``; ``where(i)`` names row ``i`` in the error raised when ``f`` is not finite there."""
    out = []
    with torch.no_grad():
        for lo in range(0, len(X), batch):
            chunk = X[lo : lo + batch]
            counter[0] += len(chunk)
            out.append(_as_output_vector(f(chunk), len(chunk)).double().cpu().numpy())
    values = np.concatenate(out) if out else np.zeros(0)
    if not np.isfinite(values).all():
        i = int(np.argmax(~np.isfinite(values)))
        raise ValueError(
            f"f is not finite at {where(i)} ({values[i]}): the attributions would be NaN. Check the "
            f"model (e.g. log or sqrt of a non-positive value, overflow) and the data"
        )
    return values


def _expected(
    f,
    x,
    background,
    measure: str,
    path: PathSettings,
    *,
    samples,
    groups,
    path_samples,
    replace,
    generator,
    seed,
    internal_batch_size,
    progress,
) -> ExpectedResult:
    """The estimator behind :func:`expected_gradients` (``measure="uniform"``) and :func:`expected_hessians`
    (``"log"``). ``path``: ``steps`` per baseline (``None``: the ``path_samples`` scheme's default) and, for
    ``path_samples="adaptive"``, the adaptive rule's tolerances and node cap; ``method`` and ``seed`` of ``path``
    are not used (``seed`` here seeds the sampling)."""
    steps = path.steps
    if path_samples not in PATH_SAMPLES:
        raise ValueError(f"path_samples must be one of {PATH_SAMPLES}, got {path_samples!r}")
    if samples < 1:
        raise ValueError(f"samples must be a positive integer, got {samples}")
    if internal_batch_size < 1:
        raise ValueError(f"internal_batch_size must be >= 1, got {internal_batch_size}")
    second = measure == "log"
    X, background, batched = _as_rows(x, background)
    N, M = len(X), len(background)
    shape = tuple(background.shape[1:])
    group_map, G = normalise_groups(groups, torch.Size(shape), X.device)
    _check_finite_rows(X, background, group_map < 0, batched)
    held = bool((group_map < 0).any())
    gen = make_generator(generator, seed)
    n = samples if replace else min(samples, M)
    idx = draw_baselines(gen, N, M, n, replace)
    covers = not replace and n == M  # every background row once: no sampling error from baselines
    if path_samples == "auto":
        # deterministic only with enough nodes for its bias to be negligible (few nodes: sample positions instead)
        path_samples = "gauss" if covers and (steps is None or steps >= AUTO_MIN_GAUSS_STEPS) else "stratified"
    if path_samples == "adaptive":
        if steps is not None:
            raise ValueError("path_samples='adaptive' chooses its own path points; do not pass steps")
    else:
        steps = DEFAULT_STEPS[path_samples] if steps is None else int(steps)
        if steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps}")
    sampled_path = path_samples in ("random", "stratified")
    exact = covers and not sampled_path

    counter = [0]
    f_multi = _counted(f, counter)
    f_input = _forward(
        f, X, internal_batch_size, counter, lambda i: f"the input (x row {i})" if batched else "the input x"
    )
    if not held:
        f_bg_rows = _forward(f, background, internal_batch_size, counter, lambda i: f"background row {i}")
        f_background = np.full(N, f_bg_rows.mean())
    else:  # held entries take the row's values, so the expected baseline output depends on the row
        f_background = np.array(
            [
                _forward(
                    f,
                    torch.where(group_map < 0, X[r], background),
                    internal_batch_size,
                    counter,
                    lambda i, r=r: f"background row {i} (with the entries held at x row {r})",
                ).mean()
                for r in range(N)
            ]
        )

    rule = fixed_rule(measure, cast(int, steps), "gauss") if path_samples == "gauss" else None  # steps set above
    per_pair = steps if steps is not None else 24
    size = G * G if second else G
    block = max(1, _BLOCK_FLOATS // max(1, n * (per_pair + 2) * size))
    eye = np.eye(G)
    attr, attr_se = np.zeros((N, G)), np.zeros((N, G))
    inter = np.zeros((N, G, G)) if second else None
    inter_se = np.zeros((N, G, G)) if second else None
    f_baseline, comp_se, quad_err = np.zeros(N), np.zeros(N), np.zeros(N)
    total_points = 0

    def se(units, jobs):
        """Standard errors of per-baseline ``units`` (R, n, ...) given the per-job values ``jobs``."""
        within = None
        if sampled_path and steps >= 2:
            within = jobs.reshape(len(units), n, steps, *jobs.shape[1:]).var(axis=2, ddof=1) / steps
        return standard_error(units, M, replace, within, sampled_path)

    for r0 in range(0, N, block):
        rows = np.arange(r0, min(N, r0 + block))
        R = len(rows)
        pair_row, pair_base = np.repeat(rows, n), idx[rows].reshape(-1)
        P = len(pair_row)
        reduced = ReducedFunction(
            f_multi, X[pair_row], background[pair_base], [group_map] * P, internal_batch_size, multi=True
        )
        reduced.describe_problem = lambda p, pair_row=pair_row, pair_base=pair_base: (
            f"x row {pair_row[p]}, background row {pair_base[p]}" if batched else f"background row {pair_base[p]}"
        )
        # jobs (problem, t, weight), grouped by problem in order
        if rule is not None:  # path_samples == "gauss"
            ts, weights, counts = np.tile(rule.nodes, P), np.tile(rule.weights, P), np.full(P, steps)
        elif sampled_path:
            assert steps is not None  # set above for every scheme but "adaptive"
            if path_samples == "random":
                ts = random_positions(gen, measure, (P * steps,))
            else:  # stratified over all path points of a row, in random order
                ts = stratified_positions(gen, measure, R, n * steps).reshape(-1)
            weights, counts = np.full(P * steps, 1.0 / steps), np.full(P, steps)
        else:
            # per-baseline adaptive rules, refined in lockstep (their scalar passes share calls of f)
            rules = adaptive_rules(reduced.path_derivatives, P, measure, **path.adaptive_options())
            ts = np.concatenate([rule.nodes for rule, _ in rules])
            weights = np.concatenate([rule.weights for rule, _ in rules])
            counts = np.array([len(rule) for rule, _ in rules])
        problems = np.repeat(np.arange(P), counts)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        total_points += len(ts)

        if second:
            _, grads, hess = reduced.hessians(ts, problems=problems, progress=progress)
            jobs = ts[:, None, None] * hess + grads[:, :, None] * eye[None]
            jobs = 0.5 * (jobs + np.swapaxes(jobs, 1, 2))  # exact symmetry (double backward: up to rounding)
            units: np.ndarray = np.add.reduceat(weights[:, None, None] * jobs, starts, axis=0).reshape(R, n, G, G)
            assert inter is not None and inter_se is not None  # allocated above for second derivatives
            inter[rows] = units.mean(axis=1)
            inter_se[rows] = se(units, jobs)
            jobs = jobs.sum(axis=2)
        else:
            _, jobs = reduced.gradients(ts, problems=problems)
        units = np.add.reduceat(weights[:, None] * jobs, starts, axis=0).reshape(R, n, G)  # attributions
        attr[rows] = units.mean(axis=1)
        attr_se[rows] = se(units, jobs)
        totals = units.sum(axis=2)  # (R, n): each baseline's completeness sum
        comp_se[rows] = se(totals, jobs.sum(axis=1))
        if held:
            f_base = reduced.path_derivatives(np.zeros(P), 0, problems=np.arange(P))[0].reshape(R, n)
        else:
            f_base = f_bg_rows[idx[rows]]
        f_baseline[rows] = f_base.mean(axis=1)
        quad_err[rows] = np.abs((totals - (f_input[rows, None] - f_base)).mean(axis=1))

    if second:
        warn_if_relu_hessian(inter, lambda: f(X[:1]), stacklevel=4)

    gap = attr.sum(axis=1) - (f_input - f_background)
    if groups is None:
        attr, attr_se = attr.reshape(N, *shape), attr_se.reshape(N, *shape)

    def out(a):
        return a if a is None or batched else a[0]

    def scalar(a):
        return a if batched else float(a[0])

    return ExpectedResult(
        attributions=out(attr),
        attributions_se=out(attr_se),
        interactions=out(inter),
        interactions_se=out(inter_se),
        f_input=scalar(f_input),
        f_baseline=scalar(f_baseline),
        f_background=scalar(f_background),
        completeness_gap=scalar(gap),
        completeness_se=scalar(comp_se),
        quadrature_error=scalar(quad_err),
        samples=n,
        steps=total_points / max(1, N * n),
        path_samples=path_samples,
        replace=replace,
        exact=exact,
        baseline_indices=out(idx),
        model_evaluations=counter[0],
        path_points=total_points,
        background_size=M,
        seed=None if generator is not None else seed,
    )


_COMMON_DOC = """
    Args:
        f: batched scalar function, ``(B, *shape) -> (B,)`` (Captum's convention; select the explained output
            inside ``f``, e.g. ``lambda X: model(X)[:, 1]``).
        x: one input of ``shape``, or ``(N, *shape)`` rows explained together (their evaluations share calls
            of ``f``).
        background: ``(M, *shape)``: the baseline distribution, each row equally likely (e.g. training rows).
        samples: baselines per input row. Without replacement (default) at most ``M``; ``samples >= M`` uses
            every background row once, the exact expectation over the background (standard errors 0).
        groups: optional integer ids of ``shape`` (or a prefix of it) summing entries into features ``0..G-1``;
            ``-1`` holds an entry at its input value. Default: every entry its own feature.
        steps: path points per baseline: Gauss nodes for ``"gauss"`` (default 8), sampled positions for
            ``"stratified"`` / ``"random"`` (default 1; with 2 or more the within-baseline spread enters the
            standard error).
        path_samples: ``"auto"`` (default: ``"gauss"`` when every background row is used and ``steps`` is
            unset or at least 4, else ``"stratified"``), ``"gauss"``, ``"stratified"``, ``"random"`` (the paper's
            estimator) or ``"adaptive"`` (see the module docstring).
        replace: draw baselines with replacement (default ``False``).
        generator, seed: randomness: a ``torch.Generator`` (used as given), else ``seed`` (default 0: the same
            result on every call; ``None`` for fresh randomness).
        internal_batch_size: the most rows passed to ``f`` at once (bounds memory).
        rtol, atol, max_nodes, panel_nodes: the adaptive rule's settings (``path_samples="adaptive"``).
        (``steps`` and these make the call's :class:`~.path.PathSettings`.)
"""


def expected_gradients(
    f: BatchedFn,
    x: torch.Tensor,
    background: torch.Tensor,
    *,
    samples: int = 64,
    groups=None,
    steps: int | None = None,
    path_samples: str = "auto",
    replace: bool = False,
    generator: torch.Generator | None = None,
    seed: int | None = 0,
    internal_batch_size: int = 256,
    rtol: float = 1e-3,
    atol: float = 1e-4,
    max_nodes: int = 512,
    panel_nodes: int = 6,
) -> ExpectedResult:
    """Expected Gradients ``E_{x' ~ background}[IG(x; x')]``, with standard errors.

    Returns an :class:`ExpectedResult` (``interactions`` is ``None``); ``sum(attributions)`` estimates
    ``f(x) - E[f(x')]`` (see ``completeness_gap`` and ``completeness_se``).
    """
    path = PathSettings(steps=steps, rtol=rtol, atol=atol, max_nodes=max_nodes, panel_nodes=panel_nodes)
    return _expected(
        f,
        x,
        background,
        "uniform",
        path,
        samples=samples,
        groups=groups,
        path_samples=path_samples,
        replace=replace,
        generator=generator,
        seed=seed,
        internal_batch_size=internal_batch_size,
        progress=None,
    )


def expected_hessians(
    f: BatchedFn,
    x: torch.Tensor,
    background: torch.Tensor,
    *,
    samples: int = 64,
    groups=None,
    steps: int | None = None,
    path_samples: str = "auto",
    replace: bool = False,
    generator: torch.Generator | None = None,
    seed: int | None = 0,
    internal_batch_size: int = 256,
    rtol: float = 1e-3,
    atol: float = 1e-4,
    max_nodes: int = 512,
    panel_nodes: int = 6,
    progress=None,
) -> ExpectedResult:
    """Expected Hessians ``E_{x' ~ background}[IH(x; x')]``: interactions and attributions, with standard errors.

    Each baseline costs ``steps`` path points, each a ``G x G`` Hessian (``G`` Hessian-vector products).
    ``interactions`` are symmetric, rows sum to ``attributions`` (Expected Gradients), and the total estimates
    ``f(x) - E[f(x')]``. A warning (naming :func:`~.smoothing.smooth_relu`) is issued when every interaction
    is exactly 0 because ``f`` uses ReLU-family activations. ``progress``: optional object with ``update(n)``.
    """
    path = PathSettings(steps=steps, rtol=rtol, atol=atol, max_nodes=max_nodes, panel_nodes=panel_nodes)
    return _expected(
        f,
        x,
        background,
        "log",
        path,
        samples=samples,
        groups=groups,
        path_samples=path_samples,
        replace=replace,
        generator=generator,
        seed=seed,
        internal_batch_size=internal_batch_size,
        progress=progress,
    )


for _fn in (expected_gradients, expected_hessians):
    if _fn.__doc__ is not None:  # None under ``python -OO`` (docstrings stripped)
        _fn.__doc__ += _COMMON_DOC
del _fn
