"""Running path_explain's ``PathExplainerTorch.interactions`` on a transformer's flattened word embeddings (or on
one coordinate per word), with a measured-or-extrapolated protocol.

Their cost: ``interactions`` loops over ``k = round(sqrt(num_samples))`` outer path points; at each it computes
Integrated Gradients of the point with ``k`` inner points (``create_graph=True``), then one backward pass per
input feature through those ``k`` inner graphs (``for feature in range(n): grad(ig[:, i, feature], ...)``). So
``T = k * (A + n * B)`` with ``A`` the inner-IG cost and ``B`` the cost of one feature's backward pass.

A *probe* runs their own code with their module's ``grad`` wrapped: it times ``A`` (until the first per-feature
backward) and ``B`` (median of the first ``probe_features`` per-feature backward passes), then stops their loop.
Each probe is repeated (``probe_repeats``) and the least ``A`` and ``B`` kept. When ``k * (A + n * B)`` is under a
limit the call is run to the end and timed ("measured"); otherwise the
prediction is reported ("extrapolated"). Predictions are checked against full runs where both exist.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch


class _StopProbe(Exception):
    pass


def inner_k(num_samples: int) -> int:
    return int(round(np.sqrt(num_samples)))


def grid_rule(num_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """The path rule path_explain's ``interactions(..., use_expectation=False)`` applies to the IH integrand:
    ``t = a_i * b_j`` with ``a_i = i / (k - 1)``, ``b_j = j / (k - 1)``, ``i, j = 0..k-1``, equal weights
    ``1 / k^2`` (duplicates merged). Their interactions sum to ``sum_ij w (F'(t) + t F''(t))`` exactly."""
    k = inner_k(num_samples)
    a = np.arange(k) / (k - 1)
    t = np.round(np.outer(a, a).ravel(), 15)
    nodes, counts = np.unique(t, return_counts=True)
    return nodes, counts / float(k * k)


class _SmallInteractionTensor:
    """Stands in for their module's ``torch`` during a probe: ``torch.zeros`` of their ``(B, k, n, n)`` interaction
    tensor gets only the rows the probe fills (``(B, k, rows, n)``), so that probing a configuration whose tensor
    would not fit in memory does not allocate it. Everything else is torch's."""

    def __init__(self, rows: int):
        self._rows = rows

    def __getattr__(self, name):
        return getattr(torch, name)

    def zeros(self, *size, **kwargs):
        shape = list(size[0]) if len(size) == 1 and isinstance(size[0], (list, tuple, torch.Size)) else list(size)
        if len(shape) == 4:
            shape[2] = min(shape[2], self._rows)
        return torch.zeros(shape, **kwargs)


def probe(
    pe_module,
    model_fn,
    x_flat: torch.Tensor,
    base_flat: torch.Tensor,
    num_samples: int,
    probe_features: int = 8,
    small_tensor: bool = False,
) -> dict:
    """Time ``A`` and ``B`` of their ``interactions`` call (see module doc) without running it to the end.

    ``small_tensor``: do not allocate their ``(B, k, n, n)`` tensor (too big for this machine); ``A`` then leaves
    out the time to allocate and zero it (a lower bound)."""
    real_grad = pe_module.grad
    state = {"feature_times": [], "first_feature": None}

    def grad(*args, **kwargs):
        if sys._getframe(1).f_code.co_name != "interactions":
            return real_grad(*args, **kwargs)
        t0 = time.perf_counter()
        if state["first_feature"] is None:
            state["first_feature"] = t0
        out = real_grad(*args, **kwargs)
        state["feature_times"].append(time.perf_counter() - t0)
        if len(state["feature_times"]) >= probe_features:
            raise _StopProbe
        return out

    n = x_flat.shape[1]
    k = inner_k(num_samples)
    explainer = pe_module.PathExplainerTorch(model_fn)
    pe_module.grad = grad
    if small_tensor:
        pe_module.torch = _SmallInteractionTensor(probe_features + 1)
    try:
        inp = x_flat.detach().clone().requires_grad_(True)
        t0 = time.perf_counter()
        try:
            explainer.interactions(
                inp, base_flat.detach(), num_samples=num_samples, use_expectation=False, verbose=False
            )
        except _StopProbe:
            pass
    finally:
        pe_module.grad = real_grad
        pe_module.torch = torch
    times = state["feature_times"]
    A = state["first_feature"] - t0
    B = float(np.median(times[1:] if len(times) > 2 else times))
    return {
        "num_samples": num_samples,
        "k": k,
        "features": n,
        "A_s": A,
        "B_s": B,
        "probe_features": len(times),
        "predicted_s": k * (A + n * B),
        "interaction_tensor_gb": k * n * n * 4 / 2**30,
        "tensor_allocated_in_probe": not small_tensor,
    }


def run_full(
    pe_module, model_fn, x_flat: torch.Tensor, base_flat: torch.Tensor, num_samples: int
) -> tuple[float, torch.Tensor]:
    explainer = pe_module.PathExplainerTorch(model_fn)
    inp = x_flat.detach().clone().requires_grad_(True)
    t0 = time.perf_counter()
    out = explainer.interactions(inp, base_flat.detach(), num_samples=num_samples, use_expectation=False, verbose=False)
    return time.perf_counter() - t0, out.detach()[0].double()


def measure(
    pe_module,
    model_fn,
    x_flat,
    base_flat,
    num_samples: int,
    *,
    limit_s: float,
    memory_limit_gb: float = 4.0,
    probe_features: int = 8,
    probe_repeats: int = 2,
) -> dict:
    """Probe, then run to the end if predicted under ``limit_s`` (and its ``(k, n, n)`` tensor under
    ``memory_limit_gb``). Returns the probe, ``time_s`` and ``status`` ("measured" / "extrapolated") and, when
    measured, ``interactions`` (``(n, n)`` float64)."""
    n, k = x_flat.shape[1], inner_k(num_samples)
    fits = k * n * n * 4 / 2**30 * 3 <= memory_limit_gb  # their (k,n,n) tensor, its product with delta, the mean
    info = None
    for _ in range(probe_repeats):  # the least of repeated probes: one-off slowdowns of a shared CPU inflate a probe
        p = probe(pe_module, model_fn, x_flat, base_flat, num_samples, probe_features, small_tensor=not fits)
        if info is None:
            info = p
        else:
            info["A_s"], info["B_s"] = min(info["A_s"], p["A_s"]), min(info["B_s"], p["B_s"])
    info["predicted_s"] = k * (info["A_s"] + n * info["B_s"])
    info["probe_repeats"] = probe_repeats
    if info["predicted_s"] <= limit_s and fits:
        t, inter = run_full(pe_module, model_fn, x_flat, base_flat, num_samples)
        info.update(time_s=t, status="measured", interactions=inter)
    else:
        info.update(
            time_s=info["predicted_s"],
            status="extrapolated",
            why=("predicted time over the limit" if info["predicted_s"] > limit_s else "")
            + (
                ""
                if fits
                else f"; their (k, n, n) float32 tensors (3 x {info['interaction_tensor_gb']:.1f} GB) "
                f"over the {memory_limit_gb:g} GB limit"
            ),
        )
    return info
