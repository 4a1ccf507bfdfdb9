"""The faithfulness benchmark's report section (benchmarks/sections/faithfulness.py) on the committed results: its
numbers recomputed here from the JSON, and its targets decided from them (a result that misses flips the target)."""

from __future__ import annotations

import copy
import importlib.util
import json
import statistics
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
RESULTS = BENCHMARKS / "results" / "faithfulness.json"


def _section_module():
    spec = importlib.util.spec_from_file_location("benchmarks_report", BENCHMARKS / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # puts benchmarks/ on sys.path (for its `sections` package)
    from sections import faithfulness

    assert module.SECTIONS["faithfulness"] is faithfulness.render
    return faithfulness


@pytest.fixture(scope="module")
def data() -> dict:
    return json.loads(RESULTS.read_text())


def target(section, prefix: str):
    (found,) = [t for t in section.targets if t.name.startswith(prefix)]
    return found


def test_section_reports_the_recorded_numbers(data):
    faithfulness = _section_module()
    section = faithfulness.render(data)
    rows = data["sentences"]
    exhaustive = [r for r in rows if r["exhaustive"]]
    ours = statistics.median(r["ours"]["r2"] for r in exhaustive)
    assert "| ours: Integrated Hessians (adaptive) | - | " in section.text
    assert f"| {ours:.3f} |" in section.text  # the exhaustive table's median R^2 of ours
    fsii = statistics.median(s["r2"] for r in rows for s in r["shapiq"] if s["index"] == "FSII" and s["label"] == "1x")
    t = target(section, "Faithfulness: IH vs shapiq FSII")
    all_ours = statistics.median(r["ours"]["r2"] for r in rows)
    assert t.met == (all_ours >= fsii) and f"{fsii:.3f}" in t.measured
    assert "2^W" in section.text and "charged" in section.text and section.limits


def test_targets_flip_with_the_results(data):
    faithfulness = _section_module()
    better = copy.deepcopy(data)
    for r in better["sentences"]:
        r["ours"]["r2"] = 0.999
        r["ours"]["pair_correlation"] = 0.1
    got = faithfulness.render(better)
    assert target(got, "Faithfulness: IH vs shapiq FSII").met is True
    assert target(got, "Faithfulness: IH's strongest pairs").met is False
    assert "no peer's median R² exceeds ours" in got.text
    worse = copy.deepcopy(data)
    for r in worse["sentences"]:
        r["ours"]["r2"] = r["ours"]["r2_additive"] - 0.1
        for a in r["attributions"]:
            if a["method"].startswith("ours"):
                a["comprehensiveness"] -= 0.5
    got = faithfulness.render(worse)
    assert target(got, "Faithfulness: IH's interactions add").met is False
    assert target(got, "Faithfulness: IG vs Captum").met is False
    assert faithfulness.render({"settings": {}, "sentences": []}).text == "No results."
