"""Language-model scoring: the log-probability of a target continuation, given a prompt (decoder-only models) or a
source text (encoder-decoder models).

LLMs as people use them: a chat prompt (``messages=``, see :mod:`.chat`), the model's own generated answer
(``target=None``, see :mod:`.generation`), one explanation per answer token (``per_token=True``), prompt segments
(``features=`` spans, see :mod:`.segments`), half-precision weights (``compute_dtype=torch.float32``) and models
loaded with ``device_map`` (see :mod:`.model_state`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Literal, cast

import torch
from typing_extensions import Unpack, overload

from ..results.explanation import Explanation
from ..text.architectures import is_encoder_decoder
from ..text.chat import WithoutSpecialTokens, chat_features, is_conversation, message_offsets, render_chat
from ..text.encoding import EncodedText, append_tokens, encode_text, max_input_tokens
from ..text.options import CallOptions
from ..text.requests import Request, is_many
from ..text.run import ExplainRun
from ..text.segments import degenerate_words, region_words
from .continuation import ContinuationExplainer


class CausalLMInteractionExplainer(ContinuationExplainer):
    """Word attributions and interactions of prompt words behind a causal LM's log-probability of a continuation.

    >>> explainer = CausalLMInteractionExplainer(model, tokenizer)
    >>> explanation = explainer("The capital of France is", target=" Paris")
    >>> explanations = explainer(prompts, target=[" Paris", " Rome"])    # one target per prompt (or one for all)
    >>> explanation = explainer(messages=[{"role": "user", "content": "Capital of France?"}], target="Paris")
    >>> explanation = explainer("The capital of France is")              # target=None: explain what it generates
    >>> tokens = explainer("The capital of France is", per_token=True)  # one explanation per generated token

    The prompt is tokenized with the tokenizer's own special tokens (e.g. Llama's BOS) and the target with none
    (``tokenizer(target, add_special_tokens=False)``: mind the leading space for byte-level BPE); the target tokens
    follow the prompt (teacher forcing) and are not features. The explained output is
    ``sum_k log p(target_k | prompt, target_<k)`` (``output="log_probability"``). ``predicted_label`` is the
    model's own next token after the prompt and ``predicted_probability`` its probability; ``meta`` has the target
    tokens, their total probability and each token's log-probability. Baseline: the pad token, or EOS when the
    tokenizer has none (GPT-2, Llama).

    Words: the tokenizer's words, split at whitespace for SentencePiece-style tokenizers (Llama 2, Mistral, Phi-3,
    Gemma), whose ``word_ids()`` make one word of a whole text (see :mod:`.segments`).
    """

    head = ("causal language modelling", "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES")
    texts = ("prompt",)
    per_input = ("target", "messages")

    def __init__(self, model, tokenizer, **kwargs):
        if is_encoder_decoder(model):
            raise TypeError(f"{type(model).__name__} is an encoder-decoder model: use Seq2SeqLMInteractionExplainer")
        super().__init__(model, tokenizer, **kwargs)

    @overload
    def __call__(
        self,
        prompt: str | None = None,
        target: str | dict | None = None,
        *,
        messages: list[dict] | None = None,
        explain_messages: str | int | Sequence[str | int] | None = None,
        chat_template_kwargs: dict | None = None,
        max_new_tokens: int = 32,
        generation_kwargs: dict | None = None,
        per_token: Literal[False] = False,
        **options: Unpack[CallOptions],
    ) -> Explanation: ...
    @overload
    def __call__(
        self,
        prompt: str | None = None,
        target: str | dict | None = None,
        *,
        messages: list[dict] | None = None,
        explain_messages: str | int | Sequence[str | int] | None = None,
        chat_template_kwargs: dict | None = None,
        max_new_tokens: int = 32,
        generation_kwargs: dict | None = None,
        per_token: Literal[True],
        **options: Unpack[CallOptions],
    ) -> list[Explanation]: ...
    @overload
    def __call__(
        self,
        prompt: Sequence[str] | None = None,
        target: str | dict | Sequence[str | dict] | None = None,
        *,
        messages: Sequence[list[dict]] | None = None,
        explain_messages: str | int | Sequence[str | int] | None = None,
        chat_template_kwargs: dict | None = None,
        max_new_tokens: int = 32,
        generation_kwargs: dict | None = None,
        per_token: Literal[False] = False,
        **options: Unpack[CallOptions],
    ) -> list[Explanation]: ...
    @overload
    def __call__(
        self,
        prompt: Sequence[str] | None = None,
        target: str | dict | Sequence[str | dict] | None = None,
        *,
        messages: Sequence[list[dict]] | None = None,
        explain_messages: str | int | Sequence[str | int] | None = None,
        chat_template_kwargs: dict | None = None,
        max_new_tokens: int = 32,
        generation_kwargs: dict | None = None,
        per_token: Literal[True],
        **options: Unpack[CallOptions],
    ) -> list[list[Explanation]]: ...
    def __call__(
        self,
        prompt: str | Sequence[str] | None = None,
        target: str | dict | Sequence[str | dict] | None = None,
        *,
        messages: list[dict] | Sequence[list[dict]] | None = None,
        explain_messages: str | int | Sequence[str | int] | None = None,
        chat_template_kwargs: dict | None = None,
        max_new_tokens: int = 32,
        generation_kwargs: dict | None = None,
        per_token: bool = False,
        **options: Unpack[CallOptions],
    ) -> Explanation | list[Explanation] | list[list[Explanation]]:
        """Explain ``log p(target | prompt)`` (for many prompts: a list, with one target for all or one each).

        Args:
            prompt: the prompt text (tokenized with the tokenizer's special tokens).
            target: the continuation: a string (tokenized without special tokens), ``{"token_ids": [...]}`` (its
                exact tokens), or ``None``: generated by the model first (``max_new_tokens``, greedy unless
                ``generation_kwargs`` say otherwise), then explained.
            messages: instead of a prompt, a chat: ``[{"role": "system", "content": ...}, {"role": "user", ...}]``
                (or a list of chats), rendered with the tokenizer's chat template and its generation prompt. Only
                message contents are features (template and role tokens are held); words keep spans into their
                message's content (``meta["message_offsets"]``: ``[message index, start, end]``).
            explain_messages: which messages' contents are features: ``None`` (all), a role (``"user"``), or a
                list of roles and / or message indices (e.g. ``["user"]`` leaves the system message out).
            chat_template_kwargs: more arguments of ``apply_chat_template`` (e.g. ``{"tools": [...]}``,
                ``{"enable_thinking": False}``).
            max_new_tokens, generation_kwargs: for ``target=None``: ``model.generate(max_new_tokens=...,
                do_sample=False, **generation_kwargs)``.
            per_token: one explanation per target token (``log p(token_k | prompt, target_<k)``), as a list.
            **options: see :class:`~transformers_ih.text.options.CallOptions`. With messages, ``features=`` is a
                level for every chosen message (``"word"``, ``"token"``, ``"sentence"``, or ``"message"``: one
                feature per message), a callable ``content -> spans``, or a list with one entry per message
                (``None`` to hold it, a level, spans into its content, or a callable).
        """
        return self.explain(
            prompt=prompt,
            target=target,
            messages=messages,
            explain_messages=explain_messages,
            chat_template_kwargs=chat_template_kwargs,
            max_new_tokens=max_new_tokens,
            generation_kwargs=generation_kwargs,
            per_token=per_token,
            **options,
        )

    def explain(self, *args, **kwargs):
        """A chat (``messages=``) is rendered here into the prompt each input is tokenized from; everything else is
        the base's call."""
        messages = kwargs.get("messages")
        if messages is None:
            kwargs.pop("messages", None)
            if not args and kwargs.get("prompt") is None:
                raise TypeError(
                    "pass a prompt (a string, or a list of strings) or messages=[{'role': 'user', "
                    "'content': ...}, ...] (a chat, rendered with the tokenizer's chat template)"
                )
            return super().explain(*args, **kwargs)
        if args or kwargs.get("prompt") is not None:
            raise TypeError(
                "pass either a prompt or messages=, not both: messages are rendered into the prompt by the "
                "tokenizer's chat template"
            )
        options = {k: kwargs.get(k) for k in ("chat_template_kwargs",)}
        if is_conversation(messages) or isinstance(messages, (str, bytes)) or not is_many(messages):
            kwargs["prompt"] = render_chat(self.tokenizer, messages, **options).text
        else:
            conversations = list(messages)
            if not conversations:
                raise ValueError(
                    "messages is empty: pass one conversation (a list of message dicts) or many (a list of such lists)"
                )
            kwargs["prompt"] = [render_chat(self.tokenizer, c, **options).text for c in conversations]
            kwargs["messages"] = conversations
        return super().explain(**kwargs)

    def requests(
        self,
        run: ExplainRun,
        prompt: str | None = None,
        target: str | dict | None = None,
        *,
        messages=None,
        explain_messages=None,
        chat_template_kwargs: dict | None = None,
        max_new_tokens: int = 32,
        generation_kwargs: dict | None = None,
        per_token: bool = False,
    ) -> list[Request]:
        """The requests for one prompt or chat: one, or one per target token (the arguments: :meth:`__call__`)."""
        limit = max_input_tokens(self.tokenizer, self.model)
        meta: dict = {}
        if messages is not None:
            chat = render_chat(self.tokenizer, messages, chat_template_kwargs=chat_template_kwargs)
            if prompt is not None and prompt != chat.text:
                raise ValueError("the prompt given with messages= is not their rendering by the chat template")
            spans, owners, level = chat_features(chat, self.tokenizer, run.options.features, explain_messages)
            enc = encode_text(
                WithoutSpecialTokens(self.tokenizer),
                [chat.text],
                device=run.device,
                limit=limit,
                names=("prompt",),
                features=spans,
            )
            enc = replace(enc, level=level)
            owner_of = [next(i for (s, e), i in zip(spans, owners) if s <= a and b <= e) for a, b in enc.offsets]
            meta = {
                "chat": True,
                "roles": [m["role"] for m in chat.messages],
                "feature_messages": owner_of,
                "message_offsets": message_offsets(chat, enc.offsets, owner_of),
            }
        else:
            if explain_messages is not None or chat_template_kwargs is not None:
                raise ValueError("explain_messages and chat_template_kwargs apply to a chat: pass messages=[...]")
            if run.options.features == "message":
                raise ValueError(
                    "features='message' needs a chat (messages=); for parts of a plain prompt pass their "
                    "character spans (see transformers_ih.prompt_segments)"
                )
            enc = self._encode_prompt(run, cast(str, prompt), run.options.features, limit)  # no messages: a prompt
        ids, name, generated = self.target_tokens(
            run, enc, target, as_label=False, max_new_tokens=max_new_tokens, generation_kwargs=generation_kwargs
        )
        if generated:
            meta.update(generated=True, generated_text=name)
        n = enc.num_tokens
        enc = append_tokens(enc, ids, self.tokenizer.convert_ids_to_tokens(ids), limit)
        return self.continuation_requests(
            run, enc, name, list(range(n - 1, n - 1 + len(ids))), ids, per_token=per_token, meta=meta
        )

    def _encode_prompt(self, run: ExplainRun, prompt: str, features, limit) -> EncodedText:
        """The prompt at ``features``; at word level, words split at whitespace when the tokenizer does not
        pre-tokenize (SentencePiece-style: see :mod:`.segments`)."""
        if features in (None, "word") and isinstance(prompt, str) and prompt.strip():
            enc = self.tokenizer(prompt, return_offsets_mapping=True)
            offsets = [tuple(o) for o in enc["offset_mapping"]]
            if degenerate_words(prompt, offsets, enc.word_ids()):
                spans = region_words(prompt, offsets, enc.word_ids(), (0, len(prompt)))
                return replace(run.encode([prompt], names=("prompt",), features=spans), level="word")
        return run.encode([prompt], names=("prompt",), features=features)


class Seq2SeqLMInteractionExplainer(ContinuationExplainer):
    """Word attributions and interactions of source words behind an encoder-decoder's log-probability of a target.

    >>> explainer = Seq2SeqLMInteractionExplainer(model, tokenizer)    # T5, BART, ...
    >>> explanation = explainer("translate English to German: The house is big.", target="Das Haus ist groß.")
    >>> explanation = explainer("translate English to German: The house is big.")   # explain what it generates

    The source is the encoder's input (its words are the features); the target is tokenized as a label
    (``tokenizer(text_target=target)``, with its special tokens, e.g. T5's ``</s>``) and fed to the decoder through the
    model's own ``prepare_decoder_input_ids_from_labels`` (teacher forcing). The explained output is the summed
    log-probability of the target tokens, ``-model(..., labels=labels).loss * len(labels)``. ``target=None``
    generates the target first (the tokens after the decoder start token), ``per_token=True`` explains each target
    token.
    """

    head = ("sequence-to-sequence language modelling", "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES")
    texts = ("source",)

    def __init__(self, model, tokenizer, **kwargs):
        if not is_encoder_decoder(model):
            raise TypeError(f"{type(model).__name__} is not an encoder-decoder model: use CausalLMInteractionExplainer")
        super().__init__(model, tokenizer, **kwargs)
        if not callable(getattr(model, "prepare_decoder_input_ids_from_labels", None)):
            raise TypeError(
                f"{type(model).__name__} has no prepare_decoder_input_ids_from_labels: cannot feed it a target"
            )

    @overload
    def __call__(  # type: ignore[overload-overlap]
        self,
        source: str,
        target: str | dict | None = None,
        *,
        max_new_tokens: int = 32,
        generation_kwargs: dict | None = None,
        per_token: Literal[False] = False,
        **options: Unpack[CallOptions],
    ) -> Explanation: ...
    @overload
    def __call__(  # type: ignore[overload-overlap]
        self,
        source: str,
        target: str | dict | None = None,
        *,
        max_new_tokens: int = 32,
        generation_kwargs: dict | None = None,
        per_token: Literal[True],
        **options: Unpack[CallOptions],
    ) -> list[Explanation]: ...
    @overload
    def __call__(
        self,
        source: Sequence[str],
        target: str | dict | Sequence[str | dict] | None = None,
        *,
        max_new_tokens: int = 32,
        generation_kwargs: dict | None = None,
        per_token: Literal[False] = False,
        **options: Unpack[CallOptions],
    ) -> list[Explanation]: ...
    @overload
    def __call__(
        self,
        source: Sequence[str],
        target: str | dict | Sequence[str | dict] | None = None,
        *,
        max_new_tokens: int = 32,
        generation_kwargs: dict | None = None,
        per_token: Literal[True],
        **options: Unpack[CallOptions],
    ) -> list[list[Explanation]]: ...
    def __call__(
        self,
        source: str | Sequence[str],
        target: str | dict | Sequence[str | dict] | None = None,
        *,
        max_new_tokens: int = 32,
        generation_kwargs: dict | None = None,
        per_token: bool = False,
        **options: Unpack[CallOptions],
    ) -> Explanation | list[Explanation] | list[list[Explanation]]:
        """Explain ``log p(target | source)`` (for many sources: a list, with one target for all or one each).

        Args:
            source: the encoder's input text (its words are the features).
            target: the decoder's text (tokenized as a label, with its special tokens), ``{"token_ids": [...]}``
                (its exact tokens), or ``None``: generated first (``max_new_tokens``, ``generation_kwargs``).
            per_token: one explanation per target token, as a list.
            **options: see :class:`~transformers_ih.text.options.CallOptions`.
        """
        return self.explain(
            source,
            target,
            max_new_tokens=max_new_tokens,
            generation_kwargs=generation_kwargs,
            per_token=per_token,
            **options,
        )

    def requests(
        self,
        run: ExplainRun,
        source: str,
        target: str | dict | None = None,
        *,
        max_new_tokens: int = 32,
        generation_kwargs: dict | None = None,
        per_token: bool = False,
    ) -> list[Request]:
        """Explain ``log p(target | source)``; ``target=None`` generates it first (``max_new_tokens``,
        ``generation_kwargs``), ``{"token_ids": [...]}`` gives its exact tokens; ``per_token``: one explanation per
        target token."""
        enc = run.encode([source], names=("source",), features=run.options.features)
        ids, name, generated = self.target_tokens(
            run, enc, target, as_label=True, max_new_tokens=max_new_tokens, generation_kwargs=generation_kwargs
        )
        limit = max_input_tokens(self.tokenizer, self.model)
        if limit is not None and len(ids) > limit:
            raise ValueError(f"the target is {len(ids)} tokens long, over the model's limit of {limit} tokens")
        labels = torch.tensor([ids], dtype=torch.long, device=run.device)
        prepare = cast(Callable[..., torch.Tensor], run.model.prepare_decoder_input_ids_from_labels)  # a HF method
        decoder_input_ids = prepare(labels=labels)
        enc = replace(enc, inputs={**enc.inputs, "decoder_input_ids": decoder_input_ids})
        meta = {"generated": True, "generated_text": name} if generated else {}
        return self.continuation_requests(run, enc, name, list(range(len(ids))), ids, per_token=per_token, meta=meta)
