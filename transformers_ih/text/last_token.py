"""Decoder-only classifiers read their class from the last real token, which they find through ``input_ids``.

``GPT2ForSequenceClassification``, ``LlamaForSequenceClassification``, ``Qwen2ForSequenceClassification``, ... (a
``score`` head on a decoder) pool the hidden state of the last non-padding token, located with
``config.pad_token_id`` in ``input_ids``. Explanations feed ``inputs_embeds``, and then these models take the last
*position*: for a right-padded row of a batch, a padding token. So inputs of such models are never padded: many
inputs are batched only with inputs of their own token length (each result still equals the single call).
A single input, or inputs of one length, have no padding, and the last position is the last real token.
"""

from __future__ import annotations

import torch

from .architectures import is_encoder_decoder


def pools_last_token(model) -> bool:
    """Whether ``model`` is a decoder-only sequence classifier that pools its last non-padding token."""
    return (
        not is_encoder_decoder(model)
        and type(model).__name__.endswith("ForSequenceClassification")
        and isinstance(getattr(model, "score", None), torch.nn.Module)
    )
