"""mlviz 0.1's colour constants, unchanged, kept for plugins written against 0.1.

Deprecated since mlviz 0.2: reading one warns (``DeprecationWarning``). They are 0.1's
values, the same in every theme, and do not follow ``--theme``; a panel reads its colours
from ``self.theme`` instead (:mod:`mlviz.theme`: ``theme.color(i)``, ``theme.loss``,
``theme.negative``, ``theme.positive``; the renderer applies the theme's rc settings).
"""

from __future__ import annotations

import warnings
from typing import Any

_OLD: dict[str, tuple[Any, str]] = {
    "STYLE": ({
        "figure.facecolor": "white", "axes.facecolor": "white", "axes.edgecolor": "#444444",
        "axes.titlesize": 11, "axes.titleweight": "bold", "axes.labelsize": 9.5,
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": False,
        "grid.color": "#dddddd", "grid.linewidth": 0.6, "xtick.labelsize": 8.5,
        "ytick.labelsize": 8.5, "legend.fontsize": 8.5, "legend.frameon": False,
        "figure.titlesize": 13, "figure.titleweight": "bold", "font.family": "DejaVu Sans",
        "lines.linewidth": 1.8, "image.interpolation": "nearest",
        "savefig.facecolor": "white",
    }, "the theme's rc settings, which the renderer applies (Theme.rc)"),
    # Twelve distinct colours: tab10 without its grey, then navy, maroon, magenta.
    "CATEGORICAL": (("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                     "#e377c2", "#bcbd22", "#17becf", "#000075", "#800000", "#f032e6"),
                    "self.theme.color(i) or self.theme.colors(n) in a panel"),
    "NEGATIVE": ("#2166ac", "self.theme.negative"),
    "POSITIVE": ("#d6604d", "self.theme.positive"),
    "LOSS": ("#c0392b", "self.theme.loss"),
}

__all__ = sorted(_OLD)


def __getattr__(name: str) -> Any:
    if name not in _OLD:
        raise AttributeError(f"module 'mlviz.style' has no attribute {name!r}")
    value, instead = _OLD[name]
    warnings.warn(f"mlviz.style.{name} is deprecated since mlviz 0.2 (it holds mlviz 0.1's "
                  f"value in every theme); use {instead}", DeprecationWarning, stacklevel=2)
    return dict(value) if isinstance(value, dict) else value


def __dir__() -> list[str]:
    return sorted([*globals(), *_OLD])
