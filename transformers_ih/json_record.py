"""Versioned JSON (never pickle) for the result dataclasses (:class:`~transformers_ih.Explanation`,
:class:`~transformers_ih.tabular.TabularExplanation`): exact round trips, clear errors for unknown fields or newer
formats."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, ClassVar


class JsonRecord:
    """Mixin for a dataclass (declared with ``eq=False``, so that this class's ``__eq__`` applies).

    Subclasses set ``_json_kind`` (named in errors) and ``_array_fields`` (numpy fields written as nested lists;
    ``None`` stays ``None``); floats are written with ``repr`` precision, so arrays round-trip exactly (``NaN``
    included).
    """

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
        """Serialise to a JSON string; also write it to ``path`` when given. Round-trips exactly."""
        s = json.dumps(self.to_dict(), **json_kwargs)
        if path is not None:
            Path(path).write_text(s, encoding="utf-8")
        return s

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        d = dict(d)
        version = d.pop("format_version", cls.FORMAT_VERSION)
        if version > cls.FORMAT_VERSION:
            raise ValueError(f"{cls._json_kind} format {version} is newer than this transformers-ih "
                             f"({cls.FORMAT_VERSION})")
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown fields in {cls._json_kind} JSON: {sorted(unknown)}")
        return cls(**d)

    @classmethod
    def from_json(cls, source: str | Path):
        """Load from a JSON string or from the path of a file written by :meth:`to_json`."""
        text = str(source)
        if not text.lstrip().startswith("{"):
            text = Path(source).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:  # arrays (and NaN) make field-wise equality ambiguous
        if type(other) is not type(self):
            return NotImplemented
        return json.dumps(self.to_dict()) == json.dumps(other.to_dict())
