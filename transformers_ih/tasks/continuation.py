"""What the causal and the sequence-to-sequence LM explainers share: the target continuation's tokens (given or
generated), the requests explaining its log-probability (whole, or per token), and replaying such a call."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar, cast

import torch

from ..results.explanation import Explanation
from ..text.architectures import is_encoder_decoder
from ..text.encoding import EncodedText
from ..text.generation import generate_continuation, token_ids_target
from ..text.moe import check_routing
from ..text.requests import ExplainedOutput, Request
from ..text.run import ExplainRun
from ..text.targets import continuation_ids, continuation_selector
from .base import TextInteractionExplainer


class ContinuationExplainer(TextInteractionExplainer):
    """Shared by the causal and the sequence-to-sequence LM explainers: explain ``sum_k log p(target_k | ...)``.

    Models whose tokenizer has no pad token (GPT-2, Llama) default to the EOS token's embedding as the baseline
    (``baseline="eos"``); pass ``baseline=`` to choose another. ``target`` is one string for every input, or one
    per input; ``None`` generates it (:mod:`.generation`); ``{"token_ids": [...]}`` gives its exact tokens.
    """

    per_input: ClassVar[tuple[str, ...]] = ("target",)
    outputs = ("log_probability",)

    def __init__(self, model, tokenizer, *, baseline=None, moe_routing: str = "input", **kwargs):
        if baseline is None:
            baseline = "pad" if getattr(tokenizer, "pad_token_id", None) is not None else "eos"
        self.moe_routing = check_routing(moe_routing)
        super().__init__(model, tokenizer, baseline=baseline, **kwargs)

    # ------------------------------------------------------------------ the target
    def target_tokens(
        self, run: ExplainRun, enc: EncodedText, target, *, as_label: bool, max_new_tokens: int, generation_kwargs
    ) -> tuple[list[int], str, bool]:
        """``(ids, name, generated)``: the target's token ids, its text (``explanation.target``) and whether it was
        generated (``target=None``)."""
        if target is None:
            ids = generate_continuation(
                run.generator(),
                self.tokenizer,
                dict(enc.inputs),
                encoder_decoder=is_encoder_decoder(self.model),
                max_new_tokens=max_new_tokens,
                generation_kwargs=generation_kwargs,
            )
            return ids, self.tokenizer.decode(ids, skip_special_tokens=True), True
        if generation_kwargs is not None:
            raise ValueError("generation_kwargs apply when the target is generated (target=None); a target is given")
        if isinstance(target, Mapping):
            ids = token_ids_target(self.tokenizer, target, cast(torch.Tensor, run.embeddings.weight).shape[0])
            return ids, self.tokenizer.decode(ids, skip_special_tokens=True), False
        return continuation_ids(self.tokenizer, target, as_label=as_label), target, False

    # ------------------------------------------------------------------ the requests
    def continuation_requests(
        self,
        run: ExplainRun,
        enc: EncodedText,
        name: str,
        positions: list[int],
        ids: list[int],
        *,
        per_token: bool = False,
        meta: dict | None = None,
    ) -> list[Request]:
        """The requests explaining the log-probability of the target tokens ``ids`` predicted at ``positions`` of
        ``enc``: one for the whole continuation, or (``per_token``) one per token: ``log p(ids[k] | input,
        ids[:k])``, explained together (their model calls batched)."""
        if not isinstance(per_token, bool):
            raise TypeError(f"per_token must be True or False, got {per_token!r}")
        logits = run.forward(enc).logits
        if logits.dim() != 3 or logits.shape[-1] < len(self.tokenizer) - 1:
            raise TypeError(
                f"{type(self.model).__name__} does not output vocabulary logits per position; use a language model"
            )
        logp = torch.log_softmax(logits[0].double(), dim=-1)
        token_logp = [float(logp[p, i]) for p, i in zip(positions, ids)]
        target_logp = float(sum(token_logp))
        tokens = self.tokenizer.convert_ids_to_tokens(ids)
        meta = {
            **(meta or {}),
            "target_tokens": tokens,
            "target_token_ids": list(ids),
            "target_log_probability": target_logp,
            "target_probability": math.exp(target_logp),
            "token_log_probabilities": token_logp,
        }
        if not per_token:
            first = logp[positions[0]]
            predicted = int(torch.argmax(first))
            explained = ExplainedOutput(
                continuation_selector(positions, ids),
                name,
                "continuation",
                None,
                self.tokenizer.decode([predicted]),
                math.exp(float(first[predicted])),
            )
            return [Request(enc, explained, meta)]
        requests = []
        for k, (p, i) in enumerate(zip(positions, ids)):
            predicted = int(torch.argmax(logp[p]))
            explained = ExplainedOutput(
                continuation_selector([p], [i]),
                self.tokenizer.decode([i]),
                "token",
                int(i),
                self.tokenizer.decode([predicted]),
                math.exp(float(logp[p, predicted])),
            )
            requests.append(
                Request(
                    enc,
                    explained,
                    {
                        **meta,
                        "per_token": True,
                        "token_position": k,
                        "token_log_probability": token_logp[k],
                        "continuation": name,
                    },
                    key=k,
                )
            )
        return requests

    def shape(self, explanations, requests):
        """``per_token=True``: the list of per-token explanations, in continuation order."""
        if requests and requests[0].meta.get("per_token"):
            return list(explanations)
        return super().shape(explanations, requests)

    # ------------------------------------------------------------------ replaying a call (text.replay)
    def record_call(self, request: Request, call: dict) -> dict:
        """A generated target is recorded as its token ids (``{"token_ids": [...]}``), so the explained output is
        re-evaluated exactly, without generating again."""
        if not request.meta.get("generated"):
            return call
        return {
            **call,
            "inputs": {**call["inputs"], "target": {"token_ids": list(request.meta["target_token_ids"])}},
            "arguments": {
                k: v for k, v in call["arguments"].items() if k not in ("generation_kwargs", "max_new_tokens")
            },
            "unrecorded": [k for k in call["unrecorded"] if k not in ("generation_kwargs",)],
        }

    def replay_features(self, explanation: Explanation, call: dict):
        """A chat whose features a callable made: its spans, per message, from ``meta["message_offsets"]``."""
        if call.get("features", "word") is None and "messages" in call.get("inputs", {}):
            per_message: list = [None] * len(call["inputs"]["messages"])
            for i, start, end in explanation.meta.get("message_offsets", []):
                per_message[i] = (per_message[i] or []) + [(start, end)]
            call = {**call, "features": per_message}
        return super().replay_features(explanation, call)

    def is_request_of(self, request: Request, explanation: Explanation, custom: bool) -> bool:
        """Per-token explanations are told apart by their position in the continuation (a token may repeat)."""
        position = explanation.meta.get("token_position")
        if position is None or custom:
            return super().is_request_of(request, explanation, custom)
        return (
            request.meta.get("token_position") == position
            and request.encoded.text == explanation.text
            and list(request.encoded.words) == list(explanation.words)
        )
