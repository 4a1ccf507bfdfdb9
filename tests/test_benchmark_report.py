"""The benchmark report (benchmarks/report.py) built from the committed results: a section per benchmark, and
targets decided from the measured numbers (so that a result that misses a target shows as not met)."""

from __future__ import annotations

import copy
import importlib.util
import json
import statistics
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


report = _module("report")  # puts benchmarks/ on sys.path (for its `sections` package)
run_all = _module("run_all")
Output = report.Output


@pytest.fixture(scope="module")
def data() -> dict:
    return report.load(BENCHMARKS / "results")[0]


def sections(data: dict, tmp_path: Path) -> dict:
    return report.render_sections(data, Output(None, tmp_path / "BENCHMARKS.md"))


def target(section, prefix: str):
    (found,) = [t for t in section.targets if t.name.startswith(prefix)]
    return found


def captum_met(d: dict) -> bool:
    """Recomputed: ours no slower than Captum at matched error (median time ratio theirs/ours >= 1)."""
    return (
        statistics.median(m["time_ratio"] for r in d["sentences"] for m in r["matched_captum"] if m.get("time_ratio"))
        >= 1
    )


def test_every_benchmark_has_a_section(data, tmp_path):
    assert set(report.SECTIONS) == set(run_all.BENCHMARKS)
    assert set(data) == set(run_all.BENCHMARKS), "committed results should cover every benchmark"
    text = report.build(BENCHMARKS / "results", tmp_path / "BENCHMARKS.md", files=tmp_path)
    assert text == (tmp_path / "BENCHMARKS.md").read_text()
    for i, s in enumerate(sections(data, tmp_path).values(), start=1):
        assert f"\n## {i}. {s.title}\n" in text
        assert s.text and s.text != "No results."
        for t in s.targets:  # each target in the table, with its verdict
            assert (
                f"| {t.name} | {t.threshold} | {t.measured} | {({True: 'yes', False: 'no', None: '-'})[t.met]} |"
                in text
            )
    assert (tmp_path / "accuracy_per_evaluation.html").exists()
    assert "](accuracy_per_evaluation.html)" in text  # linked relative to the report


def test_targets_are_decided_from_the_results(data, tmp_path):
    got = sections(data, tmp_path)
    t23 = data["target_23_words"]
    assert target(got["target_23_words"], "23-word").met == (t23["default"]["time_s"] < 20)
    assert target(got["attributions_vs_captum"], "Attributions vs Captum").met == captum_met(
        data["attributions_vs_captum"]
    )
    for what, ratio in data["throughput"]["batched_speedup"].items():
        assert target(got["throughput"], f"Throughput, {what}").met == (ratio >= 1.5)


def test_results_that_miss_a_target_flip_it(data, tmp_path):
    slow = copy.deepcopy(data)
    slow["target_23_words"]["default"]["time_s"] = 25.0
    for r in slow["attributions_vs_captum"]["sentences"]:
        for m in r["matched_captum"]:
            if m.get("time_ratio"):
                m["time_ratio"] *= 0.5
    fast = copy.deepcopy(data)
    fast["target_23_words"]["default"]["time_s"] = 10.0
    for what in fast["throughput"]["batched_speedup"]:
        fast["throughput"]["batched_speedup"][what] = 2.0
    before, after, faster = sections(data, tmp_path), sections(slow, tmp_path), sections(fast, tmp_path)
    assert target(after["target_23_words"], "23-word").met is False
    assert target(faster["target_23_words"], "23-word").met is True
    assert (
        target(after["attributions_vs_captum"], "Attributions vs Captum").met
        is captum_met(slow["attributions_vs_captum"])
        is False
    )
    assert all(t.met for t in faster["throughput"].targets)
    assert "| no |" in report.assemble(slow, [], after)
    assert before["target_23_words"].targets != after["target_23_words"].targets


def test_a_skipped_part_keeps_its_earlier_results_and_says_when_they_were_measured(tmp_path):
    """bench_corpus.py --skip corpus re-runs the engines only: the corpus part's results stay (not erased), with a
    note naming the earlier run's time and load, and that time survives a second partial re-run."""
    import argparse

    bench = _module("bench_corpus")
    common = bench.common
    args = argparse.Namespace(out=tmp_path, quick=False)
    earlier = {
        "benchmark": "corpus",
        "settings": {"ig_texts": 32, "ih_texts": 4, "ih_corpus": 24, "ig_corpus": 200},
        "machine_start": {"time": "2026-12-02 02:08:44 UTC", "load_average": [6.84, 6.68, 7.34]},
        "modes": [{"mode": "old"}],
        "ratios_vs_local": {"old": 1.0},
        "corpus_runs": [{"mode": "local", "texts": 24}],
        "top_pairs": [{"a": "good", "b": "no"}],
        "corpus_summary": {"texts": 24},
    }
    (tmp_path / "corpus.json").write_text(json.dumps(earlier))
    for _ in range(2):  # a second engines-only re-run carries the same earlier corpus run
        rec = common.Recorder("corpus", args, ig_texts=64, ih_texts=8, ih_corpus=64, ig_corpus=None)
        rec["modes"], rec["ratios_vs_local"] = [{"mode": "new"}], {"new": 2.0}
        bench._carry_skipped(rec, ["corpus"])
        rec.save()
        saved = json.loads((tmp_path / "corpus.json").read_text())
        assert saved["modes"] == [{"mode": "new"}] and saved["ratios_vs_local"] == {"new": 2.0}
        assert saved["corpus_runs"] == earlier["corpus_runs"] and saved["top_pairs"] == earlier["top_pairs"]
        assert saved["settings"]["ih_corpus"] == 24 and saved["settings"]["ig_corpus"] == 200
        assert saved["settings"]["ig_texts"] == 64
        assert saved["carried_from"] == {
            "corpus": {"time": "2026-12-02 02:08:44 UTC", "load_average": [6.84, 6.68, 7.34]}
        }
        assert saved["notes"] == [
            "the corpus part was not re-run: its results are those of the run of "
            "2026-12-02 02:08:44 UTC (load average then 6.8, 6.7, 7.3)"
        ]
