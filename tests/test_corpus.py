"""explain_dataset (datasets in and out, shards, resume, refusals, bad input), the column round trip, the local
engine's agreement with single calls, the progress bar in logs, and the CLI's dataset mode. Tiny random models with
fixed 4-point rules: these tests are about plumbing (exactness is checked against the explainer's own calls)."""

from __future__ import annotations

import io
import json

import datasets
import numpy as np
import pytest
from tiny_models import sst2_sentences

from transformers_ih import (
    Explanation,
    PairClassificationInteractionExplainer,
    QuestionAnsweringInteractionExplainer,
    SequenceClassificationInteractionExplainer,
    explain_dataset,
    explanations,
)
from transformers_ih.cli import main
from transformers_ih.corpus import EXPLANATION_COLUMNS, read_output, results
from transformers_ih.corpus.columns import explanation_from_row, explanation_row, rows_table

FIXED = dict(steps=4, method="gauss")
TEXTS = sst2_sentences("dev", 9)


@pytest.fixture(scope="module")
def explainer(tiny_classifier):
    model, tok = tiny_classifier("bert")
    return SequenceClassificationInteractionExplainer(model, tok)


@pytest.fixture(scope="module")
def sst2_rows():
    return datasets.Dataset.from_dict(
        {"sentence": TEXTS, "label": [i % 2 for i in range(len(TEXTS))], "idx": list(range(len(TEXTS)))}
    )


@pytest.fixture(scope="module")
def reference(explainer):
    """Each shard of 4 explained by the explainer's own call (what every engine must reproduce)."""
    out = []
    for start in range(0, len(TEXTS), 4):
        out += explainer(TEXTS[start : start + 4], **FIXED)
    return out


def test_output_has_input_columns_and_round_trips_exactly(explainer, sst2_rows, reference, tmp_path):
    out = explain_dataset(explainer, sst2_rows, batch_size=4, output_dir=tmp_path / "run", progress=False, **FIXED)
    assert isinstance(out, datasets.Dataset) and len(out) == len(TEXTS)
    assert out.column_names == ["sentence", "label", "idx", *EXPLANATION_COLUMNS]
    assert out["sentence"] == TEXTS and out["idx"] == list(range(len(TEXTS)))
    got = explanations(out)
    assert got == reference  # exact: every field, float64 arrays bit for bit
    assert results(out) == reference
    assert [e.text for e in got] == TEXTS
    # the shards on disk: 3 Parquet files, a complete manifest; read_output gives the same dataset
    assert sorted(p.name for p in (tmp_path / "run" / "shards").iterdir()) == [
        "000000.parquet",
        "000001.parquet",
        "000002.parquet",
    ]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["complete"] and manifest["rows"] == len(TEXTS) and manifest["shards"] == 3
    assert read_output(tmp_path / "run").data.table.equals(out.data.table)


def test_in_memory_and_arrow_shards_give_the_same_rows(explainer, sst2_rows, reference, tmp_path):
    memory = explain_dataset(explainer, sst2_rows, batch_size=4, progress=False, **FIXED)
    arrow = explain_dataset(
        explainer, sst2_rows, batch_size=4, output_dir=tmp_path / "a", format="arrow", progress=False, **FIXED
    )
    assert explanations(memory) == reference and explanations(arrow) == reference
    assert sorted(p.suffix for p in (tmp_path / "a" / "shards").iterdir()) == [".arrow"] * 3


def test_row_round_trip_keeps_nan_none_meta_and_keys():
    e = Explanation(
        text="a b",
        words=["a", "b"],
        offsets=[(0, 1), (2, 3)],
        tokens=["[CLS]", "a", "b", "[SEP]"],
        attributions=np.array([0.1, 1 / 3]),
        interactions=np.array([[0.1, np.nan], [np.nan, np.nan]]),  # NaN where not computed (rows=)
        computed=np.array([[True, False], [False, False]]),
        target="x",
        target_index=None,
        predicted_label="x",
        predicted_probability=0.5,
        f_input=1.0,
        f_baseline=0.25,
        completeness_error=1e-17,
        steps=3,
        model_value=None,
        target_kind="custom",
        meta={"scores": [0.1, 1 / 3], "nested": {"k": [1, 2]}},
    )
    table = rows_table([explanation_row(e, 7, key=3), explanation_row(e, 8)])
    back = [explanation_from_row(r) for r in table.to_pylist()]
    assert back[0] == e and back[1] == e and np.isnan(back[0].interactions[1, 1])
    assert back[0].computed.tolist() == [[True, False], [False, False]] and back[0].attributions[1] == 1 / 3
    assert table.column("explanation_key").to_pylist() == ["3", None]
    assert results(table) == [{3: e}, e]


def test_resume_keeps_finished_shards_and_refuses_another_configuration(
    explainer, sst2_rows, reference, tmp_path, monkeypatch
):
    run = tmp_path / "run"
    explain_dataset(explainer, sst2_rows.select(range(8)), batch_size=4, output_dir=run, progress=False, **FIXED)
    with pytest.raises(ValueError, match=r"changed: .*input\.rows"):
        explain_dataset(explainer, sst2_rows, batch_size=4, output_dir=run, progress=False, **FIXED)
    # same configuration: only the missing shard is explained (the others are kept as written)
    partial = tmp_path / "partial"
    explain_dataset(explainer, sst2_rows, batch_size=4, output_dir=partial, progress=False, **FIXED)
    (partial / "shards" / "000002.parquet").unlink()
    kept = (partial / "shards" / "000000.parquet").stat().st_mtime_ns
    calls = []
    original = SequenceClassificationInteractionExplainer.explain

    def counting(self, *args, **kwargs):
        calls.append(len(args[0]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SequenceClassificationInteractionExplainer, "explain", counting)
    out = explain_dataset(explainer, sst2_rows, batch_size=4, output_dir=partial, progress=False, **FIXED)
    assert calls == [1] and explanations(out) == reference
    assert (partial / "shards" / "000000.parquet").stat().st_mtime_ns == kept
    # a finished run: nothing explained again
    calls.clear()
    assert (
        explanations(explain_dataset(explainer, sst2_rows, batch_size=4, output_dir=partial, progress=False, **FIXED))
        == reference
    )
    assert calls == []
    monkeypatch.undo()
    # every kind of change is refused, naming it
    for change, kwargs in [
        ("call.steps", dict(steps=5, method="gauss")),
        ("call.interactions", dict(interactions=False, **FIXED)),
        ("call.target", dict(target="POSITIVE", **FIXED)),
        ("batch_size", dict(batch_size=3, **FIXED)),
    ]:
        kwargs.setdefault("batch_size", 4)
        with pytest.raises(ValueError, match=f"changed: .*{change.replace('.', '[.]')}"):
            explain_dataset(explainer, sst2_rows, output_dir=partial, progress=False, **kwargs)
    other = SequenceClassificationInteractionExplainer(explainer.model, explainer.tokenizer, rtol=1e-2)
    with pytest.raises(ValueError, match=r"explainer\.rtol"):
        explain_dataset(other, sst2_rows, batch_size=4, output_dir=partial, progress=False, **FIXED)
    with pytest.raises(ValueError, match="format='parquet'"):
        explain_dataset(explainer, sst2_rows, batch_size=4, output_dir=partial, format="arrow", progress=False, **FIXED)
    # overwrite=True starts again
    again = explain_dataset(
        explainer, sst2_rows, batch_size=3, output_dir=partial, overwrite=True, progress=False, **FIXED
    )
    assert len(again) == len(TEXTS)


def test_changed_weights_or_input_are_refused(tiny_classifier, sst2_rows, tmp_path):
    import copy

    import torch

    model, tok = tiny_classifier("bert")
    explainer = SequenceClassificationInteractionExplainer(model, tok)
    run = tmp_path / "run"
    explain_dataset(explainer, sst2_rows.select(range(4)), batch_size=2, output_dir=run, progress=False, **FIXED)
    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.classifier.bias[0] += 1e-3
    with pytest.raises(ValueError, match=r"model\.weights"):
        explain_dataset(
            SequenceClassificationInteractionExplainer(changed, tok),
            sst2_rows.select(range(4)),
            batch_size=2,
            output_dir=run,
            progress=False,
            **FIXED,
        )
    edited = sst2_rows.select(range(4)).map(
        lambda r: {"sentence": r["sentence"] + " !" if r["idx"] == 1 else r["sentence"]}
    )
    with pytest.raises(ValueError, match="rows 0-1 changed"):
        explain_dataset(explainer, edited, batch_size=2, output_dir=run, progress=False, **FIXED)


def test_clear_messages_for_bad_input(explainer, tmp_path):
    rows = datasets.Dataset.from_dict({"text": ["good", "bad"]})
    with pytest.raises(ValueError, match=r"no column 'sentence'; its columns are \['text'\]"):
        explain_dataset(explainer, rows, progress=False)
    with pytest.raises(ValueError, match="no rows"):
        explain_dataset(explainer, rows.select([]), column="text", progress=False)
    with pytest.raises(TypeError, match="row 1 of column 'text' is NoneType"):
        explain_dataset(explainer, datasets.Dataset.from_dict({"text": ["fine", None]}), column="text", progress=False)
    with pytest.raises(TypeError, match="row 0 of column 'text' is int"):  # e.g. a csv column of numbers
        explain_dataset(explainer, {"text": [3, 4]}, column="text", progress=False)
    with pytest.raises(ValueError, match="row 1 of column 'text' is empty"):
        explain_dataset(explainer, {"text": ["fine", "  "]}, column="text", progress=False)
    with pytest.raises(ValueError, match="clash|names of explanation columns"):
        explain_dataset(explainer, {"text": ["fine"], "words": [1]}, column="text", progress=False)
    with pytest.raises(ValueError, match="takes 2 texts per input"):
        explain_dataset(
            PairClassificationInteractionExplainer(explainer.model, explainer.tokenizer),
            rows,
            column="text",
            progress=False,
        )
    with pytest.raises(ValueError, match="steps must be"):
        explain_dataset(explainer, rows, column="text", steps=0, progress=False)
    with pytest.raises(ValueError, match="engine must be"):
        explain_dataset(explainer, rows, column="text", engine="spark", progress=False)
    with pytest.raises(FileNotFoundError):
        explain_dataset(explainer, str(tmp_path / "missing.tsv"), progress=False)


def test_files_iterable_datasets_and_selections(explainer, reference, tmp_path):
    tsv = tmp_path / "dev.tsv"
    tsv.write_text("label\tsentence\n" + "".join(f"{i % 2}\t{t}\n" for i, t in enumerate(TEXTS)), encoding="utf-8")
    from_file = explain_dataset(explainer, str(tsv), batch_size=4, progress=False, **FIXED)
    assert explanations(from_file) == reference and from_file["label"] == [i % 2 for i in range(len(TEXTS))]
    streamed = datasets.Dataset.from_dict({"sentence": TEXTS}).to_iterable_dataset()
    run = tmp_path / "stream"
    assert (
        explanations(explain_dataset(explainer, streamed, batch_size=4, output_dir=run, progress=False, **FIXED))
        == reference
    )
    assert (
        explanations(explain_dataset(explainer, streamed, batch_size=4, output_dir=run, progress=False, **FIXED))
        == reference
    )  # resumed: nothing left, same rows
    # a selection in another order: its rows, not the underlying table's
    picked = datasets.Dataset.from_dict({"sentence": TEXTS}).select([5, 1])
    out = explain_dataset(explainer, picked, batch_size=4, progress=False, **FIXED)
    assert out["sentence"] == [TEXTS[5], TEXTS[1]]


def test_two_text_and_multi_explanation_tasks(tiny_task_model, tmp_path):
    model, tok = tiny_task_model("bert", "question-answering")
    qa = QuestionAnsweringInteractionExplainer(model, tok)
    rows = {"question": ["who wrote it ?", "what is it ?"], "context": ["a film by a director .", "it is a film ."]}
    out = explain_dataset(
        qa, rows, column=("question", "context"), batch_size=1, output_dir=tmp_path / "qa", progress=False, **FIXED
    )
    assert len(out) == 4 and out["input_row"] == [0, 0, 1, 1]
    assert [json.loads(k) for k in out["explanation_key"]] == ["start", "end", "start", "end"]
    assert out["question"] == [rows["question"][0]] * 2 + [rows["question"][1]] * 2
    assert results(out) == [qa(q, c, **FIXED) for q, c in zip(rows["question"], rows["context"])]
    model, tok = tiny_task_model("bert", "sequence-classification")
    pair = PairClassificationInteractionExplainer(model, tok)
    out = explain_dataset(
        pair,
        {"p": ["a man plays", "a dog runs"], "h": ["someone plays", "a cat sleeps"]},
        column={"text": "p", "text_pair": "h"},
        progress=False,
        **FIXED,
    )
    assert explanations(out) == pair(["a man plays", "a dog runs"], ["someone plays", "a cat sleeps"], **FIXED)


def test_progress_bar_in_a_log_is_a_few_whole_lines(explainer, monkeypatch):
    from transformers_ih.text import progress

    monkeypatch.setenv("TRANSFORMERS_IH_PROGRESS_INTERVAL", "3600")
    log = io.StringIO()  # not a terminal
    bar = progress.progress_bar(500, file=log, desc="explaining", unit="text")
    for _ in range(500):
        bar.update(1)
    bar.close()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and len(lines) == 2, lines  # the first line and the final one
    assert "500/500" in lines[-1]
    # an explainer call inside a corpus bar counts its texts on that bar and shows none of its own
    outer = progress.progress_bar(len(TEXTS), file=io.StringIO())
    with progress.counting_into(outer, len(TEXTS)):
        explainer(TEXTS, **FIXED)
    assert outer.n == len(TEXTS)


def test_corpus_run_writes_its_progress_as_lines(explainer, sst2_rows, capsys, monkeypatch):
    monkeypatch.setenv("TRANSFORMERS_IH_PROGRESS_INTERVAL", "3600")
    explain_dataset(explainer, sst2_rows, batch_size=2, **FIXED)
    err = capsys.readouterr().err
    assert "\r" not in err and err.count("explaining") == 2 and f"{len(TEXTS)}/{len(TEXTS)}" in err


def test_cli_dataset_mode_resumes_and_prints_top_pairs(tiny_classifier, tmp_path, capsys):
    model, tok = tiny_classifier("bert")
    tsv = tmp_path / "dev.tsv"
    tsv.write_text("label\tsentence\n" + "".join(f"0\t{t}\n" for t in TEXTS), encoding="utf-8")
    argv = [
        "--model",
        model.config._name_or_path,
        "--dataset",
        str(tsv),
        "--output-dir",
        str(tmp_path / "out"),
        "--batch-size",
        "4",
        "--steps",
        "4",
        "--limit",
        "6",
        "--html",
        str(tmp_path / "corpus.html"),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "explained 6 rows; results in" in printed and "strongest pairs" in printed
    assert (tmp_path / "corpus.html").read_text().startswith("<!DOCTYPE html>")
    first = read_output(tmp_path / "out")
    assert main(argv) == 0  # resumed: the finished run is read back
    assert read_output(tmp_path / "out").data.table.equals(first.data.table)
    with pytest.raises(SystemExit, match="changed: call.steps"):
        main(argv[:-6] + ["--steps", "5"])
    with pytest.raises(SystemExit):
        main(["--dataset", str(tsv)])  # no --output-dir
