"""Section of ``bench_attributions_captum.py``: attributions against Captum and transformers-interpret at matched
completeness error, and out of the box."""

from __future__ import annotations

from .base import NO_RESULTS, Section, Target, fe, fr, fs, median, table

TITLE = "Attributions vs Captum and transformers-interpret"
MIN_RATIO = 1.0  # target: median time ratio theirs/ours at matched error at least this (ours no slower)
DEFAULTS_N_STEPS = 50  # the baselines' default n_steps, for the out-of-the-box table
BASELINES = (
    ("matched_captum", "Captum LayerIntegratedGradients", "logit"),
    ("matched_transformers_interpret", "transformers-interpret SequenceClassificationExplainer", "probability"),
)


def _intro(d: dict, sentences: list) -> str:
    s = d["settings"]
    words = [r["words"] for r in sentences]
    return (
        f"{len(sentences)} random SST-2 dev sentences with {s['word_range'][0]}-{s['word_range'][1]} words "
        f"({', '.join(str(w) for w in words)} words), the real model unmodified (ReLU head; ours with "
        f"`smoothing=None` so that both sides explain the same function), the predicted class. Times are the "
        f"best of {s['repeats']} (one run for the slowest calls). Completeness error absolute (logit / "
        f"probability units). Matched: our fastest run with error <= theirs (x{s['match_slack']:g}, float "
        f"rounding)."
    )


def _matched_rows(d: dict, sentences: list, key: str) -> list:
    rows = []
    for n in d["settings"]["n_steps"]:
        ms = [m for r in sentences for m in r[key] if m["n_steps"] == n]
        ratios = [m["time_ratio"] for m in ms if m.get("time_ratio")]
        ours_t = [m["our_time_s"] for m in ms if m.get("our_time_s")]
        ours_e = [m["our_error"] for m in ms if m.get("our_error") is not None]
        rows.append(
            [
                n,
                fs(median([m["their_time_s"] for m in ms])),
                fe(median([m["their_error"] for m in ms])),
                fs(median(ours_t)) if ours_t else "-",
                fe(median(ours_e)) if ours_e else "-",
                ", ".join(sorted({m["ours"] for m in ms if m.get("ours")})),
                fr(median(ratios)) if ratios else "-",
                f"{fr(min(ratios))} - {fr(max(ratios))}" if ratios else "-",
                f"{sum(1 for x in ratios if x >= 1)}/{len(ms)}",
            ]
        )
    return rows


def target(sentences: list, key: str, name: str) -> Target | None:
    """Ours no slower than this baseline at matched error: the median time ratio over (sentence, n_steps) pairs."""
    ratios = [m["time_ratio"] for r in sentences for m in r[key] if m.get("time_ratio")]
    if not ratios:
        return None
    unmatched = sum(1 for r in sentences for m in r[key] if not m.get("time_ratio"))
    return Target(
        f"Attributions vs {name}",
        f"no slower at matched error (median time ratio >= {MIN_RATIO:g})",
        f"time ratio theirs/ours median {fr(median(ratios))} (range {fr(min(ratios))} - {fr(max(ratios))}); "
        f"ours not slower in {sum(1 for x in ratios if x >= 1)}/{len(ratios)} (sentence, n_steps) pairs"
        + (f", {unmatched} unmatched" if unmatched else ""),
        median(ratios) >= MIN_RATIO,
    )


def _time_error(run: dict) -> str:
    return f"{fs(run['time_s'])}, {fe(run['completeness_error'])}"


def _out_of_the_box(sentences: list) -> str:
    rows = []
    for r in sentences:
        ad = [o for o in r["ours_logit"] if o["setting"].startswith("adaptive")]
        cap = next((c for c in r["captum"] if c["n_steps"] == DEFAULTS_N_STEPS), None)
        ti = next((c for c in r["transformers_interpret"] if c["n_steps"] == DEFAULTS_N_STEPS), None)
        rows.append(
            [
                r["words"],
                "; ".join(f"{o['setting'].split('=')[1].rstrip(')')}: {o['steps']} pts, {_time_error(o)}" for o in ad),
                f"{_time_error(r['ours_default_logit'])} ({r['ours_default_logit']['steps']} pts)",
                _time_error(cap) if cap else "-",
                _time_error(r["ours_default_probability"]),
                f"{_time_error(ti)} (reports delta {ti['reported_delta']:.2f})" if ti else "-",
            ]
        )
    return table(
        [
            "words",
            "ours adaptive, smoothing=None (rtol: points, time, error)",
            "ours default (softplus head), logit",
            f"Captum n_steps={DEFAULTS_N_STEPS}, logit",
            "ours default, probability",
            f"transformers-interpret n_steps={DEFAULTS_N_STEPS}, probability",
        ],
        rows,
    )


def render(d: dict, out=None) -> Section:
    sentences = d.get("sentences", [])
    if not sentences:
        return Section(TITLE, NO_RESULTS)
    lines, targets = [_intro(d, sentences), ""], []
    for key, name, unit in BASELINES:
        lines += [
            f"**vs {name} ({unit})**",
            "",
            table(
                [
                    "their n_steps",
                    "their time (median)",
                    "their error (median)",
                    "our time (median)",
                    "our error (median)",
                    "our runs chosen",
                    "time ratio theirs/ours (median)",
                    "range",
                    "sentences with ours not slower",
                ],
                _matched_rows(d, sentences, key),
            ),
            "",
        ]
        t = target(sentences, key, name)
        targets += [t] if t else []
    default_steps = [r["ours_default_logit"]["steps"] for r in sentences]
    transformers_major = (d["machine_start"].get("transformers") or "?").split(".")[0]
    lines += [
        "**Out of the box**, and our adaptive rule on the unsmoothed ReLU model (time, completeness error):",
        "",
        _out_of_the_box(sentences),
        "",
        "At the same rule (our `gauss(N)` is Captum's N-step Gauss-Legendre rule: the same nodes, the same errors to "
        "rounding) our call does a little more than Captum's N gradient rows: the model's own prediction forward "
        "pass, the unsmoothed model value, and f at both path ends (forward passes); that fixed cost shows at small "
        "n_steps and short sentences. Our adaptive rule on this unsmoothed ReLU model needs many points for "
        f"rtol={min(d['settings']['rtols']):g} (the kinks make the path function non-smooth); with the default "
        f"softplus smoothing it needs {min(default_steps)}-{max(default_steps)}.",
        "",
        "transformers-interpret's own `delta` is not the completeness error of its attributions here: with "
        f"transformers {transformers_major}, DistilBERT's `forward` takes `position_ids`, so it passes all-zero "
        "reference position ids, which enter the delta's f(baseline) but not the integrated path. The errors above are "
        "computed from its raw attributions against the baseline it integrates from; its attributions equal ours for "
        "the same rule.",
    ]
    return Section(TITLE, "\n".join(lines), tuple(targets))
