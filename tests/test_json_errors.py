"""Bad input to ``from_json`` / ``from_dict`` (issue 10): each error names the problem and the fix."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from explanation_factory import make_explanation

from transformers_ih import Explanation, TabularExplanation


def tabular() -> TabularExplanation:
    n, d = 2, 3
    rng = np.random.default_rng(0)
    a = rng.normal(size=(n, d))
    return TabularExplanation(
        feature_names=["a", "b", "c"],
        features=rng.normal(size=(n, d)),
        feature_values=rng.normal(size=(n, d)),
        attributions=a,
        attributions_se=np.zeros((n, d)),
        interactions=None,
        interactions_se=None,
        f_input=a.sum(axis=1),
        f_baseline=np.zeros(n),
        f_background=np.zeros(n),
        completeness_gap=np.zeros(n),
        completeness_se=np.zeros(n),
        quadrature_error=np.zeros(n),
    )


RECORDS = [
    (Explanation, lambda: make_explanation(["not", "bad"]), "explanation"),
    (TabularExplanation, tabular, "tabular explanation"),
]


@pytest.mark.parametrize("cls, make, kind", RECORDS)
@pytest.mark.parametrize("text, got", [("[]", "a list"), ("null", "null"), ("3", "a number"), ('"x"', "a string")])
def test_json_that_is_not_an_object(cls, make, kind, text, got):
    with pytest.raises(ValueError) as err:
        cls.from_json(text)
    message = str(err.value)
    assert f"{text!r} is JSON but not" in message and kind in message
    assert f"got {got}" in message and "expected an object with fields" in message
    assert "attributions" in message and f"{cls.__name__}.to_json()" in message  # the fields, and the fix


@pytest.mark.parametrize("cls, make, kind", RECORDS)
@pytest.mark.parametrize("text", ["not json", ""])
def test_text_that_is_neither_file_nor_json(cls, make, kind, text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError) as err:
        cls.from_json(text)
    message = str(err.value)
    assert f"{text!r} is not a file that exists and not valid JSON (Expecting value: line 1 column 1)" in message
    assert f"{cls.__name__}.to_json()" in message and "path" in message


@pytest.mark.parametrize("cls, make, kind", RECORDS)
def test_broken_json_text(cls, make, kind):
    text = make().to_json()[:-5]
    with pytest.raises(ValueError, match="taken for JSON text \\(it starts with '\\{'\\) but is not valid JSON"):
        cls.from_json(text)


@pytest.mark.parametrize("cls, make, kind", RECORDS)
@pytest.mark.parametrize("name", ["missing.json", os.path.join("no_such_dir", "result")])
def test_missing_file_that_looks_like_a_path(cls, make, kind, name, tmp_path):
    path = str(tmp_path / name)
    with pytest.raises(FileNotFoundError) as err:
        cls.from_json(path)
    assert err.value.filename == path and repr(path) in str(err.value) and "no such file" in str(err.value)
    with pytest.raises(FileNotFoundError, match="no .* JSON file at") as err:
        cls.from_json(tmp_path / name)  # a Path is always a path
    assert err.value.filename == path


@pytest.mark.parametrize("cls, make, kind", RECORDS)
def test_directory(cls, make, kind, tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        cls.from_json(str(tmp_path))
    with pytest.raises(IsADirectoryError, match="is a directory"):
        cls.from_json(tmp_path)


@pytest.mark.parametrize("cls, make, kind", RECORDS)
def test_file_with_bad_content(cls, make, kind, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text(make().to_json()[:-5], encoding="utf-8")
    for source in (broken, str(broken)):
        with pytest.raises(ValueError, match=f"file {str(broken)!r} does not hold valid JSON"):
            cls.from_json(source)
    empty = tmp_path / "empty.json"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="empty.json' does not hold valid JSON \\(Expecting value: line 1"):
        cls.from_json(empty)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match=f"file .*list.json' is JSON but not an? {kind}: .* got a list"):
        cls.from_json(listed)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="binary.json' is not .* it is not UTF-8 text"):
        cls.from_json(binary)
    partial = tmp_path / "partial.json"
    d = make().to_dict()
    del d["attributions"]
    partial.write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(ValueError, match="partial.json': .* missing required fields \\['attributions'\\]"):
        cls.from_json(partial)


@pytest.mark.parametrize("cls, make, kind", RECORDS)
def test_missing_fields(cls, make, kind):
    d = make().to_dict()
    del d["attributions"], d["feature_names" if cls is TabularExplanation else "words"]
    with pytest.raises(ValueError) as err:
        cls.from_dict(d)
    message = str(err.value)
    assert f"{kind} JSON is missing required fields" in message
    missing = ["feature_names", "attributions"] if cls is TabularExplanation else ["words", "attributions"]
    assert str(missing) in message and f"{cls.__name__}.to_json()" in message
    with pytest.raises(ValueError, match="missing required fields"):
        cls.from_json(json.dumps(d))


@pytest.mark.parametrize("cls, make, kind", RECORDS)
def test_other_bad_dicts(cls, make, kind):
    d = make().to_dict()
    with pytest.raises(ValueError, match="format_version 'one'; expected an integer"):
        cls.from_dict({**d, "format_version": "one"})
    with pytest.raises(ValueError, match="newer than this transformers-ih .*upgrade"):
        cls.from_dict({**d, "format_version": 99})
    if cls is TabularExplanation:  # Explanation.from_dict converts its argument with dict() first
        with pytest.raises(ValueError, match="got a list"):
            cls.from_dict([1, 2])
    with pytest.raises(TypeError, match="use .*from_dict"):
        cls.from_json(d)


@pytest.mark.parametrize("cls, make, kind", RECORDS)
def test_good_sources_still_load(cls, make, kind, tmp_path, monkeypatch):
    e = make()
    assert cls.from_json(e.to_json()) == e
    assert cls.from_json(e.to_json(indent=2).encode()) == e
    e.to_json(tmp_path / "a.json")
    assert cls.from_json(tmp_path / "a.json") == e and cls.from_json(str(tmp_path / "a.json")) == e
    monkeypatch.chdir(tmp_path)
    e.to_json("plain")  # a file name that is neither .json nor contains a separator
    assert cls.from_json("plain") == e
