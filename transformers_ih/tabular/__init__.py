"""Tabular models: Expected Gradients / Expected Hessians of any differentiable PyTorch model of feature vectors,
per-row attributions and interaction matrices, dataset-level summaries, and plotly views."""

from .explainer import TabularInteractionExplainer
from .plots import dependence_plot, interaction_heatmap, summary_plot, top_pairs_plot
from .result import TabularExplanation

__all__ = [
    "TabularExplanation",
    "TabularInteractionExplainer",
    "dependence_plot",
    "interaction_heatmap",
    "summary_plot",
    "top_pairs_plot",
]
