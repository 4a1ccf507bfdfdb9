"""Progress bars for long explanations (tqdm), off for short ones or with ``progress=False``."""

from __future__ import annotations

import contextlib
from typing import Iterator

# below this many Hessian-vector products per path point an explanation takes about a second: no bar
_AUTO_MIN_WORDS = 40


@contextlib.contextmanager
def hvp_progress(progress: bool | None, num_words: int, total: int | None = None) -> Iterator[object | None]:
    """A tqdm bar counting Hessian-vector products, or ``None``.

    ``progress=None`` shows it for long texts (``num_words >= 40``), ``True`` always, ``False`` never.
    """
    show = progress if progress is not None else num_words >= _AUTO_MIN_WORDS
    if not show:
        yield None
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc="Hessian-vector products", unit="hvp", leave=False) as bar:
        yield bar
