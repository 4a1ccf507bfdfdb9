"""The random parts of the Expected Gradients / Hessians estimator (:mod:`.expected`): drawing baselines from the
background, drawing path positions from the path measure (independent or stratified), and the standard error of
a mean over sampled baselines. All arrays are float64 numpy (indices int64); randomness comes from a
``torch.Generator`` so that a seed reproduces a result.
"""

from __future__ import annotations

import numpy as np
import torch


def make_generator(generator: torch.Generator | None, seed: int | None) -> torch.Generator:
    """``generator`` as given, else a new one seeded with ``seed`` (``None``: a fresh random seed)."""
    if generator is not None:
        return generator
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))
    return gen


def draw_baselines(gen: torch.Generator, rows: int, background: int, samples: int, replace: bool) -> np.ndarray:
    """``(rows, n)`` background indices: with replacement, or distinct per row (all rows in order when
    ``samples >= background``)."""
    if replace:
        return torch.randint(background, (rows, samples), generator=gen).numpy()
    if samples >= background:
        return np.tile(np.arange(background), (rows, 1))
    return np.stack([torch.randperm(background, generator=gen)[:samples].numpy() for _ in range(rows)])


def random_positions(gen: torch.Generator, measure: str, shape: tuple[int, ...]) -> np.ndarray:
    """Path positions with the measure's density: uniform (EG) or ``-ln t`` (EH: ``t = a * b``)."""
    t = torch.rand(shape, generator=gen, dtype=torch.float64)
    if measure == "log":
        t = t * torch.rand(shape, generator=gen, dtype=torch.float64)
    return t.numpy()


def measure_quantiles(measure: str, u: np.ndarray) -> np.ndarray:
    """Quantiles of the path measure: ``u`` itself (uniform) or the solution of ``t (1 - ln t) = u`` (the
    distribution function of the density ``-ln t``), by bisection to machine precision."""
    if measure == "uniform":
        return u
    lo, hi = np.zeros_like(u), np.ones_like(u)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = mid * (1.0 - np.log(np.maximum(mid, 1e-300))) < u
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def stratified_positions(gen: torch.Generator, measure: str, rows: int, per_row: int) -> np.ndarray:
    """``(rows, per_row)`` path positions: within each row, one in each of ``per_row`` equal-probability strata
    of the measure, in random order (each position alone has the measure's distribution: unbiased)."""
    u = torch.rand((rows, per_row), generator=gen, dtype=torch.float64).numpy()
    order = torch.argsort(torch.rand((rows, per_row), generator=gen), dim=1).numpy()
    return measure_quantiles(measure, (order + u) / per_row)


def standard_error(
    units: np.ndarray, M: int, replace: bool, within: np.ndarray | None, sampled_path: bool
) -> np.ndarray:
    """Standard error of the mean over axis 1 of ``units`` (``(R, n, ...)`` per-baseline estimates).

    Two-stage sampling (Cochran, *Sampling Techniques*, 10.2): ``n`` of ``M`` baselines, each with an unbiased
    estimate of its own path integral. Without replacement the variance of the mean is estimated by
    ``(1 - n/M) s^2 / n + (n/M) mean(v_k) / n`` with ``s^2`` the spread of the per-baseline estimates and
    ``v_k`` the variance of baseline ``k``'s own estimate (0 for a deterministic rule; the within-baseline
    spread over ``steps >= 2`` sampled positions). With one sampled position per baseline ``v_k`` is unknown and
    ``s^2 / n`` is used (an overestimate). With replacement: ``s^2 / n``.
    """
    n = units.shape[1]
    out_shape = units.shape[:1] + units.shape[2:]
    frac = n / M
    between = units.var(axis=1, ddof=1) / n if n >= 2 else np.full(out_shape, np.nan)
    if replace or (sampled_path and within is None):
        var = between
    elif within is None:  # deterministic path rule
        var = np.zeros(out_shape) if frac >= 1.0 else (1.0 - frac) * between
    else:
        var = (0.0 if frac >= 1.0 else (1.0 - frac) * between) + frac * within.mean(axis=1) / n
    return np.sqrt(var)
