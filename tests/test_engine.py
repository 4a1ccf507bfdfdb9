"""The engine against closed forms, the paper's double integral, Captum, and its own axioms."""

import warnings

import numpy as np
import pytest
import torch
from optional import require  # noqa: E402

from transformers_ih.engine import NodeCapWarning, integrated_gradients, integrated_hessians
from transformers_ih.engine.quadrature import gauss_legendre

pytestmark = pytest.mark.usefixtures("float64")  # the math in float64 for this module only (models stay float32)


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)  # inputs drawn with torch.randn are the same whatever the test order


def check_axioms(result, tol=1e-10):
    gamma = result.interactions
    np.testing.assert_allclose(gamma, gamma.T, atol=tol)
    np.testing.assert_allclose(gamma.sum(1), np.ravel(result.attributions), atol=tol)
    assert abs(gamma.sum() - (result.f_input - result.f_baseline)) == pytest.approx(
        result.completeness_error, abs=1e-14
    )


def test_quadratic_closed_form():
    g = torch.Generator().manual_seed(0)
    A = torch.randn(5, 5, generator=g)
    A = A + A.T
    b = torch.randn(5, generator=g)
    x, xb = torch.randn(5, generator=g), torch.randn(5, generator=g)
    f = lambda X: 0.5 * torch.einsum("bi,ij,bj->b", X, A, X) + X @ b
    r = integrated_hessians(f, x, xb)
    d = (x - xb).numpy()
    # int (-ln t) t dt = 1/4, int (-ln t) dt = 1; grad along the path = A (xb + t d) + b
    expected = np.outer(d, d) * A.numpy() / 4 + np.diag(d * ((A @ xb + b).numpy() + (A.numpy() @ d) / 4))
    np.testing.assert_allclose(r.interactions, expected, atol=1e-12)
    check_axioms(r)
    assert r.completeness_error < 1e-12


def test_triple_product_closed_form():
    x = torch.tensor([0.7, -1.3, 2.0])
    r = integrated_hessians(lambda X: X[:, 0] * X[:, 1] * X[:, 2], x, torch.zeros(3))
    # every entry is x0 x1 x2 * int (-ln t) t^2 dt = prod / 9
    np.testing.assert_allclose(r.interactions, np.full((3, 3), float(x.prod()) / 9), atol=1e-13)
    check_axioms(r)


def tanh_net(seed=0, n_in=6, hidden=8):
    g = torch.Generator().manual_seed(seed)
    W, c, v = torch.randn(hidden, n_in, generator=g), torch.randn(hidden, generator=g), torch.randn(hidden, generator=g)
    f = lambda X: torch.tanh(X @ W.T + c) @ v
    grad = lambda z: (W.T * (v * (1 - torch.tanh(z @ W.T + c) ** 2))).sum(1)

    def hess(z):
        u = z @ W.T + c
        s = v * (-2 * torch.tanh(u) * (1 - torch.tanh(u) ** 2))
        return W.T @ torch.diag(s) @ W

    return f, grad, hess


def paper_double_integral(grad, hess, x, xb, n=48):
    """The paper's definition: Gamma_ij = d_i d_j int int a b H_ij(xb + a b d) + [i=j] d_i int int grad_i,
    by a tensor-product Gauss-Legendre rule over (a, b), with closed-form gradient and Hessian."""
    nodes, weights = gauss_legendre(n)
    d = x - xb
    gamma = torch.zeros(len(x), len(x))
    for a, wa in zip(nodes, weights):
        for b, wb in zip(nodes, weights):
            z = xb + a * b * d
            gamma += wa * wb * (a * b * torch.outer(d, d) * hess(z) + torch.diag(d * grad(z)))
    return gamma.numpy()


def test_tanh_network_matches_the_papers_double_integral():
    f, grad, hess = tanh_net()
    g = torch.Generator().manual_seed(1)
    x, xb = torch.randn(6, generator=g), torch.zeros(6)
    reference = paper_double_integral(grad, hess, x, xb)
    r = integrated_hessians(f, x, xb, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r.interactions, reference, atol=1e-9 * np.abs(reference).max())
    check_axioms(r)
    assert r.completeness_error < 1e-9


def test_groups_equal_sums_of_entry_interactions():
    f, _, _ = tanh_net(seed=2)
    g = torch.Generator().manual_seed(3)
    x, xb = torch.randn(6, generator=g), torch.randn(6, generator=g)
    groups = torch.tensor([0, 0, 1, 2, 2, 2])
    full = integrated_hessians(f, x, xb, steps=24)
    grouped = integrated_hessians(f, x, xb, groups=groups, steps=24)
    S = np.zeros((3, 6))
    S[groups.numpy(), np.arange(6)] = 1
    np.testing.assert_allclose(grouped.interactions, S @ full.interactions @ S.T, atol=1e-12)
    check_axioms(grouped)


def test_held_entries_get_nothing_and_stay_at_input():
    f, _, _ = tanh_net(seed=4)
    x, xb = torch.randn(6), torch.zeros(6)
    groups = torch.tensor([0, 1, -1, 2, -1, 3])
    r = integrated_hessians(f, x, xb, groups=groups)
    x_held_baseline = torch.where(groups < 0, x, xb)
    assert r.f_baseline == pytest.approx(float(f(x_held_baseline[None])[0]), abs=1e-12)
    assert r.interactions.shape == (4, 4)
    check_axioms(r)


def test_attributions_match_integrated_gradients():
    f, _, _ = tanh_net(seed=5)
    x, xb = torch.randn(6), torch.randn(6)
    ih = integrated_hessians(f, x, xb, rtol=1e-9, atol=1e-12)
    ig = integrated_gradients(f, x, xb, rtol=1e-9, atol=1e-12)
    # both rules are within rtol * |delta| of the exact integral
    np.testing.assert_allclose(ih.attributions, ig.attributions, atol=4e-9 * abs(ig.f_input - ig.f_baseline))
    assert ig.completeness_error <= ig.adaptive.tolerance + 1e-12


def test_integrated_gradients_agree_with_captum():
    captum_attr = require("captum.attr", 'pip install -e ".[test]" (captum)')
    f, _, _ = tanh_net(seed=6)
    x, xb = torch.randn(2, 3), torch.randn(2, 3)
    flat = lambda X: f(X.reshape(X.shape[0], -1))
    ours = integrated_gradients(flat, x, xb, steps=64)
    theirs = captum_attr.IntegratedGradients(flat).attribute(x[None], xb[None], n_steps=64, method="gausslegendre")
    assert ours.attributions.shape == (2, 3)
    np.testing.assert_allclose(ours.attributions, theirs[0].numpy(), atol=1e-10)


def test_internal_batch_size_does_not_change_results():
    f, _, _ = tanh_net(seed=7)
    x = torch.randn(6)
    a = integrated_hessians(f, x, steps=10, internal_batch_size=1)
    b = integrated_hessians(f, x, steps=10, internal_batch_size=1000)
    np.testing.assert_allclose(a.interactions, b.interactions, atol=1e-13)


def test_calls_to_f_are_bounded_by_internal_batch_size():
    f, _, _ = tanh_net(seed=8)
    sizes = []
    integrated_hessians(lambda X: (sizes.append(X.shape[0]), f(X))[1], torch.randn(6), steps=8, internal_batch_size=5)
    assert max(sizes) <= 5


def sharp(X):
    """A smooth step at s = 0.6 along the path: hard for fixed rules, like fine-tuned classifiers."""
    s = X.sum(-1) / X.shape[-1]
    return torch.tanh(40 * (s - 0.6)) * (1 + X[:, 0] * X[:, 1])


def test_adaptive_rule_meets_tolerance_where_a_fixed_rule_fails():
    x = torch.ones(4) * 1.0
    delta = abs(float(sharp(x[None]) - sharp(torch.zeros(1, 4))))
    fixed = integrated_hessians(sharp, x, steps=16)
    adaptive = integrated_hessians(sharp, x, rtol=1e-4, atol=1e-12)
    assert fixed.completeness_error > 1e-2 * delta
    assert adaptive.completeness_error <= 1e-4 * delta
    assert adaptive.adaptive.converged and adaptive.adaptive.estimated_error <= adaptive.adaptive.tolerance
    assert adaptive.completeness_error == pytest.approx(adaptive.adaptive.completeness_error, abs=1e-10)
    check_axioms(adaptive)
    # and the nodes crowd around the transition at t = 0.6
    widths = {(a, b): b - a for a, b in adaptive.adaptive.panels}
    narrowest = min(widths, key=widths.get)
    assert 0.45 <= narrowest[0] <= 0.75


def test_coarsening_keeps_the_tolerance_with_fewer_final_nodes():
    """With expensive final nodes (many groups), panels with error to spare get lower-order rules: fewer nodes,
    the summed panel error (exact) still within the tolerance, and the interactions as close to a tight
    reference as the rule without coarsening."""
    from transformers_ih.engine.adaptive import adaptive_rule
    from transformers_ih.engine.reduction import ReducedFunction

    x = torch.ones(12)
    f = lambda X: sharp(X[:, :4]) + torch.tanh(X[:, 4:] @ torch.linspace(-0.5, 0.5, 8)) * X[:, 0]  # noqa: E731
    reduced = ReducedFunction(f, x, torch.zeros(12))
    plain, plain_info = adaptive_rule(reduced.path_derivatives, "log", rtol=1e-4, atol=1e-12)
    rule, info = adaptive_rule(reduced.path_derivatives, "log", rtol=1e-4, atol=1e-12, node_cost=6.5)
    assert len(rule) < len(plain)
    assert info.scalar_evaluations > plain_info.scalar_evaluations
    assert info.converged and info.estimated_error <= info.tolerance
    assert info.completeness_error <= info.tolerance
    sizes = {sum(a <= t < b for t in rule.nodes) for a, b in info.panels}
    assert min(sizes) < 6 == max(sizes)  # some panels coarsened, the hardest kept at 6 nodes
    assert rule.weights.sum() == pytest.approx(1.0, abs=1e-12)  # int_0^1 -ln t dt
    # through integrated_hessians (12 groups: a node costs ~6.5 scalar evaluations, so it coarsens)
    r = integrated_hessians(f, x, torch.zeros(12), rtol=1e-4, atol=1e-12)
    assert len(r.rule) == len(rule)
    ref = integrated_hessians(f, x, torch.zeros(12), rtol=1e-10, atol=1e-14)
    scale = np.abs(ref.interactions).max()
    assert np.abs(r.interactions - ref.interactions).max() <= 1e-4 * scale
    assert r.completeness_error <= 1e-4 * abs(r.f_input - r.f_baseline)
    check_axioms(r)


def test_no_coarsening_for_cheap_nodes():
    """Few groups (a final node costs about as much as a scalar evaluation): no extra evaluations are spent."""
    from transformers_ih.engine.adaptive import adaptive_rule
    from transformers_ih.engine.reduction import ReducedFunction

    reduced = ReducedFunction(sharp, torch.ones(4), torch.zeros(4))
    plain, plain_info = adaptive_rule(reduced.path_derivatives, "log", rtol=1e-4, atol=1e-12)
    r = integrated_hessians(sharp, torch.ones(4), rtol=1e-4, atol=1e-12)
    assert len(r.rule) == len(plain) and r.adaptive.scalar_evaluations == plain_info.scalar_evaluations


def test_node_cap_warns():
    with pytest.warns(NodeCapWarning, match="max_nodes"):
        r = integrated_hessians(sharp, torch.ones(4), rtol=1e-10, atol=1e-14, max_nodes=30)
    assert not r.adaptive.converged
    assert len(r.rule) <= 30


def test_bad_inputs():
    with pytest.raises(ValueError, match="shape \\(B,\\)"):
        integrated_hessians(lambda X: X, torch.ones(3), steps=2)
    with pytest.raises(ValueError, match="steps"):
        integrated_hessians(lambda X: X.sum(-1), torch.ones(3), method="gauss")
    with pytest.raises(ValueError, match="contiguous"):
        integrated_hessians(lambda X: X.sum(-1), torch.ones(3), groups=torch.tensor([0, 2, 2]), steps=2)
    with pytest.raises(TypeError, match="floating"):
        integrated_gradients(lambda X: X.sum(-1), torch.ones(3, dtype=torch.long))


def test_problems_batched_together_equal_one_at_a_time():
    from transformers_ih.engine.integrated_gradients import integrated_gradients_reduced
    from transformers_ih.engine.integrated_hessians import integrated_hessians_reduced
    from transformers_ih.engine.path import PathSettings
    from transformers_ih.engine.reduction import ReducedFunction

    f, _, _ = tanh_net(seed=9)
    g = torch.Generator().manual_seed(10)
    xs, bases = torch.randn(3, 6, generator=g), torch.randn(3, 6, generator=g)
    groups = [torch.tensor([0, 0, 1, 1, 2, 2]), torch.tensor([0, 1, 2, 3, 4, -1]), None]
    scale = torch.tensor([1.0, -2.0, 0.5])  # rows of different problems are treated differently
    multi = ReducedFunction(lambda X, p: f(X) * scale[p], xs, bases, groups, internal_batch_size=7, multi=True)
    for path in (dict(steps=12), dict(rtol=1e-6, atol=1e-10)):
        ih = integrated_hessians_reduced(multi, PathSettings(**path))
        ig = integrated_gradients_reduced(multi, PathSettings(**path))
        for j in range(3):
            fj = lambda X, j=j: f(X) * scale[j]
            single = integrated_hessians(fj, xs[j], bases[j], groups=groups[j], **path)
            assert ih[j].interactions.shape == single.interactions.shape
            np.testing.assert_allclose(ih[j].interactions, single.interactions, atol=1e-12)
            assert len(ih[j].rule) == len(single.rule)
            check_axioms(ih[j])
            single_ig = integrated_gradients(fj, xs[j], bases[j], groups=groups[j], **path)
            np.testing.assert_allclose(ig[j].attributions, np.ravel(single_ig.attributions), atol=1e-12)


def test_out_of_memory_halves_the_batch_and_retries():
    f, _, _ = tanh_net(seed=11)
    x = torch.randn(6)
    sizes = []

    def small_memory(X):
        sizes.append(X.shape[0])
        if X.shape[0] > 5:
            raise torch.OutOfMemoryError("simulated: CUDA out of memory")
        return f(X)

    with pytest.warns(ResourceWarning, match=r"retrying with internal_batch_size=\d+"):
        r = integrated_hessians(small_memory, x, steps=8, internal_batch_size=64)
    reference = integrated_hessians(f, x, steps=8)
    np.testing.assert_allclose(r.interactions, reference.interactions, atol=1e-13)
    assert sizes[0] > 5 and max(sizes[-3:]) <= 5

    def cpu_small_memory(X):  # the CPU allocator raises a plain RuntimeError
        if X.shape[0] > 5:
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:121] DefaultCPUAllocator: can't allocate memory")
        return f(X)

    with pytest.warns(ResourceWarning, match="retrying"):
        r = integrated_hessians(cpu_small_memory, x, steps=8, internal_batch_size=64)
    np.testing.assert_allclose(r.interactions, reference.interactions, atol=1e-13)

    def never_fits(X):
        raise torch.OutOfMemoryError("simulated")

    with pytest.raises(torch.OutOfMemoryError), pytest.warns(ResourceWarning):
        integrated_gradients(never_fits, x, steps=4)


def test_hessian_strategies_agree():
    """Directions batched in one backward pass (default) and one copy of the point per product (fallback)."""
    from transformers_ih.engine.reduction import ReducedFunction

    f, _, _ = tanh_net(seed=12)
    red = ReducedFunction(f, torch.randn(6), torch.zeros(6), torch.tensor([0, 1, 1, 2, 3, 3]), internal_batch_size=5)
    ts = np.linspace(0.05, 0.95, 7)
    batched = [np.zeros(7), np.zeros((7, 4)), np.zeros((7, 4, 4))]
    copies = [np.zeros(7), np.zeros((7, 4)), np.zeros((7, 4, 4))]
    red._hessians_batched_directions(ts, np.zeros(7, dtype=int), batched, None)
    red._hessians_copies(ts, np.zeros(7, dtype=int), copies, None)
    for a, b in zip(batched, copies):
        np.testing.assert_allclose(a, b, atol=1e-13)
    assert np.abs(batched[2]).max() > 1e-3


def test_errors_of_the_function_are_not_retried():
    f, _, _ = tanh_net(seed=13)
    calls = []

    def failing(X):
        calls.append(1)
        raise RuntimeError("the model failed")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeError, match="the model failed"):
            integrated_hessians(failing, torch.randn(6), steps=4)
    assert len(calls) == 1


def test_adaptive_integrated_gradients_evaluate_each_point_once():
    """The scalar pass takes per-group gradients, so the final nodes and the ends are not evaluated again."""
    f, _, _ = tanh_net(seed=14)
    rows = []
    r = integrated_gradients(lambda X: (rows.append(X.shape[0]), f(X))[1], torch.randn(6), rtol=1e-8, atol=1e-12)
    assert sum(rows) == r.adaptive.scalar_evaluations
    assert r.completeness_error <= r.adaptive.tolerance + 1e-12
