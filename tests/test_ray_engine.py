"""engine="ray" on a real local Ray cluster started by the test: 2 CPU workers, a tiny model loaded by path on each
worker, no network. The cluster runs in a child process inside a network namespace of its own with only loopback
up (``unshare -n``; root, as in CI), so every packet stays on 127.0.0.1. Checks: the same results as
engine="local" (to float rounding), the same shards, resumable from a folder another engine started, workers
reporting their memory; a missing Ray gives the install command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from optional import unavailable

from transformers_ih.cli import main as cli_main
from transformers_ih.corpus import explanations, read_output

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent("""
    import contextlib, io, json, pathlib, shutil, sys
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers_ih import RayEngine, SequenceClassificationInteractionExplainer, explain_dataset
    from transformers_ih.cli import main as cli_main

    model_dir, data, out, cli_args = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3]), json.loads(sys.argv[4])
    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    explainer = SequenceClassificationInteractionExplainer(model, AutoTokenizer.from_pretrained(model_dir))
    options = dict(batch_size=3, steps=4, method="gauss", progress=False)
    explain_dataset(explainer, data, output_dir=out / "local", **options)  # the reference
    # a folder the local engine left halfway (its manifest and first 2 of 4 shards), for Ray to finish
    (out / "resumed" / "shards").mkdir(parents=True)
    shutil.copy(out / "local" / "manifest.json", out / "resumed" / "manifest.json")
    for name in ("000000.parquet", "000001.parquet"):
        shutil.copy(out / "local" / "shards" / name, out / "resumed" / "shards" / name)

    engine = RayEngine(workers=2, num_cpus=2, object_store_memory=100 * 2**20)
    explain_dataset(explainer, data, output_dir=out / "ray", engine=engine, **options)
    stats = {"stats": list(engine.stats), "memory": engine.worker_memory()}
    explain_dataset(explainer, data, output_dir=out / "resumed", engine=engine, **options)
    stats["resumed_shards"] = sorted(s["shard"] for s in engine.stats)
    import ray
    stats["cpus"] = ray.cluster_resources().get("CPU")
    stats["node_ip"] = ray.util.get_node_ip_address()
    (out / "ray_stats.json").write_text(json.dumps(stats))

    # the command line with --engine ray, on the cluster started above (its RayEngine joins a running Ray)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli_main([*cli_args, "--output-dir", str(out / "cli-ray"), "--engine", "ray", "--workers", "2"])
    (out / "cli_ray.json").write_text(json.dumps({"code": code, "printed": printed.getvalue()}))
""")


TEXTS = [
    "not bad at all",
    "a good film",
    "it is not good",
    "bad , bad acting",
    "never dull",
    "the plot is thin",
    "a fine cast",
    "not my kind of movie",
    "surprisingly funny",
    "dull and long",
]


def _isolated(argv: list[str]) -> list[str]:
    """``argv`` run in a new network namespace with only loopback up."""
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *argv]


def _can_isolate() -> str | None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare and ip (util-linux, iproute2) are needed to keep the Ray cluster off the network"
    probe = subprocess.run(_isolated(["true"]), capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot make a network namespace here (needs root): {probe.stderr.strip()[:200]}"
    return None


@pytest.fixture(scope="module")
def ray_ready():
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        unavailable("Ray is not installed", 'pip install "transformers-ih[ray]"')
    reason = _can_isolate()
    if reason:
        unavailable(reason, "run the Ray tests as root on Linux (as CI does)")


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_ADDRESS": "",
    }


def _cli_args(model_dir: str, tsv: Path) -> list[str]:
    """The command line both CLI runs share (dataset mode), before ``--output-dir`` and the engine."""
    return ["--model", model_dir, "--dataset", str(tsv), "--batch-size", "4", "--steps", "4", "--min-count", "1"]


@pytest.fixture(scope="module")
def ray_run(ray_ready, tiny_classifier, tmp_path_factory):
    """One Ray cluster, in its own loopback-only namespace, for every check of this module (a cluster takes ~20 s
    to start on 2 cores): ``explain_dataset`` with the local engine (the reference), with Ray, resumed on Ray from a
    folder the local engine left halfway, and the command line with ``--engine ray``. Returns the folder and the
    model's path."""
    model, _ = tiny_classifier("bert")
    model_dir = model.config._name_or_path
    out = tmp_path_factory.mktemp("ray")
    data = out / "texts.jsonl"
    data.write_text(
        "".join(json.dumps({"sentence": t, "idx": i}) + "\n" for i, t in enumerate(TEXTS)), encoding="utf-8"
    )
    tsv = out / "texts.tsv"
    tsv.write_text("label\tsentence\n" + "".join(f"0\t{t}\n" for t in TEXTS), encoding="utf-8")
    script = out / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    argv = [sys.executable, str(script), model_dir, str(data), str(out), json.dumps(_cli_args(model_dir, tsv))]
    proc = subprocess.run(_isolated(argv), capture_output=True, text=True, env=_env(), timeout=420)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, model_dir


def test_ray_engine_matches_local_and_resumes(ray_run):
    out, _ = ray_run
    local, ray_out = read_output(out / "local"), read_output(out / "ray")
    assert ray_out.column_names == local.column_names and ray_out["idx"] == list(range(len(TEXTS)))
    assert sorted(p.name for p in (out / "ray" / "shards").iterdir()) == sorted(
        p.name for p in (out / "local" / "shards").iterdir()
    )
    for a, b in zip(explanations(local), explanations(ray_out)):
        assert a.words == b.words and a.target == b.target and a.steps == b.steps
        np.testing.assert_allclose(b.interactions, a.interactions, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(b.attributions, a.attributions, rtol=1e-6, atol=1e-9)

    stats = json.loads((out / "ray_stats.json").read_text())
    assert stats["cpus"] == 2 and stats["node_ip"] == "127.0.0.1"
    assert sorted(s["shard"] for s in stats["stats"]) == [0, 1, 2, 3]
    # each worker reports its peak memory (a tiny model's shards may all go to the actor that starts first)
    assert 1 <= len(stats["memory"]) <= 2 and all(50 < mb < 8000 for mb in stats["memory"].values())

    # resumable in the same way: a folder the local engine left halfway is finished on Ray, only its missing shards
    assert stats["resumed_shards"] == [2, 3]
    done = read_output(out / "resumed")
    assert done["idx"] == list(range(len(TEXTS)))
    assert done.select(range(6)).data.table.equals(local.select(range(6)).data.table)
    for a, b in zip(explanations(local), explanations(done)):
        np.testing.assert_allclose(b.interactions, a.interactions, rtol=1e-6, atol=1e-9)


def test_cli_engine_ray_matches_the_local_cli(ray_run, tmp_path, capsys):
    """The command line with ``--engine ray`` (run on the module's cluster, in its loopback-only namespace) writes
    the same explanations as the same command with the local engine, and prints the corpus's top pairs."""
    out, model_dir = ray_run
    ray_cli = json.loads((out / "cli_ray.json").read_text())
    assert ray_cli["code"] == 0
    printed = ray_cli["printed"]
    assert f"explained {len(TEXTS)} rows; results in {out / 'cli-ray'}" in printed
    assert "engine: Ray, " in printed and "explained 3 new shard(s)" in printed  # 10 rows, 4 a shard
    assert cli_main([*_cli_args(model_dir, out / "texts.tsv"), "--output-dir", str(tmp_path / "local")]) == 0
    local_printed = capsys.readouterr().out
    # the same corpus summary (top pairs) from both engines' results
    summary = lambda printed: printed.split("strongest pairs", 1)[1]  # noqa: E731
    assert summary(printed) == summary(local_printed) and summary(local_printed).count(" x ") == 5
    local, ray_out = read_output(tmp_path / "local"), read_output(out / "cli-ray")
    assert len(ray_out) == len(TEXTS) and ray_out["sentence"] == local["sentence"]
    for a, b in zip(explanations(local), explanations(ray_out)):
        assert a.words == b.words and a.target == b.target
        np.testing.assert_allclose(b.interactions, a.interactions, rtol=1e-6, atol=1e-9)


def test_missing_ray_names_the_extra(tiny_classifier, monkeypatch):
    import builtins

    from transformers_ih import SequenceClassificationInteractionExplainer, explain_dataset

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    model, tok = tiny_classifier("bert")
    with pytest.raises(ImportError, match=r'pip install "transformers-ih\[ray\]"'):
        explain_dataset(
            SequenceClassificationInteractionExplainer(model, tok),
            {"sentence": ["fine"]},
            engine="ray",
            progress=False,
            steps=4,
        )


def test_ray_needs_a_model_path(tiny_classifier):
    from transformers_ih import SequenceClassificationInteractionExplainer
    from transformers_ih.corpus.engines import ExplainerSpec

    model, tok = tiny_classifier("bert")
    import copy

    nameless = copy.deepcopy(model)
    nameless.config._name_or_path = ""
    with pytest.raises(ValueError, match="save_pretrained"):
        ExplainerSpec.of(SequenceClassificationInteractionExplainer(nameless, tok))
    spec = ExplainerSpec.of(SequenceClassificationInteractionExplainer(model, tok))
    assert spec.model_id == model.config._name_or_path
    rebuilt = spec.build("cpu")  # what a worker does: from_pretrained by path, weights checked
    assert rebuilt.rtol == 1e-3 and rebuilt.progress is False
