"""``baseline="expected"`` in the text explainers (tiny random BERT): the average of Integrated Hessians over
background texts or random-token baselines, exactly as defined in transformers_ih/text/baselines.py."""

import numpy as np
import pytest
import torch

from transformers_ih import SequenceClassificationInteractionExplainer

TEXT = "this film is not bad at all"
BACKGROUND = ["a dull and tedious mess", "wonderful", "the plot never makes any sense at all today"]


def filled_baseline(model, tok, text: str, background_text: str) -> torch.Tensor:
    """The definition: the background text's tokens fill the input's word-token positions in order, cut to
    their number, padded with the pad token; special tokens stay."""
    ids = tok(text, return_tensors="pt")["input_ids"][0]
    special = torch.tensor([i in tok.all_special_ids for i in ids.tolist()])
    filler = tok(background_text, add_special_tokens=False)["input_ids"][: int((~special).sum())]
    base = ids.clone()
    positions = (~special).nonzero()[:, 0]
    base[positions] = tok.pad_token_id
    base[positions[: len(filler)]] = torch.tensor(filler)
    with torch.no_grad():
        return model.get_input_embeddings()(base[None])[0]


def test_expected_over_background_texts_is_the_mean_of_per_text_baselines(tiny_classifier):
    model, tok = tiny_classifier("bert")
    explainer = SequenceClassificationInteractionExplainer(model, tok, background=BACKGROUND, rtol=1e-5, atol=1e-7)
    e = explainer(TEXT, target=1, baseline="expected")
    assert e.baseline == "expected(n=3)" and e.meta["background"] == "texts" and e.meta["baseline_samples"] == 3
    singles = [explainer(TEXT, target=1, baseline=filled_baseline(model, tok, TEXT, b)) for b in BACKGROUND]
    np.testing.assert_allclose(e.interactions, np.mean([s.interactions for s in singles], axis=0), atol=1e-6)
    np.testing.assert_allclose(e.attributions, np.mean([s.attributions for s in singles], axis=0), atol=1e-6)
    assert e.f_baseline == pytest.approx(np.mean([s.f_baseline for s in singles]), abs=1e-6)
    assert e.meta["baseline_values"] == pytest.approx([s.f_baseline for s in singles], abs=1e-6)
    # completeness against the mean baseline value; symmetric, rows sum to the attributions
    gamma = e.interactions
    np.testing.assert_allclose(gamma, gamma.T, atol=1e-12)
    np.testing.assert_allclose(gamma.sum(1), e.attributions, atol=1e-12)
    assert e.completeness_error <= 1e-5 * abs(e.f_input - e.f_baseline) + 1e-7
    spread = np.std([s.attributions for s in singles], axis=0, ddof=1) / np.sqrt(3)
    np.testing.assert_allclose(e.meta["attributions_se"], spread, atol=1e-6)
    assert np.asarray(e.meta["interactions_se"]).shape == gamma.shape
    assert e.steps == sum(s.steps for s in singles)


def test_random_token_baselines_are_reproducible_and_avoid_special_tokens(tiny_classifier, monkeypatch):
    from transformers_ih.text.baselines import ExpectedBaseline

    model, tok = tiny_classifier("bert")
    explainer = SequenceClassificationInteractionExplainer(model, tok, background=4)
    seen = []
    original = ExpectedBaseline.embeddings

    def spy(*args, **kwargs):
        x, bases = original(*args, **kwargs)
        seen.append(bases)
        return x, bases

    monkeypatch.setattr(ExpectedBaseline, "embeddings", spy)
    a = explainer(TEXT, baseline="expected")
    b = explainer(TEXT, baseline="expected")
    assert a.baseline == "expected(n=4)" and a.meta["background"] == "random tokens"
    assert np.array_equal(a.interactions, b.interactions)  # seeded
    bases = seen[0]
    assert bases.shape[0] == 4
    # the word positions hold embeddings of ordinary vocabulary tokens (not special ones), different per baseline
    table = model.get_input_embeddings().weight.detach()
    enc = tok(TEXT, return_tensors="pt")["input_ids"][0]
    for k in range(4):
        ids = torch.cdist(bases[k], table).argmin(dim=1)
        special = torch.tensor([i in tok.all_special_ids for i in enc.tolist()])
        assert torch.equal(ids[special], enc[special])
        assert not any(i in tok.all_special_ids for i in ids[~special].tolist())
    assert not torch.equal(bases[0], bases[1])
    assert a.completeness_error <= 1e-3 * abs(a.f_input - a.f_baseline) + 1e-4
    # explaining several texts at once gives the same as one at a time
    many = explainer([TEXT, "a wonderful film"], baseline="expected")
    np.testing.assert_allclose(many[0].interactions, a.interactions, atol=1e-4 * np.abs(a.interactions).max())


def test_default_baseline_is_still_pad(tiny_classifier):
    model, tok = tiny_classifier("bert")
    e = SequenceClassificationInteractionExplainer(model, tok, background=BACKGROUND)(TEXT, steps=4)
    assert e.baseline == "pad" and "background" not in e.meta
    with pytest.raises(ValueError, match="background"):
        SequenceClassificationInteractionExplainer(model, tok, background=[])(TEXT, baseline="expected")


def test_expected_baseline_attributions_only(tiny_classifier):
    """baseline="expected" with interactions=False: the mean of each baseline's Integrated Gradients, equal to the
    attributions of the full call (the row sums of its interactions), completeness against the mean baseline."""
    from transformers_ih import SequenceClassificationInteractionExplainer

    ex = SequenceClassificationInteractionExplainer(*tiny_classifier("bert"), baseline="expected", background=3)
    ig = ex("not a good film", interactions=False, steps=8)
    ih = ex("not a good film", steps=8)
    assert ig.interactions is None and ig.baseline == "expected(n=3)"
    assert ig.f_baseline == pytest.approx(ih.f_baseline, abs=1e-6)
    np.testing.assert_allclose(ig.attributions, ih.attributions, atol=2e-3 * np.abs(ih.attributions).max())
