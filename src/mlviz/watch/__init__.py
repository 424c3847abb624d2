"""Watch a user's own PyTorch training loop and record it as an mlviz run.

``recorder = mlviz.watch(model, data=(X, y), loss=loss_fn)``; in the loop,
``recorder.epoch(loss=…, accuracy=…)`` once per epoch; at the end ``recorder.save("run.npz")``;
then ``mlviz render run.npz -o run.gif``. See ``docs/watch.rst``. torch is imported only
when a model is watched.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from .errors import WatchError
from .model import ALGORITHM, WatchConfig, WatchSnapshot

if TYPE_CHECKING:
    from .recorder import Recorder, watch

__all__ = ["ALGORITHM", "Recorder", "WatchConfig", "WatchError", "WatchSnapshot", "watch"]


def __getattr__(name: str):
    if name in ("Recorder", "watch"):
        from . import recorder

        return getattr(recorder, name)
    raise AttributeError(f"module 'mlviz.watch' has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    """``mlviz.watch`` is this package once any of its modules is imported (Python sets a
    package's submodules as its attributes): calling it is calling :func:`watch`."""

    def __call__(self, model: Any, data: Any, loss: Any, **options: Any) -> Recorder:
        from .recorder import watch as _watch

        return _watch(model, data, loss, **options)


sys.modules[__name__].__class__ = _CallableModule
