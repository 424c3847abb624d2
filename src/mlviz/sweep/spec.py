"""What to sweep: the keys and values asked for, and which panels are overlaid."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..config import Config
from ..errors import ConfigError
from .declare import MAX_KEYS, MAX_RUNS, MAX_SIDE_CELLS, SweepDefaults

if TYPE_CHECKING:
    from ..algorithm import Algorithm
    from ..panel import Panel
    from ..scene import Scene


def show_value(value: Any) -> str:
    """A hyperparameter value as ``--set`` writes it: ``0.1``, ``true``, ``2,12,1``."""
    if isinstance(value, tuple):
        return ",".join(map(show_value, value))
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _is_tuple(config: type[Config], key: str) -> bool:
    return typing.get_origin(typing.get_type_hints(config).get(key)) is tuple


def parse_sweep(spec: Mapping[str, Any] | Sequence[str], config: type[Config],
                defaults: SweepDefaults | None = None) -> list[tuple[str, tuple[Any, ...]]]:
    """``[(key, values), ...]`` from ``{"lr": [0.01, 0.1]}`` or ``["lr=0.01,0.1"]``.

    On the command line values are separated by ``,``, or by ``;`` for a hyperparameter
    that is itself a list (``layers=2,4,1;2,12,1``); ``KEY`` alone takes the algorithm's
    default values. Raises :class:`ConfigError` (one line) for an unknown key, a value of
    the wrong type, a single value, a repeated value or key, or more than two keys.
    """
    defaults = defaults or SweepDefaults()
    if isinstance(spec, (str, bytes)):
        spec = [spec]
    items: list[tuple[str, Any]]
    if isinstance(spec, Mapping):
        items = list(spec.items())
    else:
        items = []
        for text in spec:
            key, sep, given = str(text).partition("=")
            items.append((key.strip(), given if sep else None))
    if not items:
        raise ConfigError("--sweep needs KEY=V1,V2,...")
    if len(items) > MAX_KEYS:
        raise ConfigError(f"--sweep: at most {MAX_KEYS} keys (a grid of runs), got "
                          f"{len(items)}: {', '.join(key for key, _ in items)}")
    names = [f.name for f in dataclasses.fields(config)]
    parsed: list[tuple[str, tuple[Any, ...]]] = []
    for key, raw in items:
        if key not in names:
            try:
                config.from_overrides({key: None})
            except ConfigError as exc:
                raise ConfigError(f"--sweep: {exc}") from None
        if any(key == seen for seen, _ in parsed):
            raise ConfigError(f"--sweep {key} is given twice; give each key once")
        if raw is None:
            if key not in defaults.values:
                raise ConfigError(f"--sweep {key} needs values: --sweep {key}=V1,V2,...")
            raw = defaults.values[key]
        if isinstance(raw, str):
            separator = ";" if _is_tuple(config, key) else ","
            texts: list[Any] = [part.strip() for part in raw.split(separator) if part.strip()]
            shown = raw
        else:
            texts = list(raw) if isinstance(raw, Sequence) else [raw]
            shown = ",".join(map(show_value, texts))
        values: list[Any] = []
        for text in texts:
            try:
                values.append(config.value_of(key, text))
            except ConfigError as exc:
                raise ConfigError(f"--sweep {key}={shown}: {exc}") from None
        if len(values) < 2:
            raise ConfigError(f"--sweep {key}={shown} gives {len(values)} value; a sweep "
                              "compares two or more")
        repeated = [v for i, v in enumerate(values) if v in values[:i]]
        if repeated:
            raise ConfigError(f"--sweep {key}={shown} repeats {show_value(repeated[0])}")
        parsed.append((key, tuple(values)))
    return parsed


def max_runs(side_panels: int) -> int:
    """The most runs a sweep draws with ``side_panels`` panels side by side per run."""
    if side_panels <= 2:
        return MAX_RUNS
    return max(2, MAX_SIDE_CELLS // side_panels)


def can_overlay(panel: Panel) -> bool:
    """Whether ``panel`` draws several runs on one axis (``setup_overlay``/``update_overlay``)."""
    return callable(getattr(panel, "setup_overlay", None)) and \
        callable(getattr(panel, "update_overlay", None))


def choose_overlay(scene: Scene, overlay: str | Sequence[str] | None,
                   default: Sequence[str] | None = None) -> tuple[int, ...]:
    """Indices of the panels of ``scene`` drawn overlaid.

    ``overlay``: panel names (a list, or one comma-separated string), ``"all"`` (every
    panel that can), ``"none"`` (all side by side) or ``None`` (``default``, or all).
    """
    names = scene.panel_names
    able = [i for i, panel in enumerate(scene.panels) if can_overlay(panel)]
    if overlay is None:
        if default is None:
            return tuple(able)
        overlay = tuple(default)
    if isinstance(overlay, str):
        if overlay.strip().lower() == "all":
            return tuple(able)
        if overlay.strip().lower() == "none":
            return ()
        overlay = tuple(part.strip() for part in overlay.split(",") if part.strip())
    chosen: list[int] = []
    for name in overlay:
        if name not in names:
            raise ConfigError(f"--overlay: no panel '{name}'; the panels are "
                              f"{', '.join(names)}")
        index = names.index(name)
        if index not in able:
            which = ", ".join(names[i] for i in able) or "none"
            raise ConfigError(f"--overlay: panel {name} cannot draw several runs on one axis "
                              f"(those that can: {which})")
        if index not in chosen:
            chosen.append(index)
    return tuple(sorted(chosen))


def check_size(algorithm: Algorithm, scene: Scene, overlay: Sequence[int], runs: int) -> None:
    """:class:`ConfigError` if ``runs`` runs are too many for a readable frame."""
    side = len(scene.panels) - len(overlay)
    limit = max_runs(side)
    if runs > limit:
        how = f"{side} panel{'s' if side != 1 else ''} side by side per run" if side else \
            "every panel overlaid"
        raise ConfigError(f"--sweep: {runs} runs are too many for a readable frame: with "
                          f"{how}, {algorithm.name} shows at most {limit}")
