"""Datasets: a feature matrix, optional targets, and names for the axes."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DataError
from .snapshot import frozen_array


@dataclass(frozen=True)
class Dataset:
    """Points to learn from. ``X`` has shape (n_samples, n_features); ``y`` is optional."""

    X: np.ndarray
    y: np.ndarray | None = None
    feature_names: tuple[str, ...] = ()
    target_name: str = "y"
    name: str = "data"
    description: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        X = np.asarray(self.X, dtype=float)
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2:
            raise DataError(f"{self.name}: expected a 2D table of features, got shape {X.shape}")
        object.__setattr__(self, "X", frozen_array(X))
        if self.y is not None:
            y = np.asarray(self.y)
            if y.shape[0] != X.shape[0]:
                raise DataError(f"{self.name}: {X.shape[0]} samples but {y.shape[0]} targets")
            object.__setattr__(self, "y", frozen_array(y))
        names = tuple(self.feature_names) or tuple(f"x{i + 1}" for i in range(X.shape[1]))
        if len(names) != X.shape[1]:
            raise DataError(f"{self.name}: {X.shape[1]} features but {len(names)} names")
        object.__setattr__(self, "feature_names", names)

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])


def read_csv(path: str | Path, *, columns: int | None = None, min_rows: int = 1) -> tuple[np.ndarray, tuple[str, ...]]:
    """Read a numeric CSV file (optional header row) into an array and its column names.

    Raises :class:`DataError` with a one-line message for a missing or unreadable file,
    non-numeric or missing values, a wrong number of columns, or too few rows.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    if not rows:
        raise DataError(f"{path} is empty")
    header: tuple[str, ...] = ()
    if not _is_numeric_row(rows[0]):
        header = tuple(cell.strip() for cell in rows[0])
        rows = rows[1:]
    width = len(header) if header else len(rows[0]) if rows else 0
    if columns is not None and width != columns:
        raise DataError(f"{path} has {width} columns; expected {columns}")
    values = np.empty((len(rows), width))
    for line, row in enumerate(rows, start=2 if header else 1):
        if len(row) != width:
            raise DataError(f"{path}, line {line}: {len(row)} values; expected {width}")
        for col, cell in enumerate(row):
            try:
                values[line - (2 if header else 1), col] = float(cell)
            except ValueError:
                raise DataError(f"{path}, line {line}: '{cell.strip()}' is not a number") from None
    if not np.all(np.isfinite(values)):
        bad = int(np.argwhere(~np.isfinite(values))[0, 0]) + (2 if header else 1)
        raise DataError(f"{path}, line {bad}: missing, NaN or infinite value")
    if len(values) < min_rows:
        raise DataError(f"{path} has {len(values)} data rows; at least {min_rows} needed")
    return values, header or tuple(f"x{i + 1}" for i in range(width))


def _is_numeric_row(row: list[str]) -> bool:
    try:
        [float(cell) for cell in row]
    except ValueError:
        return False
    return True
