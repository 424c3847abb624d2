"""Datasets: a feature matrix, optional targets, and names for the axes."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .errors import DataError
from .limits import MAX_CSV_BYTES, MAX_CSV_ROWS, check_magnitude
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

    def sample(self, count: int) -> Dataset:
        """``count`` rows spread evenly through the data, in order (itself if no larger)."""
        if self.n_samples <= count:
            return self
        index = np.unique(np.linspace(0, self.n_samples - 1, count).round().astype(int))
        return replace(
            self, X=self.X[index], y=None if self.y is None else self.y[index],
            description=f"{self.description or self.name}; an even sample of {len(index):,} "
                        f"of its {self.n_samples:,} rows",
        )


def read_csv(
    path: str | Path,
    *,
    columns: int | None = None,
    min_rows: int = 1,
    max_rows: int = MAX_CSV_ROWS,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Read a numeric CSV file (optional header row) into an array and its column names.

    Raises :class:`DataError` with a one-line message for a missing, unreadable or too large
    file, non-numeric, missing or extreme values (see :mod:`mlviz.limits`), a wrong number
    of columns, too few rows or more than ``max_rows``. Blank lines are skipped; messages
    give the line of the file. The numbers are parsed by numpy, not cell by cell.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    try:
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise DataError(f"{path} is {size / 2**20:.0f} MB; mlviz reads data files of at "
                            f"most {MAX_CSV_BYTES // 2**20} MB")
        with path.open(newline="", encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    kept = [i for i, line in enumerate(lines) if line.strip(", \t\v\f")]  # blank rows
    if not kept:
        raise DataError(f"{path} is empty")
    first = _cells(path, lines[kept[0]])
    header: tuple[str, ...] = ()
    if not _is_numeric_row(first):
        header = tuple(cell.strip() for cell in first)
        kept = kept[1:]
    width = len(header) if header else len(first)
    if columns is not None and width != columns:
        raise DataError(f"{path} has {width} columns; expected {columns}")
    if len(kept) > max_rows:
        raise DataError(f"{path} has {len(kept):,} data rows; mlviz reads at most {max_rows:,}")
    body = [lines[i] for i in kept]
    numbers = np.array(kept, dtype=np.int64) + 1  # the file line of every row
    values = _parse_fast(body, width)
    if values is None:
        values = _parse_slow(path, body, numbers, width)
    if not np.all(np.isfinite(values)):
        bad = int(np.argwhere(~np.isfinite(values))[0, 0])
        raise DataError(f"{path}, line {numbers[bad]}: missing, NaN or infinite value")
    if len(values) < min_rows:
        raise DataError(f"{path} has {len(values)} data rows; at least {min_rows} needed")
    check_magnitude(values, str(path), numbers)
    return values, header or tuple(f"x{i + 1}" for i in range(width))


def _cells(path: Path, line: str) -> list[str]:
    """The cells of one CSV line (quotes removed)."""
    try:
        return next(csv.reader([line]), [])
    except csv.Error as exc:
        raise DataError(f"cannot read {path}: {exc}") from None


def _parse_fast(body: list[str], width: int) -> np.ndarray | None:
    """Every row at once with numpy's parser; ``None`` if anything is off (found slowly)."""
    if not body:
        return np.empty((0, width))
    try:
        values = np.loadtxt(body, delimiter=",", quotechar='"', dtype=float, ndmin=2,
                            comments=None)
    except ValueError:
        return None
    return values if values.shape == (len(body), width) else None


def _parse_slow(path: Path, body: list[str], numbers: np.ndarray, width: int) -> np.ndarray:
    """Parse row by row, to name the first bad line (or to accept what numpy refused)."""
    values = np.empty((len(body), width))
    for row, (line, number) in enumerate(zip(body, numbers)):
        cells = _cells(path, line)
        if len(cells) != width:
            raise DataError(f"{path}, line {number}: {len(cells)} values; expected {width}")
        for col, cell in enumerate(cells):
            try:
                values[row, col] = float(cell)
            except ValueError:
                raise DataError(f"{path}, line {number}: '{cell.strip()}' is not a number") \
                    from None
    return values


def _is_numeric_row(row: list[str]) -> bool:
    try:
        [float(cell) for cell in row]
    except ValueError:
        return False
    return True
