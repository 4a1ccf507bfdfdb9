"""Progress bars for long explanations (tqdm), off for short ones or with ``progress=False``.

Where the bar goes decides its kind (:func:`progress_bar`): a notebook gets tqdm's widget, a terminal the usual
redrawn text bar, and anything else (a CI log, ``... 2> run.log``, a pipe) a :class:`LogBar` that writes a whole
line (newline, no carriage return) at most every :data:`LOG_INTERVAL_S` seconds, plus the first and the last,
so logs do not fill with one carriage-return update per text.

:func:`counting_into` lets an outer bar (a corpus run's one bar over texts) count what an explainer call inside
it explains: that call's own bars are then not shown.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
from collections.abc import Iterator
from typing import Protocol

# below this many Hessian-vector products per path point an explanation takes about a second: no bar
_AUTO_MIN_WORDS = 40

#: seconds between two lines of a bar writing to a non-interactive stream (``TRANSFORMERS_IH_PROGRESS_INTERVAL``)
LOG_INTERVAL_S = 30.0


def _log_interval() -> float:
    try:
        return float(os.environ.get("TRANSFORMERS_IH_PROGRESS_INTERVAL", LOG_INTERVAL_S))
    except ValueError:
        return LOG_INTERVAL_S


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # pragma: no cover - an odd IPython
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _interactive(file) -> bool:
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError):
        return False


def _std_tqdm():
    from tqdm.std import tqdm

    return tqdm


class _LogBarMixin:
    """A tqdm bar for logs: each display is one full line ending in a newline, written at most every
    ``mininterval`` seconds (default :data:`LOG_INTERVAL_S`), plus the first line and the final one on close."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("mininterval", _log_interval())
        kwargs["maxinterval"] = max(kwargs["mininterval"], kwargs.get("maxinterval", 0) or 0)
        kwargs.setdefault("dynamic_ncols", False)
        kwargs.setdefault("ncols", 90)
        kwargs.setdefault("ascii", True)
        self._last_n, self._closing = None, False
        super().__init__(*args, **kwargs)

    def display(self, msg=None, pos=None):
        if msg == "":  # tqdm clearing a bar that is not left on screen: nothing to clear in a log
            return True
        fp = getattr(self, "fp", None)
        if fp is None:
            return False
        if self._closing and self.n == self._last_n:  # the last line is already there
            return True
        self._last_n = self.n
        line = self.__str__() if msg is None else msg
        fp.write(line.strip("\r\n") + "\n")
        fp.flush()
        return True

    def close(self):
        fp = getattr(self, "fp", None)
        self._closing = True
        if fp is not None:
            self.fp = _NoBareBreaks(fp)  # tqdm ends a bar with a bare newline / carriage return: not in a log
        try:
            super().close()
        finally:
            if fp is not None:
                self.fp = fp

    def clear(self, nolock=False):  # a log line stays where it is
        pass

    def moveto(self, n):  # no cursor movement in a log
        pass


class _NoBareBreaks:
    def __init__(self, fp):
        self.fp = fp

    def write(self, s):
        if s not in ("", "\n", "\r"):
            self.fp.write(s)

    def flush(self):
        self.fp.flush()


def log_bar_class():
    """The tqdm class of :class:`LogBar` (built on first use: tqdm is imported lazily)."""
    global _LOG_BAR
    if _LOG_BAR is None:
        _LOG_BAR = type("LogBar", (_LogBarMixin, _std_tqdm()), {"__doc__": _LogBarMixin.__doc__})
    return _LOG_BAR


_LOG_BAR = None


def _tqdm(file=None):
    """The bar class for ``file`` (default stderr): tqdm's notebook widget in a notebook where ipywidgets is
    installed, tqdm's text bar on a terminal, else the line-per-interval :class:`LogBar`."""
    if _in_notebook():
        try:
            import ipywidgets  # noqa: F401
            from tqdm.auto import tqdm

            return tqdm
        except ImportError:
            return _std_tqdm()
    return _std_tqdm() if _interactive(file if file is not None else sys.stderr) else log_bar_class()


def progress_bar(total: int | None = None, *, file=None, **kwargs):
    """A tqdm bar of the kind that suits where it is written (see the module docstring)."""
    if file is not None:
        kwargs["file"] = file
    return _tqdm(file)(total=total, **kwargs)


class _Share:
    """What an explainer call inside :func:`counting_into` counts with: its jobs, forwarded to the outer bar as
    the share of ``texts`` they stand for (a task with several jobs per text counts each text once)."""

    total: int | None  # the call's number of jobs (set by text_progress), None until known

    def __init__(self, bar, texts: int):
        self.bar, self.texts, self.total, self.done, self.sent = bar, texts, None, 0, 0

    def update(self, n: int = 1) -> None:
        self.done += n
        target = self.texts if not self.total else min(self.texts, self.texts * self.done // self.total)
        if target > self.sent:
            self.bar.update(target - self.sent)
            self.sent = target

    def finish(self) -> None:
        if self.sent < self.texts:
            self.bar.update(self.texts - self.sent)
            self.sent = self.texts


class ProgressCounter(Protocol):
    """What the explainers count on: a tqdm bar, or an outer bar's share (:func:`counting_into`)."""

    def update(self, n: int = 1) -> object: ...


_OUTER: contextvars.ContextVar[_Share | None] = contextvars.ContextVar("transformers_ih_outer_bar", default=None)


@contextlib.contextmanager
def counting_into(bar, texts: int) -> Iterator[None]:
    """Inside: an explainer call over ``texts`` inputs counts them on ``bar`` (``None``: shows nothing), and shows
    no bar of its own. On exit ``bar`` has advanced by ``texts``."""
    share = _Share(bar, texts) if bar is not None else None
    token = _OUTER.set(share if share is not None else _Share(_NullBar(), texts))
    try:
        yield
    finally:
        _OUTER.reset(token)
    if share is not None:
        share.finish()


class _NullBar:
    def update(self, n=1) -> None:
        pass


@contextlib.contextmanager
def hvp_progress(progress: bool | None, num_words: int, total: int | None = None) -> Iterator[object | None]:
    """A tqdm bar counting Hessian-vector products, or ``None``.

    ``progress=None`` shows it for long texts (``num_words >= 40``), ``True`` always, ``False`` never; never
    inside :func:`counting_into` (the outer bar counts texts).
    """
    show = progress if progress is not None else num_words >= _AUTO_MIN_WORDS
    if not show or _OUTER.get() is not None:
        yield None
        return
    with _tqdm()(total=total, desc="Hessian-vector products", unit="hvp", leave=False) as bar:
        yield bar


@contextlib.contextmanager
def text_progress(progress: bool | None, num_texts: int) -> Iterator[ProgressCounter | None]:
    """A tqdm bar counting explained texts, or ``None``: shown for 8 texts or more unless ``progress=False``.
    Inside :func:`counting_into` the updates go to the outer bar instead."""
    share = _OUTER.get()
    if share is not None:
        share.total = num_texts
        yield share
        return
    show = progress if progress is not None else num_texts >= 8
    if not show:
        yield None
        return
    with _tqdm()(total=num_texts, desc="texts", unit="text") as bar:
        yield bar
