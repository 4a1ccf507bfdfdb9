"""Odd inputs on every surface, as a new user would try them: ``features=``, ``rows=``, Explanation JSON,
explain_dataset, CorpusInteractions, chat prompts, evaluation and the CLI. Each case is refused with a
``ValueError`` / ``TypeError`` (the CLI: a one-line ``error:`` and a non-zero exit) whose message names the argument
or field, and no Python-internal text, or it succeeds with the values it should have. Refusals come before any
model call (the model is never run for them: see ``no_model_calls``)."""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pytest
from explanation_factory import make_explanation, make_partial

from transformers_ih import (
    CausalLMInteractionExplainer,
    Explanation,
    PairClassificationInteractionExplainer,
    SequenceClassificationInteractionExplainer,
)
from transformers_ih.cli import main
from transformers_ih.corpus import CorpusInteractions, explain_dataset
from transformers_ih.evaluate import pair_ablation

INTERNAL = (
    "object is not iterable",
    "has no len()",
    "inhomogeneous",
    "slice indices",
    "not subscriptable",
    "unsupported operand",
    "'NoneType'",
    "Errno",
    "object has no attribute",
    "list index out of range",
    "division by zero",
)


def refused(call, error, *named: str) -> str:
    """``call()`` raises ``error`` whose message holds every string of ``named`` and no Python-internal text."""
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for name in named:
        assert name in message, f"{name!r} not in {message!r}"
    assert not any(text in message for text in INTERNAL), message
    return message


@pytest.fixture(scope="module")
def classifier(tiny_task_model):
    model, tok = tiny_task_model("bert", "sequence-classification")
    return SequenceClassificationInteractionExplainer(model, tok)


@pytest.fixture
def no_model_calls(monkeypatch, classifier):
    """The explainer's model must not run (a refusal checked before any model call)."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the model ran before the refusal")

    monkeypatch.setattr(classifier.model, "forward", forbidden)
    return classifier


# ---------------------------------------------------------------------------------------------------- features=
FEATURES = [
    (5, TypeError, "features=5"),
    ({"a": 1}, TypeError, "features="),
    ("paragraph", ValueError, "features='paragraph'"),
    ([(0, 2.5)], ValueError, "feature span (0, 2.5)"),
    ([(3, 1)], ValueError, "feature span (3, 1)"),
    ([(0, 100)], ValueError, "feature span (0, 100)"),
    ([(0, 4), (2, 9)], ValueError, "overlap"),
    ([[0, 1, 2]], ValueError, "feature span (0, 1, 2)"),
    ([(True, 4)], ValueError, "feature span (True, 4)"),
    ([5], ValueError, "features for text"),
    ([], ValueError, "features for text"),
    ([(0, 2)], ValueError, "cuts the token 'good'"),
    (lambda text: 5, ValueError, "made by <lambda>"),
    (lambda text: None, ValueError, "made by <lambda>"),
    (lambda text: [], ValueError, "made by <lambda>"),
]


@pytest.mark.parametrize(("features", "error", "named"), FEATURES)
def test_features_refused(no_model_calls, features, error, named):
    refused(lambda: no_model_calls("good film here", features=features, steps=4), error, named)


@pytest.mark.parametrize(
    "text", ["hi. \u200b\u200b", "fine.\u200b \u2028\u200b", "good. \x07\x01 ok.", "\u200bgood film. \u200b\u200d"]
)
def test_sentence_features_skip_invisible_pieces_as_word_level(classifier, text):
    """Sentences of only zero-width / control characters cover no token: left out, as word level leaves them."""
    e = classifier(text, features="sentence", steps=4, check=False)
    words = classifier(text, steps=4, check=False)
    assert e.level == "sentence" and e.words and all(w.strip("\u200b\u200d\u2028 ") for w in e.words)
    assert [e.text[a:b] for a, b in e.offsets] == e.words
    assert e.f_input == pytest.approx(words.f_input, abs=1e-6)  # the same input, explained at another level
    assert float(np.sum(e.interactions)) == pytest.approx(e.f_input - e.f_baseline, abs=1e-6 + e.completeness_error)


# ---------------------------------------------------------------------------------------------------- rows=
ROWS = [
    (-1, ValueError, "rows=-1"),
    (1.5, TypeError, "rows"),
    (True, TypeError, "rows"),
    ([], ValueError, "rows"),
    ([None], TypeError, "rows"),
    ([0, -2], ValueError, "position -2"),
    ([0, 1.0], TypeError, "rows: 1.0"),
    ("film", TypeError, "rows"),
]


@pytest.mark.parametrize(("rows", "error", "named"), ROWS)
def test_rows_refused(no_model_calls, rows, error, named):
    refused(lambda: no_model_calls("good film here", rows=rows, steps=4), error, named)


@pytest.mark.parametrize(("rows", "named"), [([99], "position 99"), (["zzz"], "'zzz'"), (["x", "film"], "'x'")])
def test_rows_of_the_text_refused_before_the_explanation(classifier, rows, named):
    """Positions and texts that need the text's features: refused once it is encoded (after the prediction's one
    forward pass, before any path point)."""
    refused(lambda: classifier("good film here", rows=rows, steps=4), ValueError, named, "features")


def test_rows_by_text_and_repeats_are_the_same_rows(classifier):
    by_text = classifier("good film here", rows=["film", "film"], steps=4, check=False)
    by_position = classifier("good film here", rows=[1], steps=4, check=False)
    assert by_text.meta["rows"] == by_position.meta["rows"] == [1]
    np.testing.assert_array_equal(by_text.computed, by_position.computed)
    assert by_text.computed.sum() == 3 + 3 - 1


# ---------------------------------------------------------------------------------------------------- JSON
def _edited(**changes) -> str:
    d = json.loads(make_explanation(["good", "film", "here"]).to_json())
    d.update(changes)
    return json.dumps(d)


NAN_NO_MASK = [[float("nan"), 0.1, 0.2], [0.1, 0.3, 0.0], [0.2, 0.0, 0.1]]
JSON_CASES = [
    ({"attributions": [0.1, float("nan"), 0.2]}, "'attributions'"),
    ({"attributions": [0.1, float("inf"), 0.2]}, "'attributions'"),
    ({"attributions": [0.1, 0.2]}, "'attributions'"),
    ({"attributions": [0.1, "x", 0.2]}, "'attributions'"),
    ({"attributions": 5}, "'attributions'"),
    ({"interactions": NAN_NO_MASK}, "'computed'"),
    ({"interactions": [[0.1, float("inf"), 0], [0, 0, 0], [0, 0, 0]]}, "'interactions'"),
    ({"interactions": [[0.1, 0.2], [0.3]]}, "'interactions'"),
    ({"interactions": [[0.1] * 3] * 2}, "'interactions'"),
    ({"computed": [[True] * 2] * 2}, "'computed'"),
    ({"computed": [[True, False, True]] * 3}, "'interactions'"),
    ({"offsets": [[0, 4], [5, 9], [10, 99]]}, "'offsets'"),
    ({"offsets": [[0, 4], [5, 9]]}, "'offsets'"),
    ({"offsets": [[0, 4], [5, 9], [10, "x"]]}, "'offsets'"),
    ({"offsets": [[0, 4], [5, 9], [-1, 3]]}, "'offsets'"),
    ({"words": ["good", "film", "HERE"]}, "'words'"),
    ({"words": 3}, "'words'"),
    ({"level": "paragraph"}, "'level'"),
    ({"estimator": "shap"}, "'estimator'"),
    ({"target_kind": "label"}, "'target_kind'"),
    ({"steps": "12"}, "'steps'"),
    ({"steps": -3}, "'steps'"),
    ({"text": 7}, "'text'"),
    ({"tokens": "good film"}, "'tokens'"),
    ({"predicted_probability": 2.0}, "'predicted_probability'"),
    ({"f_input": float("nan")}, "'f_input'"),
    ({"f_baseline": None}, "'f_baseline'"),
    ({"target": 1}, "'target'"),
    ({"target_index": "1"}, "'target_index'"),
    ({"word_groups": [0, 1]}, "'word_groups'"),
    ({"meta": [1, 2]}, "'meta'"),
    ({"smoothing": 3}, "'smoothing'"),
]


@pytest.mark.parametrize(("changes", "named"), JSON_CASES)
def test_explanation_json_refused_naming_the_field(changes, named):
    message = refused(lambda: Explanation.from_json(_edited(**changes)), ValueError, named)
    assert "to_json()" in message or "format" in message  # the fix


def test_explanation_json_of_a_file_names_the_file_and_field(tmp_path):
    path = tmp_path / "e.json"
    path.write_text(_edited(level="paragraph"), encoding="utf-8")
    refused(lambda: Explanation.from_json(path), ValueError, str(path), "'level'")


def test_loaded_explanations_show_and_summarise():
    partial = make_partial(make_explanation(["good", "film", "here", "now"]), [1])
    back = Explanation.from_json(partial.to_json())
    assert back == partial and np.isnan(back.interactions[0, 2]) and back.computed[1].all()
    assert "top interacting pairs" in back.summary() and "<html" in back.to_html()
    pairs = back.top_interactions(10)  # only the computed cells: the pairs of "film"
    assert sorted(p[:2] for p in pairs) == [("film", "here"), ("film", "now"), ("good", "film")]


K_CASES = [
    (lambda e: e.top_interactions(-1), ValueError, "k must be an integer >= 0, got -1"),
    (lambda e: e.top_interaction_indices(-2), ValueError, "k must be"),
    (lambda e: e.top_words(-1), ValueError, "k must be"),
    (lambda e: e.top_words("3"), TypeError, "k must be"),
    (lambda e: e.top_interactions(2.5), TypeError, "k must be"),
    (lambda e: e.summary(k=-1), ValueError, "k must be"),
]


@pytest.mark.parametrize(("call", "error", "named"), K_CASES)
def test_explanation_k_refused(call, error, named):
    e = make_explanation(["good", "film", "here", "now"])
    refused(lambda: call(e), error, named)


def test_writing_to_a_folder_or_a_missing_folder_is_refused_before_work(tmp_path):
    e = make_explanation(["good", "film"])
    refused(lambda: e.to_json(tmp_path / "missing" / "e.json"), ValueError, "path", "does not exist")
    refused(lambda: e.to_json(tmp_path), ValueError, "path", "is a folder")
    refused(lambda: e.save_html(tmp_path / "missing" / "e.html"), ValueError, "path", "does not exist")
    refused(lambda: e.to_json(3), TypeError, "path")
    refused(lambda: _corpus().save_html(tmp_path), ValueError, "path", "is a folder")
    assert list(tmp_path.iterdir()) == []


def test_explanation_k_zero_and_all():
    e = make_explanation(["good", "film", "here", "now"])
    assert e.top_interactions(0) == [] and e.top_words(0) == []
    assert len(e.top_interactions(100)) == 6 and len(e.top_words(100)) == 4


# ---------------------------------------------------------------------------------------------------- explain_dataset
def test_explain_dataset_refusals_before_any_model_call(no_model_calls, tmp_path):
    ex = no_model_calls
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("x", encoding="utf-8")
    data = {"sentence": ["good film", "bad film"]}
    cases = [
        (dict(output_dir=a_file), ValueError, "output_dir", "is a file"),
        (dict(output_dir=a_file / "sub"), ValueError, "output_dir", "is a file"),
        (dict(output_dir=5), TypeError, "output_dir", "int"),
        (dict(output_dir=""), ValueError, "output_dir"),
        (dict(format="csv"), ValueError, "format"),
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(rows=-1), ValueError, "rows=-1"),
        (dict(features=5), TypeError, "features=5"),
        (dict(steps=-1), ValueError, "steps"),
    ]
    for kwargs, error, *named in cases:
        refused(lambda kwargs=kwargs: explain_dataset(ex, data, "sentence", progress=False, **kwargs), error, *named)
    refused(lambda: explain_dataset(ex, data, "text", progress=False), ValueError, "text")
    refused(lambda: explain_dataset(ex, {"sentence": []}, "sentence", progress=False), ValueError, "no rows")
    refused(lambda: explain_dataset(ex, {"sentence": ["ok", 5]}, "sentence", progress=False), TypeError, "row 1")
    assert not (tmp_path / "sub").exists() and a_file.read_text(encoding="utf-8") == "x"


# ---------------------------------------------------------------------------------------------------- corpus
def _corpus() -> CorpusInteractions:
    full = make_explanation(["not", "bad", "film"], seed=1)
    partial = make_partial(make_explanation(["not", "bad", "film", "here"], seed=2), [0])
    return CorpusInteractions.from_explanations([full, partial])


def test_corpus_counts_only_computed_cells_and_texts_per_pair():
    full = make_explanation(["not", "bad", "film"], seed=1)
    partial = make_partial(make_explanation(["not", "bad", "film", "here"], seed=2), [0])
    corpus = CorpusInteractions.from_explanations([full, partial])
    # ("bad", "film") is computed in the full text only; ("bad", "not") in both; ("film", "here") in neither
    bad_film = corpus.pair("bad", "film")
    assert (bad_film.count, bad_film.texts) == (1, 1) and bad_film.mean == full.interactions[1, 2]
    bad_not = corpus.pair("bad", "not")
    assert (bad_not.count, bad_not.texts) == (2, 2)
    assert bad_not.mean == pytest.approx((full.interactions[0, 1] + partial.interactions[0, 1]) / 2, abs=1e-15)
    with pytest.raises(KeyError):
        corpus.pair("film", "here")
    assert all(np.isfinite(p.mean) for p in corpus.top_pairs(None))
    film = corpus.word("film")  # its main effect computed in the full text only
    assert (film.count, film.main_effect_count) == (2, 1) and film.mean_main_effect == full.interactions[2, 2]
    assert corpus.word("not").main_effect_count == 2
    assert [d["rows"] for d in corpus.documents] == [None, [0]]


CORPUS_K = [
    (lambda c: c.top_pairs(-1), ValueError, "k must be"),
    (lambda c: c.top_pairs("2"), TypeError, "k must be"),
    (lambda c: c.top_pairs(3, min_count=-1), ValueError, "min_count"),
    (lambda c: c.partners("not", -1), ValueError, "k must be"),
    (lambda c: c.partners(5), TypeError, "word"),
    (lambda c: c.top_words(-3), ValueError, "k must be"),
    (lambda c: c.examples("not", "bad", k=-1), ValueError, "k must be"),
    (lambda c: c.word(3), TypeError, "word"),
    (lambda c: c.pair("not", None), TypeError, "word"),
    (lambda c: c.compare(c).top(-1), ValueError, "k must be"),
    (lambda c: c.compare("x"), TypeError, "compare"),
    (lambda c: CorpusInteractions.from_explanations(5), TypeError, "from_explanations"),
    (lambda c: CorpusInteractions.from_explanations([]), ValueError, "no explanations"),
    (lambda c: CorpusInteractions.from_explanations(["text"]), TypeError, "got str"),
    (lambda c: CorpusInteractions.from_explanations([make_explanation(["a"])], max_examples=-1), ValueError, "max"),
    (lambda c: CorpusInteractions.from_explanations([make_explanation(["a"])], target=3), TypeError, "target"),
    (
        lambda c: CorpusInteractions.from_explanations([make_explanation(["a", "b"], with_interactions=False)]),
        ValueError,
        "interactions=False",
    ),
]


@pytest.mark.parametrize(("call", "error", "named"), CORPUS_K)
def test_corpus_arguments_refused(call, error, named):
    refused(lambda: call(_corpus()), error, named)


def _corpus_edited(edit) -> str:
    d = json.loads(_corpus().to_json())
    edit(d)
    return json.dumps(d)


CORPUS_JSON = [
    (lambda d: d.update(pairs=5), "'pairs"),
    (lambda d: d["pairs"][0].pop(), "'pairs"),
    (lambda d: d["pairs"][0].__setitem__(2, "3"), "'pairs"),
    (lambda d: d["pairs"][0].__setitem__(3, float("nan")), "'pairs"),
    (lambda d: d["pairs"][0].__setitem__(7, [[99, 0, 1, 0.5]]), "examples"),
    (lambda d: d["pairs"][0].__setitem__(7, [[0, 2, 1, 0.5]]), "examples"),
    (lambda d: d["pairs"][0].__setitem__(7, [[0, 0, 1]]), "examples"),
    (lambda d: d["words"][0].__setitem__(1, 0), "'words"),
    (lambda d: d["words"][0].__setitem__(2, float("inf")), "'words"),
    (lambda d: d.update(words=[["a"]]), "'words'"),
    (lambda d: d.update(documents={"a": 1}), "'documents'"),
    (lambda d: d["documents"][0].update(offsets=[[0, 999]]), "documents[0].offsets"),
    (lambda d: d["documents"][0].update(text=5), "documents[0].text"),
    (lambda d: d["documents"][0].update(level="page"), "documents[0].level"),
    (lambda d: d.update(targets=[1]), "'targets'"),
    (lambda d: d.update(max_examples=-1), "'max_examples'"),
    (lambda d: d.update(case_sensitive="no"), "'case_sensitive'"),
]


@pytest.mark.parametrize(("edit", "named"), CORPUS_JSON)
def test_corpus_json_refused_naming_the_field(edit, named):
    refused(lambda: CorpusInteractions.from_json(_corpus_edited(edit)), ValueError, named, "to_json()")


def test_corpus_json_of_format_1_still_loads():
    corpus = _corpus()
    d = json.loads(corpus.to_json())
    d["format_version"] = 1
    d["words"] = [row[:5] for row in d["words"]]  # format 1: no main-effect count (every main effect computed)
    old = CorpusInteractions.from_dict(d)
    assert [w.main_effect_count for w in old.words] == [w.occurrences for w in old.words]


# ---------------------------------------------------------------------------------------------------- chat
def test_chat_template_changing_contents_is_refused_naming_the_message():
    from llm_models import tiny_llm

    model, tok = tiny_llm("qwen2")
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "is it good?"}]
    shouting = copy.deepcopy(tok)
    shouting.chat_template = tok.chat_template.replace("message['content']", "message['content'] | upper")
    ex = CausalLMInteractionExplainer(model, shouting)
    refused(
        lambda: ex(messages=messages, target="Yes", explain_messages=[1], steps=4),
        ValueError,
        "messages[1] (user)",
        "explain_messages=",
    )
    refused(lambda: ex(messages=messages, target="Yes", explain_messages="user", steps=4), ValueError, "messages[1]")
    refused(lambda: ex(messages="hello", target="x"), TypeError, "messages")
    refused(lambda: ex(messages=[{"role": "user"}], target="x"), TypeError, "messages[0]")
    refused(lambda: ex(messages=[], target="x"), ValueError, "messages is empty")


# ---------------------------------------------------------------------------------------------------- evaluate
def _spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def test_pair_explanation_with_callable_features_is_evaluated(tiny_task_model):
    model, tok = tiny_task_model("roberta", "sequence-classification")
    ex = PairClassificationInteractionExplainer(model, tok)
    e = ex("a man plays", "someone sings", features=_spans, steps=4, check=False)
    assert e.words == ["a", "man", "plays", "someone", "sings"] and e.word_groups == [0, 0, 0, 1, 1]
    values = ex.coalition_values(e, np.array([[True] * 5, [False] * 5]))
    np.testing.assert_allclose(values, [e.f_input, e.f_baseline], atol=1e-5)
    ablation = pair_ablation(ex, e, k=2)
    assert len(ablation.pairs) == 2
    refused(lambda: ex.coalition_values(e, [[1, 0, 1], [1]]), ValueError, "coalitions")
    refused(lambda: ex.coalition_values(e, [[1, 0]]), ValueError, "coalitions")
    refused(lambda: pair_ablation(ex, e, k=-1), ValueError, "k")


# ---------------------------------------------------------------------------------------------------- CLI
def _cli_refused(argv: list[str], *named: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    message = str(info.value.code)
    assert info.value.code not in (0, None) and message.startswith("error: ") and "\n" not in message
    assert "could not load the model" not in message  # refused before the model loads
    for name in named:
        assert name in message, f"{name!r} not in {message!r}"


def test_cli_refuses_in_one_line_before_loading_the_model(tmp_path):
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("x", encoding="utf-8")
    model = ["--model", str(tmp_path / "no-model")]
    _cli_refused(["fine", *model, "--top", "-1"], "--top -1")
    _cli_refused(["fine", *model, "--steps", "0"], "--steps 0")
    _cli_refused(["fine", *model, "--rtol", "0"], "--rtol")
    _cli_refused(["fine", *model, "--json", str(tmp_path / "missing" / "e.json")], "--json", "does not exist")
    _cli_refused(["fine", *model, "--json", str(a_file / "e.json")], "--json", "is a file")
    _cli_refused(["fine", *model, "--html", str(tmp_path)], "--html", "is a folder")
    data = ["--dataset", str(a_file)]
    _cli_refused([*data, *model, "--output-dir", str(a_file)], "--output-dir", "is a file")
    _cli_refused([*data, *model, "--output-dir", str(tmp_path / "o"), "--batch-size", "0"], "--batch-size 0")
    _cli_refused([*data, *model, "--output-dir", str(tmp_path / "o"), "--min-count", "-1"], "--min-count -1")
    _cli_refused([*data, *model, "--output-dir", str(tmp_path / "o"), "--limit", "-1"], "--limit -1")
    _cli_refused(
        [*data, *model, "--output-dir", str(tmp_path / "o"), "--html", str(tmp_path / "x" / "r.html")], "--html"
    )
