"""path_explain's PyTorch explainer, loaded without TensorFlow.

``pip install path-explain`` (0.0.7, no dependencies declared) installs a package whose ``__init__`` imports its
TensorFlow explainers; the PyTorch one, ``path_explain/explainers/path_explainer_torch.py``, needs only torch,
numpy and tqdm, so it is loaded here by file path.

Two variants are compared in the benchmark and tests:

* :class:`PathExplainerTorch` as shipped. Its ``interactions(..., use_expectation=True)`` differentiates the
  Expected Gradients of each outer path point with *fresh* inner baselines drawn independently of the outer
  one. Its estimand is ``E_{x'} E_beta[(x_j - x'_j) d/dz_j EG_i(z)]`` at ``z = x' + beta (x - x')``, whose rows
  sum to ``EG_i(x) - E_{x'}[EG_i(x')]`` rather than to ``EG_i(x)``: not the paper's Expected Hessians
  ``E_{x'}[IH(x; x')]`` (its TensorFlow explainer uses one baseline for both levels).
* :class:`TiedPathExplainerTorch`: the same code with the inner baselines tied to the outer one (the only
  change), which estimates the paper's Expected Hessians. Per input it draws ``k = round(sqrt(num_samples))``
  baselines, one ``beta`` each and ``k`` ``alpha`` per baseline: ``k^2`` Hessian points.
"""

from __future__ import annotations

import importlib.util
import os
import sys

_MODULE = None


def path_explainer_torch_file() -> str:
    """The installed ``path_explainer_torch.py`` (found without importing the package)."""
    spec = importlib.util.find_spec("path_explain")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("path-explain is not installed (pip install path-explain)")
    path = os.path.join(list(spec.submodule_search_locations)[0], "explainers", "path_explainer_torch.py")
    if not os.path.exists(path):
        raise ImportError(f"path-explain is installed but {path} is missing")
    return path


def load_path_explainer_torch():
    """This module, with ``PathExplainerTorch`` (path_explain's, unmodified) and ``TiedPathExplainerTorch``."""
    global _MODULE
    if _MODULE is None:
        path = path_explainer_torch_file()
        spec = importlib.util.spec_from_file_location("path_explain_torch_standalone", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        _MODULE = module
        globals()["PathExplainerTorch"] = module.PathExplainerTorch
        globals()["TiedPathExplainerTorch"] = _tied_class(module.PathExplainerTorch)
    return sys.modules[__name__]


def _tied_class(base):
    class TiedPathExplainerTorch(base):
        """path_explain's PyTorch explainer with each inner (attribution) baseline equal to its outer baseline."""

        def interactions(self, input_tensor, baseline, num_samples=50, **kwargs):
            self._tie = {"outer": None, "inner_calls": 0}
            try:
                return super().interactions(input_tensor, baseline, num_samples=num_samples, **kwargs)
            finally:
                self._tie = None

        def _get_ref_tensor(self, baseline, batch_size, num_samples):
            tie = getattr(self, "_tie", None)
            if tie is None:  # attributions() on its own: unchanged
                return super()._get_ref_tensor(baseline, batch_size, num_samples)
            if tie["outer"] is None:  # the outer draw of interactions()
                refs = super()._get_ref_tensor(baseline, batch_size, num_samples)
                tie["outer"] = refs.view(batch_size, num_samples, *refs.shape[1:])
                return refs
            # inner call i (for outer sample i of every row): that row's outer baseline, num_samples times
            outer, i = tie["outer"], tie["inner_calls"]
            tie["inner_calls"] += 1
            tied = outer[:, i : i + 1].expand(batch_size, num_samples, *outer.shape[2:])
            return tied.reshape(batch_size * num_samples, *outer.shape[2:])

    return TiedPathExplainerTorch
