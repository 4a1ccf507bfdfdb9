"""Section of ``bench_faithfulness.py``: how well our explanations predict the model when words are removed, next to
shapiq's interaction indices and Captum's attribution methods (same sentences, function and removal scheme)."""

from __future__ import annotations

import math

from .base import NO_RESULTS, Section, Target, fr, fs, median, table

TITLE = "Faithfulness: our explanations vs shapiq and Captum on removed words"
INDICES = ("k-SII", "FSII", "STII", "FBII")
MIN_PAIR_CORRELATION = 0.5  # target: IH's strongest pairs predict the model's discrete interactions at least this well
LIG = "Captum LayerIntegratedGradients"


def _finite(values) -> list[float]:
    return [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]


def _med(values, digits: int = 3) -> str:
    v = _finite(values)
    return f"{median(v):.{digits}f}" if v else "-"


def _runs(rows: list, index: str, label: str) -> list[dict]:
    """Each sentence's run of ``index`` at ``label`` (``"1x"``, ``"2x"``, ``"4x"``), where it ran."""
    out = []
    for r in rows:
        run = next((s for s in r["shapiq"] if s["index"] == index and s["label"] == label), None)
        if run is not None:
            out.append(run)
    return out


def _distinct_labels(rows: list, index: str) -> list[list[str]]:
    """``[["1x"], ["2x", "4x"], ...]``: the budget labels of ``index``, those with the same budget in every sentence
    (all capped at 2^W) merged into one row."""
    groups: list[list[str]] = []
    for label in ("1x", "2x", "4x"):
        runs = _runs(rows, index, label)
        if not runs:
            continue
        budgets = [s["budget"] for s in runs]
        if groups and [s["budget"] for s in _runs(rows, index, groups[-1][0])] == budgets:
            groups[-1].append(label)
        else:
            groups.append([label])
    return groups


def _interaction_table(rows: list, exhaustive: bool) -> str:
    headers = ["method", "budget (coalitions)", "time (median)", "R² on 200 coalitions (median)"]
    if exhaustive:
        headers.append("R² on all 2^W coalitions")
    headers += ["pair ablation correlation, top 10", "pair signs agreeing"]
    ours = [r["ours"] for r in rows]
    body = [
        [
            "ours: Integrated Hessians (adaptive)",
            "-",
            fs(median([o["time_s"] for o in ours])),
            _med(o["r2"] for o in ours),
        ]
        + ([_med(o["r2_all"] for o in ours)] if exhaustive else [])
        + [_med(o["pair_correlation"] for o in ours), _med(o["sign_agreement"] for o in ours)],
        [
            "ours: additive surrogate of the same explanation (attributions)",
            "-",
            "-",
            _med(o["r2_additive"] for o in ours),
        ]
        + (["-"] if exhaustive else [])
        + ["-", "-"],
    ]
    for index in INDICES:
        for labels in _distinct_labels(rows, index):
            runs = _runs(rows, index, labels[0])
            capped = sum(1 for s in runs if s.get("exhaustive_budget"))
            budget = f"{int(median([s['budget'] for s in runs]))}" + (
                f" (all 2^W in {capped}/{len(runs)})" if capped else ""
            )
            body.append(
                [
                    f"shapiq {index}, {' = '.join(labels)} our time",
                    budget,
                    fs(median([s["charged_s"] for s in runs])),
                    _med(s["r2"] for s in runs),
                ]
                + ([_med(s.get("r2_all") for s in runs)] if exhaustive else [])
                + [_med(s["pair_correlation"] for s in runs), _med(s["sign_agreement"] for s in runs)]
            )
    if exhaustive:
        ceiling = [r["least_squares_ceiling"] for r in rows if r.get("least_squares_ceiling")]
        body.append(
            [
                "best second-order fit (least squares on all coalitions)",
                "all 2^W",
                "-",
                _med(c["r2"] for c in ceiling),
                _med(c["r2_all"] for c in ceiling),
                "-",
                "-",
            ]
        )
    return table(headers, body)


def equal_r2(rows: list, index: str) -> list[dict]:
    """Per sentence: shapiq ``index``'s cheapest run (of every budget it ran at) whose R² (200 coalitions) reaches
    ours, with our time over its charged time; ``None`` where no run reached it."""
    out = []
    for r in rows:
        runs = sorted((s for s in r["shapiq"] if s["index"] == index), key=lambda s: s["budget"])
        if not runs:
            continue
        hit = next((s for s in runs if s["r2"] is not None and s["r2"] >= r["ours"]["r2"]), None)
        out.append(
            {
                "words": r["words"],
                "budget": hit["budget"] if hit else None,
                "charged_s": hit["charged_s"] if hit else None,
                "max_budget": runs[-1]["budget"],
                "min_budget": runs[0]["budget"],
                "at_smallest": hit is not None and hit["budget"] == runs[0]["budget"],
                "ratio": r["ours"]["time_s"] / hit["charged_s"] if hit and hit["charged_s"] > 0 else None,
            }
        )
    return out


def _equal_r2_table(rows: list) -> str:
    body = []
    for index in INDICES:
        got = equal_r2(rows, index)
        if not got:
            continue
        hits = [g for g in got if g["budget"] is not None]
        body.append(
            [
                f"shapiq {index}",
                f"{len(hits)}/{len(got)}",
                str(int(median([g["budget"] for g in hits]))) if hits else "-",
                fs(median([g["charged_s"] for g in hits])) if hits else "-",
                fr(median([g["ratio"] for g in hits])) if hits else "-",
                f"{sum(1 for g in hits if g['at_smallest'])}/{len(hits)}",
                f"{int(median([g['min_budget'] for g in got]))}-{int(median([g['max_budget'] for g in got]))}",
            ]
        )
    return table(
        [
            "peer",
            "sentences where it reaches our R²",
            "its budget then (median)",
            "its time then (median)",
            "our time / its time (median)",
            "reached at its smallest budget (time an upper bound)",
            "budgets tried (median range)",
        ],
        body,
    )


def _attribution_table(rows: list) -> str:
    methods = []
    for r in rows:
        for a in r["attributions"]:
            name = a["method"].split(" (")[0] if a["method"].startswith("Captum ShapleyValueSampling") else a["method"]
            if name not in methods:
                methods.append(name)
    body = []
    for name in methods:
        got = [a for r in rows for a in r["attributions"] if a["method"] == name or a["method"].startswith(name + " (")]
        samples = [a["n_samples"] for a in got if "n_samples" in a]
        label = name + (f" ({min(samples)}-{max(samples)} samples: our IG's time)" if samples else "")
        body.append(
            [
                label,
                fs(median([a["time_s"] for a in got])),
                _med(a["comprehensiveness"] for a in got),
                _med(a["sufficiency"] for a in got),
                _med(a["deletion_auc"] for a in got),
                _med(a["insertion_auc"] for a in got),
            ]
        )
    return table(
        [
            "method",
            "time (median)",
            "AOPC comprehensiveness (higher is better)",
            "AOPC sufficiency (lower is better)",
            "deletion area (lower is better)",
            "insertion area (higher is better)",
        ],
        body,
    )


def _attr(rows: list, method_prefix: str, key: str) -> list[float]:
    return [a[key] for r in rows for a in r["attributions"] if a["method"].startswith(method_prefix)]


def targets(rows: list) -> tuple[Target, ...]:
    ours = [r["ours"] for r in rows]
    r2, add = median([o["r2"] for o in ours]), median([o["r2_additive"] for o in ours])
    pair = _finite(o["pair_correlation"] for o in ours)
    out = [
        Target(
            "Faithfulness: IH's interactions add to its attributions",
            "second-order R² >= additive R² (median over sentences, 200 random coalitions)",
            f"{r2:.3f} vs {add:.3f} ({sum(1 for o in ours if o['r2'] >= o['r2_additive'])}/{len(ours)} sentences)",
            r2 >= add,
        ),
        Target(
            "Faithfulness: IH's strongest pairs predict removing both words",
            f"pair ablation correlation >= {MIN_PAIR_CORRELATION:g} (median, top 10 pairs)",
            f"{median(pair):.3f}" if pair else "-",
            median(pair) >= MIN_PAIR_CORRELATION if pair else None,
        ),
    ]
    fsii = _runs(rows, "FSII", "1x")
    if fsii:
        theirs = median([s["r2"] for s in fsii])
        wins = sum(
            1
            for r in rows
            for s in r["shapiq"]
            if s["index"] == "FSII" and s["label"] == "1x" and r["ours"]["r2"] >= s["r2"]
        )
        out.append(
            Target(
                "Faithfulness: IH vs shapiq FSII at equal time",
                "IH's coalition R² >= FSII's (median)",
                f"{r2:.3f} vs {theirs:.3f} (IH higher in {wins}/{len(fsii)} sentences)",
                r2 >= theirs,
            )
        )
    ig, lig = _attr(rows, "ours: Integrated Gradients", "comprehensiveness"), _attr(rows, LIG, "comprehensiveness")
    if ig and lig:
        out.append(
            Target(
                f"Faithfulness: IG vs {LIG} (50 steps)",
                "AOPC comprehensiveness no lower (median, -0.01)",
                f"{median(ig):.3f} vs {median(lig):.3f}",
                median(ig) >= median(lig) - 0.01,
            )
        )
    return tuple(out)


def _summary(rows: list) -> list[str]:
    """Who wins what, decided from the numbers."""
    ours = [r["ours"] for r in rows]
    r2 = median([o["r2"] for o in ours])
    lines = []
    peers = {
        index: median([s["r2"] for s in _runs(rows, index, "1x")]) for index in INDICES if _runs(rows, index, "1x")
    }
    better = [i for i, v in peers.items() if v > r2]
    if better:
        lines.append(
            f"- **Coalition fidelity: the peers win.** At our time, {', '.join(better)} predict the model on "
            f"random coalitions better than Integrated Hessians (median R² "
            + ", ".join(f"{i} {peers[i]:.3f}" for i in better)
            + f" vs ours {r2:.3f}). FSII is *defined* as "
            "the second-order surrogate that fits coalitions best under the Shapley kernel's weights, and "
            "FBII under uniform weights (the distribution measured here): fitting is their objective, and it "
            "costs them model rows on coalitions that no explanation of the input needs (their budgets above), "
            "with a random error that only shrinks with more rows. Integrated Hessians is not fitted to "
            "coalitions at all: it integrates along the straight path from the baseline to the input, so its "
            "surrogate is exact at both ends (completeness) and degrades for coalitions far from that path."
        )
    else:
        lines.append(f"- **Coalition fidelity**: at our time no peer's median R² exceeds ours ({r2:.3f}).")
    pc = {
        index: median(_finite(s["pair_correlation"] for s in _runs(rows, index, "1x")))
        for index in peers
        if _finite(s["pair_correlation"] for s in _runs(rows, index, "1x"))
    }
    our_pc = median(_finite(o["pair_correlation"] for o in ours))
    above = [i for i, v in pc.items() if v > our_pc]
    lines.append(
        f"- **Pair ablation** (the model's interaction of a pair at the input): ours {our_pc:.3f}; "
        + ", ".join(f"{i} {v:.3f}" for i, v in pc.items())
        + (
            f". {', '.join(above)} {'is' if len(above) == 1 else 'are'} higher."
            if above
            else ". Ours is the highest: IH's pair values are measured near the input, as this metric is."
        )
    )
    methods = [a["method"].split(" (")[0] for a in rows[0]["attributions"]]
    ours_name = methods[0]
    for key, name, sign in (
        ("comprehensiveness", "AOPC comprehensiveness", 1),
        ("deletion_auc", "deletion area", -1),
        ("insertion_auc", "insertion area", 1),
    ):
        values = {m: median(_attr(rows, m, key)) for m in methods}
        best = max(values, key=lambda m: sign * values[m])
        if sign * (values[best] - values[ours_name]) > 1e-3:
            lines.append(
                f"- **Attributions, {name}**: {best} is better than our IG ({values[best]:.3f} vs "
                f"{values[ours_name]:.3f}, median), at {fs(median(_attr(rows, best, 'time_s')))} vs "
                f"{fs(median(_attr(rows, ours_name, 'time_s')))}."
            )
        else:
            lines.append(
                f"- **Attributions, {name}**: no method's median is better than our IG's ({values[ours_name]:.3f})."
            )
    lines.append(
        "- Our IG and Captum's LayerIntegratedGradients compute the same integral from the same baseline; they "
        "differ only where our explainer smooths the ReLU head (softplus) and by the path rule."
    )
    return lines


def _words(rows: list) -> str:
    words = sorted({r["words"] for r in rows})
    return f"{words[0]}" if words[0] == words[-1] else f"{words[0]}-{words[-1]}"


def render(d: dict, out=None) -> Section:
    rows = d.get("sentences", [])
    if not rows:
        return Section(TITLE, NO_RESULTS)
    s = d["settings"]
    ex = [r for r in rows if r["exhaustive"]]
    live = [r for r in rows if not r["exhaustive"]]
    check = next((r["live_check"] for r in rows if r.get("live_check")), None)
    lines = [
        f"{len(rows)} SST-2 dev sentences, the real model, the predicted class's logit as the explanation computes it "
        f"(softplus-smoothed ReLU head), removal = the pad embedding (special tokens kept): "
        f"`explainer.coalition_values`, the same function for every method. shapiq {s.get('shapiq')}; "
        f"{s['coalitions']} uniform random coalitions (seed {s['seed']}, the same for every method); pair ablation of "
        f"each method's {s['k']} strongest pairs. One torch thread. Written by `benchmarks/bench_faithfulness.py`.",
        "",
        "A shapiq time is *charged*: its own compute plus its coalitions times the sentence's measured cost of one "
        "batched model row (what a live run costs, as shapiq hands a regression's coalitions to the game in one call)"
        + (
            f"; checked live once: FSII with {check['budget']} coalitions took {fs(check['wall_s'])} live, charged "
            f"{fs(check['charged_s'])}."
            if check
            else "."
        ),
        "",
    ]
    if ex:
        lines += [
            f"**Interactions, {len(ex)} sentences of {_words(ex)} words**: all 2^W coalitions evaluated "
            f"once (so budgets at 1x/2x/4x our time are capped at 2^W, where shapiq is exact):",
            "",
            _interaction_table(ex, True),
            "",
        ]
    if live:
        lines += [
            f"**Interactions, {len(live)} sentences of {_words(live)} words** (2^W too many: live model rows):",
            "",
            _interaction_table(live, False),
            "",
        ]
    lines += [
        "**Time at equal R²**: each peer's cheapest budget (of the budgets it ran at: powers of two up to 2^W "
        "and 1x/2x/4x our time on the exhaustive sentences; 1x/2x/4x our time, and 1/4x and 1/2x for FSII, on "
        "the live ones) whose R² (200 coalitions) reaches ours (a negative R² of ours is reached by any fit):",
        "",
    ]
    for part, name in ((ex, "exhaustive"), (live, "live")):
        if part:
            lines += [f"*{name} sentences ({_words(part)} words)*", "", _equal_r2_table(part), ""]
    lines += [
        "**Attributions** (class probability, AOPC as ERASER/ferret define it: rationales of the top 10%..100% "
        "positively attributed words; deletion / insertion areas over the share of words):",
        "",
        _attribution_table(rows),
        "",
        "Captum's FeatureAblation and leave-one-out on our game are one method computed twice (a check of the "
        f"removal scheme: largest difference {max(r.get('feature_ablation_vs_loo_max_diff', 0) for r in rows):.1e}).",
        "",
        *_summary(rows),
    ]
    limits = (
        f"- Faithfulness: {len(rows)} sentences (a 2-core CPU's budget); shapiq times charged from the measured "
        f"per-row cost, checked live once"
        + (f" ({fs(check['wall_s'])} live vs {fs(check['charged_s'])} charged)" if check else "")
        + "; one seed per approximation.",
    )
    return Section(TITLE, "\n".join(lines), targets(rows), limits)
