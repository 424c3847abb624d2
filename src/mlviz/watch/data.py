"""The fixed evaluation subset a watched model is measured on.

``data`` may be a pair ``(X, y)`` of tensors or arrays, or a ``DataLoader`` (or any
iterable of ``(X, y)`` batches). At most ``size`` samples are taken, once, when the
recorder is made: evenly spaced rows of arrays, the first batches of a loader (drawn
with the random state saved and restored, so the user's own shuffling is unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import WatchError

#: Default size of the evaluation subset.
EVAL_SIZE = 2048


@dataclass(frozen=True)
class EvalData:
    """The evaluation subset, as tensors (``x`` on the model's device), and how it was taken."""

    x: Any
    y: Any
    note: str


def _tensor(value: Any, what: str):
    import numpy as np
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach()
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - any failure is the same one-line error
        array = None
    if array is None or array.dtype.kind not in "biuf":
        raise WatchError(f"data: {what} must be a tensor or a numeric array, got "
                         f"{type(value).__name__}")
    tensor = torch.as_tensor(array)
    return tensor.float() if tensor.dtype == torch.float64 else tensor


def _pair(item: Any, what: str) -> tuple[Any, Any]:
    if isinstance(item, dict) or not isinstance(item, (tuple, list)) or len(item) != 2:
        raise WatchError(f"data: {what} must be a pair (X, y), got {type(item).__name__}")
    return _tensor(item[0], "X"), _tensor(item[1], "y")


def take_eval_data(data: Any, device: Any, dtype: Any, size: int = EVAL_SIZE) -> EvalData:
    """At most ``size`` samples of ``data`` on ``device`` (inputs and targets cast to
    ``dtype`` when they are floating point)."""
    import torch

    if size < 1:
        raise WatchError(f"eval_size must be at least 1, got {size}")
    if isinstance(data, (tuple, list)):
        x, y = _pair(data, "data")
        if len(x) != len(y):
            raise WatchError(f"data: X has {len(x)} samples but y has {len(y)}")
        if len(x) == 0:
            raise WatchError("data: no samples")
        total = len(x)
        if total > size:
            index = torch.linspace(0, total - 1, size).round().long()
            x, y = x[index], y[index]
            note = f"{size:,} of {total:,} samples, evenly spaced"
        else:
            note = f"all {total:,} samples"
    elif hasattr(data, "__iter__"):
        xs, ys, count = [], [], 0
        with torch.random.fork_rng(devices=[]):  # the loader's shuffling draws no user state
            for batch in data:
                bx, by = _pair(batch, "each batch of the loader")
                xs.append(bx)
                ys.append(by)
                count += len(bx)
                if count >= size:
                    break
        if not count:
            raise WatchError("data: the loader yielded no samples")
        x, y = torch.cat(xs)[:size], torch.cat(ys)[:size]
        total = _length(data)
        of = f" of {total:,}" if total else ""
        note = f"the first {len(x):,}{of} samples the loader yielded"
    else:
        raise WatchError(f"data must be (X, y) tensors or arrays, or a DataLoader, got "
                         f"{type(data).__name__}")
    if x.is_floating_point():
        x = x.to(dtype)
    if y.is_floating_point():  # regression targets: the model's precision
        y = y.to(dtype)
    return EvalData(x.to(device), y.to(device), note)


def _length(loader: Any) -> int:
    dataset = getattr(loader, "dataset", None)
    try:
        return len(dataset) if dataset is not None else 0
    except TypeError:
        return 0
