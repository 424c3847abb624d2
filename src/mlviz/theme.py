"""Themes: the look of an animation (rc settings, palette, semantic colours, colormaps).

A panel never names a colour: it asks its theme, ``self.theme`` (see :class:`mlviz.Panel`).
``theme.color(i)`` is the i-th categorical colour, ``theme.marker(i)`` and
``theme.linestyle(i)`` the second channel that goes with it (so a class stays readable in
grey print and for colour-blind readers), and semantic names say what a colour means:
``theme.loss``, ``theme.positive``, ``theme.ink`` (data points, fitted lines), ``theme.muted``
(references, secondary text), ``theme.faint`` (bands, zero lines), and so on.

mlviz ships ``light`` (the default), ``dark`` and ``transparent``; a plugin adds more with
the ``mlviz_themes`` hook. The default palettes are Okabe and Ito's colour-blind-safe set
(a lighter variant on dark); :func:`mlviz.colorvision.check_palette` checks any palette.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .hookspecs import hookimpl

if TYPE_CHECKING:
    from matplotlib.colors import Colormap

#: Okabe & Ito (2008): blue, orange, bluish green, vermillion, reddish purple, sky blue,
#: yellow, black. Every pair stays apart under protan, deutan and tritan simulation.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000")
#: The same hues, lighter, for a dark background (checked the same way).
OKABE_ITO_ON_DARK = ("#3C9FE0", "#E69F00", "#19C191", "#FF6A33", "#E08DC0", "#9AD8FA",
                     "#F0E442", "#E8E8E8")
#: Markers and line styles: the second channel of categorical colour ``i``.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)), (0, (3, 3)))

#: The font scales every built-in scene is checked at: no text or panel leaves the frame.
MIN_FONT_SCALE, MAX_FONT_SCALE = 0.5, 1.5
#: Font-size rc keys a font scale multiplies.
FONT_SIZE_KEYS = ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize",
                  "ytick.labelsize", "legend.fontsize", "figure.titlesize",
                  "legend.title_fontsize")

_BASE_RC: dict[str, Any] = {
    "font.size": 9.0,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "grid.linewidth": 0.6,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.5,
    "legend.title_fontsize": 8.5,
    "legend.frameon": False,
    "figure.titlesize": 13,
    "figure.titleweight": "bold",
    "font.family": "DejaVu Sans",
    "lines.linewidth": 1.8,
    "image.interpolation": "nearest",
}


@dataclass(frozen=True)
class Theme:
    """Everything a panel needs to choose a colour, and the matplotlib rc around it.

    Build one with :func:`make_theme` (it derives the rc settings from the colours), or
    :func:`dataclasses.replace` an existing one. ``transparent`` themes leave the
    background see-through; only outputs that keep transparency (PNG) accept them.
    """

    name: str
    #: Categorical colours, in order; they repeat (with the next marker) past the end.
    palette: tuple[str, ...]
    background: str
    #: Text, axes and tick labels.
    text: str
    #: Data points, fitted lines, anything drawn as "black" on white.
    ink: str
    #: References, true curves, secondary text.
    muted: str
    #: Bands, zero lines, region edges, bars that are out of play.
    faint: str
    #: Outlines of markers.
    edge: str
    #: Behind labels and around lines that cross busy backgrounds (a halo).
    halo: str
    #: Loss and error curves.
    loss: str
    #: The two classes of a binary problem.
    negative: str
    positive: str
    #: Targets reached, tolerances, "good" bands.
    good: str
    #: The current choice, a mistake to look at.
    accent: str
    #: The middle of a two-class colour map (probability 0.5).
    neutral: str
    #: Colormap names: ordered values, and loss surfaces.
    sequential: str = "viridis"
    surface: str = "viridis"
    markers: tuple[str, ...] = MARKERS
    linestyles: tuple[Any, ...] = LINESTYLES
    transparent: bool = False
    font_scale: float = 1.0
    rc: Mapping[str, Any] = field(default_factory=dict)

    def color(self, index: int) -> str:
        """Categorical colour ``index`` (cycling)."""
        return self.palette[index % len(self.palette)]

    def colors(self, count: int) -> list[str]:
        """The first ``count`` categorical colours (cycling)."""
        return [self.color(i) for i in range(count)]

    def marker(self, index: int) -> str:
        """The marker that goes with categorical colour ``index``: where colours cycle,
        markers do not (colour ``i`` and ``i + len(palette)`` get different ones)."""
        return self.markers[(index + index // len(self.palette)) % len(self.markers)]

    def linestyle(self, index: int) -> Any:
        """The line style that goes with categorical colour ``index``."""
        return self.linestyles[(index + index // len(self.palette)) % len(self.linestyles)]

    def class_color(self, label: Any) -> str:
        """``positive`` for a label > 0, else ``negative``."""
        return self.positive if label > 0 else self.negative

    def class_cmap(self) -> Colormap:
        """negative → neutral → positive: probabilities and margins of two classes."""
        from matplotlib.colors import LinearSegmentedColormap

        return LinearSegmentedColormap.from_list(
            f"{self.name}-classes", [self.negative, self.neutral, self.positive])

    def cmap(self, which: str = "sequential") -> Colormap:
        """The ``sequential`` or ``surface`` colormap."""
        import matplotlib

        return matplotlib.colormaps[getattr(self, which)]

    def fontsize(self, points: float) -> float:
        """``points`` at this theme's font scale (for text sized in points)."""
        return points * self.font_scale

    def scaled(self, font_scale: float) -> Theme:
        """This theme with every font ``font_scale`` times larger (for a projector)."""
        if not MIN_FONT_SCALE <= font_scale <= MAX_FONT_SCALE:
            from .errors import MlvizError

            raise MlvizError(f"the font scale must be between {MIN_FONT_SCALE:g} and "
                             f"{MAX_FONT_SCALE:g} (every built-in layout keeps its text "
                             f"inside the frame there), got {font_scale:g}")
        rc = dict(self.rc)
        for key in FONT_SIZE_KEYS:
            if isinstance(rc.get(key), (int, float)):
                rc[key] = rc[key] * font_scale / self.font_scale
        return replace(self, rc=rc, font_scale=font_scale)

    @contextmanager
    def context(self) -> Iterator[Theme]:
        """Within: matplotlib's rc is this theme's, and :func:`current_theme` returns it."""
        import matplotlib

        token = _CURRENT.set(self)
        try:
            with matplotlib.rc_context(dict(self.rc)):
                yield self
        finally:
            try:
                _CURRENT.reset(token)
            except ValueError:  # closed from another context (a generator finalized late):
                pass  # the context it was set in is not this one, nothing to undo here


#: The 3D panes (x, y, z walls) of a light background.
LIGHT_PANES = ((0.95, 0.95, 0.95, 0.5), (0.90, 0.90, 0.90, 0.5), (0.925, 0.925, 0.925, 0.5))


def make_theme(name: str, *, palette: tuple[str, ...], background: str, text: str,
               panes: tuple[Any, Any, Any] = LIGHT_PANES, **colours: Any) -> Theme:
    """A :class:`Theme` whose matplotlib rc follows its colours. Any field of
    :class:`Theme` may be given; ``panes`` colours the x, y and z walls of 3D panels;
    ``rc`` entries given are applied last."""
    from cycler import cycler

    transparent = colours.get("transparent", False)
    face = "none" if transparent else background
    rc = dict(_BASE_RC)
    rc.update({
        "figure.facecolor": face,
        "axes.facecolor": face,
        "savefig.facecolor": face,
        "savefig.transparent": transparent,
        "axes.edgecolor": colours.get("muted", text),
        "axes.labelcolor": text,
        "axes.titlecolor": text,
        "text.color": text,
        "xtick.color": text,
        "ytick.color": text,
        "xtick.labelcolor": text,
        "ytick.labelcolor": text,
        "grid.color": colours.get("faint", text),
        "legend.labelcolor": text,
        "legend.facecolor": background,
        "legend.edgecolor": colours.get("faint", text),
        "patch.edgecolor": text,
        "axes.prop_cycle": cycler(color=list(palette)),
        "image.cmap": colours.get("sequential", "viridis"),
        **{f"axes3d.{axis}axis.panecolor": pane for axis, pane in zip("xyz", panes)},
    })
    rc.update(colours.pop("rc", {}))
    return Theme(name=name, palette=tuple(palette), background=background, text=text,
                 rc=rc, **colours)


_LIGHT_COLOURS: dict[str, Any] = dict(
    palette=OKABE_ITO, background="#FFFFFF", text="#222222", ink="#222222",
    muted="#666666", faint="#D0D0D0", edge="#000000", halo="#FFFFFF", loss="#D55E00",
    negative="#0072B2", positive="#D55E00", good="#009E73", accent="#D55E00",
    neutral="#F7F7F7",
)
LIGHT = make_theme("light", **_LIGHT_COLOURS)
DARK = make_theme(
    "dark", palette=OKABE_ITO_ON_DARK, background="#1B1D23", text="#E6E6E6", ink="#F0F0F0",
    muted="#A0A0A8", faint="#474A55", edge="#0B0B0E", halo="#1B1D23", loss="#FF6A33",
    negative="#3C9FE0", positive="#FF6A33", good="#19C191", accent="#FF6A33",
    neutral="#2B2D35",
    panes=((0.18, 0.19, 0.22, 1.0), (0.15, 0.16, 0.19, 1.0), (0.165, 0.175, 0.205, 1.0)),
)
#: The light theme's colours on no background (translucent grey 3D panes).
TRANSPARENT = make_theme(
    "transparent", **_LIGHT_COLOURS, transparent=True,
    panes=((0.5, 0.5, 0.5, 0.08), (0.5, 0.5, 0.5, 0.12), (0.5, 0.5, 0.5, 0.1)),
)
#: mlviz's own themes, registered through the ``mlviz_themes`` hook like a plugin's.
CORE_THEMES = (LIGHT, DARK, TRANSPARENT)

_CURRENT: ContextVar[Theme] = ContextVar("mlviz_theme", default=LIGHT)


def current_theme() -> Theme:
    """The theme being drawn with (``light`` outside any :meth:`Theme.context`)."""
    return _CURRENT.get()


@hookimpl
def mlviz_themes() -> list[Theme]:
    """mlviz's own themes, registered exactly like a plugin's."""
    return list(CORE_THEMES)


def resolve_theme(theme: str | Theme | None, registry: Any = None,
                  font_scale: float | None = None) -> Theme:
    """A :class:`Theme` from a name (``--theme``), a theme, or ``None`` (the current
    session's theme, :mod:`mlviz.session`; ``light`` by default), at ``font_scale`` if given. A name is looked up in ``registry`` (default: the current
    session's, :mod:`mlviz.session`); an unknown name is a one-line error listing the known."""
    if theme is None:
        from .wiring import default_theme

        theme = default_theme()  # the session's (None: light)
    if isinstance(theme, Theme):
        chosen = theme
    elif theme is None:
        chosen = LIGHT
    else:
        chosen = _lookup_theme(theme, registry)
    return chosen if font_scale is None else chosen.scaled(font_scale)


def _lookup_theme(name: str, registry: Any) -> Theme:
    from .errors import MlvizError
    from .registry import unknown
    from .wiring import default_registry

    if registry is None:
        core = {t.name: t for t in CORE_THEMES}
        if name in core:  # no need to load every plugin for a built-in theme
            return core[name]
        registry = default_registry()
    themes = registry.themes or {t.name: t for t in CORE_THEMES}
    if name not in themes:
        raise MlvizError(unknown("theme", name, list(themes)))
    found: Theme = themes[name]
    return found
