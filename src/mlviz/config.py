"""Validated, typed hyperparameters.

An algorithm's hyperparameters are a frozen dataclass derived from :class:`Config`. Each
field is declared with :func:`param`, which records its meaning and its allowed range::

    @dataclass(frozen=True)
    class KMeansConfig(Config):
        k_max: int = param(12, "largest number of clusters", min=1, max=12)

Values are validated when the config is built, from Python or from ``--set KEY=VALUE``
strings (:func:`parse_settings`).
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

from .errors import ConfigError, MlvizWarning
from .limits import MAX_SEED
from .terminal import one_line

C = TypeVar("C", bound="Config")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def param(
    default: Any,
    help: str,
    *,
    min: float | None = None,
    max: float | None = None,
    choices: typing.Sequence[Any] | None = None,
) -> Any:
    """Declare a hyperparameter: its default, a one-line meaning, and its allowed values.

    ``min``/``max`` bound numbers (inclusive) and the items of tuples; ``choices`` lists
    the allowed values of a string.
    """
    if isinstance(default, list):
        raise TypeError("use a tuple, not a list, as a default (configs are immutable)")
    meta = {"help": help, "min": min, "max": max, "choices": tuple(choices) if choices else None}
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class ParamInfo:
    """What ``mlviz info`` shows about one hyperparameter."""

    name: str
    type_name: str
    default: Any
    help: str
    min: float | None
    max: float | None
    choices: tuple[Any, ...] | None


@dataclass(frozen=True)
class Config:
    """Base of every algorithm's hyperparameters. Subclasses are frozen dataclasses."""

    seed: int = param(0, "random seed: the same seed gives the same animation", min=0,
                      max=MAX_SEED)

    #: Former hyperparameters that are now options (``frames``: the frame budget,
    #: ``--frames``); ``--set NAME=…`` still works for them, with a deprecation warning.
    #: (A plain class attribute, not annotated: no dataclass field of any kind.)
    moved: ClassVar[frozenset[str]] = frozenset()

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            value = _coerce(field.name, getattr(self, field.name), hints[field.name])
            _check_range(field, value)
            object.__setattr__(self, field.name, value)
        if isinstance(self.seed, int) and not 0 <= self.seed <= MAX_SEED:
            # numpy and torch both accept these seeds, whatever a subclass declares
            raise ConfigError(f"seed={self.seed} is out of range: must be 0 to {MAX_SEED}")
        self.validate()

    def validate(self) -> None:
        """Check constraints that involve several fields; raise :class:`ConfigError`."""

    @classmethod
    def params(cls) -> list[ParamInfo]:
        """Describe every hyperparameter (name, type, default, meaning, range)."""
        hints = typing.get_type_hints(cls)
        return [
            ParamInfo(
                name=f.name,
                type_name=_type_name(hints[f.name]),
                default=f.default,
                help=one_line(f.metadata.get("help", "")),
                min=f.metadata.get("min"),
                max=f.metadata.get("max"),
                choices=f.metadata.get("choices") or _literal_choices(hints[f.name]),
            )
            for f in dataclasses.fields(cls)
        ]

    @classmethod
    def from_overrides(cls: type[C], overrides: typing.Mapping[str, Any]) -> C:
        """Build a config from defaults and ``overrides`` (values or strings to parse)."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in overrides:
            if key not in names:
                close = similar_keys(key, names)
                hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
                raise ConfigError(
                    f"unknown hyperparameter '{key}'{hint}; valid keys: {', '.join(names)}"
                )
        return cls(**overrides)

    @classmethod
    def value_of(cls, key: str, value: Any) -> Any:
        """``value`` (a Python value or a ``--set`` string) as hyperparameter ``key`` holds it."""
        hints = typing.get_type_hints(cls)
        if key not in hints or key not in {f.name for f in dataclasses.fields(cls)}:
            cls.from_overrides({key: value})  # the unknown-key error, with its hint
        return _coerce(key, value, hints[key])

    def replace(self: C, **changes: Any) -> C:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def parse_settings(pairs: typing.Iterable[str]) -> dict[str, str]:
    """Split ``KEY=VALUE`` strings (as given to ``--set``) into a dict of raw strings."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects KEY=VALUE, got '{pair}'")
        values[key.strip()] = value.strip()
    return values


class DeprecatedSetting(MlvizWarning, FutureWarning):
    """A setting that still works but will go: the message says what replaces it."""


def merge_settings(config: type[Config], overrides: typing.Mapping[str, Any],
                   settings: typing.Mapping[str, str]) -> dict[str, Any]:
    """``overrides`` and ``--set`` ``settings`` together; :class:`ConfigError` if both give
    one hyperparameter different values (``--seed 3`` with ``--set seed=4``)."""
    for key in settings.keys() & overrides.keys():
        if config.value_of(key, settings[key]) != config.value_of(key, overrides[key]):
            given = (f"--seed {overrides[key]}" if key == "seed"
                     else f"{key}={show_value(overrides[key])}")
            raise ConfigError(f"{given} and --set {key}={settings[key]} disagree; give {key} "
                              "once")
    return {**overrides, **settings}


def similar_keys(key: str, names: typing.Sequence[str]) -> list[str]:
    """The hyperparameters a mistyped ``key`` may mean: a close spelling, else the one its
    words' initials spell (``learning_rate`` → ``lr``), else those it begins (``k`` →
    ``k_max``, ``k_min``); at most two."""
    close = difflib.get_close_matches(key, names, n=1)
    if close:
        return close
    initials = "".join(word[0] for word in key.lower().split("_") if word)
    if len(initials) > 1 and initials in names:
        return [initials]
    return [name for name in names if name.startswith(key.lower())][:2]


def moved_frame_budget(config: type[Config], algorithm: str, values: dict[str, Any],
                       frames: int | None) -> int | None:
    """The frame budget, taking a former ``frames`` hyperparameter out of ``values``.

    For a config whose ``moved`` holds ``frames``, ``--set frames=N`` is the frame budget
    ``--frames N``, with a :class:`DeprecatedSetting` warning; both with different
    values are a :class:`ConfigError`.
    """
    if "frames" not in config.moved or "frames" not in values:
        return frames
    raw = values.pop("frames")
    budget = _coerce("frames", raw, int)
    if budget < 1:
        raise ConfigError(f"frames={raw!r} is out of range: must be ≥ 1")
    if frames is not None and frames != budget:
        raise ConfigError(f"--frames {frames} and --set frames={raw} disagree; give --frames "
                          "only")
    warnings.warn(DeprecatedSetting(
        f"--set frames={budget} is deprecated for {algorithm}: use --frames {budget} (the "
        "same frame budget; frames= in Python)"), stacklevel=3)
    return budget


def show_value(value: Any) -> str:
    """A hyperparameter value as ``--set`` takes it: ``0.1``, ``true``, ``2,12,1``, ``0``.

    The one formatter of a hyperparameter value (``mlviz info``, error messages, sweep
    labels): a float in its short form (``%g``) when that reads back as the same number,
    else in full (never rounded).
    """
    if isinstance(value, tuple):
        return ",".join(map(show_value, value))
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is Literal:
        return "str"
    if typing.get_origin(tp) is tuple:
        (item, *_rest) = typing.get_args(tp)
        return f"{_type_name(item)},..."
    return getattr(tp, "__name__", str(tp))


def _literal_choices(tp: Any) -> tuple[Any, ...] | None:
    return typing.get_args(tp) if typing.get_origin(tp) is Literal else None


def _coerce(name: str, value: Any, tp: Any) -> Any:
    """Turn ``value`` (possibly a string from the command line) into type ``tp``."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise ConfigError(
                f"{name}={value!r} is not allowed; choose one of: {', '.join(map(str, choices))}"
            )
        return value
    if origin is tuple:
        (item_type, *_rest) = typing.get_args(tp)
        if isinstance(value, str):
            items = [v for v in value.replace(" ", "").split(",") if v]
        else:
            try:
                items = list(value)
            except TypeError:
                raise ConfigError(f"{name} expects a comma-separated list, got {value!r}") from None
        if not items:
            raise ConfigError(f"{name} expects a non-empty comma-separated list")
        return tuple(_coerce(name, v, item_type) for v in items)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ConfigError(f"{name} expects true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{name} expects an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value))
        except ValueError:
            raise ConfigError(f"{name} expects an integer, got {value!r}") from None
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{name} expects a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} expects a number, got {value!r}") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ConfigError(f"{name} expects a finite number, got {value!r}")
        return number
    if tp is str:
        return str(value)
    raise TypeError(f"unsupported hyperparameter type for {name}: {tp!r}")


def _check_range(field: dataclasses.Field, value: Any) -> None:
    lo, hi = field.metadata.get("min"), field.metadata.get("max")
    choices = field.metadata.get("choices")
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if lo is not None and v < lo:
            raise ConfigError(f"{field.name}={value!r} is out of range: must be ≥ {lo}")
        if hi is not None and v > hi:
            raise ConfigError(f"{field.name}={value!r} is out of range: must be ≤ {hi}")
        if choices and v not in choices:
            raise ConfigError(
                f"{field.name}={value!r} is not allowed; choose one of: "
                + ", ".join(map(str, choices))
            )
