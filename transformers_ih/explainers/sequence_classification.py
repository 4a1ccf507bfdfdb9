"""Sequence classification (sentiment, topic, ...): explain one class's logit (or probability)."""

from __future__ import annotations

import torch

from ..explanation import Explanation
from .base import Target, TextInteractionExplainer, is_text_collection
from .targets import OUTPUTS, class_selector, label_name, resolve_label  # noqa: F401  (also importable from here)


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
            text: a string, or several (a list, or a ``datasets`` column such as ``dataset["sentence"]``): returns a
                list, explained ``text_batch_size`` texts at a time with shared model calls.
            target: class index or label name (``model.config.id2label``); default the predicted class.
            output: ``"logit"`` (default), ``"probability"`` or ``"log_probability"`` of the target class.
            interactions: also compute the ``(W, W)`` Integrated Hessians (default); ``False`` gives
                Integrated Gradients only (cheaper).
            steps, method: ``steps=None`` -> adaptive path rule to the explainer's tolerance; ``steps=N`` -> a
                fixed rule (``method`` ``"gauss"``, ``"riemann"`` or ``"montecarlo"``).
            baseline, smoothing: override the explainer's defaults for this call.
        """
        explain = dict(output=output, interactions=interactions, steps=steps, method=method, baseline=baseline,
                       smoothing=smoothing)
        if is_text_collection(text):
            encs = [self.encode([t]) for t in text]
            return self.explain_batches(encs, [self._class_target(e, target, output) for e in encs], **explain)
        return self._explain_class(self.encode([text]), target, **explain)

    def _explain_class(self, enc, target, *, output: str, **explain) -> Explanation:
        """Explain class ``target`` (default: the predicted class) of the model on the tokenized ``enc``."""
        return self.explain_encoded(enc, self._class_target(enc, target, output), output=output, **explain)

    def _class_target(self, enc, target, output: str) -> Target:
        """The :class:`Target` for class ``target`` (default: the predicted class) of the model on ``enc``."""
        logits = self.forward(enc).logits[0]
        if logits.dim() != 1:
            raise TypeError(f"{type(self.model).__name__} does not output one logit vector per text; use a "
                            f"sequence-classification model (AutoModelForSequenceClassification)")
        probs = torch.softmax(logits.double(), dim=-1)
        predicted = int(torch.argmax(probs))
        index = predicted if target is None else resolve_label(self.model.config, target, logits.shape[0])
        config = self.model.config
        return Target(class_selector(index, output), label_name(config, index), index, label_name(config, predicted),
                      float(probs[predicted]))
