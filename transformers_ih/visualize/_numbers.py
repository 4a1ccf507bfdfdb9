"""The numbers a report sends to its script, as the texts the views show.

Every value travels once, as its two texts written by Python (:func:`.format.short`: ``"+0.1235"``, and
:func:`.format.exact`: ``"0.12345678901234"``, the shortest repr that reads back as the same float); the script
reads the number back from the exact text (``Number(text)``: the same float) and never formats one. The texts
are packed four bits a character (:data:`ALPHABET`), then base64: about 19 characters a value, both texts.

* :func:`encode_texts` / :func:`decode_texts`: a list of texts, packed.
* :func:`encode_values` / :func:`decode_values`: floats as ``[short, exact]`` text pairs.
* :func:`encode_matrix` / :func:`decode_matrix`: the known cells of an interaction matrix and its pairs' totals.

Only finite values can be sent (a NaN or infinity raises ``ValueError``: unknown cells are left out instead).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .format import exact, short

__all__ = [
    "ALPHABET",
    "encode_texts",
    "decode_texts",
    "encode_values",
    "decode_values",
    "value_texts",
    "encode_matrix",
    "decode_matrix",
    "total_pairs",
]

ALPHABET = "0123456789+-.e "
"""The characters of a packed text, by their 4-bit code; the last one (a space) separates texts, code 15 pads
the last byte."""
_CODE = {char: code for code, char in enumerate(ALPHABET)}
_PAD = 15


def encode_texts(texts: Iterable[str]) -> str:
    """Non-empty ``texts`` written with :data:`ALPHABET` (no space), joined by a space, two characters a byte
    (high half first), in base64. Raises ``ValueError`` for any other character."""
    joined = " ".join(texts)
    try:
        codes = [_CODE[char] for char in joined]
    except KeyError as err:
        raise ValueError(f"cannot pack {err.args[0]!r}: only finite numbers' texts are sent") from None
    if len(codes) % 2:
        codes.append(_PAD)
    pairs = np.asarray(codes, dtype=np.uint8).reshape(-1, 2)
    return base64.b64encode((pairs[:, 0] << 4 | pairs[:, 1]).astype(np.uint8).tobytes()).decode("ascii")


def decode_texts(code: str) -> list[str]:
    """Inverse of :func:`encode_texts` (what the report's script does)."""
    packed = np.frombuffer(base64.b64decode(code), dtype=np.uint8)
    codes = np.stack([packed >> 4, packed & 15], axis=1).ravel()
    joined = "".join(ALPHABET[c] for c in codes if c != _PAD)
    return joined.split(" ") if joined else []


def _texts_of(values: ArrayLike) -> list[str]:
    values = np.asarray(values, dtype=np.float64).ravel()
    if not np.isfinite(values).all():
        raise ValueError("only finite values are sent to the report's script (unknown cells are left out)")
    return [text for v in values for text in (short(v), exact(v))]


def encode_values(values: ArrayLike) -> str:
    """``values`` (any shape, read flat) as ``short(v), exact(v)`` for each, packed by :func:`encode_texts`."""
    return encode_texts(_texts_of(values))


def value_texts(code: str) -> list[tuple[str, str]]:
    """The ``(short, exact)`` texts of each value packed by :func:`encode_values`."""
    texts = decode_texts(code)
    return list(zip(texts[0::2], texts[1::2]))


def decode_values(code: str) -> np.ndarray:
    """The floats packed by :func:`encode_values`, read from their exact texts (exactly the values sent)."""
    return np.array([float(e) for _, e in value_texts(code)], dtype=np.float64)


def total_pairs(known: np.ndarray) -> np.ndarray:
    """``(W, W)`` mask of the pairs ``i < j`` whose two halves ``(i, j)`` and ``(j, i)`` are both known."""
    return np.triu(known & known.T, k=1)


def _sent_cells(known: np.ndarray, symmetric: bool) -> np.ndarray:
    return known & np.triu(np.ones(known.shape, dtype=bool)) if symmetric else known


def encode_matrix(matrix: np.ndarray, known: np.ndarray) -> dict[str, Any]:
    """The known cells of a ``(W, W)`` matrix: ``{"n", "symmetric", "known", "values", "totals"}``.

    ``known``: None when every cell is known, else the row-major mask as bits (``numpy.packbits``, most
    significant bit first) in base64. ``values``: the known cells in row-major order (only ``i <= j`` when
    ``symmetric``: the known cells and their values equal their transposes exactly), by :func:`encode_values`.
    ``totals``: ``matrix[i, j] + matrix[j, i]`` for every pair of :func:`total_pairs`, row-major, likewise."""
    n = len(matrix)
    zeroed = np.where(known, matrix, 0.0)
    symmetric = bool(np.array_equal(known, known.T) and np.array_equal(zeroed, zeroed.T))
    return {
        "n": n,
        "symmetric": symmetric,
        "known": None if known.all() else base64.b64encode(np.packbits(known.ravel()).tobytes()).decode("ascii"),
        "values": encode_values(matrix[_sent_cells(known, symmetric)]),
        "totals": encode_values((matrix + matrix.T)[total_pairs(known)]),
    }


def decode_matrix(spec: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`encode_matrix`: the matrix with NaN in the unknown cells (what the script rebuilds)."""
    n = spec["n"]
    if spec["known"] is None:
        known = np.ones((n, n), dtype=bool)
    else:
        bits = np.unpackbits(np.frombuffer(base64.b64decode(spec["known"]), dtype=np.uint8))
        known = bits[: n * n].reshape(n, n).astype(bool)
    cells = _sent_cells(known, spec["symmetric"])
    matrix = np.full((n, n), np.nan)
    matrix[cells] = decode_values(spec["values"])
    if spec["symmetric"]:
        lower = cells.T & ~np.eye(n, dtype=bool)
        matrix[lower] = matrix.T[lower]
    return matrix
