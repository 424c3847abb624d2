"""Datasets: a feature matrix, optional targets, and names for the axes; and a user's data.

A user's data (``--data FILE``, or ``data=`` in Python: a path, a numpy array or a pandas
DataFrame) reaches a plugin's ``load_data`` as a :class:`UserData`, which reads the table
once and picks the columns the user chose (``--columns``, ``--label``)::

    def load_points(data: UserData, config) -> Dataset:
        chosen = data.select(2)                        # two numeric feature columns
        return Dataset(chosen.X, feature_names=chosen.feature_names, name=data.name)

A plugin written for mlviz 0.1, whose ``load_data`` reads the path with :func:`read_csv`,
keeps working: :class:`UserData` is path-like, and :func:`read_csv` accepts it.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

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


#: What ``data=`` takes: a CSV file's path, a numpy array, a pandas DataFrame, or a
#: :class:`UserData` (one of those with the columns chosen).
DataSource = Any

#: Column separators that are detected, in order of preference when several fit.
DELIMITERS = (";", "\t", "|", ",")
_BLANK = ",;|\t \v\f"  # a line of only these is a blank row
_SNIFF_LINES = 20


@dataclass(frozen=True)
class Table:
    """A user's table: named columns, each numeric (floats) or text (strings).

    ``rows`` holds the file line of every row (``None`` for an array or a DataFrame, whose
    rows are numbered from 0); ``text_at`` the first row of each column that is not a
    number (−1 for a numeric column). Built by :func:`read_table` or :func:`as_table`.
    """

    source: str
    names: tuple[str, ...]
    columns: tuple[np.ndarray, ...]
    text_at: tuple[int, ...]
    rows: np.ndarray | None = None
    header: bool = True
    delimiter: str | None = ","

    @property
    def n_rows(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def where(self, row: int) -> str:
        """``points.csv, line 7`` (a file) or ``the array, row 6`` (in memory)."""
        if self.rows is not None:
            return f"{self.source}, line {self.rows[row]}"
        return f"{self.source}, row {row}"

    def index(self, key: str | int, option: str = "--columns") -> int:
        """The position of a column, by name or (an int) by position from 0."""
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if 0 <= key < len(self.names):
                return int(key)
            raise DataError(f"{option}: {self.source} has no column {key} (it has "
                            f"{_count(len(self.names), 'column')}, numbered from 0)")
        matches = [i for i, name in enumerate(self.names) if name == str(key).strip()]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise DataError(f"{option}: {self.source} has {len(matches)} columns named "
                            f"'{key}'; rename them")
        raise DataError(f"{option}: {self.source} has no column '{key}'; its columns are "
                        f"{_names(self.names)}")

    def is_numeric(self, column: int) -> bool:
        return self.text_at[column] < 0

    def numbers(self, column: int) -> np.ndarray:
        """A numeric column's finite values; :class:`DataError` naming the first bad cell."""
        bad = self.text_at[column]
        if bad >= 0:
            cell = str(self.columns[column][bad]).strip()
            named = f" (column '{self.names[column]}')" if self.header else ""
            raise DataError(f"{self.where(bad)}: '{cell}' is not a number{named}")
        values = self.columns[column]
        finite = np.isfinite(values)
        if not finite.all():
            raise DataError(f"{self.where(int(np.argmin(finite)))}: missing, NaN or infinite "
                            "value")
        check_magnitude(values[:, None], self.source, self.rows)
        return values

    def cells(self, column: int) -> np.ndarray:
        """A column as stripped strings (numbers as written, or as ``%g``)."""
        values = self.columns[column]
        if values.dtype.kind == "f":
            return np.array([f"{v:g}" for v in values]) if len(values) else values.astype(str)
        return np.char.strip(values.astype(str))


@dataclass(frozen=True)
class Selection:
    """The columns an algorithm takes from a user's table (see :meth:`UserData.select`).

    ``X``: the feature columns, in the order chosen; ``y``: the label column, as numbers,
    or as class indices 0, 1, … into ``classes`` (the class names, sorted), or ``None``.
    """

    X: np.ndarray
    feature_names: tuple[str, ...]
    y: np.ndarray | None = None
    label_name: str = ""
    classes: tuple[str, ...] = ()


class UserData(os.PathLike):
    """A user's data: a CSV file, a numpy array or a pandas DataFrame, and the columns
    chosen from it (``columns``: the features, in order; ``label``: the label column).

    It is path-like for a file (``str()`` and ``os.fspath()`` give the path); ``name`` is
    the file name, ``"array"`` or ``"DataFrame"``. ``algorithm`` names the algorithm in
    messages. pandas is never imported: a DataFrame is recognised by its ``columns`` and
    ``iloc`` attributes.
    """

    def __init__(self, source: Any, *, columns: str | Sequence[str | int] | None = None,
                 label: str | int | None = None, algorithm: str = "") -> None:
        if isinstance(source, UserData):
            columns = source.columns if columns is None else columns
            label = source.label if label is None else label
            algorithm = algorithm or source.algorithm
            source = source.source
        if isinstance(source, (str, os.PathLike)) and not _is_frame(source):
            source = Path(source)
        elif not _is_frame(source) and not isinstance(source, np.ndarray):
            if not isinstance(source, (list, tuple)):
                raise DataError(f"data must be a path to a CSV file, a numpy array or a "
                                f"pandas DataFrame, not {type(source).__name__}")
            source = np.asarray(source)
        self.source: Any = source
        self.columns: tuple[str | int, ...] | None = _column_list(columns)
        self.label: str | int | None = label.strip() if isinstance(label, str) else label
        if isinstance(self.label, str) and not self.label:
            raise DataError("--label needs a column name")
        self.algorithm: str = algorithm
        self._table: Table | None = None

    @property
    def path(self) -> Path | None:
        return self.source if isinstance(self.source, Path) else None

    @property
    def name(self) -> str:
        if self.path is not None:
            return self.path.name
        return "DataFrame" if _is_frame(self.source) else "array"

    def __str__(self) -> str:
        return str(self.path) if self.path is not None else f"the {self.name}"

    def __repr__(self) -> str:
        return (f"UserData({self.describe()!r}, columns={self.columns!r}, "
                f"label={self.label!r})")

    def __fspath__(self) -> str:
        if self.path is None:
            raise DataError(f"{self.algorithm or 'this algorithm'}'s plugin reads data "
                            f"files only; save the {self.name} as a CSV file and pass its path")
        return str(self.path)

    @property
    def chosen(self) -> bool:
        """Whether the user chose columns (``columns`` or ``label``)."""
        return self.columns is not None or self.label is not None

    def describe(self) -> str:
        """Where the data came from, in a few words: the path, or the array's shape."""
        if self.path is not None:
            return str(self.path)
        shape = getattr(self.source, "shape", ())
        size = " × ".join(map(str, shape))
        return f"a {size} {self.name}" if size else f"a {self.name}"

    def table(self) -> Table:
        """The whole table (read and parsed once)."""
        if self._table is None:
            self._table = read_table(self.path) if self.path is not None else \
                as_table(self.source)
        return self._table

    def _for(self) -> str:
        return self.algorithm or "this algorithm"

    def select(self, features: int, *, label: Literal["class", "number"] | None = None,
               classes: int | None = None, min_rows: int = 1) -> Selection:
        """``features`` numeric feature columns and, if ``label`` is given, a label column.

        The user's ``columns`` are the features (all columns but the label if not given);
        the label is the user's ``label``, else the last of the chosen columns (the last
        column of the table). ``label="class"`` takes any values, text too, as classes
        (exactly ``classes`` of them if given, at least two); ``"number"`` a numeric
        target. Every failure is a one-line :class:`DataError` that says what to choose.
        """
        table = self.table()
        if label is None and self.label is not None:
            raise DataError(f"{self._for()} takes no label column; leave out --label")
        chosen = ([table.index(c) for c in self.columns] if self.columns is not None
                  else list(range(len(table.names))))
        if len(set(chosen)) != len(chosen):
            twice = next(table.names[i] for i in chosen if chosen.count(i) > 1)
            raise DataError(f"--columns names '{twice}' twice")
        target = None
        if label is not None:
            target = (table.index(self.label, "--label") if self.label is not None
                      else chosen[-1] if chosen else None)
            chosen = [i for i in chosen if i != target]
            if target is None:
                raise DataError(f"{self._for()} needs a label column; choose it with --label")
        if len(chosen) != features:
            raise DataError(self._count_message(table, chosen, features, label, target))
        X = np.column_stack([table.numbers(i) for i in chosen]) if chosen else \
            np.empty((table.n_rows, 0))
        if table.n_rows < min_rows:
            raise DataError(f"{self} has {_count(table.n_rows, 'data row')}; {self._for()} "
                            f"needs at least {min_rows}")
        y, names = None, ()
        if target is not None:
            y, names = self._label(table, target, label, classes)
        return Selection(X, tuple(table.names[i] for i in chosen), y,
                         table.names[target] if target is not None else "", names)

    def _label(self, table: Table, target: int, kind: str | None, wanted: int | None):
        name = table.names[target]
        if kind == "number":
            return table.numbers(target), ()
        if table.is_numeric(target):
            values = table.numbers(target)
            found, y = np.unique(values, return_inverse=True)
            names = tuple(f"{v:g}" for v in found)
        else:
            found, y = np.unique(table.cells(target), return_inverse=True)
            names = tuple(str(v) for v in found)
        shown = ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
        if wanted is not None and len(names) != wanted:
            raise DataError(f"{self}: the label column '{name}' holds "
                            f"{_count(len(names), 'class', 'classes')} ({shown}); "
                            f"{self._for()} needs exactly {wanted}")
        if len(names) < 2:
            raise DataError(f"{self}: the label column '{name}' holds one class only "
                            f"({shown}); {self._for()} needs at least two")
        return y.astype(int), names

    def _count_message(self, table: Table, chosen: list[int], features: int,
                       label: str | None, target: int | None) -> str:
        wants = _count(features, "feature column")
        if label is not None:
            wants += " and a label column"
        if self.columns is not None:
            return (f"--columns chose {_count(len(chosen), 'feature column')} "
                    f"({_names([table.names[i] for i in chosen])}); {self._for()} uses "
                    f"{_count(features, 'feature column')}")
        hint = (" (mlviz detects , ; tab | and space separators: is the file one of those?)"
                if len(table.names) == 1 else "")
        placeholders = ",".join(["NAME"] * features)
        choose = f"--columns {placeholders}" + (" --label NAME" if label else "")
        besides = f" besides the label '{table.names[target]}'" if target is not None else ""
        return (f"{self} has {_count(len(chosen), 'column')}{besides} "
                f"({_names([table.names[i] for i in chosen])}); {self._for()} uses {wants}: "
                f"choose them with {choose}{hint}")

    def numeric(self, columns: int | None = None, *, min_rows: int = 1,
                max_rows: int = MAX_CSV_ROWS) -> tuple[np.ndarray, tuple[str, ...]]:
        """Every chosen column (the user's ``columns``, then ``label``; else all), as numbers:
        what :func:`read_csv` returns for a plugin of mlviz 0.1."""
        table = self.table()
        picks = ([table.index(c) for c in self.columns] if self.columns is not None
                 else list(range(len(table.names))))
        if self.label is not None:
            target = table.index(self.label, "--label")
            picks = [i for i in picks if i != target] + [target]
        if columns is not None and len(picks) != columns:
            raise DataError(f"{self} has {_count(len(picks), 'column')} "
                            f"({_names([table.names[i] for i in picks])}); expected {columns}")
        if table.n_rows > max_rows:
            raise DataError(f"{self} has {table.n_rows:,} data rows; mlviz reads at most "
                            f"{max_rows:,}")
        values = np.column_stack([table.numbers(i) for i in picks]) if picks else \
            np.empty((table.n_rows, 0))
        if len(values) < min_rows:
            raise DataError(f"{self} has {len(values)} data rows; at least {min_rows} needed")
        return values, tuple(table.names[i] for i in picks)


def _column_list(columns: str | Sequence[str | int] | None) -> tuple[str | int, ...] | None:
    if columns is None:
        return None
    if isinstance(columns, str):
        columns = columns.split(",")
    items = tuple(c.strip() if isinstance(c, str) else c for c in columns)
    if not items or any(c == "" for c in items):
        raise DataError("--columns expects column names separated by commas, e.g. --columns "
                        "x,y")
    return items


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _names(names: Sequence[str], most: int = 8) -> str:
    shown = list(names[:most]) + ([f"… {len(names) - most} more"] if len(names) > most else [])
    return ", ".join(shown) if shown else "none"


def _is_frame(value: Any) -> bool:
    """A pandas DataFrame (or anything like one), recognised without importing pandas."""
    return hasattr(value, "columns") and hasattr(value, "iloc") and hasattr(value, "shape")


def read_csv(
    path: str | Path | UserData,
    *,
    columns: int | None = None,
    min_rows: int = 1,
    max_rows: int = MAX_CSV_ROWS,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Read a numeric CSV file (optional header row) into an array and its column names.

    The separator (``,``, ``;``, tab, ``|`` or spaces) is detected. Given a
    :class:`UserData`, the columns its user chose (label last) are read, from a file, an
    array or a DataFrame. Raises :class:`DataError` with a one-line message for a missing,
    unreadable or too large file, non-numeric, missing or extreme values (see
    :mod:`mlviz.limits`), a wrong number of columns, too few rows or more than
    ``max_rows``. Blank lines are skipped; messages give the line of the file.
    """
    data = path if isinstance(path, UserData) else UserData(path)
    return data.numeric(columns, min_rows=min_rows, max_rows=max_rows)


def read_table(path: str | Path, *, max_rows: int = MAX_CSV_ROWS) -> Table:
    """Read a CSV file into a :class:`Table`: separator and header row detected, every
    column numeric or text. The numbers are parsed by numpy, not cell by cell."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    try:
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise DataError(f"{path} is {size / 2**20:.0f} MB; mlviz reads data files of at "
                            f"most {MAX_CSV_BYTES // 2**20} MB")
        with path.open("rb") as handle:
            _refuse_binary(path, handle.read(_SNIFF_BYTES))
        with path.open(newline="", encoding="utf-8-sig") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (it holds the byte "
                        f"0x{exc.object[exc.start]:02x}): {_TAKES_CSV}; save it as UTF-8") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    kept = [i for i, line in enumerate(lines) if line.strip(_BLANK)]  # blank rows
    if not kept:
        raise DataError(f"{path} is empty")
    delimiter = sniff_delimiter([lines[i] for i in kept[:_SNIFF_LINES]])
    first = _cells(path, lines[kept[0]], delimiter)
    second = _cells(path, lines[kept[1]], delimiter) if len(kept) > 1 else None
    header = _is_header(first, second)
    names = tuple(cell.strip() or f"x{i + 1}" for i, cell in enumerate(first)) if header \
        else tuple(f"x{i + 1}" for i in range(len(first)))
    if header:
        kept = kept[1:]
    width = len(names)
    if len(kept) > max_rows:
        raise DataError(f"{path} has {len(kept):,} data rows; mlviz reads at most {max_rows:,}")
    body = [lines[i] for i in kept]
    rows = np.array(kept, dtype=np.int64) + 1  # the file line of every row
    values = _parse_numbers(body, width, delimiter)
    if values is not None:
        columns = tuple(values.T.copy())
        return Table(str(path), names, columns, (-1,) * width, rows, header, delimiter)
    cells = _parse_cells(path, body, rows, width, delimiter)
    columns, text_at = zip(*(_column(cells[:, i], delimiter) for i in range(width)))
    return Table(str(path), names, tuple(columns), tuple(text_at), rows, header, delimiter)


_SNIFF_BYTES = 8192  # the start of a data file, read to tell a binary file
_TAKES_CSV = "--data takes a CSV file of UTF-8 text"


def _refuse_binary(path: Path, head: bytes) -> None:
    """:class:`DataError` naming what ``path`` is if its first bytes are no CSV text: a
    run record, a NumPy array, UTF-16 text or another binary file."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        what = "a run record" if path.suffix.lower() == ".npz" else "a zip archive"
        raise DataError(f"{path} is {what}, not a CSV file: {_TAKES_CSV} (a run record is "
                        f"rendered with 'mlviz render {path}')")
    if head.startswith(b"\x93NUMPY"):
        raise DataError(f"{path} is a NumPy array file (.npy), not a CSV file: {_TAKES_CSV} "
                        "(from Python, pass the array itself: data=numpy.load(path))")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(f"{path} is UTF-16 text: {_TAKES_CSV}; save it as UTF-8")
    if b"\x00" in head:
        raise DataError(f"{path} is a binary file, not a CSV file: {_TAKES_CSV}")


def as_table(data: Any, *, max_rows: int = MAX_CSV_ROWS) -> Table:
    """A numpy array (1D: one column) or a pandas DataFrame as a :class:`Table`."""
    if _is_frame(data):
        names = tuple(str(name) for name in data.columns)
        raw = [data.iloc[:, i].to_numpy() for i in range(len(names))]
        source = "the DataFrame"
    else:
        array = np.asarray(data)
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2:
            raise DataError(f"data must be a 2D table (rows × columns), got an array of shape "
                            f"{array.shape}")
        names = tuple(f"x{i + 1}" for i in range(array.shape[1]))
        raw = list(array.T)
        source = "the array"
    n_rows = len(raw[0]) if raw else 0
    if not raw or n_rows == 0:
        raise DataError(f"{source} is empty")
    if n_rows > max_rows:
        raise DataError(f"{source} has {n_rows:,} rows; mlviz reads at most {max_rows:,}")
    columns, text_at = [], []
    for values in raw:
        if values.dtype.kind in "biuf":
            columns.append(values.astype(float))
            text_at.append(-1)
        elif values.dtype.kind == "c":
            raise DataError(f"{source} holds complex numbers; mlviz needs real ones")
        else:
            column, bad = _column(np.asarray(values).astype(str), ",")
            columns.append(column)
            text_at.append(bad)
    return Table(source, names, tuple(columns), tuple(text_at), None, _is_frame(data), None)


def sniff_delimiter(sample: Sequence[str]) -> str | None:
    """The column separator of these lines: ``;``, tab, ``|`` or ``,`` if it appears the
    same number of times on every line (in that order of preference), else the most
    frequent one on the first line; ``None`` (whitespace) if none appears but spaces
    separate the first line; ``,`` for a single column."""
    for delimiter in DELIMITERS:
        counts = {line.count(delimiter) for line in sample}
        if len(counts) == 1 and counts.pop() > 0:
            return delimiter
    first = sample[0] if sample else ""
    most = max(DELIMITERS, key=first.count)
    if first.count(most):
        return most
    return None if len(first.split()) > 1 else ","


def _is_header(first: list[str], second: list[str] | None) -> bool:
    """A first row is a header if it is not all numbers and, below it, a column that holds
    text there holds a number (or there is no row below, or no number at all)."""
    numbers = [_is_number(cell) for cell in first]
    if all(numbers):
        return False
    if second is None:
        return True
    below = [_is_number(cell) for cell in second]
    return not any(below) or any(not a and b for a, b in zip(numbers, below))


def _cells(path: Path, line: str, delimiter: str | None) -> list[str]:
    """The cells of one line (quotes removed)."""
    if delimiter is None:
        return line.split()
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error as exc:
        raise DataError(f"cannot read {path}: {exc}") from None


def _parse_numbers(body: list[str], width: int, delimiter: str | None) -> np.ndarray | None:
    """Every row at once as numbers with numpy's parser; ``None`` if anything is off."""
    if not body:
        return np.empty((0, width))
    try:
        values = np.loadtxt(body, delimiter=delimiter, quotechar='"' if delimiter else None,
                            dtype=float, ndmin=2, comments=None)
    except ValueError:
        return None
    return values if values.shape == (len(body), width) else None


def _parse_cells(path: Path, body: list[str], rows: np.ndarray, width: int,
                 delimiter: str | None) -> np.ndarray:
    """Every cell as a string, (rows, width); names the first row of the wrong width."""
    try:
        cells = np.loadtxt(body, delimiter=delimiter, quotechar='"' if delimiter else None,
                           dtype=str, ndmin=2, comments=None)
        if cells.shape == (len(body), width):
            return cells
    except ValueError:
        pass
    out = []
    for line, number in zip(body, rows):
        row = _cells(path, line, delimiter)
        if len(row) != width:
            raise DataError(f"{path}, line {number}: {len(row)} values; expected {width}")
        out.append(row)
    return np.array(out, dtype=str).reshape(len(body), width)


def _column(cells: np.ndarray, delimiter: str | None) -> tuple[np.ndarray, int]:
    """A column of strings as floats (−1: all numbers) or as text (the first bad row).

    With a separator other than ``,``, decimal commas (``1,5``) are read as points."""
    try:
        return cells.astype(float), -1
    except ValueError:
        pass
    if delimiter != ",":
        try:
            return np.char.replace(cells, ",", ".").astype(float), -1
        except ValueError:
            pass
    bad = next(i for i, cell in enumerate(cells) if not _is_number(cell))
    return cells, bad


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
