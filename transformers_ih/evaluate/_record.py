"""``to_dict()`` for the result dataclasses: JSON values only (arrays as lists, boolean masks as 0/1 rows)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np


def plain(value: Any) -> Any:
    """``value`` as JSON values: dataclasses as dicts, arrays and tuples as lists, numpy scalars as numbers."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, np.ndarray):
        return plain(value.astype(int).tolist() if value.dtype == bool else value.tolist())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


class Record:
    """Mixin: :meth:`to_dict` of a result dataclass."""

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON values (``json.dumps`` takes the result): arrays as lists, masks as 0/1 rows."""
        return plain(self)
