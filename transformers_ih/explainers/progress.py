"""Progress bars for long explanations (tqdm), off for short ones or with ``progress=False``."""

from __future__ import annotations

import contextlib
from typing import Iterator

# below this many Hessian-vector products per path point an explanation takes about a second: no bar
_AUTO_MIN_WORDS = 40


def _tqdm():
    """tqdm's notebook widget where ipywidgets is installed, else the plain text bar (no 'IProgress' warning)."""
    try:
        import ipywidgets  # noqa: F401

        from tqdm.auto import tqdm
    except ImportError:
        from tqdm.std import tqdm
    return tqdm


@contextlib.contextmanager
def hvp_progress(progress: bool | None, num_words: int, total: int | None = None) -> Iterator[object | None]:
    """A tqdm bar counting Hessian-vector products, or ``None``.

    ``progress=None`` shows it for long texts (``num_words >= 40``), ``True`` always, ``False`` never.
    """
    show = progress if progress is not None else num_words >= _AUTO_MIN_WORDS
    if not show:
        yield None
        return
    with _tqdm()(total=total, desc="Hessian-vector products", unit="hvp", leave=False) as bar:
        yield bar


@contextlib.contextmanager
def text_progress(progress: bool | None, num_texts: int) -> Iterator[object | None]:
    """A tqdm bar counting explained texts, or ``None``: shown for 8 texts or more unless ``progress=False``."""
    show = progress if progress is not None else num_texts >= 8
    if not show:
        yield None
        return
    with _tqdm()(total=num_texts, desc="texts", unit="text") as bar:
        yield bar
