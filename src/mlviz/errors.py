"""User-facing errors: one line, no traceback, non-zero exit."""

from __future__ import annotations


class MlvizError(Exception):
    """An error caused by the user's input (bad option, bad data, bad path).

    The CLI prints ``str(error)`` on one line and exits with status 2.
    """


class ConfigError(MlvizError):
    """A hyperparameter is unknown, of the wrong type, or out of range."""


class DataError(MlvizError):
    """A dataset (usually a user's CSV file) cannot be used."""


class ContractError(MlvizError, ValueError):
    """A plugin broke the contract mlviz relies on (what a trainer yields, what a panel needs)."""


class RecordError(MlvizError, ValueError):
    """A run record cannot be read (truncated, not a record, newer format, plugin missing)."""
