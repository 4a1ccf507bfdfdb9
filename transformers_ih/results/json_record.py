"""Versioned JSON (never pickle) for the result dataclasses (:class:`~transformers_ih.Explanation`,
:class:`~transformers_ih.tabular.TabularExplanation`): exact round trips, clear errors for unknown fields or newer
formats, and for text that is neither an existing file nor JSON of the right kind."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Mapping
from dataclasses import MISSING, Field, asdict, fields
from pathlib import Path
from typing import Any, ClassVar

from .paths import check_output_file


def _shorten(text: str, limit: int = 60) -> str:
    """``repr`` of ``text``, cut to about ``limit`` characters."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _json_error(err: json.JSONDecodeError) -> str:
    return f"{err.msg}: line {err.lineno} column {err.colno}"


def _is_existing_file(text: str) -> bool:
    if not text or "\n" in text or len(text) > 4096:  # JSON text, not a path: skip the file system
        return False
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # e.g. a name too long, or a NUL character
        return False


def _looks_like_path(text: str) -> bool:
    return text.lower().endswith(".json") or any(sep in text for sep in ("/", "\\", os.sep))


class JsonRecord:
    """Mixin for a dataclass (declared with ``eq=False``, so that this class's ``__eq__`` applies).

    Subclasses set ``_json_kind`` (named in errors) and ``_array_fields`` (numpy fields written as nested lists;
    ``None`` stays ``None``); floats are written with ``repr`` precision, so arrays round-trip exactly (``NaN``
    included).
    """

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]  # set by @dataclass on the subclass (for type checking)
    FORMAT_VERSION: ClassVar[int] = 1
    _json_kind: ClassVar[str] = "record"
    _array_fields: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (arrays as nested lists)."""
        d = asdict(self)
        for name in self._array_fields:
            value = getattr(self, name)
            d[name] = None if value is None else value.tolist()
        d["format_version"] = self.FORMAT_VERSION
        return d

    def to_json(self, path: str | Path | None = None, **json_kwargs: Any) -> str:
        """Serialise to a JSON string; also write it to ``path`` when given (``ValueError`` for a folder, or a path
        whose folder does not exist, before anything is written). Round-trips exactly."""
        if path is not None:
            path = check_output_file(path, "path")
        s = json.dumps(self.to_dict(), **json_kwargs)
        if path is not None:
            Path(path).write_text(s, encoding="utf-8")
        return s

    @classmethod
    def _field_names(cls) -> tuple[list[str], list[str]]:
        """``(all field names, required ones)``: required fields have no default."""
        all_fields = [f for f in fields(cls) if f.init]
        required = [f.name for f in all_fields if f.default is MISSING and f.default_factory is MISSING]
        return [f.name for f in all_fields], required

    @classmethod
    def _not_a_record(cls, what: str, value: Any) -> ValueError:
        _, required = cls._field_names()
        return ValueError(
            f"{what} is JSON but not {_article(cls._json_kind)} {cls._json_kind}: expected an object with fields "
            f"{', '.join(required)} (as written by {cls.__name__}.to_json()), got {_json_type(value)}"
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        """Build from a dict as written by :meth:`to_dict`; ``ValueError`` names unknown, missing or invalid
        fields and formats newer than this version."""
        if not isinstance(d, Mapping):
            raise cls._not_a_record(f"{cls.__name__}.from_dict's argument", d)
        d = dict(d)
        version = d.pop("format_version", cls.FORMAT_VERSION)
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError(
                f"{cls._json_kind} JSON has format_version {version!r}; expected an integer "
                f"(this transformers-ih writes {cls.FORMAT_VERSION})"
            )
        if version > cls.FORMAT_VERSION:
            raise ValueError(
                f"{cls._json_kind} format {version} is newer than this transformers-ih "
                f"({cls.FORMAT_VERSION}): upgrade transformers-ih to read it"
            )
        names, required = cls._field_names()
        unknown = set(d) - set(names)
        if unknown:
            raise ValueError(f"unknown fields in {cls._json_kind} JSON: {sorted(unknown)}")
        missing = [name for name in required if name not in d]
        if missing:
            raise ValueError(
                f"{cls._json_kind} JSON is missing required fields {missing}: it needs every field "
                f"written by {cls.__name__}.to_json() (required: {', '.join(required)})"
            )
        cls._validate(d)
        try:
            return cls(**d)
        except TypeError as err:  # e.g. a number where a list belongs: __post_init__ fails on the wrong type
            raise ValueError(f"invalid {cls._json_kind} JSON: a field has the wrong type ({err})") from err

    @classmethod
    def _validate(cls, d: dict[str, Any]) -> None:
        """Check the fields of a loaded record (every field present, none unknown) before it is built; a
        subclass raises ``ValueError`` naming the field (see :mod:`.validation`)."""

    @classmethod
    def from_json(cls, source: str | os.PathLike):
        """Load from the path of a file written by :meth:`to_json`, or from its JSON text.

        A :class:`~pathlib.Path` (or other path object), or a string naming an existing file, is read as a file;
        any other string must be JSON text. Raises ``FileNotFoundError`` for a missing file given as a path object
        or as a string that looks like a path (ends in ``.json`` or contains a path separator), and
        ``ValueError`` for text that is neither an existing file nor valid JSON, or JSON that is not a
        record of this kind.
        """
        if isinstance(source, os.PathLike):
            return cls._from_file(Path(source))
        if isinstance(source, (bytes, bytearray)):
            source = bytes(source).decode("utf-8")
        if not isinstance(source, str):
            hint = f"; for a dict use {cls.__name__}.from_dict" if isinstance(source, Mapping) else ""
            raise TypeError(
                f"{cls.__name__}.from_json takes JSON text or a file path, got {type(source).__name__}{hint}"
            )
        if _is_existing_file(source):
            return cls._from_file(Path(source))
        shown = _shorten(source)
        try:
            data = json.loads(source)
        except json.JSONDecodeError as err:
            stripped = source.strip()
            if stripped[:1] in ("{", "["):
                raise ValueError(
                    f"{shown} was taken for JSON text (it starts with {stripped[0]!r}) but is not "
                    f"valid JSON ({_json_error(err)}); pass the text written by "
                    f"{cls.__name__}.to_json() unchanged, or the path of its file"
                ) from None
            if os.path.isdir(stripped):
                raise IsADirectoryError(
                    errno.EISDIR,
                    f"{shown} is a directory, not a {cls._json_kind} JSON file "
                    f"(nor JSON text); pass the path of the file itself",
                    source,
                ) from None
            if _looks_like_path(stripped):
                raise FileNotFoundError(
                    errno.ENOENT,
                    f"{shown} was taken for the path of a {cls._json_kind} JSON file, but no such "
                    f"file exists (and it is not JSON text either); check the path",
                    source,
                ) from None
            raise ValueError(
                f"{shown} is not a file that exists and not valid JSON ({_json_error(err)}); pass the "
                f"JSON text written by {cls.__name__}.to_json() or the path of its file"
            ) from None
        if not isinstance(data, dict):
            raise cls._not_a_record(shown, data)
        return cls.from_dict(data)

    @classmethod
    def _from_file(cls, path: Path):
        try:
            text = path.read_text(encoding="utf-8")
        except IsADirectoryError:
            raise IsADirectoryError(
                errno.EISDIR, f"{str(path)!r} is a directory, not a {cls._json_kind} JSON file", str(path)
            ) from None
        except FileNotFoundError:
            raise FileNotFoundError(
                errno.ENOENT, f"no {cls._json_kind} JSON file at {str(path)!r}", str(path)
            ) from None
        except UnicodeDecodeError as err:
            raise ValueError(
                f"file {str(path)!r} is not a {cls._json_kind} JSON file: it is not UTF-8 text "
                f"({err.reason} at byte {err.start})"
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(
                f"file {str(path)!r} does not hold valid JSON ({_json_error(err)}); expected the "
                f"output of {cls.__name__}.to_json()"
            ) from None
        if not isinstance(data, dict):
            raise cls._not_a_record(f"file {str(path)!r}", data)
        try:
            return cls.from_dict(data)
        except ValueError as err:
            raise ValueError(f"file {str(path)!r}: {err}") from err

    def __eq__(self, other: object) -> bool:  # arrays (and NaN) make field-wise equality ambiguous
        if type(other) is not type(self):
            return NotImplemented
        return json.dumps(self.to_dict()) == json.dumps(other.to_dict())
