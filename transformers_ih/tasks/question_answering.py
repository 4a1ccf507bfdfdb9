"""Extractive question answering: explain the start and end logits of the predicted answer span."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from typing_extensions import Unpack, overload

from ..results.explanation import Explanation
from ..text.encoding import PAIR_SEPARATOR
from ..text.options import CallOptions
from ..text.requests import ExplainedOutput, Request
from ..text.run import ExplainRun
from .base import TextInteractionExplainer


def _position_logit(field: str, position: int):
    def select(outputs) -> torch.Tensor:
        return getattr(outputs, field)[:, position]

    return select


class QuestionAnsweringInteractionExplainer(TextInteractionExplainer):
    """Word attributions and question x context interactions behind an extractive QA model's answer.

    >>> explainer = QuestionAnsweringInteractionExplainer(model, tokenizer)
    >>> explanations = explainer("Who wrote Hamlet?", "Hamlet is a tragedy written by William Shakespeare.")
    >>> explanations["start"], explanations["end"]

    The answer span is the model's own (its forward pass on the tokenized pair): the context tokens ``s <= e``,
    at most ``max_answer_len`` tokens apart, with the largest ``start_logit[s] + end_logit[e]`` (the pipeline's
    choice). Two explanations are returned, ``"start"`` of ``start_logit[s]`` and ``"end"`` of ``end_logit[e]``,
    at these fixed positions (the span does not move along the path). Words of the question and of the context are
    features (``word_groups`` tells which). ``predicted_label`` is the answer text, ``predicted_probability`` the
    span's probability (softmax of the start logits over the context tokens times that of the end logits);
    ``meta`` has ``answer``, ``answer_start`` / ``answer_end`` (character offsets into the context) and the token
    positions. The question comes first unless the tokenizer pads on the left (as in the pipeline).
    """

    head = ("question answering", "MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES")
    texts = ("question", "context")
    outputs = ("logit",)

    @overload
    def __call__(  # type: ignore[overload-overlap]
        self, question: str, context: str, *, max_answer_len: int = 15, **options: Unpack[CallOptions]
    ) -> dict[str, Explanation]: ...
    @overload
    def __call__(
        self,
        question: Sequence[str],
        context: Sequence[str],
        *,
        max_answer_len: int = 15,
        **options: Unpack[CallOptions],
    ) -> list[dict[str, Explanation]]: ...
    def __call__(
        self,
        question: str | Sequence[str],
        context: str | Sequence[str],
        *,
        max_answer_len: int = 15,
        **options: Unpack[CallOptions],
    ) -> dict[str, Explanation] | list[dict[str, Explanation]]:
        """Explain the answer to ``question`` in ``context``: ``{"start": Explanation, "end": Explanation}`` (a list
        of them for two sequences of questions and contexts).

        Args:
            max_answer_len: the longest answer span, in tokens (as the pipeline's).
            **options: see :class:`~transformers_ih.text.options.CallOptions` (``output``, ``interactions``,
                ``steps``, ``method``, ``baseline``, ``smoothing``, ``features``, ``rows``).
        """
        return self.explain(question, context, max_answer_len=max_answer_len, **options)

    def requests(  # type: ignore[override]
        self,
        run: ExplainRun,
        question: str,
        context: str,
        *,
        max_answer_len: int = 15,
    ) -> list[Request]:
        """Explain the answer to ``question`` in ``context``: ``{"start": Explanation, "end": Explanation}`` (a list
        of them for two sequences of questions and contexts)."""
        if max_answer_len < 1:
            raise ValueError(f"max_answer_len must be at least 1, got {max_answer_len}")
        question_first = getattr(self.tokenizer, "padding_side", "right") == "right"
        segments, names = (
            ([question, context], ("question", "context"))
            if question_first
            else ([context, question], ("context", "question"))
        )
        ctx = 1 if question_first else 0
        features = run.options.features
        if not question_first and not isinstance(features, str) and not callable(features) and features is not None:
            features = list(features)[::-1]  # given as (question, context)
        enc = run.encode(segments, separator=PAIR_SEPARATOR, names=names, features=features)
        outputs = run.forward(enc)
        if getattr(outputs, "start_logits", None) is None or getattr(outputs, "end_logits", None) is None:
            raise TypeError(
                f"{type(self.model).__name__} does not output start and end logits; use a question-"
                f"answering model (AutoModelForQuestionAnswering)"
            )
        start, end = outputs.start_logits[0].double(), outputs.end_logits[0].double()
        # run.encode sets the tokenizer's word and sequence ids and the token offsets
        word_ids, sequence_ids = cast("list[int | None]", enc.word_ids), cast("list[int | None]", enc.sequence_ids)
        token_offsets = cast("list[tuple[int, int]]", enc.token_offsets)
        # every context token can start or end the answer, whatever the features are
        candidates = torch.tensor(
            [p for p, (w, q) in enumerate(zip(word_ids, sequence_ids)) if w is not None and q == ctx],
            dtype=torch.long,
            device=start.device,
        )
        if len(candidates) == 0:
            raise ValueError("the context has no tokens to answer from")
        s_log, e_log = start[candidates], end[candidates]
        gap = candidates[None, :] - candidates[:, None]  # token distance end - start
        scores = s_log[:, None] + e_log[None, :]
        scores = scores.masked_fill((gap < 0) | (gap >= max_answer_len), float("-inf"))
        i, j = divmod(int(torch.argmax(scores)), len(candidates))
        s, e = int(candidates[i]), int(candidates[j])
        probability = float(torch.softmax(s_log, 0)[i] * torch.softmax(e_log, 0)[j])
        offset = 0 if ctx == 0 else len(segments[0]) + len(PAIR_SEPARATOR)
        char_start, char_end = token_offsets[s][0], token_offsets[e][1]
        answer = enc.text[char_start:char_end]
        meta = {
            "answer": answer,
            "answer_start": char_start - offset,
            "answer_end": char_end - offset,
            "start_token": s,
            "end_token": e,  # the features holding the answer's ends (-1: in no feature)
            "start_word": int(enc.token_word[s]),
            "end_word": int(enc.token_word[e]),
        }
        # start and end share one input: explained together, their model calls shared
        return [
            Request(
                enc,
                ExplainedOutput(
                    _position_logit(field, position), f"answer {which}", "position", position, answer, probability
                ),
                {**meta, "explained": f"{field}[{position}]"},
                key=which,
            )
            for which, field, position in (("start", "start_logits", s), ("end", "end_logits", e))
        ]
