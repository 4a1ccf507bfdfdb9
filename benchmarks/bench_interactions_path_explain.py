"""Benchmark 1: interactions, ours vs path_explain's ``PathExplainerTorch.interactions``.

Same model, sentence, baseline (the pad token's embedding at every non-special position, special tokens kept),
target (the predicted class's logit) and smoothing (the real model's ReLU head is softplus(beta=20) on both
sides; the tiny BERTs are smooth: GELU and tanh), in one process.

* path_explain runs on the flattened word embeddings ``(1, L*e)`` with ``use_expectation=False`` and the baseline
  as its reference (their Integrated-Hessians estimator on the straight path), for ``num_samples`` in a sweep,
  on the model's own forward as their user writes it (weights frozen, math attention kernel: see
  ``common.Case.peer_f``).
  Their time is measured when the call finishes under a limit, else extrapolated from a probe of their own code
  (see ``path_explain_runner.py``). Their completeness error is measured by their own code run on one coordinate
  per word (``g(c) = f(x' + sum_w c_w Delta_w)``: summing their flattened matrix by word gives exactly this,
  checked below where the flattened run finishes), and cross-checked with the closed form of their rule.
* Ours: ``SequenceClassificationInteractionExplainer`` (end to end) at the default tolerance and with fixed Gauss
  rules of N points; also the engine alone (``integrated_hessians`` on the explainer's own ``scalar_function``,
  in its ``engine_context``: what an explanation runs, without the set-up).
* Ratio at equal or better error: for each of their settings, our fastest run whose completeness error is at most
  theirs.
* Threads: the tiny models run with one torch thread, both sides (their operations are too small to gain from two,
  and on a shared 2-core CPU two threads stall at each parallel region while another process holds a core); the
  real model with torch's default.

``--part tiny`` / ``--part real`` re-runs only those cases and keeps the others from the existing results file.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import numpy as np  # noqa: E402
import path_explain_runner as per  # noqa: E402
import torch  # noqa: E402

NAME = "interactions_vs_path_explain"


def ours_runs(case: common.Case, gauss_steps, repeats: int, engine: bool, rtols=()) -> list[dict]:
    """Our explainer (end to end) and engine at the default tolerance, looser tolerances and fixed Gauss rules.
    The first run is the default."""
    from transformers_ih import integrated_hessians

    ex = case.explainer
    runs = []
    settings = [("adaptive (default rtol=1e-3)", {})]
    settings += [(f"adaptive(rtol={r:g})", {"rtol": r}) for r in rtols]
    settings += [(f"gauss({n})", {"steps": n, "method": "gauss"}) for n in gauss_steps]
    for label, kw in settings:
        kw = dict(kw)
        rtol = kw.pop("rtol", None)
        ex.rtol = 1e-3 if rtol is None else rtol
        try:
            t, r = common.timed(ex, case.sentence, target=case.target, repeats=repeats, **kw)
        finally:
            ex.rtol = 1e-3
        te = re_ = None
        if engine:
            with case.engine_context():  # what the explainer runs its engine in on this model
                te, re_ = common.timed(
                    integrated_hessians,
                    case.f,
                    case.x,
                    case.x_base,
                    groups=case.token_word,
                    repeats=repeats,
                    rtol=1e-3 if rtol is None else rtol,
                    **kw,
                )
        runs.append(
            {
                "setting": label,
                "time_s": t,
                "engine_time_s": te,
                "completeness_error": r.completeness_error,
                "engine_completeness_error": re_.completeness_error if re_ else None,
                "steps": r.steps,
                "scalar_evaluations": r.meta.get("scalar_evaluations"),
                "f_delta": r.f_input - r.f_baseline,
                "interactions": r.interactions,
            }
        )
        common.log(NAME, f"  ours {label}: {t:.3f} s (engine {te}), error {r.completeness_error:.2e}, {r.steps} points")
    return runs


def theirs_runs(
    pe,
    case: common.Case,
    samples,
    *,
    flat_limit_s,
    word_limit_s,
    probe_features: int,
    memory_limit_gb: float,
    probe_repeats: int = 2,
) -> list[dict]:
    runs = []
    xf, bf = case.flat_input()
    xw, bw = case.word_input()
    M = case.word_sum_matrix()
    rules = {s: per.grid_rule(s) for s in samples}
    # their functions (case.flat_model, case.word_model: the model's forward on a frozen twin, see Case.peer_f) run
    # in the engine context too: CPU's fused attention kernels have no double backward (their Hessians need one),
    # and the real model's ReLU head is softplus(beta=20) on both sides, so that both explain the same function
    with case.engine_context():
        formula, delta = case.completeness_errors(rules, "log")
        last_word = None  # (k, seconds) of the last word-coordinate run that finished
        for s in samples:
            flat = per.measure(
                pe,
                case.flat_model,
                xf,
                bf,
                s,
                limit_s=flat_limit_s,
                memory_limit_gb=memory_limit_gb,
                probe_features=probe_features,
                probe_repeats=probe_repeats,
            )
            k = per.inner_k(s)
            scaled = None if last_word is None else last_word[1] * (k / last_word[0]) ** 2
            if scaled is not None and scaled > word_limit_s:
                word = {"time_s": scaled, "status": f"extrapolated (k^2 scaling from k={last_word[0]})"}
            else:
                word = per.measure(
                    pe,
                    case.word_model,
                    xw,
                    bw,
                    s,
                    limit_s=word_limit_s,
                    memory_limit_gb=memory_limit_gb,
                    probe_features=probe_features,
                    probe_repeats=probe_repeats,
                )
                if word["status"] == "measured":
                    last_word = (k, word["time_s"])
            row = {
                "num_samples": s,
                "k": per.inner_k(s),
                "features": case.L * case.e,
                "time_s": flat["time_s"],
                "time_status": flat["status"],
                "probe": {k: v for k, v in flat.items() if k != "interactions"},
                "word_coordinates_time_s": word["time_s"],
                "word_coordinates_status": word["status"],
                "completeness_error_formula": formula[s],
                "f_delta": delta,
            }
            if word["status"] == "measured":
                row["completeness_error"] = abs(float(word["interactions"].sum()) - delta)
                row["error_source"] = "their code on word coordinates"
                row["word_interactions"] = word["interactions"]
            else:
                row["completeness_error"] = formula[s]
                row["error_source"] = "closed form of their rule (their code did not run to the end)"
            if flat["status"] == "measured":
                inter = flat["interactions"]
                row["flat_completeness_error"] = abs(float(inter.sum()) - delta)
                row["flat_prediction_vs_measured"] = flat["predicted_s"] / flat["time_s"]
                if word["status"] == "measured":
                    word_sums = M @ inter @ M.T
                    row["flat_vs_word_max_abs_diff"] = float((word_sums - word["interactions"]).abs().max())
            runs.append(row)
            common.log(
                NAME,
                f"  path_explain num_samples={s}: flat {flat['time_s']:.2f} s ({flat['status']}), "
                f"word coords {word['time_s']:.2f} s ({word['status']}), error "
                f"{row['completeness_error']:.2e} (formula {formula[s]:.2e})",
            )
    return runs


def matched(ours: list[dict], theirs: list[dict]) -> list[dict]:
    """For each of their settings: our fastest run (end to end) with completeness error <= theirs."""
    out = []
    for t in theirs:
        ok = [o for o in ours if o["completeness_error"] <= t["completeness_error"]]
        if not ok:
            out.append({"num_samples": t["num_samples"], "ours": None})
            continue
        best = min(ok, key=lambda o: o["time_s"])
        engine_ok = [o for o in ok if o["engine_time_s"] is not None]
        best_engine = min(engine_ok, key=lambda o: o["engine_time_s"]) if engine_ok else None
        out.append(
            {
                "num_samples": t["num_samples"],
                "their_time_s": t["time_s"],
                "their_time_status": t["time_status"],
                "their_error": t["completeness_error"],
                "ours": best["setting"],
                "our_time_s": best["time_s"],
                "our_error": best["completeness_error"],
                "time_ratio": t["time_s"] / best["time_s"],
                "engine_time_ratio": t["time_s"] / best_engine["engine_time_s"] if best_engine else None,
            }
        )
    return out


def run_case(pe, label: str, case: common.Case, cfg: dict, extra: dict) -> dict:
    common.log(
        NAME,
        f"{label}: {case.W} words, {case.L} tokens, e={case.e}, {case.L * case.e} features, "
        f"{torch.get_num_threads()} torch threads: {case.sentence!r}",
    )
    started = {
        "torch_threads": torch.get_num_threads(),
        "load_average": list(__import__("os").getloadavg()),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    ours = ours_runs(case, cfg["gauss_steps"], cfg["repeats"], cfg.get("engine", True), cfg.get("rtols", ()))
    theirs = theirs_runs(
        pe,
        case,
        cfg["samples"],
        flat_limit_s=cfg["flat_limit_s"],
        word_limit_s=cfg["word_limit_s"],
        probe_features=cfg["probe_features"],
        memory_limit_gb=cfg["memory_limit_gb"],
        probe_repeats=cfg["probe_repeats"],
    )
    # our default vs their word-coordinate matrices (how far apart the estimates are, not only their sums)
    default = ours[0]
    for t in theirs:
        if "word_interactions" in t:
            diff = np.abs(t.pop("word_interactions").numpy() - default["interactions"])
            t["max_abs_diff_to_our_default_matrix"] = float(diff.max())
    for o in ours:
        o.pop("interactions", None)
    return {
        "label": label,
        **extra,
        "started": started,
        "sentence": case.sentence,
        "words": case.W,
        "tokens": case.L,
        "embedding_size": case.e,
        "features": case.L * case.e,
        "target": case.target,
        "ours": ours,
        "theirs": theirs,
        "matched": matched(ours, theirs),
    }


def main(argv=None):
    part = "all"
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--part" in argv:  # re-run only the tiny or the real-model cases, keeping the other's from the last run
        i = argv.index("--part")
        part = argv[i + 1]
        del argv[i : i + 2]
    args = common.parse_args(__doc__.splitlines()[0], argv)
    quick = args.quick
    cfg = dict(
        tiny_sizes=[16, 32] if quick else [16, 32, 64, 128],
        tiny_words=[4] if quick else [4, 8, 16],
        size_for_lengths=16 if quick else 64,
        words_for_sizes=4 if quick else 8,
        samples=[4, 16] if quick else [4, 16, 64, 256],
        gauss_steps=[1, 2, 4] if quick else [1, 2, 3, 4, 6, 8, 12, 16],
        rtols=[1e-1] if quick else [1e-1, 1e-2],
        repeats=1 if quick else 3,
        flat_limit_s=3.0 if quick else 10.0,
        word_limit_s=3.0 if quick else 10.0,
        probe_features=4 if quick else 8,
        probe_repeats=2,
        tiny_threads=1,
        memory_limit_gb=4.0,
        real_short_words=4 if quick else 6,
        real_short_gauss_steps=[1, 2] if quick else [1, 2, 4, 8],
        real_short_word_limit_s=5.0 if quick else 90.0,
        real_long_words=None if quick else 23,
        real_long_samples=[4, 16, 256],
        real_long_gauss_steps=[1, 2, 4],
        real_long_word_limit_s=10.0,
    )
    previous = _previous(args, part)
    rec = common.Recorder(NAME, args, **cfg)
    from transformers_ih import SequenceClassificationInteractionExplainer

    pe = common.load_path_explainer_torch()
    sentences = [s for _, s in common.dev_sentences()]
    cases = []
    if part == "real":
        cases += [c for c in previous if c.get("kind") == "tiny"]
    default_threads = torch.get_num_threads()
    # tiny models: one torch thread (their ops are too small to gain from two, and two threads on a shared
    # 2-core CPU stall at every parallel region while another process holds a core); both sides alike
    torch.set_num_threads(cfg["tiny_threads"])

    # tiny random BERTs: growing embedding size at a fixed length, and growing length at a fixed size
    configs = [(e, cfg["words_for_sizes"]) for e in cfg["tiny_sizes"]]
    configs += [(cfg["size_for_lengths"], w) for w in cfg["tiny_words"] if (cfg["size_for_lengths"], w) not in configs]
    if part == "real":
        configs = []
    models = {}
    for e, w in configs:
        if e not in models:
            models[e] = common.tiny_bert(e)
        model, tok = models[e]
        ex = SequenceClassificationInteractionExplainer(model, tok)
        case = common.Case(ex, common.sentence_with_words(tok, sentences, w))
        cases.append(
            run_case(
                pe,
                f"tiny BERT e={e}, {case.W} words",
                case,
                cfg,
                {"model": f"tiny random BERT (2 layers, hidden {e}, GELU)", "kind": "tiny"},
            )
        )
        rec["cases"] = cases
        rec.save()

    torch.set_num_threads(default_threads)
    if part == "tiny":
        cases += [c for c in previous if c.get("kind") == "real"]
        rec["cases"] = cases
        rec.note("tiny-model cases re-run (--part tiny) after the full run; real-model cases kept from it")
        rec.save()
        return
    # the real model: a short sentence through the whole sweep; the 23-word sentence as far as their code allows
    model, tok = common.load_real_model()
    ex = SequenceClassificationInteractionExplainer(model, tok)
    short_cfg = dict(
        cfg,
        gauss_steps=cfg["real_short_gauss_steps"],
        repeats=1,
        engine=False,
        rtols=(),
        word_limit_s=cfg["real_short_word_limit_s"],
    )
    case = common.Case(ex, common.sentence_with_words(tok, sentences, cfg["real_short_words"]))
    cases.append(
        run_case(
            pe,
            f"distilbert-mini-sst2, {case.W} words",
            case,
            short_cfg,
            {"model": "distilbert-mini-sst2", "kind": "real"},
        )
    )
    rec["cases"] = cases
    rec.save()
    if cfg["real_long_words"]:
        case = common.Case(ex, common.sentence_with_words(tok, sentences, cfg["real_long_words"]))
        long_cfg = dict(
            cfg,
            gauss_steps=cfg["real_long_gauss_steps"],
            repeats=1,
            engine=False,
            rtols=(),
            samples=cfg["real_long_samples"],
            word_limit_s=cfg["real_long_word_limit_s"],
        )
        row = run_case(
            pe,
            f"distilbert-mini-sst2, {case.W} words",
            case,
            long_cfg,
            {"model": "distilbert-mini-sst2", "kind": "real", "target_sentence": True},
        )
        row["search_breakdown"] = search_breakdown(case)
        cases.append(row)
    rec["cases"] = cases
    rec.note(
        "path_explain's time: 'measured' = their call ran to the end; 'extrapolated' = k*(A + n*B) from a probe "
        "of their own code (A: inner IG per outer point, B: one per-feature backward pass); the probe's "
        "prediction / measured ratio is recorded where both exist."
    )
    rec.save()


def _previous(args, part: str) -> list:
    if part == "all":
        return []
    import json

    path = Path(args.out) / f"{NAME}.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    for c in data.get("cases", []):
        c.setdefault("run", {"machine_start": data.get("machine_start"), "machine_end": data.get("machine_end")})
    return data.get("cases", [])


def search_breakdown(case: common.Case) -> dict:
    """Time of the adaptive rule's search alone (scalar passes along the path) on this input; the rest of an
    explanation's time is the Hessians at the final nodes."""
    from transformers_ih.engine import adaptive_rule

    with case.engine_context():
        red = case.reduced()
        t0 = time.perf_counter()
        rule, info = adaptive_rule(red.path_derivatives, "log")
        t = time.perf_counter() - t0
    return {
        "search_s": t,
        "nodes": len(rule),
        "scalar_evaluations": info.scalar_evaluations,
        "hessian_vector_products": len(rule) * case.W,
    }


if __name__ == "__main__":
    main()
