"""Section of ``bench_target_23.py``: the 23-word SST-2 sentence explained end to end at the default tolerance."""

from __future__ import annotations

from .base import Section, Target, fe, fs, table

TITLE = "The 23-word target"
LIMIT_S = 20  # the target: under 20 s on this CPU
PROTOTYPE_S = 62  # the prototype's time on the same sentence, for reference


def target(d: dict) -> Target:
    t = d["default"]
    return Target(
        name=f"{d['settings']['words']}-word SST-2 sentence, attributions + full interaction matrix, default "
        "tolerance, real model, this CPU",
        threshold=f"under {LIMIT_S} s (prototype: {PROTOTYPE_S} s)",
        measured=f"{fs(t['time_s'])} (median of {len(t['times_s'])}: "
        f"{', '.join(fs(x) for x in t['times_s'])}; {t['path_points']} path points, relative error "
        f"{fe(t['relative_error'])})",
        met=t["time_s"] < LIMIT_S,
    )


def _row(rule: str, rtol: str, r: dict) -> list:
    return [rule, rtol, r["path_points"], r["scalar_evaluations"], fs(r["time_s"]), fe(r["relative_error"])]


def render(d: dict, out=None) -> Section:
    t, plain = d["default"], d.get("without_coarsening")
    rows = [_row("default (coarsened final rule)", "1e-3", t)]
    if plain:
        rows.append(_row("same search, final rule not coarsened", "1e-3", plain))
    rows += [_row("default", f"{r['rtol']:g}", r) for r in d.get("tolerance_sweep", [])]
    text = "\n".join(
        [
            f'The sentence: "{d["sentence"]}" ({t["words"]} words, {t["tokens"]} tokens), explained end to end by '
            f"`SequenceClassificationInteractionExplainer` (attributions + {t['words']}x{t['words']} interactions). "
            f"Written by `benchmarks/bench_target_23.py`.",
            "",
            table(
                ["rule", "rtol", "path points (Hessians)", "scalar evaluations", "time", "relative completeness error"],
                rows,
            ),
        ]
    )
    return Section(TITLE, text, (target(d),))
