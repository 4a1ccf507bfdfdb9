"""Faithfulness (issue 12): how well our Integrated Hessians / Gradients predict the real SST-2 model when words are
removed, side by side with shapiq's Shapley interaction indices and Captum's attribution methods, on the same
sentences, the same function (the explained logit, as the explanation computes it) and the same removal scheme
(a removed word takes the pad embedding, special tokens stay: ``explainer.coalition_values``).

Interactions (:func:`transformers_ih.evaluate.interaction_faithfulness` and its array-level functions):

* coalition fidelity: R^2 of each method's second-order surrogate ``f(x') + sum_{T in S, |T| <= 2} I(T)`` on 200
  uniform random coalitions (seed 0, the same for every method); for the exhaustive sentences also on all ``2^W``;
* pair ablation: Pearson correlation and sign agreement of each method's 10 strongest pairs against the model's
  discrete interaction ``f(x) - f(x\\i) - f(x\\j) + f(x\\ij)``.

Peers: shapiq 1.4.1's k-SII (``KernelSHAPIQ``), FSII (``RegressionFSII``), STII (``PermutationSamplingSTII``) and FBII
(``RegressionFBII``), each at budgets (model evaluations) matching our IH wall time ("1x"), 2x and 4x. A shapiq
run's time is *charged*: its own compute plus its coalitions times this sentence's measured cost of one batched
model row (shapiq hands regression approximators' coalitions to the game in one call, so this is what a live run
costs; one live run checks it). That lets every budget be measured without paying for each run again:

* exhaustive sentences (9-11 words): the model on all ``2^W`` coalitions is computed once (a table); every
  approximation and metric reads it. There shapiq's budgets are also swept (powers of two up to ``2^W``: exact)
  for the time it needs to reach our R^2, and the least-squares second-order fit on all coalitions gives the
  ceiling any second-order surrogate can reach under uniform weights;
* live sentences (19-21 words, ``2^W`` too many): every coalition is a live model row, remembered, so coalitions
  shared by runs are paid once in benchmark time but charged to each run (shapiq's k-SII and FSII samplers draw the
  same coalitions for one seed, and a larger budget's draw contains the smaller's); FSII is also run at 1/4x and
  1/2x our time.

Attributions (:func:`transformers_ih.evaluate.attribution_faithfulness`'s functions): AOPC comprehensiveness /
sufficiency (ERASER / ferret definitions, class probability) and deletion / insertion areas of: our IG
(``interactions=False``, adaptive), Captum ``LayerIntegratedGradients`` at its default 50 steps (pad-token
reference, raw model, summed to words), Captum ``ShapleyValueSampling`` with as many samples as fit in our IG's
time, Captum ``FeatureAblation`` and leave-one-out (the same thing computed by our game: a check of the removal
scheme), with wall times.

One torch thread (a shared 2-core CPU); the full run (5 exhaustive + 2 live sentences) takes about 12 minutes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

NAME = "faithfulness"
INDICES = ("k-SII", "FSII", "STII", "FBII")


# ---------------------------------------------------------------------------------------------------- games
class Game:
    """The model on coalitions ``(M, W) bool -> (M,)``: live (``explainer.coalition_values``, remembered) or read
    from a table of all ``2^W`` values. Counts the rows a caller asked for (``rows``) and the time spent in live
    model calls (``model_s``)."""

    def __init__(self, explainer, explanation, table: np.ndarray | None = None, output=None):
        from transformers_ih.evaluate import CountedGame

        self.W = len(explanation.words)
        self.table = table
        self.bits = 1 << np.arange(self.W)
        self.live = CountedGame(lambda m: explainer.coalition_values(explanation, m, output=output), self.W)
        self.rows = 0
        self.model_s = 0.0

    def __call__(self, masks) -> np.ndarray:
        masks = np.atleast_2d(np.asarray(masks, dtype=bool))
        self.rows += len(masks)
        if self.table is not None:
            return self.table[masks.astype(np.int64) @ self.bits]
        t0 = time.perf_counter()
        out = self.live(masks)
        self.model_s += time.perf_counter() - t0
        return out


def all_masks(W: int) -> np.ndarray:
    codes = np.arange(2**W)
    return ((codes[:, None] >> np.arange(W)) & 1).astype(bool)


def shapiq_matrix(iv, W: int) -> tuple[np.ndarray, float]:
    """An InteractionValues of order <= 2 as our convention: ``M_ii = I(i)``, ``M_ij = M_ji = I(ij) / 2``, and the
    empty set's value (the surrogate's intercept)."""
    M = np.zeros((W, W))
    empty = float(iv.baseline_value)
    for T, idx in iv.interaction_lookup.items():
        v = float(iv.values[idx])
        if len(T) == 0:
            empty = v
        elif len(T) == 1:
            M[T[0], T[0]] = v
        elif len(T) == 2:
            M[T[0], T[1]] = M[T[1], T[0]] = v / 2
    return M, empty


def approximator(index: str, W: int, seed: int):
    import shapiq

    if index == "k-SII":
        return shapiq.KernelSHAPIQ(W, max_order=2, index="k-SII", random_state=seed)
    if index == "FSII":
        return shapiq.RegressionFSII(W, max_order=2, random_state=seed)
    if index == "STII":
        return shapiq.PermutationSamplingSTII(W, max_order=2, random_state=seed)
    return shapiq.RegressionFBII(W, max_order=2, random_state=seed)


def run_shapiq(index: str, budget: int, game: Game, W: int, t_row: float, seed: int) -> dict:
    """One shapiq approximation: its matrix and charged time (own compute + its rows x ``t_row``)."""
    rows0, model0 = game.rows, game.model_s
    t0 = time.perf_counter()
    iv = approximator(index, W, seed).approximate(budget, game)
    wall = time.perf_counter() - t0
    rows, model_s = game.rows - rows0, game.model_s - model0
    compute = max(0.0, wall - model_s)
    M, empty = shapiq_matrix(iv, W)
    return {
        "index": index,
        "budget": int(budget),
        "rows": int(rows),
        "compute_s": compute,
        "charged_s": compute + rows * t_row,
        "matrix": M,
        "empty": empty,
    }


def interaction_metrics(game, M, phi, f_base, masks, k, exhaustive=None, words=None) -> dict:
    from transformers_ih.evaluate import measure_fidelity, measure_pairs

    fid = measure_fidelity(game, M, phi, f_base, coalitions=masks)
    pairs = measure_pairs(game, M, k, words)
    out = {
        "r2": fid.r2_second_order,
        "r2_additive": fid.r2_additive,
        "pair_correlation": pairs.correlation,
        "sign_agreement": pairs.sign_agreement,
    }
    if exhaustive is not None:
        allm, values = exhaustive
        from transformers_ih.evaluate import r_squared, second_order_surrogate

        out["r2_all"] = r_squared(values, second_order_surrogate(allm, M, f_base))
    return out


def least_squares_ceiling(allm: np.ndarray, values: np.ndarray, masks: np.ndarray) -> dict:
    """The best second-order surrogate in least squares over all coalitions (uniform weights: what FBII fits):
    its R^2 on all coalitions and on the sampled ones."""
    from transformers_ih.evaluate import r_squared

    W = allm.shape[1]
    iu, ju = np.triu_indices(W, 1)

    def design(m):
        m = m.astype(float)
        return np.concatenate([np.ones((len(m), 1)), m, m[:, iu] * m[:, ju]], axis=1)

    coef, *_ = np.linalg.lstsq(design(allm), values, rcond=None)
    lookup = values[masks.astype(np.int64) @ (1 << np.arange(W))]
    return {"r2_all": r_squared(values, design(allm) @ coef), "r2": r_squared(lookup, design(masks) @ coef)}


# ---------------------------------------------------------------------------------------------------- attributions
def captum_attributions(explainer, e, game_prob_live, model, tok, t_ig: float, t_row: float) -> list[dict]:
    """Captum's LIG (50 steps, pad reference), SVS (samples fitting our IG time) and FeatureAblation on the word
    game, and leave-one-out on our game: attributions and wall times."""
    from captum.attr import FeatureAblation, LayerIntegratedGradients, ShapleyValueSampling

    W = len(e.words)
    enc = explainer.encode([e.text])
    ids, mask = enc.input_ids, enc.inputs["attention_mask"]
    ref = ids.clone()
    ref[0, enc.token_word.cpu().numpy() >= 0] = tok.pad_token_id
    target = e.target_index

    def forward(input_ids, attention_mask):
        return model(input_ids=input_ids, attention_mask=attention_mask).logits[:, target]

    out = []
    t0 = time.perf_counter()
    lig = LayerIntegratedGradients(forward, model.get_input_embeddings())
    tok_attr = lig.attribute(ids, ref, additional_forward_args=(mask,), n_steps=50).sum(-1)[0]
    words = np.array([float(tok_attr[enc.token_word == w].sum()) for w in range(W)])
    out.append(
        {"method": "Captum LayerIntegratedGradients (50 steps)", "time_s": time.perf_counter() - t0, "scores": words}
    )
    logit_game = Game(explainer, e)

    def word_forward(c):
        return torch.as_tensor(logit_game(c.detach().cpu().numpy() > 0.5), dtype=torch.float32)

    ones, zeros = torch.ones(1, W), torch.zeros(1, W)
    n_samples = max(1, int(round(t_ig / (t_row * (W + 1)))))
    t0 = time.perf_counter()
    svs = (
        ShapleyValueSampling(word_forward)
        .attribute(ones, baselines=zeros, n_samples=n_samples, perturbations_per_eval=64)[0]
        .numpy()
        .astype(float)
    )
    out.append(
        {
            "method": f"Captum ShapleyValueSampling ({n_samples} samples)",
            "time_s": time.perf_counter() - t0,
            "scores": svs,
            "n_samples": n_samples,
        }
    )
    t0 = time.perf_counter()
    fa = FeatureAblation(word_forward).attribute(ones, baselines=zeros, perturbations_per_eval=64)[0].numpy()
    out.append({"method": "Captum FeatureAblation", "time_s": time.perf_counter() - t0, "scores": fa.astype(float)})
    fresh = Game(explainer, e)
    t0 = time.perf_counter()
    masks = np.concatenate([np.ones((1, W), bool), ~np.eye(W, dtype=bool)])
    v = fresh(masks)
    out.append({"method": "leave-one-out (our game)", "time_s": time.perf_counter() - t0, "scores": v[0] - v[1:]})
    return out


def attribution_row(method: str, scores, time_s: float, game_prob) -> dict:
    from transformers_ih.evaluate import measure_aopc, measure_curves

    aopc = measure_aopc(game_prob, scores)
    curves = measure_curves(game_prob, scores)
    return {
        "method": method,
        "time_s": time_s,
        "comprehensiveness": aopc.comprehensiveness,
        "sufficiency": aopc.sufficiency,
        "deletion_auc": curves.deletion_auc,
        "insertion_auc": curves.insertion_auc,
        "rationales": aopc.sizes,
    }


# ---------------------------------------------------------------------------------------------------- one sentence
def run_sentence(explainer, model, tok, sentence: str, exhaustive: bool, cfg: dict) -> dict:
    from transformers_ih.evaluate import interaction_faithfulness, random_coalitions

    t0 = time.perf_counter()
    e = explainer(sentence)
    t_ih = time.perf_counter() - t0
    t0 = time.perf_counter()
    e_ig = explainer(sentence, interactions=False)
    t_ig = time.perf_counter() - t0
    W = len(e.words)
    row = {
        "sentence": sentence,
        "words": W,
        "tokens": len(e.tokens),
        "exhaustive": exhaustive,
        "ih_time_s": t_ih,
        "ih_steps": e.steps,
        "ig_time_s": t_ig,
        "ig_steps": e_ig.steps,
        "smoothing": e.smoothing,
        "completeness_error": e.completeness_error,
        "f_delta": e.delta,
    }
    masks = random_coalitions(W, cfg["coalitions"], seed=cfg["seed"])
    if exhaustive:
        allm = all_masks(W)
        live = Game(explainer, e)
        t0 = time.perf_counter()
        values = live(allm)
        t_row = (time.perf_counter() - t0) / len(allm)
        game = Game(explainer, e, table=values)
        ex = (allm, values)
    else:
        game = Game(explainer, e)
        t0 = time.perf_counter()
        game(masks)
        t_row = (time.perf_counter() - t0) / len(masks)
        ex = None
    row["t_row_s"] = t_row
    # ours: the library's own metric on the shared game
    ours = interaction_faithfulness(game, e, k=cfg["k"], coalitions=masks)
    row["ours"] = {
        "r2": ours.r2_second_order,
        "r2_additive": ours.r2_additive,
        "pair_correlation": ours.pair_correlation,
        "sign_agreement": ours.sign_agreement,
        "time_s": t_ih,
    }
    if ex is not None:
        from transformers_ih.evaluate import r_squared, second_order_surrogate

        row["ours"]["r2_all"] = r_squared(values, second_order_surrogate(allm, e.interactions, e.f_baseline))
        row["least_squares_ceiling"] = least_squares_ceiling(allm, values, masks)
    common.log(
        NAME,
        f"{W} words: IH {t_ih:.1f} s, R2 {ours.r2_second_order:.3f} (additive {ours.r2_additive:.3f}), "
        f"pairs r {ours.pair_correlation:.2f}; t_row {1000 * t_row:.1f} ms",
    )
    # shapiq at our time and 2x / 4x (and the sweeps)
    b1 = max(1, int(t_ih / t_row))
    full = 2**W
    runs = []

    def add(index, budget, label):
        budget = int(min(max(budget, 2 * W + 2), full))
        r = run_shapiq(index, budget, game, W, t_row, cfg["seed"])
        metrics = interaction_metrics(game, r.pop("matrix"), None, r.pop("empty"), masks, cfg["k"], ex, e.words)
        runs.append({**r, **metrics, "label": label, "exhaustive_budget": budget >= full})

    for index in INDICES:
        for factor in cfg["factors"]:
            add(index, factor * b1, f"{factor:g}x")
        if exhaustive:
            for b in [2**p for p in range(5, W + 1)]:
                add(index, b, "sweep")
        elif index == "FSII":
            for factor in cfg["live_sweep"]:
                add(index, factor * b1, "sweep")
    row["shapiq"] = runs
    row["budget_1x"] = b1
    if not exhaustive and cfg.get("live_check") and not cfg.get("_checked"):
        cfg["_checked"] = True
        fresh = Game(explainer, e)
        t0 = time.perf_counter()
        r = run_shapiq(
            "FSII", min(max(int(cfg["live_check_factor"] * b1), 2 * W + 2), full), fresh, W, t_row, cfg["seed"]
        )
        row["live_check"] = {
            "index": "FSII",
            "budget": r["budget"],
            "wall_s": time.perf_counter() - t0,
            "charged_s": r["charged_s"],
        }
    # attributions, in probability (ferret's unit)
    game_prob = Game(explainer, e_ig, output="probability")
    attrs = [attribution_row("ours: Integrated Gradients (adaptive)", e_ig.attributions, t_ig, game_prob)]
    for c in captum_attributions(explainer, e_ig, game_prob, model, tok, t_ig, t_row):
        attrs.append(
            {
                **attribution_row(c["method"], c["scores"], c["time_s"], game_prob),
                **({"n_samples": c["n_samples"]} if "n_samples" in c else {}),
            }
        )
        if c["method"].startswith("Captum FeatureAblation"):
            fa = c["scores"]
        if c["method"].startswith("leave-one-out"):
            row["feature_ablation_vs_loo_max_diff"] = float(np.abs(fa - c["scores"]).max())
    row["attributions"] = attrs
    common.log(
        NAME,
        "attributions: "
        + "; ".join(
            f"{a['method'].split(' (')[0]} comp {a['comprehensiveness']:.3f} "
            f"suff {a['sufficiency']:.3f} {a['time_s']:.2f} s"
            for a in attrs
        ),
    )
    return row


def pick(tok, dev: list[str], lo: int, hi: int, n: int, seed: int) -> list[str]:
    pool = [s for w, _, s in common.word_counts_and_sentences(tok, dev) if lo <= w <= hi]
    rng = np.random.default_rng(seed)
    return [pool[i] for i in sorted(rng.choice(len(pool), size=min(n, len(pool)), replace=False))]


def main(argv=None):
    args = common.parse_args(__doc__.splitlines()[0], argv)
    quick = args.quick
    cfg = dict(
        threads=1,
        exhaustive_words=[6, 7] if quick else [9, 11],
        exhaustive_sentences=1 if quick else 5,
        live_words=[9, 9] if quick else [19, 21],
        live_sentences=1 if quick else 2,
        coalitions=60 if quick else 200,
        k=5 if quick else 10,
        seed=0,
        factors=[1, 2, 4],
        live_sweep=[0.25, 0.5],
        live_check_factor=0.25,
        live_check=True,
        aopc_output="probability",
        shapiq=common._version("shapiq"),
    )
    torch.set_num_threads(cfg["threads"])
    rec = common.Recorder(NAME, args, **cfg)
    from transformers_ih import SequenceClassificationInteractionExplainer

    model, tok = common.load_real_model()
    explainer = SequenceClassificationInteractionExplainer(model, tok, progress=False)
    dev = [s for _, s in common.dev_sentences()]
    explainer(dev[0], steps=1)  # warm-up
    for index in INDICES:  # shapiq's first calls compile and import: not part of any measured run
        approximator(index, 6, 0).approximate(40, lambda S: np.atleast_2d(S).sum(axis=1).astype(float))
    plan = [(s, True) for s in pick(tok, dev, *cfg["exhaustive_words"], cfg["exhaustive_sentences"], 1)]
    plan += [(s, False) for s in pick(tok, dev, *cfg["live_words"], cfg["live_sentences"], 2)]
    rows = []
    for i, (sentence, exhaustive) in enumerate(plan):
        common.log(NAME, f"sentence {i + 1}/{len(plan)} ({'exhaustive' if exhaustive else 'live'}): {sentence}")
        rows.append(run_sentence(explainer, model, tok, sentence, exhaustive, cfg))
        rec["sentences"] = rows
        rec.save()
    rec.data["settings"].pop("_checked", None)
    rec.save()


if __name__ == "__main__":
    main()
