"""transformers_ih.evaluate on closed-form games (no model): every metric against its closed form and against a
straightforward loop implementation written here, the published ferret/ERASER rules, bad input, results, views.

A game is ``(M, W) bool -> (M,)``: coalition ``S`` (True = feature present at the input, False = at the baseline)
-> the function's value."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch
from explanation_factory import XSS_WORDS, make_explanation

from transformers_ih import integrated_hessians
from transformers_ih.evaluate import (
    CountedGame,
    attribution_faithfulness,
    coalition_fidelity,
    interaction_faithfulness,
    measure_aopc,
    measure_curves,
    measure_fidelity,
    measure_pairs,
    pair_ablation,
    random_coalitions,
    rationales,
)

WORDS4 = ["not", "bad", "good", "film"]


def product_game(S) -> np.ndarray:
    """``f(S) = x0 x1 + x2`` on 0/1 features (feature 3 is a dummy)."""
    S = np.asarray(S, dtype=float)
    return S[:, 0] * S[:, 1] + S[:, 2]


def all_coalitions(n: int) -> np.ndarray:
    return np.array(list(itertools.product([False, True], repeat=n)), dtype=bool)


def explanation_of(matrix, words=WORDS4, f_baseline=0.0, **fields):
    """An Explanation whose interactions are ``matrix`` (attributions its row sums, f(x) - f(x') its total)."""
    matrix = np.asarray(matrix, dtype=float)
    attr = matrix.sum(axis=1)
    return make_explanation(
        list(words), attr, interactions=matrix, f_baseline=f_baseline, f_input=f_baseline + float(attr.sum()), **fields
    )


# the exact decomposition of x0 x1 + x2: its Moebius coefficients (pair total 1 = M01 + M10; x2's main effect 1)
MOEBIUS = np.array([[0, 0.5, 0, 0], [0.5, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]], dtype=float)
# Integrated Hessians of x0 x1 + x2 from 0 to 1 (Gamma = int (-ln t)[t H + diag(grad)] dt): the product's
# interaction int -t ln t dt = 1/4 each way, and its main effects int (-ln t) t dt = 1/4 each
IH_CLOSED_FORM = np.array([[0.25, 0.25, 0, 0], [0.25, 0.25, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]], dtype=float)


# ------------------------------------------------------------------------------------------------ closed forms
def test_exact_decomposition_pair_ablation_recovers_the_interaction_and_fidelity_is_one():
    expl = explanation_of(MOEBIUS)
    result = interaction_faithfulness(product_game, expl, k=1, coalitions=all_coalitions(4))
    assert result.pairs.pairs == [(0, 1)] and result.pairs.words == [("not", "bad")]
    assert result.pairs.ablation == [1.0] and result.pairs.predicted == [1.0]
    assert result.pairs.sign_agreement == 1.0
    assert result.r2_second_order == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(result.fidelity.second_order, result.fidelity.values, atol=1e-12)
    random = coalition_fidelity(product_game, expl, coalitions=200, seed=3)
    assert random.r2_second_order == pytest.approx(1.0, abs=1e-12) and random.seed == 3


def test_integrated_hessians_of_a_product_closed_forms():
    """The engine's IH of x0 x1 + x2 is the closed form above; on all 16 coalitions its second-order surrogate has
    R^2 = 1 - 0.5 / 7 = 13/14 and the additive one 1 - 2 / 7 = 5/7 (SS_tot = 16 Var = 7); the pair's predicted
    total 2 Gamma_01 = 1/2 against the discrete interaction 1."""
    f = lambda X: X[:, 0] * X[:, 1] + X[:, 2] + 0.0 * X[:, 3]  # noqa: E731
    result = integrated_hessians(f, torch.ones(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64))
    np.testing.assert_allclose(result.interactions, IH_CLOSED_FORM, atol=1e-6)
    expl = explanation_of(result.interactions)
    out = interaction_faithfulness(product_game, expl, k=1, coalitions=all_coalitions(4))
    assert out.r2_second_order == pytest.approx(13 / 14, abs=1e-5)
    assert out.r2_additive == pytest.approx(5 / 7, abs=1e-5)
    assert out.pairs.predicted == pytest.approx([0.5], abs=1e-6) and out.pairs.ablation == [1.0]
    assert out.pairs.sign_agreement == 1.0 and np.isnan(out.pair_correlation)  # one pair: no correlation


def test_additive_game_every_metric_exact():
    """f(S) = sum_{i in S} w_i: attributions w are exact, so both surrogates are exact, every pair's discrete
    interaction is 0, and the AOPC / curves have closed forms."""
    w = np.array([3.0, -1.0, 2.0, 0.5, -2.0])
    game = lambda S: np.asarray(S, float) @ w  # noqa: E731
    words = ["a", "b", "c", "d", "e"]
    expl = explanation_of(np.diag(w), words)
    fid = measure_fidelity(game, np.diag(w), w, 0.0, coalitions=50, seed=1)
    assert fid.r2_second_order == pytest.approx(1.0) and fid.r2_additive == pytest.approx(1.0)
    # ferret's rationales for 5 features, positive only: floor(q 5) = 0,1,1,2,2,3,3,4,4,5 -> top1 {0}, top2 {0,2},
    # top3 adds a non-positive -> {0,2,3}; top4/5 add only non-positive scores -> the same rationale, not counted
    chosen = rationales(w, only_positive=True)
    assert [sorted(r.tolist()) for _, r in chosen] == [[0], [0, 2], [0, 2, 3]]
    aopc = measure_aopc(CountedGame(game, 5), w)
    # comprehensiveness f(x) - f(x \ r) = w(r); sufficiency f(x) - w(r)
    total = w.sum()
    assert aopc.comprehensiveness == pytest.approx(np.mean([3, 5, 5.5]))
    assert aopc.sufficiency == pytest.approx(np.mean([total - 3, total - 5, total - 5.5]))
    assert aopc.sizes == [1, 2, 3] and aopc.fractions == [0.2, 0.4, 0.6]
    curves = measure_curves(game, w)  # order 0, 2, 3, 1, 4
    assert curves.order == [0, 2, 3, 1, 4]
    np.testing.assert_allclose(curves.insertion, [0, 3, 5, 5.5, 4.5, 2.5])
    np.testing.assert_allclose(curves.deletion, [2.5, -0.5, -2.5, -3, -2, 0])
    assert curves.insertion_auc == pytest.approx((sum([0, 3, 5, 5.5, 4.5, 2.5]) - 1.25) / 5)
    res = attribution_faithfulness(game, expl)
    assert res.comprehensiveness == aopc.comprehensiveness and res.f_input == 2.5 and res.f_baseline == 0.0
    assert res.evaluations == len(np.unique(measure_masks(w), axis=0))


def measure_masks(scores) -> np.ndarray:
    """Every coalition attribution_faithfulness evaluates: the ends, the rationales, the curves."""
    from transformers_ih.evaluate.aopc import rationale_masks
    from transformers_ih.evaluate.curves import curve_masks

    n = len(scores)
    ends = np.array([np.ones(n, bool), np.zeros(n, bool)])
    return np.concatenate([ends, rationale_masks(n, rationales(scores)), *curve_masks(scores)])


# ------------------------------------------------------------------------------------------------ loop references
def cubic_game(n: int, seed: int):
    """A random function of 0/1 features with terms up to third order."""
    rng = np.random.default_rng(seed)
    a, B, C = rng.normal(size=n), rng.normal(size=(n, n)), rng.normal(size=(n, n, n)) * 0.3

    def value(S):
        s = np.asarray(S, dtype=float)
        return 0.7 + s @ a + np.einsum("mi,ij,mj->m", s, B, s) + np.einsum("mi,ijk,mj,mk->m", s, C, s, s)

    return value


def loop_aopc(game, scores, fractions, only_positive=True):
    """ferret's AOPC, written out: top floor(q n) by score, positive only, consecutive repeats skipped."""
    n = len(scores)
    full = game(np.ones((1, n), bool))[0]
    order = sorted(range(n), key=lambda i: (-scores[i], i))
    comp, suff, last = [], [], None
    for q in fractions:
        k = int(round(q * n, 9) // 1)
        if k == 0:
            continue
        top = [i for i in order[:k] if scores[i] > 0 or not only_positive]
        if not top or set(top) == last:
            continue
        last = set(top)
        without = np.array([[i not in top for i in range(n)]])
        only = np.array([[i in top for i in range(n)]])
        comp.append(full - game(without)[0])
        suff.append(full - game(only)[0])
    return sum(comp) / len(comp), sum(suff) / len(suff)


def loop_curves(game, scores):
    n = len(scores)
    order = sorted(range(n), key=lambda i: (-scores[i], i))
    deletion, insertion = [], []
    for k in range(n + 1):
        top = set(order[:k])
        deletion.append(game(np.array([[i not in top for i in range(n)]]))[0])
        insertion.append(game(np.array([[i in top for i in range(n)]]))[0])
    auc = lambda c: sum((c[k] + c[k + 1]) / 2 / n for k in range(n))  # noqa: E731
    return deletion, insertion, auc(deletion), auc(insertion)


def loop_pairs(game, matrix, k):
    n = len(matrix)
    pairs = sorted(((i, j) for i in range(n) for j in range(i + 1, n)), key=lambda p: -abs(matrix[p[0]][p[1]]))[:k]
    full = [True] * n
    pred, abl = [], []
    for i, j in pairs:

        def drop(*idx):
            return [v and (m not in idx) for m, v in enumerate(full)]

        v = game(np.array([full, drop(i), drop(j), drop(i, j)]))
        abl.append(v[0] - v[1] - v[2] + v[3])
        pred.append(matrix[i][j] + matrix[j][i])
    r = np.corrcoef(pred, abl)[0, 1]
    agree = sum((p > 0) == (a > 0) and (p < 0) == (a < 0) for p, a in zip(pred, abl)) / k
    return pairs, pred, abl, r, agree


def loop_r2(values, predictions):
    mean = sum(values) / len(values)
    return 1 - sum((v - p) ** 2 for v, p in zip(values, predictions)) / sum((v - mean) ** 2 for v in values)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_loop_implementations(seed):
    n = 7
    game = cubic_game(n, seed)
    rng = np.random.default_rng(100 + seed)
    scores = rng.normal(size=n)
    upper = np.triu(rng.normal(size=(n, n)))
    matrix = upper + np.triu(upper, 1).T
    fractions = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
    for only_positive in (True, False):
        aopc = measure_aopc(CountedGame(game, n), scores, fractions, only_positive)
        comp, suff = loop_aopc(game, scores, fractions, only_positive)
        assert aopc.comprehensiveness == pytest.approx(comp, rel=1e-12)
        assert aopc.sufficiency == pytest.approx(suff, rel=1e-12)
    curves = measure_curves(CountedGame(game, n), scores)
    deletion, insertion, d_auc, i_auc = loop_curves(game, scores)
    np.testing.assert_allclose(curves.deletion, deletion, rtol=1e-12)
    np.testing.assert_allclose(curves.insertion, insertion, rtol=1e-12)
    assert curves.deletion_auc == pytest.approx(d_auc) and curves.insertion_auc == pytest.approx(i_auc)
    pa = measure_pairs(CountedGame(game, n), matrix, k=6)
    pairs, pred, abl, r, agree = loop_pairs(game, matrix, 6)
    assert pa.pairs == pairs
    np.testing.assert_allclose(pa.predicted, pred, rtol=1e-12)
    np.testing.assert_allclose(pa.ablation, abl, rtol=1e-12, atol=1e-12)
    assert pa.correlation == pytest.approx(r, rel=1e-10) and pa.sign_agreement == pytest.approx(agree)
    masks = random_coalitions(n, 120, seed=seed)
    fid = measure_fidelity(CountedGame(game, n), matrix, scores, 0.7, coalitions=masks)
    values = game(masks)
    second = [0.7 + sum(matrix[i][j] for i in range(n) for j in range(n) if m[i] and m[j]) for m in masks]
    additive = [0.7 + sum(scores[i] for i in range(n) if m[i]) for m in masks]
    np.testing.assert_allclose(fid.second_order, second, rtol=1e-12)
    assert fid.r2_second_order == pytest.approx(loop_r2(values, second), rel=1e-10)
    assert fid.r2_additive == pytest.approx(loop_r2(values, additive), rel=1e-10)


def test_ferret_rules_ties_fractions_and_empty_rationales():
    scores = np.array([1.0, 2.0, 2.0, -1.0])
    # ties: the earlier word first; floor(q 4): 0,0,1,1,2,2,2,3,3,4
    assert [r.tolist() for _, r in rationales(scores)] == [[1], [1, 2], [0, 1, 2]]
    assert [q for q, _ in rationales(scores)] == [0.3, 0.5, 0.8]
    assert [r.tolist() for _, r in rationales(scores, only_positive=False)] == [[1], [1, 2], [0, 1, 2], [0, 1, 2, 3]]
    # no positive score: no rationale; comprehensiveness 0, sufficiency f(x) - f(x')
    game = lambda S: np.asarray(S, float) @ np.array([-1.0, -2.0]) + 5  # noqa: E731
    aopc = measure_aopc(game, np.array([-1.0, -2.0]))
    assert aopc.comprehensiveness == 0.0 and aopc.sufficiency == pytest.approx(-3.0) and aopc.sizes == []


def test_random_coalitions_reproducible_and_distributions():
    a, b = random_coalitions(9, 300, seed=5), random_coalitions(9, 300, seed=5)
    assert a.dtype == bool and a.shape == (300, 9) and np.array_equal(a, b)
    assert not np.array_equal(a, random_coalitions(9, 300, seed=6))
    assert abs(a.mean() - 0.5) < 0.05
    sizes = random_coalitions(9, 2000, seed=0, distribution="size").sum(axis=1)
    counts = np.bincount(sizes, minlength=10)
    assert counts.min() > 120 and counts.max() < 290  # about 2000 / 10 of each size 0..9


def test_counted_game_evaluates_each_coalition_once():
    calls = []

    def game(S):
        calls.append(len(S))
        return np.asarray(S, float).sum(axis=1)

    counted = CountedGame(game, 3)
    masks = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 1]], dtype=bool)
    np.testing.assert_array_equal(counted(masks), [1, 1, 2])
    np.testing.assert_array_equal(counted(np.array([[0, 1, 1], [1, 1, 1]])), [2, 3])
    assert calls == [2, 1] and counted.evaluations == 3


# ------------------------------------------------------------------------------------------------ group attribution
def test_group_attribution_is_the_within_group_sum():
    expl = explanation_of(IH_CLOSED_FORM)
    assert expl.group_attribution([0, 1]) == pytest.approx(1.0)  # the phrase x0 x1 on its own: f({0,1}) - f({})
    assert expl.group_attribution([2]) == 1.0 and expl.group_attribution([0]) == 0.25
    assert expl.group_attribution(range(4)) == pytest.approx(expl.delta)
    m = make_explanation(["a", "b", "c", "d", "e"], seed=4)
    loop = sum(m.interactions[i, j] for i in (1, 3, 4) for j in (1, 3, 4))
    assert m.group_attribution([4, 1, 3]) == pytest.approx(loop, rel=1e-12)
    assert m.group_attribution(np.array([1, 3, 4])) == pytest.approx(loop, rel=1e-12)


@pytest.mark.parametrize(
    "features, error, match",
    [
        ([], ValueError, "empty"),
        ([0, 0], ValueError, "repeated"),
        ([4], ValueError, "out of range"),
        (["not"], TypeError, "word positions"),
        ("not", TypeError, "sequence of word positions"),
        ([True], TypeError, "word positions"),
    ],
)
def test_group_attribution_bad_input(features, error, match):
    with pytest.raises(error, match=match):
        explanation_of(IH_CLOSED_FORM).group_attribution(features)


def test_group_attribution_needs_interactions_and_the_groups_block():
    with pytest.raises(ValueError, match="interactions=True"):
        make_explanation(WORDS4, with_interactions=False).group_attribution([0, 1])
    partial = IH_CLOSED_FORM.copy()
    partial[3, :] = partial[:, 3] = np.nan
    expl = explanation_of(np.nan_to_num(partial))
    expl.interactions = partial
    assert expl.group_attribution([0, 1]) == pytest.approx(1.0)  # the block it needs is there
    with pytest.raises(ValueError, match="partial"):
        expl.group_attribution([2, 3])


# ------------------------------------------------------------------------------------------------ bad input
def test_k_larger_than_the_number_of_pairs():
    with pytest.raises(ValueError, match=r"k=7 is larger than the number of pairs: 4 words have 6 pairs; pass k <= 6"):
        interaction_faithfulness(product_game, explanation_of(MOEBIUS), k=7)
    with pytest.raises(ValueError, match="positive number of pairs"):
        pair_ablation(product_game, explanation_of(MOEBIUS), k=0)


@pytest.mark.parametrize("coalitions", [0, -3])
def test_zero_coalitions(coalitions):
    with pytest.raises(ValueError, match="positive number of random coalitions"):
        interaction_faithfulness(product_game, explanation_of(MOEBIUS), k=1, coalitions=coalitions)


def test_empty_or_misshapen_coalition_arrays():
    with pytest.raises(ValueError, match=r"\(M, 4\) boolean array with M >= 1"):
        coalition_fidelity(product_game, explanation_of(MOEBIUS), coalitions=np.zeros((0, 4), bool))
    with pytest.raises(ValueError, match=r"\(M, 4\)"):
        coalition_fidelity(product_game, explanation_of(MOEBIUS), coalitions=np.ones((5, 3), bool))


def test_partial_matrix_where_fidelity_needs_the_full_one():
    partial = MOEBIUS.copy()
    partial[3, :2] = partial[:2, 3] = np.nan
    expl = explanation_of(MOEBIUS)
    expl.interactions = partial
    with pytest.raises(ValueError, match=r"partial: rows \[0, 1, 3\].*use pair_ablation"):
        interaction_faithfulness(product_game, expl, k=1)
    with pytest.raises(ValueError, match="partial"):
        coalition_fidelity(product_game, expl)
    # pair ablation ranks the pairs present: 6 pairs, 2 missing
    assert pair_ablation(product_game, expl, k=1).pairs == [(0, 1)]
    with pytest.raises(ValueError, match="6 pairs, 4 of them with finite interactions; pass k <= 4"):
        pair_ablation(product_game, expl, k=5)


def test_no_interactions():
    expl = make_explanation(WORDS4, with_interactions=False)
    for fn in (interaction_faithfulness, pair_ablation, coalition_fidelity):
        with pytest.raises(ValueError, match="interactions=True"):
            fn(product_game, expl)


def test_bad_games_scores_and_fractions():
    expl = explanation_of(MOEBIUS)
    with pytest.raises(ValueError, match="one value per coalition"):
        attribution_faithfulness(lambda S: np.zeros((len(S), 2)), expl)
    with pytest.raises(ValueError, match="non-finite"):
        attribution_faithfulness(lambda S: np.full(len(S), np.nan), expl)
    with pytest.raises(ValueError, match=r"shape \(W,\)"):
        attribution_faithfulness(product_game, expl, scores=np.ones(3))
    with pytest.raises(ValueError, match="finite scores"):
        attribution_faithfulness(product_game, expl, scores=np.array([1, np.nan, 0, 0]))
    with pytest.raises(ValueError, match=r"fractions must be in \(0, 1\]"):
        attribution_faithfulness(product_game, expl, fractions=(0.5, 1.5))
    with pytest.raises(ValueError, match="fractions is empty"):
        attribution_faithfulness(product_game, expl, fractions=())
    with pytest.raises(TypeError, match="callable game"):
        attribution_faithfulness(42, expl)
    with pytest.raises(ValueError, match="boolean"):
        CountedGame(product_game, 4)(np.full((1, 4), 2))
    with pytest.raises(ValueError, match=r"distribution must be one of"):
        coalition_fidelity(product_game, expl, distribution="gaussian")


# ------------------------------------------------------------------------------------------------ results and views
def test_results_serialise_and_render_escaped():
    words = XSS_WORDS[:4]
    expl = explanation_of(MOEBIUS, words=words, target="<b>label</b>")
    attr = attribution_faithfulness(product_game, expl)
    inter = interaction_faithfulness(product_game, expl, k=3, coalitions=40)
    for result in (attr, inter):
        back = json.loads(json.dumps(result.to_dict()))
        assert back["words"] == words
    assert (
        json.loads(json.dumps(inter.to_dict()))["fidelity"]["coalitions"]
        == inter.fidelity.coalitions.astype(int).tolist()
    )
    html = expl.to_html(evaluation=[attr, inter])
    for raw in ("<script>window.__xss", "<img src=x", '" onmouseover="', "<b>bold</b>"):
        assert raw not in html
    for heading in (
        "How faithful is it? Attributions",
        "How faithful is it? Interactions",
        "Pair ablation",
        "Comprehensiveness and sufficiency",
    ):
        assert heading in html
    assert "AOPC comprehensiveness (higher is better)" in html and "coalition R² second order" in html
    figures = [attr.plot_curves(), attr.plot_aopc(theme="dark"), inter.plot_pairs(), inter.plot_coalitions()]
    text = json.dumps([f.to_plotly_json() for f in figures], default=str)
    assert "<script>" not in text and "&lt;script&gt;" in text
    with pytest.raises(TypeError, match="AttributionFaithfulness or InteractionFaithfulness"):
        expl.to_html(evaluation=["not a result"])
