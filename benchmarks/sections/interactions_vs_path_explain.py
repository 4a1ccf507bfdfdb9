"""Section of ``bench_interactions_path_explain.py``: Integrated Hessians against path_explain's sampling, at equal
or better completeness error."""

from __future__ import annotations

from .base import Section, Target, fe, fr, fs, median, table

TITLE = "Interactions vs path_explain"
REAL_SAMPLES = 256  # real model: compared with their setting of this many samples ...
REAL_ACCURACY = 100  # ... ours at least this many times more accurate, and faster
TINY_RATIO = 100  # tiny models: at least this many times less time at equal or better error


def _matched(c: dict, num_samples: int) -> dict | None:
    return next((m for m in c["matched"] if m["num_samples"] == num_samples), None)


def _dedupe(cases, key):
    seen, out = set(), []
    for c in cases:
        if c[key] not in seen:
            seen.add(c[key])
            out.append(c)
    return out


def _prediction_quality(cases) -> str:
    v = [t["flat_prediction_vs_measured"] for c in cases for t in c["theirs"] if t.get("flat_prediction_vs_measured")]
    if not v:
        return "No flattened run finished under the time limit, so the prediction is unchecked in this run"
    return (
        f"Where their flattened call also ran to the end, the probe predicted {min(v) * 100:.0f}-"
        f"{max(v) * 100:.0f}% of the measured time ({len(v)} checks)"
    )


def _flat_vs_word(cases) -> str:
    v = [
        t["flat_vs_word_max_abs_diff"]
        for c in cases
        for t in c["theirs"]
        if t.get("flat_vs_word_max_abs_diff") is not None
    ]
    if not v:
        return "not checked in this run"
    return f"checked where their flattened run finished: max abs difference {max(v):.1e}"


def _formula_vs_code(cases) -> str:
    v = [
        abs(t["completeness_error"] - t["completeness_error_formula"])
        for c in cases
        for t in c["theirs"]
        if t["error_source"].startswith("their code")
    ]
    if not v:
        return "no check"
    return f"max difference {max(v):.1e} over {len(v)} runs"


def _intro(d: dict, cases: list) -> str:
    return (
        "Their time: **m** = measured (their call ran to the end), **e** = extrapolated from a probe of their "
        "own code: T = k (A + n B), with k = sqrt(num_samples) outer points, A = the inner IG per outer point, "
        "B = one per-feature backward pass (timed over the first "
        f"{d['settings'].get('probe_features')} features; the probe times only their `grad` calls, not their "
        "loop's bookkeeping). " + _prediction_quality(cases) + ". Their completeness error is measured by their "
        "own code on one coordinate per word (summing their flattened matrix by word gives exactly that matrix; "
        + _flat_vs_word(cases)
        + "), or, marked *, from the closed form of their rule "
        "(t = a_i b_j on an i/(k-1) grid, equal weights), which equals their code's result wherever both ran ("
        + _formula_vs_code(cases)
        + ")."
    )


def _matched_table(cases: list) -> list[str]:
    rows = []
    for c in cases:
        for t in c["theirs"]:
            m = _matched(c, t["num_samples"]) or {}
            rows.append(
                [
                    c["label"],
                    c["features"],
                    t["num_samples"],
                    fs(t["time_s"]) + (" (m)" if t["time_status"] == "measured" else " (e)"),
                    fe(t["completeness_error"]) + ("" if t["error_source"].startswith("their code") else "*"),
                    m.get("ours") or "none as good",
                    fs(m.get("our_time_s")),
                    fe(m.get("our_error")),
                    fr(m.get("time_ratio")),
                    fr(m.get("engine_time_ratio")),
                ]
            )
    ours = [
        [
            c["label"],
            o["setting"],
            o["steps"],
            fs(o["time_s"]),
            fs(o.get("engine_time_s")),
            fe(o["completeness_error"]),
            fe(o["completeness_error"] / abs(o["f_delta"])),
        ]
        for c in cases
        for o in c["ours"]
    ]
    return [
        "**Time at equal or better completeness error** (absolute error, logit units): for each of their "
        "`num_samples`, our fastest run (explainer end to end; engine alone in the last column) whose error is "
        "at most theirs.",
        "",
        table(
            [
                "case",
                "features (L*e)",
                "their num_samples",
                "their time",
                "their error",
                "our run",
                "our time",
                "our error",
                "time ratio (theirs/ours)",
                "engine-only ratio",
            ],
            rows,
        ),
        "",
        "<details><summary>Our runs per case</summary>\n",
        table(
            ["case", "rule", "path points", "time (explainer)", "time (engine)", "completeness error", "relative"], ours
        ),
        "\n</details>\n",
    ]


def _real(cases: list, ram_gb: float) -> tuple[list[str], list[Target]]:
    out, targets = [], []
    for c in (c for c in cases if c.get("kind") == "real"):
        theirs = next((t for t in c["theirs"] if t["num_samples"] == REAL_SAMPLES), None)
        ours = c["ours"][0]
        if theirs:
            acc = theirs["completeness_error"] / max(ours["completeness_error"], 1e-300)
            spd = theirs["time_s"] / ours["time_s"]
            gb = theirs["probe"]["interaction_tensor_gb"]
            out.append(
                f"- **{c['label']}** ({c['features']:,} flattened features): our default "
                f"{fs(ours['time_s'])}, error {fe(ours['completeness_error'])}; path_explain at "
                f"{REAL_SAMPLES} samples {fs(theirs['time_s'])} "
                f"({'measured' if theirs['time_status'] == 'measured' else 'extrapolated'}) on the flattened "
                f"embeddings (their (k, n, n) float32 interaction tensor is {gb:.1f} GB and its product with "
                f"the input differences another as large: {2 * gb:.1f} GB at the end of the call, of this "
                f"machine's {ram_gb:g} GB), error {fe(theirs['completeness_error'])}"
                f"{'' if theirs['error_source'].startswith('their code') else ' (closed form of their rule)'}: "
                f"ours is **{fr(acc)} more accurate and {fr(spd)} faster**. Even given our word reduction "
                f"(one coordinate per word), their sampling takes {fs(theirs['word_coordinates_time_s'])} "
                f"({theirs['word_coordinates_status']})."
            )
            targets.append(
                Target(
                    f"Interactions vs path_explain, real model ({c['label']})",
                    f"faster and >= {REAL_ACCURACY}x more accurate than its {REAL_SAMPLES}-sample setting",
                    f"{fr(acc)} more accurate, {fr(spd)} faster",
                    acc >= REAL_ACCURACY and spd > 1,
                )
            )
        if c.get("search_breakdown"):
            b = c["search_breakdown"]
            out.append(
                f"  - Where our time goes on this sentence: the adaptive search ({b['scalar_evaluations']} "
                f"scalar path evaluations) took {fs(b['search_s'])}; the rest is the Hessians at "
                f"{b['nodes']} path points = {b['hessian_vector_products']:,} Hessian-vector products."
            )
    return out + [""], targets


def _ratio_table(cases: list, first: list[str], key, samples: list) -> str:
    rows = []
    for c in cases:
        ms = [_matched(c, s) for s in samples]
        rows.append([*key(c)] + [fr(m.get("time_ratio")) if m else "-" for m in ms])
    return table(first + [f"n={s}" for s in samples], rows)


def _tiny(d: dict, tiny: list) -> tuple[list[str], list[Target]]:
    s = d["settings"]
    words_fixed, samples = s.get("words_for_sizes"), s.get("samples", [])
    by_e = _dedupe(
        sorted(
            [c for c in tiny if c["words"] == words_fixed or c["label"].endswith(f"{words_fixed} words")],
            key=lambda c: c["embedding_size"],
        ),
        "embedding_size",
    )
    out = [
        "**Gap vs embedding size** (tiny random BERTs, fixed sentence length): time ratio theirs/ours at "
        "equal or better error, per their `num_samples`:",
        "",
        _ratio_table(
            by_e,
            ["model", "words", "features"],
            lambda c: (f"e={c['embedding_size']}", c["words"], c["features"]),
            samples,
        ),
        "",
    ]
    notes = [
        (c["embedding_size"], m["num_samples"], m["ours"], m["our_time_s"])
        for c in by_e
        for m in c["matched"]
        if m.get("ours") and m["ours"].startswith("adaptive")
    ]
    if notes:
        largest = max(s.get("gauss_steps") or [0])
        out += [
            "Where the ratio does not grow with e, our cheapest run as accurate as theirs is an adaptive one ("
            + "; ".join(f"e={e}, n={n}: {o}, {fs(t)}" for e, n, o, t in notes)
            + f"): that random model's path function is rougher, so our fixed Gauss rules up to {largest} points "
            "miss their error there, while their cost only grows with the number of features.",
            "",
        ]
    size = s.get("size_for_lengths")
    by_w = _dedupe(sorted([c for c in tiny if c["embedding_size"] == size], key=lambda c: c["words"]), "words")
    if len(by_w) > 1:
        out += [
            f"**Gap vs sentence length** (tiny random BERT, e={size}):",
            "",
            _ratio_table(
                by_w, ["words", "tokens", "features"], lambda c: (c["words"], c["tokens"], c["features"]), samples
            ),
            "",
        ]
    return out, _tiny_targets(tiny, by_e, samples)


def _tiny_targets(tiny: list, by_e: list, samples: list) -> list[Target]:
    ratios = [m["time_ratio"] for c in tiny for m in c["matched"] if m.get("time_ratio")]
    if not ratios:
        return []
    unmatched = sum(1 for c in tiny for m in c["matched"] if not m.get("time_ratio"))
    per_size = [median([m["time_ratio"] for m in c["matched"] if m.get("time_ratio")] or [float("nan")]) for c in by_e]
    widens = {}  # num_samples -> whether the ratio grows with every step in e
    for s in samples:
        vals = [(_matched(c, s) or {}).get("time_ratio") for c in by_e]
        if all(v is not None for v in vals) and len(vals) > 1:
            widens[s] = all(b > a for a, b in zip(vals, vals[1:]))
    grows = [str(k) for k, v in widens.items() if v]
    not_grows = [str(k) for k, v in widens.items() if not v]
    return [
        Target(
            "Interactions vs path_explain, tiny smooth models",
            f">= {TINY_RATIO}x less time at equal or better error",
            f"min {fr(min(ratios))}, median {fr(median(ratios))} over {len(ratios)} (model, num_samples) pairs"
            + (f"; {unmatched} of their settings had no run of ours as accurate" if unmatched else ""),
            min(ratios) >= TINY_RATIO and unmatched == 0,
        ),
        Target(
            "... the gap widening with embedding size",
            "time ratio growing with e for every num_samples",
            "median ratio per size "
            + ", ".join(f"e={c['embedding_size']}: {fr(v)}" for c, v in zip(by_e, per_size))
            + (f"; widens monotonically for num_samples {', '.join(grows)}" if grows else "")
            + (f"; not for {', '.join(not_grows)} (see the gap table)" if not_grows else ""),
            all(widens.values()) if widens else None,
        ),
    ]


def _limits(cases: list) -> list[str]:
    out = []
    for c in cases:
        ext = [t for t in c["theirs"] if t["time_status"] != "measured"]
        meas = [t for t in c["theirs"] if t["time_status"] == "measured"]
        wext = [t for t in c["theirs"] if t["word_coordinates_status"] != "measured"]
        if ext or wext:
            out.append(
                f"- path_explain, {c['label']}: flattened-embedding call "
                + (f"measured for num_samples {', '.join(str(t['num_samples']) for t in meas)}; " if meas else "")
                + (
                    f"extrapolated for num_samples {', '.join(str(t['num_samples']) for t in ext)} (predicted "
                    f"{', '.join(fs(t['time_s']) for t in ext)}; not run to the end, to keep within the run's "
                    f"time budget)"
                    if ext
                    else ""
                )
                + (
                    f"; on word coordinates, not run to the end for num_samples "
                    f"{', '.join(str(t['num_samples']) for t in wext)} (their error there from the closed form "
                    f"of their rule)"
                    if wext
                    else ""
                )
                + "."
            )
    return out


def render(d: dict, out=None) -> Section:
    cases = d.get("cases", [])
    lines = [_intro(d, cases), ""] + _matched_table(cases)
    real, targets = _real(cases, d["machine_start"].get("memory_gb") or 0)
    lines += real
    tiny = [c for c in cases if c.get("kind") == "tiny"]
    if tiny:
        more, tiny_targets = _tiny(d, tiny)
        lines += more
        targets += tiny_targets
    return Section(TITLE, "\n".join(lines), tuple(targets), tuple(_limits(cases)))
