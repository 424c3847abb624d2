"""The look shared by every mlviz animation (a matplotlib rc dictionary)."""

STYLE: dict[str, object] = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.edgecolor": "#444444",
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "figure.titlesize": 13,
    "figure.titleweight": "bold",
    "font.family": "DejaVu Sans",
    "lines.linewidth": 1.8,
    "image.interpolation": "nearest",
    "savefig.facecolor": "white",
}

#: Twelve clearly distinct colours (tab10 without its grey, then navy, maroon, magenta).
CATEGORICAL = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#bcbd22", "#17becf", "#000075", "#800000", "#f032e6",
)

#: Colours of the two classes of a binary problem, and of a loss curve.
NEGATIVE, POSITIVE = "#2166ac", "#d6604d"
LOSS = "#c0392b"
