import json

import numpy as np
import pytest

from transformers_ih import Explanation


def make(words=("not", "bad", "at", "all"), seed=0):
    rng = np.random.default_rng(seed)
    n = len(words)
    m = rng.normal(size=(n, n))
    m = (m + m.T) / 3
    text = " ".join(words)
    offsets, pos = [], 0
    for w in words:
        offsets.append((pos, pos + len(w)))
        pos += len(w) + 1
    return Explanation(
        text=text,
        words=list(words),
        offsets=offsets,
        tokens=["[CLS]", *words, "[SEP]"],
        attributions=m.sum(1),
        interactions=m,
        target="POSITIVE",
        target_index=1,
        predicted_label="POSITIVE",
        predicted_probability=0.9,
        f_input=float(m.sum()) + 0.1,
        f_baseline=0.1,
        completeness_error=1e-17,
        steps=12,
        smoothing="softplus(beta=20)",
        model_value=0.3 + float(m.sum()),
        meta={"task": "test"},
    )


def test_json_round_trip_is_exact(tmp_path):
    e = make()
    e.interactions[0, 1] = e.interactions[1, 0] = 1 / 3  # not representable in decimal
    back = Explanation.from_json(e.to_json())
    assert back == e
    assert np.array_equal(back.interactions, e.interactions) and back.interactions.dtype == np.float64
    assert back.offsets == e.offsets and isinstance(back.offsets[0], tuple)
    path = tmp_path / "e.json"
    e.to_json(path)
    assert Explanation.from_json(path) == e
    assert json.loads(path.read_text())["format_version"] == 4


def test_attributions_only_round_trip():
    e = make()
    e.interactions = None
    assert Explanation.from_json(e.to_json()).interactions is None
    with pytest.raises(ValueError, match="interactions=True"):
        e.top_interactions(3)


def test_top_interactions_and_words():
    e = make(("a", "b", "c"))
    e.interactions = np.array([[0.0, -2.0, 0.5], [-2.0, 0.0, 1.0], [0.5, 1.0, 9.0]])
    e.attributions = e.interactions.sum(1)
    assert e.top_interactions(2) == [("a", "b", -2.0), ("b", "c", 1.0)]
    assert e.top_interactions(1, absolute=False) == [("b", "c", 1.0)]
    assert e.top_interaction_indices(1) == [(0, 1, -2.0)]
    assert e.top_words(1) == [("c", 10.5)]
    assert np.array_equal(e.main_effects, [0.0, 0.0, 9.0])


def test_duplicate_words_stay_distinct():
    e = make(("bad", "bad"))
    assert e.top_interaction_indices(1)[0][:2] == (0, 1)


def test_shape_validation_and_unknown_fields():
    e = make()
    with pytest.raises(ValueError, match="expected \\(4,\\)"):
        Explanation.from_dict({**e.to_dict(), "attributions": [1.0]})
    with pytest.raises(ValueError, match="unknown fields"):
        Explanation.from_dict({**e.to_dict(), "extra": 1})
    assert "POSITIVE" in e.summary() and "completeness error" in e.summary()


def test_format_1_files_still_load():
    """Format 1 wrote ``model_logit`` and had no ``target_kind``: it loads as ``model_value`` / ``"class"``."""
    e = make()
    d = e.to_dict()
    d["format_version"] = 1
    d["model_logit"] = d.pop("model_value")
    d.pop("target_kind")
    old = Explanation.from_dict(d)
    assert old == e and old.model_value == e.model_value == old.model_logit and old.target_kind == "class"
