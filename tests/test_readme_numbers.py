"""Every number README.md states comes from a result file or is computed here: these tests read the README's sentence
and check it against the measurement."""

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


def percent(x: float) -> str:
    return f"{100 * x:,.0f}%"


def test_fixed_16_point_rule_numbers_come_from_the_accuracy_benchmark():
    results = json.loads((ROOT / "benchmarks/results/accuracy_per_evaluation.json").read_text())
    errors = [row["relative_error"] for sentence in results["per_sentence"] for row in sentence["ih"]
              if row["rule"] == "ours: gauss" and row["points"] == 16]
    assert len(errors) == results["settings"]["sentences"]
    claim = (f"misses completeness by {percent(min(errors))} to {percent(max(errors))} "
             f"(median {percent(float(np.median(errors)))}) on {len(errors)} SST-2 dev sentences")
    assert claim in " ".join(README.split()), claim


@pytest.mark.slow
def test_softplus_beta_20_moves_the_shared_model_logits_as_stated():
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from transformers_ih.engine.smoothing import SoftplusMode

    stated = re.search(r"beta=20 moved the SST-2 DistilBERT's\s+logits by at most ([0-9.]+) on (\d+) dev sentences",
                       README)
    assert stated, "the README's smoothing sentence is missing"
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
    claim = (f"about {round(fewer * 10) * 10}% fewer Hessian nodes; a {new['words']}-word sentence in "
             f"~{new['time_s']:.0f} s instead of ~{old['time_s']:.0f} s")
    assert claim in " ".join(README.split()), claim


def test_expected_hessians_numbers_come_from_the_path_explain_benchmark():
    d = json.loads((ROOT / "benchmarks/results/expected_vs_path_explain.json").read_text())["summary"]
    small = d["interactions, background 100"]["ours_points_for_that_error"]
    large = d["interactions, background 426"]["ours_points_for_that_error"]
    flat = " ".join(README.split())
    assert f"with about {round(small, -1):.0f} (100-row background" in flat
    assert f"or {round(large, -1):.0f} (426 rows)" in flat


@pytest.mark.slow
def test_headline_example_values(real_model):
    from transformers_ih import SequenceClassificationInteractionExplainer

    e = SequenceClassificationInteractionExplainer(*real_model)("this film is not bad at all")
    (a, b, value), = e.top_interactions(1)
    assert f"[('{a}', '{b}', {value:.2f}), ...]" in README
    stated = float(re.search(r"completeness_error  # .*e\.g\. ([0-9.e-]+)", README).group(1))
    assert e.completeness_error == pytest.approx(stated, rel=0.05)
