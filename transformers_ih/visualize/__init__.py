"""Views of an :class:`~transformers_ih.results.explanation.Explanation`: plotly figures and a self-contained HTML
report.

Every ``plot_*`` function returns a :class:`plotly.graph_objects.Figure` and accepts ``theme="light"`` or
``"dark"`` plus layout keyword arguments. Values are in the explained output's units (``expl.output``).
Nothing here runs a model or imports torch.

* :func:`plot_text`: the text with words coloured by attribution.
* :func:`plot_interactions`: the word × word interaction matrix (diagonal hidden, with a toggle).
* :func:`plot_top_pairs`: the ``k`` strongest pairs.
* :func:`plot_word_focus`: one word's attribution split into main effect + interactions.
* :func:`plot_arcs`: the sentence with arcs between the strongest pairs.
* :func:`to_html`: all of them in one self-contained HTML report (also ``Explanation.to_html``).
"""

from .arcs import plot_arcs
from .matrix import plot_interactions
from .report import to_html
from .text import plot_text
from .top_pairs import plot_top_pairs
from .word_focus import plot_word_focus

__all__ = ["plot_text", "plot_interactions", "plot_top_pairs", "plot_word_focus", "plot_arcs", "to_html"]
