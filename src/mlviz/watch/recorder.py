"""The recorder :func:`mlviz.watch` returns: a user's own PyTorch loop, recorded as a run.

Per epoch (``recorder.epoch(**metrics)``) it copies the parameters out (into a trace of
bounded size, :class:`~mlviz.watch.trace.ParamTrace`), the norms of each layer's weights
and gradients (``.grad`` read as it is, if present) and the metrics given. It leaves no
hook, takes no gradient, and restores the model's train/eval mode, so training runs
exactly as without it. ``save`` computes the rest (:mod:`mlviz.watch.build`) and writes a
run record that ``mlviz render`` draws like any run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .compute import DIRECTIONS, MEMORY_BUDGET, Layout, evaluating
from .data import EVAL_SIZE, take_eval_data
from .errors import WatchError
from .trace import BUDGET, Growing, ParamTrace

#: Trace names the recorder uses itself: no metric may take them.
RESERVED = frozenset({"epoch", "loss", "params", "weight_norms", "grad_norms", "plane_xy",
                      "plane_loss", "true_loss"})
#: Default most frames drawn.
FRAMES = 60


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _scalar(name: str, value: Any) -> float:
    try:
        array = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value,
                           dtype=float)
    except (TypeError, ValueError):
        raise WatchError(f"metric '{name}' must be a number, got {type(value).__name__}") from None
    if array.size != 1:
        raise WatchError(f"metric '{name}' must be a scalar, got shape {array.shape}")
    return float(array.reshape(()))


class Recorder:
    """Records a model trained by the user's own loop; see :func:`mlviz.watch`."""

    def __init__(self, model, data, loss: Callable, *, eval_size: int = EVAL_SIZE,
                 budget: int = BUDGET, resolution: int = 31, frames: int = FRAMES,
                 memory: int = MEMORY_BUDGET, fps: float = 8.0,
                 path: str | Path | None = None, directions: str = "pca", seed: int = 0,
                 scheduler: str | None = None) -> None:
        import torch

        if not isinstance(model, torch.nn.Module):
            raise WatchError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not callable(loss):
            raise WatchError(f"loss must be callable as loss(model(X), y), got "
                             f"{type(loss).__name__}")
        if budget < 4:
            raise WatchError(f"budget must be at least 4 parameter sets, got {budget}")
        if frames < 1:
            raise WatchError(f"frames must be at least 1, got {frames}")
        if directions not in DIRECTIONS:
            raise WatchError(f"directions must be one of {', '.join(DIRECTIONS)}, got "
                             f"{directions!r}")
        self.model, self.loss_fn = model, loss
        self.layout = Layout.of(model)
        if not self.layout.size:
            raise WatchError("the model has no trainable parameters to watch")
        self.params = [p for p in model.parameters() if p.requires_grad]
        first = self.params[0]
        self.data = take_eval_data(data, first.device, first.dtype, eval_size)
        self._check_fit()
        dtype = np.float64 if first.dtype == torch.float64 else np.float32
        self.trace = ParamTrace(self.layout.size, budget, dtype)
        paths = list(dict.fromkeys(n.rpartition(".")[0] for n in self.layout.names))
        modules = dict(model.named_modules())
        self.layer_names = [f"{path or 'model'} {type(modules[path]).__name__}".replace(",", ";")
                            for path in paths]
        self._param_layer = np.array([paths.index(n.rpartition(".")[0])
                                      for n in self.layout.names])
        self._starts = np.cumsum([0, *self.layout.sizes[:-1]])
        self.metrics: dict[str, Growing] = {}
        self.weight_norms = Growing((len(self.layer_names),))
        self.grad_norms = Growing((len(self.layer_names),))
        self.n_epochs = 0
        self.diverged = -1
        self.resolution, self.frames, self.memory, self.fps = resolution, frames, memory, fps
        self.directions, self.seed, self.scheduler = directions, seed, scheduler
        self.path = None if path is None else Path(path)
        self.saved: Path | None = None

    def _check_fit(self) -> None:
        """One forward pass of a few evaluation samples: the model takes the data and the
        loss gives a scalar, or one line says which does not."""
        import torch

        x, y = self.data.x[:8], self.data.y[:8]
        try:
            with evaluating(self.model):
                out = self.model(x)
        except Exception as exc:  # noqa: BLE001 - any failure: the data does not fit the model
            raise WatchError(f"model and data do not fit: model(X) with X of shape "
                             f"{tuple(self.data.x.shape)} failed: {_first_line(exc)}") from None
        try:
            value = self.loss_fn(out, y)
        except Exception as exc:  # noqa: BLE001
            raise WatchError(f"loss(model(X), y) failed with output {tuple(out.shape)} and y "
                             f"{tuple(y.shape)}: {_first_line(exc)}") from None
        if not isinstance(value, torch.Tensor) or value.numel() != 1:
            shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise WatchError(f"loss must return a scalar tensor (use a mean or sum "
                             f"reduction), got {shape}")

    # ------------------------------------------------------------------ per epoch
    def epoch(self, **metrics: Any) -> None:
        """Record one epoch: the parameters, layer norms, and ``metrics`` (scalars, e.g.
        ``loss=…, accuracy=…``). Without ``loss`` the evaluation subset's loss is used
        (one forward pass, no gradient). A NaN loss is recorded as divergence."""
        import torch

        if self.saved is not None:
            raise WatchError(f"this recorder was saved to {self.saved}; make a new one with "
                             "mlviz.watch(...) to record another run")
        values = {name: _scalar(name, value) for name, value in metrics.items()}
        bad = sorted(set(values) & (RESERVED - {"loss"}))
        if bad:
            raise WatchError(f"metric name '{bad[0]}' is used by the recorder itself; "
                             "rename it")
        if "loss" not in values:
            with evaluating(self.model):
                values["loss"] = float(self.loss_fn(self.model(self.data.x), self.data.y))
        epoch = self.n_epochs
        for name, value in values.items():
            series = self.metrics.setdefault(name, Growing())
            series.pad(epoch)
            series.append(value)
        for series in self.metrics.values():
            series.pad(epoch + 1)  # a metric not given this epoch: NaN
        with torch.no_grad():
            flat = torch.cat([p.detach().reshape(-1) for p in self.params])
            grads = torch.stack([p.grad.detach().double().pow(2).sum() if p.grad is not None
                                 else torch.tensor(math.nan, dtype=torch.float64,
                                                   device=p.device) for p in self.params])
        flat_np = flat.to("cpu").numpy()
        squares = np.add.reduceat(flat_np.astype(np.float64) ** 2, self._starts)
        count = len(self.layer_names)
        self.weight_norms.append(np.sqrt(np.bincount(self._param_layer, squares, count)))
        grad_sq = grads.cpu().numpy()
        has = np.bincount(self._param_layer, np.isfinite(grad_sq), count) > 0
        sums = np.bincount(self._param_layer, np.nan_to_num(grad_sq, nan=0.0), count)
        self.grad_norms.append(np.where(has, np.sqrt(sums), np.nan))
        if self.diverged < 0 and not (math.isfinite(values["loss"])
                                      and np.isfinite(squares).all()):
            self.diverged = epoch
        self.trace.add(epoch, flat_np)
        self.n_epochs += 1

    # ------------------------------------------------------------------ saving
    def prepared(self):
        """The recorded run ready to draw (:class:`mlviz.Prepared`): in a notebook it shows
        as the player; ``mlviz.render``'s writers take it. Computes the landscape."""
        from .build import build
        from .compute import one_blas_thread

        if not self.n_epochs:
            raise WatchError("nothing was recorded: call recorder.epoch(...) once per epoch "
                             "before saving")
        with one_blas_thread():
            return build(self)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the run record (an ``.npz`` file, see ``docs/records.rst``); once."""
        from ..record import check_record_path, save_run

        if self.saved is not None:
            raise WatchError(f"this recorder was already saved to {self.saved}; a recorder "
                             "saves once")
        target = Path(path) if path is not None else self.path
        if target is None:
            raise WatchError("save needs a path, e.g. recorder.save('run.npz')")
        check_record_path(target)
        prepared = self.prepared()
        save_run(prepared, target)
        self.saved = target
        return target

    def _repr_html_(self) -> str:
        return self.prepared()._repr_html_()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if self.path is not None and self.saved is None and self.n_epochs and \
                (kind is None or issubclass(kind, KeyboardInterrupt)):
            self.save()

    @property
    def nbytes(self) -> int:
        """Memory the recorder holds: the parameter trace (fixed), and 8 bytes per metric
        and per layer norm per epoch (buffers that double when full)."""
        series = [*self.metrics.values(), self.weight_norms, self.grad_norms]
        return self.trace.nbytes + sum(s.nbytes for s in series)


def watch(model, data, loss: Callable, **options: Any) -> Recorder:
    """Watch ``model`` trained by your own loop: call ``.epoch(**metrics)`` once per epoch
    and ``.save("run.npz")`` at the end (or use it as ``with mlviz.watch(..., path=...)``),
    then ``mlviz render run.npz -o run.gif``.

    ``data``: ``(X, y)`` tensors or arrays, or a DataLoader; a fixed evaluation subset of at
    most ``eval_size`` samples (default 2048) is taken once. ``loss``: called as
    ``loss(model(X), y)``, returning a scalar tensor. Options: ``budget`` (most parameter
    sets kept, default 256), ``resolution`` (landscape grid, default 31), ``frames``
    (most frames, default 60), ``memory`` (bytes per batched landscape call, default
    512 MiB), ``fps``, ``path`` (where the context manager saves), ``directions``
    (the landscape's plane: ``"pca"``, the path's PCA plane, or ``"filter"``,
    filter-normalised random directions through the last parameters, drawn with
    ``seed``), ``scheduler`` (a Dask scheduler's address: the landscape's grid rows are
    computed on that cluster, the same values as here).
    """
    return Recorder(model, data, loss, **options)
