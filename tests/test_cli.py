import json
import os
import subprocess
import sys

import pytest

from transformers_ih import Explanation
from transformers_ih.cli import main


def test_cli_prints_and_writes_json(tiny_classifier, tmp_path, capsys):
    model, tok = tiny_classifier("bert")
    model_dir = tmp_path / "m"
    model.save_pretrained(model_dir)
    tok.save_pretrained(model_dir)
    out = tmp_path / "e.json"
    assert main(["not bad at all", "--model", str(model_dir), "--target", "NEGATIVE", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "explained: NEGATIVE" in printed and "top interacting pairs" in printed
    e = Explanation.from_json(out)
    assert e.words == ["not", "bad", "at", "all"] and e.target == "NEGATIVE"
    assert json.loads(out.read_text())["interactions"] is not None


def test_cli_bad_label_is_a_clear_error(tiny_classifier, tmp_path):
    model, tok = tiny_classifier("bert")
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    with pytest.raises(SystemExit, match="unknown label 'meh'"):
        main(["fine", "--model", str(tmp_path), "--target", "meh"])


def test_default_model_offline_names_the_model_option(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "empty-cache")}
    proc = subprocess.run(
        [sys.executable, "-m", "transformers_ih", "a fine film"], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode != 0
    assert "distilbert-base-uncased-finetuned-sst-2-english" in proc.stderr and "--model PATH" in proc.stderr
    assert "Traceback" not in proc.stderr
