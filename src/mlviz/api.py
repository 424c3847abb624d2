"""The Python API: train an algorithm and render it in one call, or step by step."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .algorithm import Algorithm
from .config import Config, parse_settings
from .errors import MlvizError
from .plugins import Registry, load_registry
from .progress import Progress, status
from .renderer import DEFAULT_DPI, Renderer
from .scene import Scene
from .schedule import FrameSchedule
from .trainer import Run, train
from .limits import check_dpi, check_frame_size
from .writers import check_fps, check_output_path, open_writer


@dataclass
class Prepared:
    """A trained run and the scene to draw it: ready for :class:`Renderer`.

    ``schedule`` is the frame schedule training used and ``source`` says where the data
    came from (empty: the algorithm's default dataset). Save it with
    :func:`mlviz.save_run`; it pickles too.
    """

    algorithm: Algorithm
    config: Config
    run: Run
    scene: Scene
    fps: float
    schedule: FrameSchedule | None = None
    source: str = ""

    def renderer(self, dpi: float = DEFAULT_DPI) -> Renderer:
        return Renderer(self.scene, self.run, dpi=dpi, algorithm=self.algorithm.name)

    def with_frames(self, frames: int | None) -> Prepared:
        """The same run drawn with at most ``frames`` of its snapshots, spread evenly."""
        if frames is None or frames >= self.run.n_frames:
            return self
        if frames < 1:
            raise MlvizError(f"--frames must be at least 1, got {frames}")
        snapshots = self.run.snapshots
        picks = FrameSchedule.every(frames).select([s.epoch for s in snapshots])
        run = replace(self.run, snapshots=tuple(snapshots[i] for i in picks))
        return replace(self, run=run)


def prepare(
    algorithm: str | Algorithm,
    *,
    frames: int | None = None,
    data: str | Path | None = None,
    fps: float | None = None,
    registry: Registry | None = None,
    settings: list[str] | None = None,
    record_params: bool = False,
    epoch_limit: int | None = None,
    time_limit: float | None = None,
    keep_on_interrupt: bool = False,
    **overrides: Any,
) -> Prepared:
    """Validate the config, load the data, train, and pick the frames.

    ``overrides`` are hyperparameters as Python values; ``settings`` are ``KEY=VALUE``
    strings as given to ``--set`` (they win over ``overrides``). Every trace the
    algorithm's snapshots declare and its panels read is recorded at every epoch;
    ``record_params`` records every parameter too (memory: one row of all parameters per
    epoch). ``epoch_limit`` and ``time_limit`` (seconds) stop training early, and with
    ``keep_on_interrupt`` Ctrl-C does: see :func:`mlviz.train` (``max_epochs``,
    ``max_seconds``). They are named so as not to shadow a hyperparameter.
    """
    if isinstance(algorithm, str):
        algorithm = (registry or load_registry()).get(algorithm)
    values: dict[str, Any] = dict(overrides)
    if settings:
        values.update(parse_settings(settings))
    config = algorithm.config.from_overrides(values)
    if frames is not None and frames < 1:
        raise MlvizError(f"--frames must be at least 1, got {frames}")
    if fps is not None and fps <= 0:
        raise MlvizError(f"--fps must be positive, got {fps}")
    with optional_dependencies(algorithm.name):
        dataset = algorithm.make_dataset(config, data)
        schedule = algorithm.schedule(config).with_budget(frames)
        scene = algorithm.scene(config)
        traces = (*scene.required_traces(), *(("params",) if record_params else ()))
        run = train(algorithm.trainer(config), dataset, config, schedule, traces=traces,
                    max_epochs=epoch_limit, max_seconds=time_limit,
                    keep_on_interrupt=keep_on_interrupt)
    source = "" if data is None else str(data)
    return Prepared(algorithm, config, run, scene, fps or algorithm.fps, schedule, source)


def render(
    algorithm: str | Algorithm,
    output: str | Path | None = None,
    *,
    fps: float | None = None,
    frames: int | None = None,
    dpi: float = DEFAULT_DPI,
    data: str | Path | None = None,
    progress: bool = False,
    registry: Registry | None = None,
    settings: list[str] | None = None,
    **overrides: Any,
) -> Path:
    """Train ``algorithm`` and write its animation; return the path written.

    ``output`` defaults to ``NAME.gif`` in the current folder; its suffix (``.gif``,
    ``.mp4``, ``.png``) picks the writer. Hyperparameters are keyword arguments, e.g.
    ``mlviz.render("kmeans", "out.gif", k_max=8)``.
    """
    name = algorithm if isinstance(algorithm, str) else algorithm.name
    output = Path(output) if output is not None else Path(f"{name}.gif")
    check_output_path(output)
    check_dpi(dpi)
    if fps is not None:
        check_fps(output, fps)
    status(f"training {name}…", enabled=progress)
    prepared = prepare(algorithm, frames=frames, data=data, fps=fps, registry=registry,
                       settings=settings, **overrides)
    write_animation(prepared, output, dpi=dpi, progress=progress)
    return output


def write_animation(
    prepared: Prepared, output: str | Path, *, dpi: float = DEFAULT_DPI, progress: bool = False
) -> int:
    """Render a prepared run into ``output`` (atomically); return the number of frames."""
    check_frame_size(prepared.scene.figsize, dpi)
    renderer = prepared.renderer(dpi)
    with optional_dependencies(prepared.algorithm.name), \
            open_writer(output, fps=prepared.fps) as writer:
        total = 1 if writer.last_frame_only else prepared.run.n_frames
        bar = Progress(total, "frames", enabled=progress)
        try:
            count = renderer.render(writer, on_frame=lambda _: bar.advance())
        finally:
            bar.close()
        status(f"encoding {Path(output).name}…", enabled=progress)
    status("", enabled=progress)
    return count


#: Optional packages an algorithm may need, and the extra that installs each.
OPTIONAL_PACKAGES = {"torch": "mlviz[torch]"}


@contextmanager
def optional_dependencies(algorithm: str) -> Iterator[None]:
    """Turn a missing optional package (torch) into a one-line :class:`MlvizError`."""
    try:
        yield
    except ModuleNotFoundError as exc:
        package = (exc.name or "").partition(".")[0]
        if package not in OPTIONAL_PACKAGES:
            raise
        raise MlvizError(
            f"{algorithm} needs {package}, which is not installed; "
            f"install it with: pip install '{OPTIONAL_PACKAGES[package]}'"
        ) from None
