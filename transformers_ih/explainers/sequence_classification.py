"""Sequence classification (sentiment, topic, ...): explain one class's logit (or probability)."""

from __future__ import annotations

import torch

from ..explanation import Explanation
from .base import Target, TextInteractionExplainer

OUTPUTS = ("logit", "probability", "log_probability")


def resolve_label(config, target: int | str, num_labels: int) -> int:
    """A class index from an index or a label name of ``config.id2label``; clear errors otherwise."""
    id2label = {int(k): v for k, v in (getattr(config, "id2label", None) or {}).items()}
    names = [id2label.get(i, str(i)) for i in range(num_labels)]
    if isinstance(target, bool) or not isinstance(target, (int, str)):
        raise TypeError(f"target must be a class index or a label name, got {target!r}")
    if isinstance(target, int):
        if not 0 <= target < num_labels:
            raise ValueError(f"target index {target} is out of range: the model has {num_labels} labels {names}")
        return target
    if target in names:
        return names.index(target)
    folded = [n.lower() for n in names]
    if target.lower() in folded:
        return folded.index(target.lower())
    raise ValueError(f"unknown label {target!r}: the model's labels are {names} (or indices 0..{num_labels - 1})")


def label_name(config, index: int) -> str:
    id2label = getattr(config, "id2label", None) or {}
    return str(id2label.get(index, id2label.get(str(index), f"LABEL_{index}")))


def class_selector(index: int, output: str):
    """``outputs -> (B,)``: the logit, probability or log-probability of class ``index``."""
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")

    def select(outputs) -> torch.Tensor:
        logits = outputs.logits
        if output == "probability":
            return torch.softmax(logits, dim=-1)[:, index]
        if output == "log_probability":
            return torch.log_softmax(logits, dim=-1)[:, index]
        return logits[:, index]

    return select


class SequenceClassificationInteractionExplainer(TextInteractionExplainer):
    """Word attributions and word-pair interactions for a sequence classifier.

    >>> explainer = SequenceClassificationInteractionExplainer(model, tokenizer)
    >>> explanation = explainer("this film is not bad at all")
    >>> explanation.attributions      # (W,) sums to f(x) - f(x')
    >>> explanation.interactions      # (W, W) symmetric, rows sum to attributions

    See :class:`~.base.TextInteractionExplainer` for the constructor's options.
    """

    def __call__(
        self,
        text: str | list[str],
        target: int | str | None = None,
        *,
        output: str = "logit",
        interactions: bool = True,
        steps: int | None = None,
        method: str | None = None,
        baseline=None,
        smoothing="default",
    ) -> Explanation | list[Explanation]:
        """Explain the model's output for ``text``.

        Args:
            text: a string, or a list of strings (returns a list).
            target: class index or label name (``model.config.id2label``); default the predicted class.
            output: ``"logit"`` (default), ``"probability"`` or ``"log_probability"`` of the target class.
            interactions: also compute the ``(W, W)`` Integrated Hessians (default); ``False`` gives
                Integrated Gradients only (cheaper).
            steps, method: ``steps=None`` -> adaptive path rule to the explainer's tolerance; ``steps=N`` -> a
                fixed rule (``method`` ``"gauss"``, ``"riemann"`` or ``"montecarlo"``).
            baseline, smoothing: override the explainer's defaults for this call.
        """
        if isinstance(text, (list, tuple)):
            return [self(t, target, output=output, interactions=interactions, steps=steps, method=method,
                         baseline=baseline, smoothing=smoothing) for t in text]
        enc = self.encode([text])
        logits = self.forward(enc).logits[0]
        if logits.dim() != 1:
            raise TypeError(f"{type(self.model).__name__} does not output one logit vector per text; use a "
                            f"sequence-classification model (AutoModelForSequenceClassification)")
        probs = torch.softmax(logits.double(), dim=-1)
        predicted = int(torch.argmax(probs))
        index = predicted if target is None else resolve_label(self.model.config, target, logits.shape[0])
        config = self.model.config
        return self.explain_encoded(
            enc,
            Target(class_selector(index, output), label_name(config, index), index, label_name(config, predicted),
                   float(probs[predicted])),
            interactions=interactions, steps=steps, method=method, baseline=baseline, smoothing=smoothing,
            output=output,
        )
