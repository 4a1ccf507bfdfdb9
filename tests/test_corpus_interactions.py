"""CorpusInteractions: per word-type pair statistics against a brute-force count, case folding, partners, examples,
rankings, comparison of two corpora, exact JSON round trip, and the views (escaped text, themes, figures)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from transformers_ih import CorpusInteractions, Explanation
from transformers_ih.corpus.columns import explanation_row, rows_table


def _explanation(words: list[str], seed: int, target: str = "POSITIVE") -> Explanation:
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(len(words), len(words)))
    m = (m + m.T) / 2
    text = " ".join(words)
    offsets, pos = [], 0
    for w in words:
        offsets.append((pos, pos + len(w)))
        pos += len(w) + 1
    return Explanation(
        text=text,
        words=words,
        offsets=offsets,
        tokens=words,
        attributions=m.sum(1),
        interactions=m,
        target=target,
        target_index=1,
        predicted_label=target,
        predicted_probability=0.9,
        f_input=float(m.sum()),
        f_baseline=0.0,
        completeness_error=0.0,
        steps=4,
        meta={"model": "tiny-model"},
    )


CORPUS = [
    ["not", "bad", "at", "all"],
    ["Not", "good"],
    ["not", "bad", "not", "good"],
    ["a", "<b>bad</b>", "film"],
    ["bad"],
]


@pytest.fixture(scope="module")
def explained():
    return [_explanation(words, seed) for seed, words in enumerate(CORPUS)]


def _brute_force(explained, fold=True):
    pairs: dict[tuple[str, str], list[float]] = {}
    for e in explained:
        words = [w.casefold() if fold else w for w in e.words]
        for i, j in itertools.combinations(range(len(words)), 2):
            key = tuple(sorted((words[i], words[j])))
            pairs.setdefault(key, []).append(float(e.interactions[i, j]))
    return pairs


def test_pair_statistics_equal_a_brute_force_count(explained):
    corpus = CorpusInteractions.from_explanations(explained)
    want = _brute_force(explained)
    assert corpus.num_pairs == len(want) and corpus.num_texts == len(CORPUS)
    for (a, b), values in want.items():
        s = corpus.pair(b, a)  # either order
        assert (s.a, s.b) == (b, a) and s.count == len(values)
        assert s.mean == pytest.approx(np.mean(values), abs=1e-12)
        assert s.mean_abs == pytest.approx(np.mean(np.abs(values)), abs=1e-12)
        assert s.total == pytest.approx(np.sum(values), abs=1e-12)
        assert s.std == pytest.approx(np.std(values, ddof=1) if len(values) > 1 else 0.0, abs=1e-9)
    # "not" appears twice in the third text: (not, not) is a pair, (bad, not) counted 3 times in 2 texts
    assert corpus.pair("not", "not").count == 1
    assert corpus.pair("not", "bad").count == 3 and corpus.pair("not", "bad").texts == 2
    w = corpus.word("NOT")
    assert w.count == 4 and w.texts == 3
    with pytest.raises(KeyError):
        corpus.pair("not", "film")


def test_case_is_folded_unless_kept(explained):
    kept = CorpusInteractions.from_explanations(explained, case_sensitive=True)
    assert kept.pair("Not", "good").count == 1 and kept.pair("not", "good").count == 2  # two "not"s in a text
    folded = CorpusInteractions.from_explanations(explained)
    assert folded.pair("not", "good").count == 3
    assert set(_brute_force(explained, fold=False)) == {(row[0], row[1]) for row in kept.pairs}


def test_rankings_partners_and_examples(explained):
    corpus = CorpusInteractions.from_explanations(explained, max_examples=2)
    everything = corpus.top_pairs(None)
    assert [s.mean_abs for s in everything] == sorted((s.mean_abs for s in everything), reverse=True)
    assert all(s.count >= 2 for s in corpus.top_pairs(None, min_count=2))
    positive = corpus.top_pairs(None, by="mean", sign="positive")
    assert positive and all(s.mean > 0 for s in positive)
    assert [s.mean for s in positive] == sorted((s.mean for s in positive), reverse=True)
    negative = corpus.top_pairs(3, by="total", sign="negative")
    assert [s.total for s in negative] == sorted(s.total for s in negative)[: len(negative)]
    assert corpus.top_pairs(1, by="count")[0].count == max(s.count for s in everything)
    partners = corpus.partners("not", None)
    assert all(s.a == "not" for s in partners)
    assert {s.b for s in partners} == {b if a == "not" else a for a, b in _brute_force(explained) if "not" in (a, b)}
    examples = corpus.examples("bad", "not")
    assert len(examples) == 2  # max_examples
    assert abs(examples[0].value) >= abs(examples[1].value)
    for ex in examples:
        assert {w.casefold() for w in ex.words} == {"bad", "not"}
        assert ex.value == float(explained[ex.document].interactions[ex.i, ex.j])
    with pytest.raises(ValueError, match="by must be"):
        corpus.top_pairs(by="median")
    assert corpus.top_words(1)[0].word in corpus and "NOT" in corpus and "film!" not in corpus


def test_target_filter_dicts_and_dataset_rows(explained):
    mixed = explained + [_explanation(["not", "bad"], 9, target="NEGATIVE")]
    assert CorpusInteractions.from_explanations(mixed).targets == {"POSITIVE (logit)": 5, "NEGATIVE (logit)": 1}
    only = CorpusInteractions.from_explanations(mixed, target="NEGATIVE")
    assert only.num_texts == 1 and only.pair("not", "bad").count == 1
    as_dicts = CorpusInteractions.from_explanations([{"start": e} for e in explained])
    rows = rows_table([explanation_row(e, i) for i, e in enumerate(explained)])
    from_rows = CorpusInteractions.from_explanations(rows)
    direct = CorpusInteractions.from_explanations(explained)
    assert as_dicts == direct and from_rows == direct
    no_ih = _explanation(["a", "b"], 1)
    no_ih.interactions = None
    with pytest.raises(ValueError, match="no interactions"):
        CorpusInteractions.from_explanations([no_ih])
    with pytest.raises(ValueError, match="no explanations"):
        CorpusInteractions.from_explanations([])


def test_json_round_trip_is_exact(explained, tmp_path):
    corpus = CorpusInteractions.from_explanations(explained, name="distilbert")
    path = tmp_path / "corpus.json"
    corpus.to_json(path)
    back = CorpusInteractions.from_json(path)
    assert back == corpus and back.to_dict() == json.loads(path.read_text())
    assert back.pair("not", "bad") == corpus.pair("not", "bad") and back.examples("not", "bad") == corpus.examples(
        "not", "bad"
    )
    with pytest.raises(ValueError, match="corpus interactions"):
        CorpusInteractions.from_json('{"pairs": 3}')


def test_compare_two_models_on_the_same_texts(explained):
    first = CorpusInteractions.from_explanations(explained, name="transformer")
    other = [_explanation(e.words, 100 + k) for k, e in enumerate(explained)]
    second = CorpusInteractions.from_explanations(other, name="cnn")
    cmp = first.compare(second)
    assert cmp.same_texts and cmp.shared_texts == len(CORPUS)
    assert len(cmp.pairs) == first.num_pairs
    top = cmp.top(3)
    assert [abs(p.difference) for p in top] == sorted((abs(p.difference) for p in cmp.pairs), reverse=True)[:3]
    p = next(q for q in cmp.pairs if (q.a, q.b) == ("bad", "not"))
    assert p.difference == pytest.approx(first.pair("bad", "not").mean - second.pair("bad", "not").mean)
    assert -1 <= cmp.correlation() <= 1
    assert isinstance(cmp.plot(), go.Figure)
    assert not first.compare(CorpusInteractions.from_explanations(explained[:2])).same_texts


def test_views_escape_text_and_draw_both_themes(explained, tmp_path):
    corpus = CorpusInteractions.from_explanations(explained, name="<script>alert(1)</script>")
    html = corpus.save_html(tmp_path / "corpus.html", min_count=1, compare=corpus.compare(corpus)).read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script>alert(1)</script>" not in html
    assert "&lt;b&gt;bad&lt;/b&gt;" in html  # a word with markup is shown, not interpreted
    assert "<b>bad</b>" not in html
    assert html.count("<script") == 2  # plotly.js and the drawing script: nothing from the data
    assert 'class="ih-report"' in html and '<mark class="ih-mark">&lt;b&gt;bad&lt;/b&gt;</mark>' in html
    fragment = corpus._repr_html_()
    assert not fragment.startswith("<!DOCTYPE") and 'type="text/plain"' in fragment
    for theme in ("light", "dark"):
        assert isinstance(corpus.plot_top_pairs(5, min_count=1, theme=theme), go.Figure)
        fig = corpus.plot_partners(theme=theme)
        assert fig.layout.updatemenus and len(fig.layout.updatemenus[0].buttons) >= 2
        assert isinstance(corpus.plot_partners("not", theme=theme), go.Figure)
    bars = corpus.plot_top_pairs(3, min_count=1)
    assert list(bars.data[0].x) == [s.mean for s in corpus.top_pairs(3, min_count=1)]
    assert all("&lt;b&gt;" in label or "<b>" not in label for label in bars.data[0].y)
