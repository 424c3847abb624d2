"""User-facing errors: one line, no traceback, non-zero exit.

Every error mlviz raises on purpose is an :class:`MlvizError`; each subclass also derives
from the matching built-in exception, so ``except ValueError`` still catches a bad value.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from types import CodeType
from typing import TypeVar

_F = TypeVar("_F", bound=Callable[..., object])

#: Signals that stop a command the way Ctrl-C does (clean-up, one line, exit 128 + signal).
STOP_SIGNALS: tuple[int, ...] = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                                      if hasattr(signal, name))

#: mlviz functions that run a plugin's code or read its output, by their code, and the
#: part of the plugin involved ("trainer", "panel", ...): a failure inside one with no
#: plugin frame further in is still the plugin's (see :mod:`mlviz.failure`).
PLUGIN_STEPS: dict[CodeType, str] = {}


def plugin_step(part: str) -> Callable[[_F], _F]:
    """Mark a function as a step that consumes a plugin's ``part`` (a decorator): a
    failure in it is blamed on the plugin, whatever the function is called."""

    def mark(function: _F) -> _F:
        code = getattr(function, "__code__", None)
        if isinstance(code, CodeType):
            PLUGIN_STEPS[code] = part
        return function

    return mark


class MlvizError(Exception):
    """An error caused by the user's input (bad option, bad data, bad path).

    The CLI prints ``str(error)`` on one line and exits with status 2.
    """


class ConfigError(MlvizError, ValueError):
    """A hyperparameter is unknown, of the wrong type, or out of range."""


class DataError(MlvizError, ValueError):
    """A dataset (usually a user's CSV file) cannot be used."""


class ContractError(MlvizError, ValueError):
    """A plugin broke the contract mlviz relies on (what a trainer yields, what a panel needs)."""


class RecordError(MlvizError, ValueError):
    """A run record cannot be read (truncated, not a record, newer format, plugin missing)."""


class LimitError(MlvizError, ValueError):
    """An option is beyond what mlviz can render: dpi, fps, seed, file name length."""


class OutputError(MlvizError, OSError):
    """The output could not be written (disk full, encoder failed); the target is untouched."""


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwinds through the same clean-up as Ctrl-C (every
    ``with`` and ``finally``), but is no ``KeyboardInterrupt``, so nothing takes it for
    Ctrl-C's "stop training and draw what was trained": the command stops."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class MlvizWarning(UserWarning):
    """Something the user should know that does not stop the run (e.g. data was sampled)."""


def cleaning_up() -> bool:
    """Whether Ctrl-C or a stop signal is unwinding now: the exception being handled (in
    an ``except``, a ``finally`` or a ``with`` block's exit), or one it interrupted, is a
    ``KeyboardInterrupt`` or :class:`Terminated`. Signal handlers ask it so that a second
    signal cannot cut that clean-up short."""
    exc: BaseException | None = sys.exc_info()[1]
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, (KeyboardInterrupt, Terminated)):
            return True
        seen.add(id(exc))
        exc = exc.__context__
    return False
