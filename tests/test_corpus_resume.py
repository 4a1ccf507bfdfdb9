"""Kill-and-resume: a corpus run in a subprocess killed with SIGKILL in the middle, then run again, gives a dataset
equal (every row, every byte of the Arrow table) to an uninterrupted run; a changed configuration is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from transformers_ih import SequenceClassificationInteractionExplainer, explain_dataset
from transformers_ih.corpus import read_output

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent("""
    import sys, time
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers_ih import SequenceClassificationInteractionExplainer, explain_dataset

    model_dir, data, out, pause, steps = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])

    class Slow(SequenceClassificationInteractionExplainer):
        # the same explanations; a pause per shard so that the parent can kill the run in the middle
        def explain(self, *args, **kwargs):
            time.sleep(pause)
            return super().explain(*args, **kwargs)

    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    explainer = Slow(model, AutoTokenizer.from_pretrained(model_dir))
    explain_dataset(explainer, data, batch_size=2, output_dir=out, steps=steps, method="gauss", progress=False)
    print("done", flush=True)
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
    "a mess",
]


def _run(script: Path, args: list[str], **kwargs) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_killed_run_resumes_to_the_uninterrupted_result(tiny_classifier, tmp_path):
    model, tokenizer = tiny_classifier("bert")
    model_dir = model.config._name_or_path
    data = tmp_path / "texts.jsonl"
    data.write_text("".join(f'{{"sentence": "{t}", "idx": {i}}}\n' for i, t in enumerate(TEXTS)), encoding="utf-8")
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    shards = len(TEXTS) // 2 + 1

    # the uninterrupted run, in a child like the others (same threads, same code path), alongside a run that is
    # killed with SIGKILL once it has written 2 of its 6 shards (one thread each: two cores)
    reference = _run(script, [model_dir, str(data), str(tmp_path / "reference"), "0", "4"])
    run = tmp_path / "run"
    killed = _run(script, [model_dir, str(data), str(run), "1.0", "4"])
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and killed.poll() is None:
        if len(list((run / "shards").glob("*.parquet"))) >= 2:
            break
        time.sleep(0.05)
    assert killed.poll() is None, "the run ended before it could be killed: " + killed.stderr.read()[-2000:]
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    assert killed.returncode == -signal.SIGKILL
    written = sorted(p.name for p in (run / "shards").glob("*.parquet"))
    assert 2 <= len(written) < shards
    _, err = reference.communicate(timeout=240)
    assert reference.returncode == 0, err[-2000:]

    # a changed configuration (here the options; the model's weights are covered in test_corpus) is refused
    explainer = SequenceClassificationInteractionExplainer(model, tokenizer)
    with pytest.raises(ValueError, match=r"changed: .*call\.steps"):
        explain_dataset(explainer, str(data), batch_size=2, output_dir=run, steps=5, method="gauss", progress=False)
    assert sorted(p.name for p in (run / "shards").glob("*.parquet")) == written

    # resumed: the same arguments finish the run
    resumed = _run(script, [model_dir, str(data), str(run), "0", "4"])
    _, err = resumed.communicate(timeout=240)
    assert resumed.returncode == 0, err[-2000:]
    assert len(list((run / "shards").glob("*.parquet"))) == shards
    assert not list((run / "shards").glob(".tmp-*"))
    got, want = read_output(run), read_output(tmp_path / "reference")
    assert got.column_names == want.column_names and got["idx"] == list(range(len(TEXTS)))
    assert got.data.table.equals(want.data.table)  # nothing lost, nothing duplicated, the same numbers
