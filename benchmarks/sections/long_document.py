"""Section of ``bench_long_document.py``: a ~57-word review (full matrix vs exact selected rows) and a 512-token
document (sentence-level matrix, selected rows), each in a fresh subprocess."""

from __future__ import annotations

from .base import NO_RESULTS, Section, Target, fe, fs, table

MIN_TOP_PAIRS = 18  # of the exact matrix's 20 strongest pairs, held (exactly) by rows=10
MAX_TIME_SHARE = 0.25  # rows=10 within a quarter of the full matrix's time


def render(d: dict, out=None) -> Section:
    s = d["settings"]
    runs = {r["what"]: r for r in d.get("runs", [])}
    title = "Long documents: sentence features and exact selected rows"
    if not runs:
        return Section(title, NO_RESULTS)
    lines, targets = [], []
    rv = runs.get("review", {})
    if "full_s" in rv:
        share = rv["rows_s"] / rv["full_s"]
        lines += [
            f"A review of {rv['words']} words ({rv['tokens']} tokens; SST-2 dev sentences concatenated):",
            "",
            table(
                ["explanation", "time", "path points", "Hessian-vector products"],
                [
                    ["full word matrix", fs(rv["full_s"]), rv["full_steps"], f"{rv['full_hvps']:,}"],
                    [
                        f"rows={s['review_rows']} (largest \\|attribution\\|)",
                        fs(rv["rows_s"]),
                        rv["rows_steps"],
                        f"{rv['rows_hvps']:,}",
                    ],
                ],
            ),
            "",
            f"The selected rows hold {rv['top_pairs_in_rows']} of the exact matrix's {rv['top']} strongest pairs "
            f"({rv['top_pairs_exact']} with their exact values, to 1e-3); the {s['review_rows']} rows of largest "
            f"norm (an oracle that needs the full matrix) would hold {rv['top_pairs_in_oracle_rows']}. Time share "
            f"{share:.0%} of the full matrix; relative completeness error of the selected-rows explanation "
            f"{fe(rv['relative_completeness_error'])}.",
            "",
        ]
        if not d.get("quick"):
            targets += [
                Target(
                    f"rows={s['review_rows']} on the {rv['words']}-word review: exact top-{rv['top']} pairs",
                    f">= {MIN_TOP_PAIRS}",
                    str(rv["top_pairs_exact"]),
                    rv["top_pairs_exact"] >= MIN_TOP_PAIRS,
                ),
                Target(
                    f"rows={s['review_rows']} time vs the full matrix",
                    f"<= {MAX_TIME_SHARE:.0%}",
                    f"{share:.0%}",
                    share <= MAX_TIME_SHARE,
                ),
            ]
        screens = rv.get("screens")
        if screens:
            k = s["review_rows"]
            rows = [
                [f"\\|attribution\\|, {r['rows']} rows", r["rows"] + 1, f"{r['held']} of {rv['top']}"]
                for r in screens["attribution"]
            ]
            rows += [
                [
                    f"random sketch, {sk['probes']} probes, {k} rows",
                    sk["extra_products_per_point"] + k + 1,
                    f"{sk['mean']:.1f} (min {sk['min']}, max {sk['max']}) of {rv['top']}",
                ]
                for sk in screens["sketch"]
            ]
            rows.append(
                [
                    f"oracle: {k} rows of largest off-diagonal norm (needs the full matrix)",
                    rv["words"],
                    f"{rv['top_pairs_in_oracle_rows']} of {rv['top']}",
                ]
            )
            lines += [
                "Screens for `rows=k`, on this review's exact matrix (the sketch simulated from it: `p` Rademacher "
                "probes, each row's off-diagonal norm estimated with Hutchinson's diagonal, 200 draws):",
                "",
                table(["screen", "products per path point", "strongest pairs held"], rows),
                "",
            ]
    elif rv:
        lines += [f"Review run failed: {rv.get('error', '?')}", ""]
    earlier = sorted({r["earlier_run"]["time"] for r in runs.values() if r.get("earlier_run")})
    if earlier:
        lines += [
            f"Parts marked (earlier) come from the run of {', '.join(earlier)}; the others were re-run (`--only`).",
            "",
        ]
    doc = [r for r in (runs.get("sentences"), runs.get("rows")) if r]
    if doc:
        rows = []
        for r in doc:
            what = "sentence matrix" if r["what"] == "sentences" else f"rows={s['document_rows']} at word level"
            what += " (earlier)" if r.get("earlier_run") else ""
            if "error" in r and "time_s" not in r:
                rows.append([what, "failed: " + r["error"], "", "", "", ""])
                continue
            rows.append(
                [
                    what,
                    fs(r["time_s"]),
                    r["features"],
                    r["steps"],
                    fe(r["relative_completeness_error"]),
                    f"{r['peak_rss_mb']:.0f}",
                ]
            )
        lines += [
            f"A {s['tokens']}-token document (SST-2 dev sentences cut at a token boundary):",
            "",
            table(
                [
                    "explanation",
                    "time (measured)",
                    "features",
                    "path points",
                    "relative completeness error",
                    "peak RSS MiB",
                ],
                rows,
            ),
            "",
        ]
    sc = runs.get("screens")
    if sc and sc.get("screens"):
        what = {
            "attribution": ("\\|attribution\\| (the default)", "k + 1"),
            "residual": (
                "two-stage residual: k/2 by \\|attribution\\|, the rest by \\|attribution - the known rows' part\\|",
                "k + 1, a second pass",
            ),
            "sketch_8": ("random sketch, 8 probes (50 draws)", "k + 9"),
            "oracle": ("oracle: largest off-diagonal norm (needs the full matrix)", "W"),
        }
        rows = [
            [
                what[name][0],
                what[name][1],
                f"{v['mean']:.1%}",
                f"{v['min']:.0%}",
                f"{v['at_least_90_percent']} of {sc['sentences']}",
            ]
            for name, v in sc["screens"].items()
        ]
        lines += [
            f"Screens on many exact matrices, no model call: the {sc['sentences']} SST-2 dev sentences of at least "
            f'{sc["min_words"]} words ({sc["mean_words"]:.1f} on average) of the dev-set corpus run (section "The '
            f"whole SST-2 dev set with interactions\"), each with `k = round(W / 7.5)` rows (the review's 10 of "
            f"75) and its `2k` strongest pairs (the review's 20):",
            "",
            table(
                [
                    "screen",
                    "products per path point",
                    "strongest pairs held (mean)",
                    "lowest",
                    "sentences with >= 90% of their 2k (the review's 18 of 20)",
                ],
                rows,
            ),
            "",
        ]
    return Section(title, "\n".join(lines), targets=tuple(targets))
