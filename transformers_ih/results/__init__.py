"""Results: :class:`Explanation`, the one contract every task returns, and its versioned JSON record."""

from .explanation import Explanation

__all__ = ["Explanation"]
