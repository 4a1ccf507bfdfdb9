"""Hessian-vector-product strategies and the CPU element budget (issue 16, section 3): every strategy gives the
same Hessians, ``"auto"`` resolves by device and row size, the rows per call of ``f`` stay within the budget, and
batching that fails falls back to one copy per product."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from transformers_ih.engine.reduction import HVP_STRATEGIES, ReducedFunction


def net(seed: int = 0, n_in: int = 6, hidden: int = 9):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(hidden, n_in, generator=g, dtype=torch.float64)
    v = torch.randn(hidden, generator=g, dtype=torch.float64)
    return lambda X: torch.tanh(X.reshape(X.shape[0], -1) @ W.T) @ v


@pytest.mark.parametrize("strategy", HVP_STRATEGIES)
def test_every_strategy_gives_the_hessians(strategy):
    f = net(1)
    g = torch.Generator().manual_seed(2)
    x, xb = torch.randn(6, generator=g, dtype=torch.float64), torch.randn(6, generator=g, dtype=torch.float64)
    groups = torch.tensor([0, 1, 1, 2, 3, -1])
    red = ReducedFunction(f, x, xb, groups, internal_batch_size=5, hvp_strategy=strategy)
    ts = np.array([0.2, 0.5, 0.9])
    values, grads, hess = red.hessians(ts)
    assert red.hvp_count == 3 * 4
    for k, t in enumerate(ts):
        held = groups < 0
        point = torch.where(held, x, xb + t * (x - xb))
        delta = torch.where(held, torch.zeros_like(x), x - xb)
        # the reduced Hessian is D H D^T, D (groups x entries) holding each group's part of x - x'
        D = torch.zeros(4, 6, dtype=torch.float64)
        for j in range(4):
            D[j, groups == j] = delta[groups == j]
        H = torch.autograd.functional.hessian(lambda z: f(z[None])[0], point)
        ref = (D @ H @ D.T).numpy()
        np.testing.assert_allclose(hess[k], ref, atol=1e-12)
        assert values[k] == pytest.approx(float(f(point[None])[0]), abs=1e-14)


def test_auto_resolves_by_device_and_row_size():
    small = ReducedFunction(net(), torch.randn(6, dtype=torch.float64), 0.0)
    assert small.resolved_hvp_strategy() == "batched"
    n = ReducedFunction.CPU_BATCHED_MAX_ELEMENTS + 1
    big = ReducedFunction(lambda X: X.sum(-1), torch.randn(n), 0.0, groups=torch.zeros(n, dtype=torch.long))
    assert big.resolved_hvp_strategy() == "loop"
    big.device = torch.device("cuda")  # the rule only (no GPU needed): accelerators batch the directions
    assert big.resolved_hvp_strategy() == "batched"
    assert ReducedFunction(net(), torch.randn(6), 0.0, hvp_strategy="forward").resolved_hvp_strategy() == "forward"
    with pytest.raises(ValueError, match="hvp_strategy"):
        ReducedFunction(net(), torch.randn(6), 0.0, hvp_strategy="fast")


@pytest.mark.parametrize("strategy", ["batched", "loop", "copies"])
def test_rows_per_call_stay_within_the_element_budget(strategy):
    """Rows of 12 x 10 entries; a budget of 1,000 entries: gradients 8 rows per call, second-order passes (weight 2)
    4, whatever internal_batch_size is."""
    sizes = []
    W = torch.linspace(-1, 1, 120, dtype=torch.float64)

    def f(X):
        sizes.append(X.shape[0])
        return torch.tanh(X.reshape(X.shape[0], -1) @ W)

    x = torch.randn(12, 10, dtype=torch.float64)
    groups = torch.arange(12)  # one group per row of x: 12 groups
    red = ReducedFunction(f, x, 0.0, groups, internal_batch_size=64, hvp_strategy=strategy, max_batch_elements=1000)
    ts = np.linspace(0.1, 0.9, 20)
    red.gradients(ts)
    assert max(sizes) == 1000 // 120
    sizes.clear()
    red.path_derivatives(ts, 2)
    assert max(sizes) == 1000 // 240
    sizes.clear()
    _, _, hess = red.hessians(ts[:3])
    assert max(sizes) <= 1000 // 240
    unlimited = ReducedFunction(
        f, x, 0.0, groups, internal_batch_size=64, hvp_strategy=strategy, max_batch_elements=None
    )
    sizes.clear()
    unlimited.gradients(ts)
    assert max(sizes) == 20
    np.testing.assert_allclose(unlimited.hessians(ts[:3])[2], hess, atol=1e-13)


def test_element_budget_defaults():
    cpu = ReducedFunction(net(), torch.randn(6), 0.0)
    assert cpu.max_batch_elements == ReducedFunction.CPU_MAX_BATCH_ELEMENTS
    assert ReducedFunction(net(), torch.randn(6), 0.0, max_batch_elements=None).max_batch_elements is None


class _Unbatchable(torch.autograd.Function):
    """tanh whose backward reads a value (``.item()``): fine in a plain backward, not under vmap."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.tanh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        one = 1.0 + float((grad * 0).sum().item())
        return grad * (1 - torch.tanh(x) ** 2) * one


def test_batching_that_fails_falls_back_to_copies():
    W = torch.linspace(-1, 1, 18, dtype=torch.float64).reshape(6, 3)
    f = lambda X: _Unbatchable.apply(X @ W).pow(2).sum(-1)  # noqa: E731
    x = torch.randn(6, dtype=torch.float64)
    ts = np.array([0.3, 0.7])
    reference = ReducedFunction(f, x, 0.0, hvp_strategy="loop").hessians(ts)
    red = ReducedFunction(f, x, 0.0, hvp_strategy="batched")
    with pytest.warns(RuntimeWarning, match="one copy of each point per product"):
        got = red.hessians(ts)
    for a, b in zip(got, reference):
        np.testing.assert_allclose(a, b, atol=1e-13)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # remembered: no second attempt, no second warning
        red.hessian_columns(ts, [[1]])
