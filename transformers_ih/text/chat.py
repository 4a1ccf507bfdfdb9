"""Chat prompts: ``explainer(messages=[...], target=...)`` for causal LMs.

The prompt is the tokenizer's own rendering, ``tokenizer.apply_chat_template(messages, tokenize=False,
add_generation_prompt=True)``, tokenized as ``apply_chat_template`` tokenizes it (``add_special_tokens=False``: the
template writes its own BOS), so the model sees exactly the tokens it sees in a chat. Only the *contents* of the
chosen messages are features; the template's tokens (BOS, role headers, turn separators, the generation prompt)
are held at the input, like special tokens, and get nothing.

Each message's content is located in the rendered prompt by rendering once more with every content replaced by a
unique marker: the template's text around the markers must then match the real rendering, with each content as
it is or trimmed (templates such as Llama 3's write ``message['content'] | trim``). A template that changes a
content otherwise (upper-cases it, escapes it, renders it twice) is refused for that message, naming it, when the
message is explained: the words would otherwise point at characters the model never saw. Words keep character spans into
their message's content (``meta["message_offsets"]``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from .segments import REGION_LEVELS, Span, region_spans

_MARK = "\ue000{}\ue001"
_MARKS = re.compile("\ue000(\\d+)\ue001")


@dataclass(frozen=True)
class ChatPrompt:
    """A rendered chat prompt: ``text``, the ``messages``, and where each message's content is in ``text``:
    ``regions[i]`` (``None`` when the template does not show it) and ``content_starts[i]``, the character of the
    content where the shown part begins (> 0 when the template trimmed leading whitespace)."""

    text: str
    messages: list[dict]
    regions: list[Span | None]
    content_starts: list[int]


def is_conversation(value) -> bool:
    """A conversation is a sequence of message dicts; many conversations are a sequence of those."""
    return (
        isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0 and isinstance(value[0], Mapping)
    )


def check_messages(messages) -> list[dict]:
    """``messages`` as a list of dicts with a ``role`` and a string ``content``; ``TypeError`` / ``ValueError``
    naming the message otherwise."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise TypeError(
            f"messages must be a list of {{'role': ..., 'content': ...}} dicts (one conversation) or a list "
            f"of such lists (many), got {type(messages).__name__}"
        )
    if not messages:
        raise ValueError("messages is empty: pass at least one {'role': 'user', 'content': ...} message")
    out = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping) or "role" not in message or "content" not in message:
            raise TypeError(f"messages[{i}] is {message!r}: every message must be a dict with 'role' and 'content'")
        if not isinstance(message["content"], str):
            raise TypeError(
                f"messages[{i}]['content'] is {type(message['content']).__name__}, not a string: only text "
                f"contents can be explained (pass the text as a string, e.g. {{'role': "
                f"{message['role']!r}, 'content': 'your text'}})"
            )
        out.append(dict(message))
    return out


def _template_name(tokenizer, kwargs: dict) -> None:
    template = kwargs.get("chat_template", getattr(tokenizer, "chat_template", None))
    if not template:
        raise ValueError(
            f"{type(tokenizer).__name__} has no chat template (tokenizer.chat_template is None), so messages cannot be "
            f"rendered as the model was trained to see them. Set tokenizer.chat_template to the model's Jinja "
            f"template (instruction-tuned checkpoints ship one), or format the prompt yourself and pass it as a string."
        )


def render_chat(
    tokenizer, messages, *, add_generation_prompt: bool = True, chat_template_kwargs: dict | None = None
) -> ChatPrompt:
    """Render ``messages`` with the tokenizer's chat template and locate each message's content in it."""
    messages = check_messages(messages)
    kwargs = dict(chat_template_kwargs or {})
    for reserved in ("tokenize", "add_generation_prompt", "conversation", "return_dict"):
        if reserved in kwargs:
            raise ValueError(f"chat_template_kwargs[{reserved!r}] is set by the explainer; leave it out")
    _template_name(tokenizer, kwargs)

    def render(msgs) -> str:
        out = tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=add_generation_prompt, **kwargs)
        if not isinstance(out, str):
            raise TypeError(f"apply_chat_template returned {type(out).__name__}, not the prompt text")
        return out

    text = render(messages)
    marked = render([{**m, "content": _MARK.format(i)} for i, m in enumerate(messages)])
    located = _align(text, marked, messages)
    if located is None:
        located = _find_in_order(text, messages)
    regions, starts = located
    return ChatPrompt(text=text, messages=messages, regions=regions, content_starts=starts)


def _candidates(content: str) -> list[tuple[str, int]]:
    """The forms a template may show a content in, with the character of the content each begins at."""
    lead = len(content) - len(content.lstrip())
    forms = [(content, 0), (content.strip(), lead), (content.rstrip(), 0), (content.lstrip(), lead)]
    return list(dict.fromkeys(forms))


def _align(text: str, marked: str, messages: list[dict]):
    """Regions from the marker rendering (module docstring), or ``None`` if the two renderings do not align."""
    parts = _MARKS.split(marked)
    n = len(messages)
    regions: list[Span | None] = [None] * n
    starts = [0] * n
    pos = 0
    for j in range(0, len(parts) - 1, 2):
        literal, index, following = parts[j], int(parts[j + 1]), parts[j + 2]
        if not text.startswith(literal, pos) or index >= n or regions[index] is not None:
            return None
        pos += len(literal)
        last = j + 2 == len(parts) - 1
        for form, start in _candidates(messages[index]["content"]):
            end = pos + len(form)
            if text.startswith(form, pos) and (text[end:] == following if last else text.startswith(following, end)):
                regions[index], starts[index] = (pos, end), start
                pos = end
                break
        else:  # the template shows this content changed (beyond trimming): not located, refused if explained
            end = len(text) - len(following) if last else text.find(following, pos) if following else -1
            if end < pos:
                return None
            pos = end
    if not text.startswith(parts[-1], pos) or pos + len(parts[-1]) != len(text):
        return None
    return regions, starts


def _find_in_order(text: str, messages: list[dict]):
    """Fallback: each content (or its trimmed form) found in ``text`` after the previous one."""
    regions: list[Span | None] = []
    starts = []
    pos = 0
    for message in messages:
        for form, start in _candidates(message["content"]):
            if not form:
                continue
            at = text.find(form, pos)
            if at >= 0:
                regions.append((at, at + len(form)))
                starts.append(start)
                pos = at + len(form)
                break
        else:
            regions.append(None)
            starts.append(0)
    return regions, starts


def chosen_messages(messages: list[dict], explain_messages) -> list[int]:
    """Indices of the messages whose contents are features: ``None`` (all), a role (``"user"``), or a list of roles
    and / or message indices (e.g. ``["user"]`` to leave the system message out)."""
    if explain_messages is None:
        return list(range(len(messages)))
    items = [explain_messages] if isinstance(explain_messages, (str, int)) else list(explain_messages)
    roles = [m["role"] for m in messages]
    chosen: set[int] = set()
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise TypeError(f"explain_messages: {item!r} is neither a role nor a message index")
        if isinstance(item, str):
            if item not in roles:
                raise ValueError(f"explain_messages: no message has the role {item!r}; the roles are {roles}")
            chosen.update(i for i, r in enumerate(roles) if r == item)
        else:
            if not -len(messages) <= item < len(messages):
                raise ValueError(f"explain_messages: message index {item} is out of range for {len(messages)} messages")
            chosen.add(item % len(messages))
    return sorted(chosen)


def chat_features(chat: ChatPrompt, tokenizer, features, explain_messages) -> tuple[list[Span], list[int], str]:
    """``(spans, owners, level)``: the feature spans in ``chat.text`` (for ``features=``), the message each
    belongs to, and the explanation's level.

    ``features``: a level for every chosen message (``"word"``, ``"token"``, ``"sentence"``, ``"message"``: one
    feature per message), a callable ``content -> spans``, or a list with one entry per message: ``None`` (held),
    a level, spans into that message's content, or a callable."""
    messages = chat.messages
    chosen = chosen_messages(messages, explain_messages)
    if features is None:
        features = "word"
    if isinstance(features, str) or callable(features):
        per_message = [features if i in chosen else None for i in range(len(messages))]
    else:
        per_message = list(features)
        if len(per_message) != len(messages):
            raise ValueError(
                f"features for a chat must be a level {REGION_LEVELS}, a callable content -> spans, or a "
                f"list with one entry per message ({len(messages)}: None, a level, spans into the "
                f"message's content, or a callable); got {len(per_message)} entries"
            )
        per_message = [f if i in chosen else None for i, f in enumerate(per_message)]
    enc = tokenizer(chat.text, add_special_tokens=False, return_offsets_mapping=True)
    offsets = [tuple(o) for o in enc["offset_mapping"]]
    word_ids = enc.word_ids()
    spans: list[Span] = []
    owners: list[int] = []
    for i, level in enumerate(per_message):
        if level is None:
            continue
        region = chat.regions[i]
        name = f"messages[{i}] ({messages[i]['role']})"
        if region is None:
            raise ValueError(
                f"{name}: the chat template does not show this message's content as it is (it changes or "
                f"drops it), so its words cannot be located in the prompt; leave it out with "
                f"explain_messages=, or format the prompt yourself and pass it as a string"
            )
        found = region_spans(
            chat.text,
            offsets,
            word_ids,
            region,
            level,
            content=messages[i]["content"],
            content_start=chat.content_starts[i],
            name=name,
        )
        if not found and explain_messages is not None:
            raise ValueError(f"{name} has no token to explain (its content is empty, or only whitespace)")
        spans += found
        owners += [i] * len(found)
    if not spans:
        raise ValueError("no message content to explain: the chosen messages are empty")
    kinds = {f if isinstance(f, str) else "spans" for f in per_message if f is not None}
    return spans, owners, kinds.pop() if len(kinds) == 1 else "spans"


class WithoutSpecialTokens:
    """A view of a tokenizer that tokenizes without adding special tokens (as ``apply_chat_template`` does: the
    template writes them), for encoding a rendered chat prompt."""

    def __init__(self, tokenizer):
        self._tokenizer = tokenizer

    def __getattr__(self, name):
        return getattr(self._tokenizer, name)

    def __call__(self, *args, **kwargs):
        kwargs["add_special_tokens"] = False
        return self._tokenizer(*args, **kwargs)


def message_offsets(chat: ChatPrompt, offsets: list[Span], owners: list[int]) -> list[list[int]]:
    """``[message index, start, end]`` of each feature, in its message's content."""
    out = []
    for (a, b), i in zip(offsets, owners):
        lo = cast(Span, chat.regions[i])[0] - chat.content_starts[i]  # a message with features is shown
        out.append([i, a - lo, b - lo])
    return out
