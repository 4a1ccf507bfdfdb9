"""The suite can fail: three mutations that keep completeness and the row sums intact are caught by the reference
checks (tests/reference.py), each time. Each mutation is applied in-process with monkeypatch, for one test only."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from reference import Reference, assert_matches_reference, brute_force_interactions, word_features

import transformers_ih.text.run as run_module
import transformers_ih.text.runner as runner
from transformers_ih import PairClassificationInteractionExplainer, SequenceClassificationInteractionExplainer
from transformers_ih.engine.reduction import ReducedFunction

STEPS = 4
CASES = [
    ("bert", SequenceClassificationInteractionExplainer, ("not a good film",)),
    ("roberta", PairClassificationInteractionExplainer, ("a man plays", "someone makes music")),
]


def swap_two_features(monkeypatch):
    """Values land on the wrong words: features 0 and 1 exchange their tokens inside the explainer."""
    real = run_module.encode_text

    def encode_text(*args, **kwargs):
        enc = real(*args, **kwargs)
        tw = enc.token_word.clone()
        tw[enc.token_word == 0], tw[enc.token_word == 1] = 1, 0
        return replace(enc, token_word=tw)

    monkeypatch.setattr(run_module, "encode_text", encode_text)


def double_off_diagonal(monkeypatch):
    """Every off-diagonal entry doubled, the diagonal lowered so that each row keeps its sum."""
    real = runner.integrated_hessians_reduced

    def mutated(*args, **kwargs):
        results = real(*args, **kwargs)
        for r in results:
            off = r.interactions - np.diag(np.diag(r.interactions))
            r.interactions = 2 * off + np.diag(np.diag(r.interactions) - off.sum(1))
        return results

    monkeypatch.setattr(runner, "integrated_hessians_reduced", mutated)


def hessian_at_half_t(monkeypatch):
    """The Hessian evaluated at t/2 in place of t, while the gradient term stays right."""
    real = ReducedFunction.hessians

    def hessians(self, ts, problems=None, progress=None):
        f, grads, _ = real(self, ts, problems, progress=progress)
        _, _, hess = real(self, np.asarray(ts) / 2, problems)
        return f, grads, hess

    monkeypatch.setattr(ReducedFunction, "hessians", hessians)


MUTATIONS = [swap_two_features, double_off_diagonal, hessian_at_half_t]


def reference_of(model, tok, texts, e) -> np.ndarray:
    enc = tok(*texts, return_tensors="pt")
    ref = Reference(dict(enc), word_features(enc), tok.pad_token_id, lambda out: out.logits[:, e.target_index])
    return brute_force_interactions(model, ref, STEPS)


@pytest.mark.parametrize("arch, explainer, texts", [pytest.param(*c, id=c[0]) for c in CASES])
def test_unmutated_explanation_matches_the_reference(tiny_task_model, arch, explainer, texts):
    model, tok = tiny_task_model(arch)
    e = explainer(model, tok, smoothing=None)(*texts, steps=STEPS, method="gauss")
    assert_matches_reference(e.interactions, reference_of(model, tok, texts, e))


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("arch, explainer, texts", [pytest.param(*c, id=c[0]) for c in CASES])
def test_mutation_is_caught(tiny_task_model, monkeypatch, mutation, arch, explainer, texts):
    model, tok = tiny_task_model(arch)
    clean = explainer(model, tok, smoothing=None)(*texts, steps=STEPS, method="gauss")
    reference = reference_of(model, tok, texts, clean)
    mutation(monkeypatch)
    e = explainer(model, tok, smoothing=None)(*texts, steps=STEPS, method="gauss")
    if mutation is not hessian_at_half_t:  # these keep every axiom the engine can check on its own
        np.testing.assert_allclose(e.interactions.sum(1), e.attributions, atol=1e-9)
        assert e.completeness_error == pytest.approx(clean.completeness_error, abs=1e-6)
    assert not np.allclose(e.interactions, clean.interactions, atol=1e-6)
    with pytest.raises(AssertionError):
        assert_matches_reference(e.interactions, reference)
