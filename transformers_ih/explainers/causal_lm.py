"""Language-model scoring: the log-probability of a target continuation, given a prompt (decoder-only models) or a
source text (encoder-decoder models)."""

from __future__ import annotations

import math
from dataclasses import replace

import torch

from .architectures import is_encoder_decoder
from .base import TextInteractionExplainer
from .jobs import Explained, Job
from .options import ExplainOptions
from .targets import continuation_ids, continuation_selector
from .text_inputs import EncodedText, append_tokens, max_input_tokens


class _ContinuationExplainer(TextInteractionExplainer):
    """Shared by the causal and the sequence-to-sequence LM explainers: explain ``sum_k log p(target_k | ...)``.

    Models whose tokenizer has no pad token (GPT-2, Llama) default to the EOS token's embedding as the baseline
    (``baseline="eos"``); pass ``baseline=`` to choose another. ``target`` is one string for every input, or one
    per input.
    """

    per_input = ("target",)
    outputs = ("log_probability",)

    def __init__(self, model, tokenizer, *, baseline=None, **kwargs):
        if baseline is None:
            baseline = "pad" if getattr(tokenizer, "pad_token_id", None) is not None else "eos"
        super().__init__(model, tokenizer, baseline=baseline, **kwargs)

    def continuation_job(self, enc: EncodedText, target: str, positions: list[int], ids: list[int]) -> Job:
        """The job explaining the log-probability of the target tokens ``ids`` predicted at ``positions`` of ``enc``."""
        logits = self.forward(enc).logits
        if logits.dim() != 3 or logits.shape[-1] < len(self.tokenizer) - 1:
            raise TypeError(f"{type(self.model).__name__} does not output vocabulary logits per position; use a "
                            f"language model")
        logp = torch.log_softmax(logits[0].double(), dim=-1)
        target_logp = float(sum(logp[p, i] for p, i in zip(positions, ids)))
        first = logp[positions[0]]
        predicted = int(torch.argmax(first))
        explained = Explained(continuation_selector(positions, ids), target, "continuation", None,
                              self.tokenizer.decode([predicted]), math.exp(float(first[predicted])))
        return Job(enc, explained, {"target_tokens": self.tokenizer.convert_ids_to_tokens(ids),
                                    "target_token_ids": list(ids), "target_log_probability": target_logp,
                                    "target_probability": math.exp(target_logp)})


class CausalLMInteractionExplainer(_ContinuationExplainer):
    """Word attributions and interactions of prompt words behind a causal LM's log-probability of a continuation.

    >>> explainer = CausalLMInteractionExplainer(model, tokenizer)
    >>> explanation = explainer("The capital of France is", target=" Paris")
    >>> explanations = explainer(prompts, target=[" Paris", " Rome"])    # one target per prompt (or one for all)

    The prompt is tokenized with the tokenizer's own special tokens (e.g. Llama's BOS) and the target with none
    (``tokenizer(target, add_special_tokens=False)``: mind the leading space for byte-level BPE); the target tokens
    follow the prompt (teacher forcing) and are not features. The explained output is
    ``sum_k log p(target_k | prompt, target_<k)`` (``output="log_probability"``). ``predicted_label`` is the
    model's own next token after the prompt and ``predicted_probability`` its probability; ``meta`` has the target
    tokens and their total probability. Baseline: the pad token, or EOS when the tokenizer has none (GPT-2).
    """

    head = ("causal language modelling", "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES")
    texts = ("prompt",)

    def __init__(self, model, tokenizer, **kwargs):
        if is_encoder_decoder(model):
            raise TypeError(f"{type(model).__name__} is an encoder-decoder model: use Seq2SeqLMInteractionExplainer")
        super().__init__(model, tokenizer, **kwargs)

    def jobs(self, prompt: str, target: str, *, options: ExplainOptions) -> list[Job]:
        """Explain ``log p(target | prompt)``."""
        enc = self.encode([prompt], names=("prompt",), features=options.features)
        ids = continuation_ids(self.tokenizer, target)
        n = enc.num_tokens
        enc = append_tokens(enc, ids, self.tokenizer.convert_ids_to_tokens(ids),
                            max_input_tokens(self.tokenizer, self.model))
        return [self.continuation_job(enc, target, list(range(n - 1, n - 1 + len(ids))), ids)]


class Seq2SeqLMInteractionExplainer(_ContinuationExplainer):
    """Word attributions and interactions of source words behind an encoder-decoder's log-probability of a target.

    >>> explainer = Seq2SeqLMInteractionExplainer(model, tokenizer)    # T5, BART, ...
    >>> explanation = explainer("translate English to German: The house is big.", target="Das Haus ist groß.")

    The source is the encoder's input (its words are the features); the target is tokenized as a label
    (``tokenizer(text_target=target)``, with its special tokens, e.g. T5's ``</s>``) and fed to the decoder through the
    model's own ``prepare_decoder_input_ids_from_labels`` (teacher forcing). The explained output is the summed
    log-probability of the target tokens, ``-model(..., labels=labels).loss * len(labels)``.
    """

    head = ("sequence-to-sequence language modelling", "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES")
    texts = ("source",)

    def __init__(self, model, tokenizer, **kwargs):
        if not is_encoder_decoder(model):
            raise TypeError(f"{type(model).__name__} is not an encoder-decoder model: use CausalLMInteractionExplainer")
        super().__init__(model, tokenizer, **kwargs)
        if not callable(getattr(model, "prepare_decoder_input_ids_from_labels", None)):
            raise TypeError(f"{type(model).__name__} has no prepare_decoder_input_ids_from_labels: cannot feed it a "
                            f"target")

    def jobs(self, source: str, target: str, *, options: ExplainOptions) -> list[Job]:
        """Explain ``log p(target | source)``."""
        enc = self.encode([source], names=("source",), features=options.features)
        ids = continuation_ids(self.tokenizer, target, as_label=True)
        limit = max_input_tokens(self.tokenizer, self.model)
        if limit is not None and len(ids) > limit:
            raise ValueError(f"the target is {len(ids)} tokens long, over the model's limit of {limit} tokens")
        labels = torch.tensor([ids], dtype=torch.long, device=self.device)
        decoder_input_ids = self.active_model.prepare_decoder_input_ids_from_labels(labels=labels)
        enc = replace(enc, inputs={**enc.inputs, "decoder_input_ids": decoder_input_ids})
        return [self.continuation_job(enc, target, list(range(len(ids))), ids)]
