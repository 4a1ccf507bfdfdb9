"""Selected rows of the interaction matrix (issue 16, section 2, engine side): ``ReducedFunction.hessian_columns``
and ``integrated_hessians_reduced(..., rows=...)`` against the full matrix, on closed-form
functions (float64) and a tiny random BERT (float32)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from transformers_ih.engine.integrated_hessians import integrated_hessians_reduced
from transformers_ih.engine.path import PathSettings
from transformers_ih.engine.reduction import HVP_STRATEGIES, ReducedFunction


def tanh_net(seed: int, n_in: int = 8, hidden: int = 10):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(hidden, n_in, generator=g, dtype=torch.float64)
    c, v = torch.randn(hidden, generator=g, dtype=torch.float64), torch.randn(hidden, generator=g, dtype=torch.float64)
    return lambda X: torch.tanh(X @ W.T + c) @ v


def problem(seed: int = 0, **options) -> ReducedFunction:
    g = torch.Generator().manual_seed(seed + 100)
    x, xb = torch.randn(8, generator=g, dtype=torch.float64), torch.randn(8, generator=g, dtype=torch.float64)
    groups = torch.tensor([0, 1, 1, 2, 3, 4, 4, -1])  # 5 groups, one entry held at the input
    return ReducedFunction(tanh_net(seed), x, xb, groups, **options)


class Counter:
    total = None

    def __init__(self):
        self.done = 0

    def update(self, n):
        self.done += n


def assert_rows_of(sel, full, rows, atol):
    """``sel`` holds exactly the rows (and columns) ``rows`` of ``full``, NaN elsewhere, and its mask says so."""
    G = full.interactions.shape[0]
    mask = np.zeros((G, G), dtype=bool)
    mask[rows, :] = mask[:, rows] = True
    assert sel.computed is not None and sel.computed.dtype == bool
    np.testing.assert_array_equal(sel.computed, mask)
    assert np.isnan(sel.interactions[~mask]).all()  # never silently 0
    assert np.isfinite(sel.interactions[mask]).all()
    np.testing.assert_allclose(sel.interactions[mask], full.interactions[mask], rtol=0, atol=atol)
    np.testing.assert_allclose(sel.interactions, sel.interactions.T, atol=0)  # exactly symmetric (NaN == NaN here)
    np.testing.assert_allclose(sel.attributions, full.attributions, rtol=0, atol=atol)  # every group, exactly
    # each computed row sums to its attribution; completeness through the attributions
    np.testing.assert_allclose(sel.interactions[rows].sum(axis=1), sel.attributions[rows], rtol=0, atol=atol)
    assert sel.completeness_error == pytest.approx(
        abs(sel.attributions.sum() - (sel.f_input - sel.f_baseline)), abs=1e-15
    )
    assert sel.completeness_error == pytest.approx(full.completeness_error, abs=atol)


@pytest.mark.parametrize("path", [dict(steps=12), dict(rtol=1e-6, atol=1e-10)], ids=["fixed", "adaptive"])
def test_selected_rows_equal_the_full_matrix_rows(path):
    red = problem()
    (full,) = integrated_hessians_reduced(red, PathSettings(**path))
    assert full.computed is None
    for rows in ([2], [0, 3], [4, 1, 1], []):
        counter = Counter()
        red.hvp_count = 0
        (sel,) = integrated_hessians_reduced(red, PathSettings(**path), progress=counter, rows=[rows])
        assert len(sel.rule) == len(full.rule)  # 5 groups: no coarsening either way, the same path points
        wanted = sorted(set(rows))
        assert_rows_of(sel, full, wanted, atol=1e-12)
        # cost: |rows| + 1 products per path point (the selected unit directions and the path direction)
        assert red.hvp_count == counter.done == counter.total == len(sel.rule) * (len(wanted) + 1)


@pytest.mark.parametrize("strategy", [s for s in HVP_STRATEGIES[1:] if s != "forward"])  # forward: test_engine_hvp
def test_every_strategy_gives_the_same_rows(strategy):
    (full,) = integrated_hessians_reduced(problem(1), PathSettings(steps=10))
    red = problem(1, hvp_strategy=strategy, internal_batch_size=3)
    (sel,) = integrated_hessians_reduced(red, PathSettings(steps=10), rows=[[1, 4]])
    assert_rows_of(sel, full, [1, 4], atol=1e-12)
    assert red.hvp_count == 10 * 3
    (again,) = integrated_hessians_reduced(red, PathSettings(steps=10))  # and the full matrix
    np.testing.assert_allclose(again.interactions, full.interactions, atol=1e-12)


def test_hessians_directions_return_columns_and_the_path_direction():
    red = problem(2)
    ts = np.array([0.1, 0.5, 0.9])
    values, grads, hess = red.hessians(ts)
    v2, g2, h2, along = red.hessian_columns(ts, [[3, 0]])
    np.testing.assert_allclose(v2, values, atol=1e-14)
    np.testing.assert_allclose(g2, grads, atol=1e-14)
    np.testing.assert_allclose(h2[:, :, [0, 3]], hess[:, :, [0, 3]], atol=1e-12)
    assert np.isnan(h2[:, :, [1, 2, 4]]).all()
    np.testing.assert_allclose(along, hess.sum(axis=2), atol=1e-12)  # H @ 1


def test_problems_with_their_own_rows_share_calls():
    """Several problems (different group counts), each with its own rows or its full matrix (None)."""
    g = torch.Generator().manual_seed(5)
    xs, bases = torch.randn(3, 6, generator=g, dtype=torch.float64), torch.randn(3, 6, generator=g, dtype=torch.float64)
    groups = [torch.tensor([0, 0, 1, 1, 2, 2]), torch.tensor([0, 1, 2, 3, 4, -1]), None]
    scale = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    f = tanh_net(7, n_in=6)
    multi = ReducedFunction(lambda X, p: f(X) * scale[p], xs, bases, groups, internal_batch_size=7, multi=True)
    full = integrated_hessians_reduced(multi, PathSettings(steps=8))
    rows = [[2], None, [0, 5]]
    multi.hvp_count = 0
    sel = integrated_hessians_reduced(multi, PathSettings(steps=8), rows=rows)
    assert multi.hvp_count == 8 * (2 + 5 + 3)
    assert_rows_of(sel[0], full[0], [2], atol=1e-12)
    assert sel[1].computed is None
    np.testing.assert_allclose(sel[1].interactions, full[1].interactions, atol=1e-12)
    assert_rows_of(sel[2], full[2], [0, 5], atol=1e-12)
    assert sel[2].interactions.shape == (6, 6)


def test_node_cost_counts_the_products_computed():
    """The adaptive rule is chosen as for the full matrix; only its node cost (which decides whether the converged
    rule is coarsened) counts the products computed: 12 groups coarsen, one row (2 products) does not."""
    from transformers_ih.engine.adaptive import adaptive_rule

    x = torch.ones(12, dtype=torch.float64)
    f = lambda X: (
        torch.tanh(40 * (X[:, :4].mean(-1) - 0.6))
        + torch.tanh(
            X[:, 4:]
            @ torch.linspace(
                -0.5,
                0.5,
                8,  # noqa: E731
                dtype=X.dtype,
            )
        )
    )
    red = ReducedFunction(f, x, torch.zeros(12, dtype=torch.float64))
    path = dict(rtol=1e-4, atol=1e-12)
    plain, _ = adaptive_rule(red.path_derivatives, "log", **path)
    coarse, _ = adaptive_rule(red.path_derivatives, "log", node_cost=6.5, **path)
    assert len(coarse) < len(plain)
    (full,) = integrated_hessians_reduced(red, PathSettings(**path))
    (one,) = integrated_hessians_reduced(red, PathSettings(**path), rows=[[5]])
    assert len(full.rule) == len(coarse) and len(one.rule) == len(plain)
    np.testing.assert_allclose(one.interactions[5], full.interactions[5], atol=1e-4 * np.abs(full.interactions).max())


def test_bad_rows():
    red = problem()
    with pytest.raises(ValueError, match="outside 0..4"):
        integrated_hessians_reduced(red, PathSettings(steps=2), rows=[[5]])
    with pytest.raises(ValueError, match="2 entries for 1 problems"):
        integrated_hessians_reduced(red, PathSettings(steps=2), rows=[[0], [1]])
    with pytest.raises(TypeError, match="list of group indices"):
        integrated_hessians_reduced(red, PathSettings(steps=2), rows=[["a"]])
    with pytest.raises(ValueError, match="out of range"):
        red.hessian_columns(np.array([0.5]), [[-1]])


def test_tiny_bert_rows_equal_the_full_matrix_rows(tiny_classifier):
    from transformers_ih import SequenceClassificationInteractionExplainer
    from transformers_ih.text.targets import class_selector

    model, tok = tiny_classifier("bert")
    explainer = SequenceClassificationInteractionExplainer(model, tok, smoothing=None)
    enc = explainer.encode(["not a good film , but the actors try hard"])
    x, xb, _ = explainer.baseline_embeddings(enc, "pad")
    select = class_selector(1, "logit")
    f = explainer.scalar_function(enc, select)
    context, _ = explainer.engine_context(enc, select, interactions=True, function=f)
    with context:
        red = ReducedFunction(f, x, xb, groups=enc.token_word, hvp_strategy="loop")
        (full,) = integrated_hessians_reduced(red, PathSettings(steps=6))
        red.hvp_count = 0
        rows = [1, 3, 6]
        (sel,) = integrated_hessians_reduced(red, PathSettings(steps=6), rows=[rows])
        assert red.hvp_count == 6 * (len(rows) + 1)
        (batched,) = integrated_hessians_reduced(
            ReducedFunction(f, x, xb, groups=enc.token_word, hvp_strategy="batched"), PathSettings(steps=6), rows=[rows]
        )
    scale = np.abs(full.interactions).max()
    assert_rows_of(sel, full, rows, atol=1e-5 * scale)
    np.testing.assert_allclose(batched.interactions[sel.computed], sel.interactions[sel.computed], atol=1e-5 * scale)
    assert sel.meta["raw_asymmetry"] < 1e-4
