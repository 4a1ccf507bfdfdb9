"""Every number README.md and the documentation pages (docs/*.md, where the README's sections moved) state comes
from a result file or is computed here: these tests read the page's sentence and check it against the
measurement."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_models import REAL_MODEL, sst2_sentences

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def page(name: str) -> str:
    """The documentation page ``docs/<name>`` that now holds a number the README used to state."""
    return (ROOT / "docs" / name).read_text(encoding="utf-8")


ENGINE = page("engine.md")  # the math and the adaptive rule
OPTIONS = page("options.md")  # what every call guarantees (smoothing)
TABULAR = page("tabular.md")  # Expected Gradients / Hessians
CORPUS = page("corpus.md")  # explaining a corpus


def percent(x: float) -> str:
    return f"{100 * x:,.0f}%"


def test_fixed_16_point_rule_numbers_come_from_the_accuracy_benchmark():
    results = json.loads((ROOT / "benchmarks/results/accuracy_per_evaluation.json").read_text())
    errors = [
        row["relative_error"]
        for sentence in results["per_sentence"]
        for row in sentence["ih"]
        if row["rule"] == "ours: gauss" and row["points"] == 16
    ]
    assert len(errors) == results["settings"]["sentences"]
    claim = (
        f"misses completeness by {percent(min(errors))} to {percent(max(errors))} "
        f"(median {percent(float(np.median(errors)))}) on {len(errors)} SST-2 dev sentences"
    )
    assert claim in " ".join(ENGINE.split()), claim


@pytest.mark.slow
def test_softplus_beta_20_moves_the_shared_model_logits_as_stated():
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from transformers_ih.engine.smoothing import SoftplusMode

    stated = re.search(
        r"beta=20 moved the SST-2 DistilBERT's\s+logits by at most ([0-9.]+) on (\d+) dev sentences", OPTIONS
    )
    assert stated, "the smoothing sentence of docs/options.md is missing"
    bound, n = float(stated.group(1)), int(stated.group(2))
    model = AutoModelForSequenceClassification.from_pretrained(REAL_MODEL).eval()
    tok = AutoTokenizer.from_pretrained(REAL_MODEL)
    sentences = sst2_sentences("dev", n)
    assert len(sentences) == n
    moved = 0.0
    with torch.no_grad():
        for text in sentences:  # one at a time: no padding in the comparison
            enc = tok(text, return_tensors="pt")
            plain = model(**enc).logits
            with SoftplusMode(20.0):
                smooth = model(**enc).logits
            moved = max(moved, float((smooth - plain).abs().max()))
    assert moved <= bound < moved + 1e-3, (moved, bound)


def test_coarsening_and_23_word_numbers_come_from_the_target_benchmark():
    d = json.loads((ROOT / "benchmarks/results/target_23_words.json").read_text())
    new, old = d["default"], d["without_coarsening"]
    fewer = 1 - new["path_points"] / old["path_points"]
    claim = (
        f"about {round(fewer * 10) * 10}% fewer Hessian nodes; a {new['words']}-word sentence in "
        f"~{new['time_s']:.0f} s instead of ~{old['time_s']:.0f} s"
    )
    assert claim in " ".join(ENGINE.split()), claim


def test_expected_hessians_numbers_come_from_the_path_explain_benchmark():
    d = json.loads((ROOT / "benchmarks/results/expected_vs_path_explain.json").read_text())["summary"]
    small = d["interactions, background 100"]["ours_points_for_that_error"]
    large = d["interactions, background 426"]["ours_points_for_that_error"]
    flat = " ".join(TABULAR.split())
    assert f"with about {round(small, -1):.0f} (100-row background" in flat
    assert f"or {round(large, -1):.0f} (426 rows)" in flat


@pytest.mark.slow
def test_headline_example_values(real_model):
    from transformers_ih import SequenceClassificationInteractionExplainer

    e = SequenceClassificationInteractionExplainer(*real_model)("this film is not bad at all")
    ((a, b, value),) = e.top_interactions(1)
    assert f"[('{a}', '{b}', {value:.2f}), ...]" in README
    stated = float(re.search(r"completeness_error  # .*e\.g\. ([0-9.e-]+)", README).group(1))
    # an example's magnitude: the adaptive rule's nodes follow float rounding, which differs between CPU kernels
    # (4.3e-4 on an AVX-512 machine, 3.1e-4 on an AVX2-only one, both with the same top pair to 2 decimals)
    assert stated / 2 <= e.completeness_error <= 2 * stated


def test_corpus_numbers_come_from_the_corpus_benchmarks():
    """The corpus paragraph (docs/corpus.md): engine rates from bench_corpus.json's quiet engines run, and every pair
    value, count and summary number of the whole dev set from corpus_dev_set.json."""
    text = " ".join(CORPUS.split())
    start = text.index("On the shared SST-2 model (`benchmarks/bench_corpus.py`")
    para = text[start : text.index("## On a Ray cluster", start)]
    engines = json.loads((ROOT / "benchmarks/results/corpus.json").read_text())
    rate = {(m["what"], m["mode"]): m["texts_per_s"] for m in engines["modes"]}
    ratios = engines["ratios_vs_local"]
    ig, ih = "attributions (IG)", "interactions (IH)"
    assert (
        f"explained {rate[ig, 'local']:.2f} sentences/s with attributions ({engines['settings']['ig_texts']} "
        f"random dev sentences"
    ) in para
    assert f"{rate[ih, 'local']:.2g} sentences/s with interactions ({engines['settings']['ih_texts']} random" in para
    assert (
        f"reached {ratios[ig]['ray, 2 workers']:.2f}x and {ratios[ih]['ray, 2 workers']:.2f}x those rates, one "
        f"worker {ratios[ig]['ray, 1 worker']:.2f}x"
    ) in para
    assert round(ratios[ig]["ray, 1 worker"], 2) == round(ratios[ih]["ray, 1 worker"], 2)

    d = json.loads((ROOT / "benchmarks/results/corpus_dev_set.json").read_text())
    assert d["complete"] and d["texts"] == 872 and "(872 sentences" in para
    p = d["per_text"]
    assert f"{p['mean_words']:.1f} words on average" in para
    assert f"median {p['median_steps']:.0f}, at most {p['max_steps']:.0f}" in para
    assert f"completeness error at most {p['max_abs_completeness_error']:.2g} logits" in para
    assert f"Over the {d['corpus_summary']['word_types']:,} word types" in para
    alone = [
        (
            x.get("engine") or f"local, {d['settings']['threads']} torch threads",  # as BENCHMARKS.md reads it
            x["seconds"] / (x["texts_after"] - x["texts_before"]),
            x["note"],
        )
        for x in d["sittings"]
        if "alone on the CPU" in x.get("note", "")
    ]
    assert f"{min(t for _, t, _ in alone):.0f} to {max(t for _, t, _ in alone):.0f} s a sentence" in para
    same = [(engine, t) for engine, t, note in alone if "slower machine" not in note]
    (local,) = [f"{t:.1f}" for engine, t in same if engine.startswith("local, 2 torch threads")]
    ray = " and ".join(f"{t:.1f}" for engine, t in same if engine.startswith("ray, 2 workers"))
    assert (
        f"local engine with two torch threads took {local} s a sentence, Ray with two one-CPU workers {ray} s; "
        "the last sitting ran on a slower machine"
    ) in para
    assert "slower machine" in d["sittings"][-1]["note"]
    words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    assert f"in {words[len(d['sittings']) - 1]} sittings" in para
    assert f"{sum(x['seconds'] for x in d['sittings']) / 3600:.1f} h in all" in para
    pairs = {}
    for key in ("top_pairs", "top_positive", "top_negative", "negation_pairs"):
        for x in d[key]:
            pairs[x["a"], x["b"]] = pairs[x["b"], x["a"]] = x
    stated = re.findall(r"`(\S+) × (\S+)`[a-z ]* \(([+-][0-9.]+)(?:, (\d+) (sentences|occurrences))?", para)
    assert len(stated) == len(re.findall(r"`\S+ × \S+`", para)) >= 12, stated  # every pair named, with its value
    for a, b, mean, n, unit in stated:
        x = pairs[a, b]
        assert f"{x['mean']:+.2f}" == mean, (a, b, x["mean"], mean)
        if n:
            assert int(n) == x["texts" if unit == "sentences" else "count"], (a, b, n, unit, x)
