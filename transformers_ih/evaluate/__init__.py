"""Faithfulness: measured evidence that an explanation predicts what the model does when words are removed.

"Removing" a feature (a word) sets it to the explanation's own baseline (the ``x'`` it integrated from; special
tokens stay), so every metric measures the function the explanation explains. The model is evaluated through
the explainer's :meth:`~transformers_ih.tasks.base.TextInteractionExplainer.coalition_values`, batched by its
``internal_batch_size``; random parts take a ``seed``.

Attributions (:func:`attribution_faithfulness`):

* AOPC comprehensiveness and sufficiency as ERASER (DeYoung et al., 2020) and ferret define them (:mod:`.aopc`);
* deletion and insertion curves and their areas (:mod:`.curves`).

Interactions (:func:`interaction_faithfulness`):

* pair ablation: the discrete interaction ``f(x) - f(x \\ i) - f(x \\ j) + f(x \\ {i, j})`` of the ``k`` strongest
  pairs against ``2 Gamma_ij`` (:mod:`.pairs`);
* coalition fidelity: R^2 of ``f(x') + sum_{i, j in S} Gamma_ij`` against the model on random coalitions ``S``,
  next to the additive ``f(x') + sum_{i in S} phi_i`` (:mod:`.fidelity`);
* a phrase's own score:
  :meth:`Explanation.group_attribution <transformers_ih.results.explanation.Explanation.group_attribution>`.

Results are small dataclasses with ``to_dict()`` and plotly figures; ``explanation.to_html(evaluation=result)``
adds them to the HTML report. The ``measure_*`` functions take arrays and any game ``(M, W) bool -> (M,)``
(e.g. to score another method's attributions or interaction indices on the same model and removal scheme).
"""

from ._game import CountedGame, random_coalitions
from .aopc import AOPC, DEFAULT_FRACTIONS, measure_aopc, rationales
from .attribution import AttributionFaithfulness, attribution_faithfulness
from .curves import RemovalCurves, measure_curves
from .fidelity import CoalitionFidelity, additive_surrogate, measure_fidelity, r_squared, second_order_surrogate
from .interaction import InteractionFaithfulness, coalition_fidelity, interaction_faithfulness, pair_ablation
from .pairs import PairAblation, measure_pairs

__all__ = [
    "AOPC",
    "AttributionFaithfulness",
    "CoalitionFidelity",
    "CountedGame",
    "DEFAULT_FRACTIONS",
    "InteractionFaithfulness",
    "PairAblation",
    "RemovalCurves",
    "additive_surrogate",
    "attribution_faithfulness",
    "coalition_fidelity",
    "interaction_faithfulness",
    "measure_aopc",
    "measure_curves",
    "measure_fidelity",
    "measure_pairs",
    "pair_ablation",
    "r_squared",
    "random_coalitions",
    "rationales",
    "second_order_surrogate",
]
