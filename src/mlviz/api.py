"""The Python API: train an algorithm and render it in one call, or step by step."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .algorithm import Algorithm
from .config import Config, merge_settings, moved_frame_budget, parse_settings
from .dataset import DataSource, UserData
from .errors import MlvizError
from .plugins import Registry, load_registry
from .progress import bar as progress_bar, training as training_progress
from .parallel import check_jobs, default_jobs
from .renderer import DEFAULT_DPI, Renderer
from .scene import Scene
from .schedule import FrameSchedule
from .snapshot import Snapshot
from .theme import Theme, resolve_theme
from .trainer import Run, train
from .limits import check_dpi, check_frame_size
from .writers import DEFAULT_HOLD, check_fps, check_hold, check_output_path, writer_class

if TYPE_CHECKING:
    from .sweep import PreparedSweep


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
    #: How it is drawn (see :meth:`styled`): ``None`` is the light theme at 100 dpi.
    theme: Theme | None = None
    dpi: float | None = None

    def renderer(self, dpi: float | None = None) -> Renderer:
        return Renderer(self.scene, self.run, dpi=dpi or self.dpi or DEFAULT_DPI,
                        algorithm=self.algorithm.name, theme=self.theme)

    def styled(self, *, theme: Theme | str | None = None, font_scale: float | None = None,
               size: tuple[int, int] | str | None = None, panel: str | None = None,
               registry: Registry | None = None) -> Prepared:
        """The same run drawn differently: ``theme`` (a name such as ``"dark"``, or a
        :class:`~mlviz.theme.Theme`), fonts ``font_scale`` times larger, frames ``size``
        pixels (``(1920, 1080)`` or ``"1920x1080"``: the layout is kept, the resolution
        follows), or only the scene's panel ``panel`` (a name from ``mlviz info``)."""
        scene = self.scene if panel is None else self.scene.only(panel)
        dpi = self.dpi
        if size is not None:
            scene, dpi = scene.sized(*parse_size(size))
        chosen = resolve_theme(theme or self.theme, registry, font_scale)
        return replace(self, scene=scene, theme=chosen, dpi=dpi)

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

    def _repr_html_(self) -> str:
        """Jupyter shows a prepared run as the interactive player (every frame, with
        captions); one over the player's size limit shows its last frame and a note."""
        from .player import notebook_player

        return notebook_player(self.renderer(), frame_captions(self.run), fps=self.fps,
                               hold=DEFAULT_HOLD, title=self.algorithm.name)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """IPython's text form: one short line, not the whole run."""
        run = self.run
        printer.text(f"<Prepared {self.algorithm.name}: {len(run.epochs)} epochs, "
                     f"{run.n_frames} frames at {self.fps:g} fps>")


def prepare(
    algorithm: str | Algorithm,
    *,
    frames: int | None = None,
    data: DataSource | None = None,
    fps: float | None = None,
    registry: Registry | None = None,
    settings: list[str] | None = None,
    record_params: bool = False,
    epoch_limit: int | None = None,
    time_limit: float | None = None,
    keep_on_interrupt: bool = False,
    progress: bool = False,
    on_epoch: Callable[[Snapshot], None] | None = None,
    sweep: Mapping[str, Any] | Sequence[str] | None = None,
    overlay: str | Sequence[str] | None = None,
    **overrides: Any,
) -> Prepared | PreparedSweep:
    """Validate the config, load the data, train, and pick the frames.

    ``overrides`` are hyperparameters as Python values; ``settings`` are ``KEY=VALUE``
    strings as given to ``--set`` (one key in both with different values is an error).
    ``data`` replaces the default dataset: a CSV file's path, a numpy array, a pandas
    DataFrame, or a :class:`~mlviz.UserData` that also chooses its columns. Every trace the
    algorithm's snapshots declare and its panels read is recorded at every epoch;
    ``record_params`` records every parameter too (memory: one row of all parameters per
    epoch). ``epoch_limit`` and ``time_limit`` (seconds) stop training early, and with
    ``keep_on_interrupt`` Ctrl-C does: see :func:`mlviz.train` (``max_epochs``,
    ``max_seconds``). They are named so as not to shadow a hyperparameter.
    ``progress`` shows a training bar (epochs, rate, and the ETA when the config says
    how many epochs); ``on_epoch`` is called with every snapshot as it is trained.

    ``sweep`` (``{"lr": [0.01, 0.1, 1.0]}``, one or two keys) trains one run per value
    and returns a :class:`~mlviz.sweep.PreparedSweep` that draws them in one animation;
    ``overlay`` names its panels drawn overlaid (see :func:`mlviz.sweep.prepare_sweep`).
    """
    if isinstance(algorithm, str):
        algorithm = (registry or load_registry()).get(algorithm)
    if sweep is not None:
        from .sweep import prepare_sweep

        if on_epoch is not None:
            raise MlvizError("on_epoch is not available for a sweep (its runs train in "
                             "other processes)")
        return prepare_sweep(algorithm, sweep, overlay=overlay, frames=frames, data=data,
                             fps=fps, registry=registry, settings=settings,
                             record_params=record_params, epoch_limit=epoch_limit,
                             time_limit=time_limit, progress=progress, **overrides)
    if overlay is not None:
        raise MlvizError("--overlay (overlay=) chooses how a sweep's runs are drawn; give "
                         "--sweep (sweep=) too")
    values = merge_settings(algorithm.config, overrides, parse_settings(settings or ()))
    frames = moved_frame_budget(algorithm.config, algorithm.name, values, frames)
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
        with training_progress(algorithm.name, config, epoch_limit=epoch_limit,
                               enabled=progress, on_epoch=on_epoch) as callback:
            run = train(algorithm.trainer(config), dataset, config, schedule, callback,
                        traces=traces, max_epochs=epoch_limit, max_seconds=time_limit,
                        keep_on_interrupt=keep_on_interrupt)
    source = "" if data is None else UserData(data).describe()
    return Prepared(algorithm, config, run, scene, fps or algorithm.fps, schedule, source)


def render(
    algorithm: str | Algorithm,
    output: str | Path | None = None,
    *,
    fps: float | None = None,
    frames: int | None = None,
    dpi: float = DEFAULT_DPI,
    data: DataSource | None = None,
    progress: bool = False,
    registry: Registry | None = None,
    settings: list[str] | None = None,
    hold: float = DEFAULT_HOLD,
    jobs: int | None = None,
    sweep: Mapping[str, Any] | Sequence[str] | None = None,
    overlay: str | Sequence[str] | None = None,
    theme: Theme | str | None = None,
    font_scale: float | None = None,
    size: tuple[int, int] | str | None = None,
    panel: str | None = None,
    **overrides: Any,
) -> Path:
    """Train ``algorithm`` and write its animation; return the path written.

    ``output`` defaults to ``NAME.gif`` in the current folder; its suffix (``.gif``,
    ``.mp4``, ``.webp``, ``.apng``, ``.png`` or a plugin's) picks the writer. ``hold`` is
    how long the last frame stays on screen, in seconds (0: one frame's time). ``jobs``:
    processes drawing frames (default: one per core; see :func:`write_animation`).
    Hyperparameters are keyword arguments, e.g. ``mlviz.render("kmeans", "out.gif", k_max=8)``.
    ``sweep`` and ``overlay`` compare runs in one animation (see :func:`prepare`).
    ``theme``, ``font_scale``, ``size`` and ``panel`` change the look (see
    :meth:`Prepared.styled`); ``size`` sets the resolution, so it replaces ``dpi``.
    """
    name = algorithm if isinstance(algorithm, str) else algorithm.name
    output = Path(output) if output is not None else Path(f"{name}.gif")
    registry = registry or load_registry()
    check_output_path(output, registry)
    check_dpi(dpi)
    check_hold(hold)
    if fps is not None:
        check_fps(output, fps, registry)
    if size is not None:
        parse_size(size)
        if dpi != DEFAULT_DPI:
            raise MlvizError("give a size or a dpi, not both: the size sets the resolution")
    check_theme_output(resolve_theme(theme, registry, font_scale), output, registry)
    prepared = prepare(algorithm, frames=frames, data=data, fps=fps, registry=registry,
                       settings=settings, progress=progress, sweep=sweep, overlay=overlay,
                       **overrides)
    if (theme, font_scale, size, panel) != (None, None, None, None):
        prepared = prepared.styled(theme=theme, font_scale=font_scale, size=size, panel=panel,
                                   registry=registry)
    write_animation(prepared, output, dpi=None if size is not None else dpi,
                    progress=progress, hold=hold, registry=registry, jobs=jobs)
    return output


def write_animation(
    prepared: Prepared, output: str | Path, *, dpi: float | None = None, progress: bool = False,
    hold: float = DEFAULT_HOLD, captions: Sequence[str] | None = None,
    registry: Registry | None = None, jobs: int | None = None,
) -> int:
    """Render a prepared run into ``output`` (atomically); return the number of frames.

    ``jobs``: processes drawing frames while this one encodes them (default: one per
    available core; 1 draws here). Short runs are drawn here whatever ``jobs`` says, and
    the file is the same either way (see :mod:`mlviz.parallel`).

    ``hold``: seconds the last frame stays on screen. ``captions``: one text per drawn
    snapshot, for writers that show text (default: :func:`frame_captions`). ``registry``
    supplies the writers (default: the installed plugins'). ``dpi`` defaults to the
    prepared run's (see :meth:`Prepared.styled`), else 100.
    """
    dpi = dpi or getattr(prepared, "dpi", None) or DEFAULT_DPI
    check_frame_size(prepared.scene.figsize, dpi)
    run = prepared.run
    if captions is None:
        captions = frame_captions(run)
    elif isinstance(captions, str) or len(captions) != run.n_frames:
        raise MlvizError(f"captions must be {run.n_frames} texts, one per frame, got "
                         f"{1 if isinstance(captions, str) else len(captions)}")
    kind = writer_class(output, registry or load_registry())
    check_theme_output(getattr(prepared, "theme", None), output, registry)
    if kind.last_frame_only:
        captions = captions[-1:]
    renderer = prepared.renderer(dpi)
    with optional_dependencies(prepared.algorithm.name), \
            kind(output, fps=prepared.fps, hold=hold, captions=captions) as writer:
        total = 1 if writer.last_frame_only else run.n_frames
        with progress_bar(total, desc="drawing", unit="frame", enabled=progress) as bar:
            count = renderer.render(writer, on_frame=lambda _: bar.update(),
                                    jobs=default_jobs() if jobs is None else check_jobs(jobs))
            bar.set_description(f"encoding {Path(output).name}")
            writer.close()
    return count


def check_theme_output(theme: Theme | None, output: str | Path,
                       registry: Registry | None = None) -> None:
    """A one-line :class:`MlvizError` if ``output``'s format cannot keep ``theme``'s
    transparent background."""
    if theme is None or not theme.transparent:
        return
    kind = writer_class(output, registry or load_registry())
    if not kind.keeps_alpha:
        raise MlvizError(f"the theme '{theme.name}' has a transparent background, which "
                         f"{kind.suffix} cannot store; write a .png, or use another theme")


def parse_size(size: tuple[int, int] | str) -> tuple[int, int]:
    """``"1920x1080"`` or ``(1920, 1080)`` as (width, height) pixels, checked."""
    try:
        if isinstance(size, str):
            width, height = (int(part) for part in size.lower().split("x"))
        else:
            width, height = (int(part) for part in size)
    except (TypeError, ValueError):
        raise MlvizError(f"a size is WIDTHxHEIGHT in pixels, like 1920x1080; got {size!r}") \
            from None
    if min(width, height) < 16:
        raise MlvizError(f"a size needs at least 16 pixels a side, got {width}x{height}")
    check_frame_size((width / 100, height / 100), 100)
    return width, height


def frame_captions(run: Run) -> list[str]:
    """One caption per drawn snapshot, from the run's record at that epoch: the epoch, the
    loss (left out when NaN) and every scalar trace the algorithm records (its metrics,
    e.g. ``"epoch 12 · loss 0.0345 · accuracy 0.95"``); parameters are left out.
    A sweep's (:class:`mlviz.sweep.Sweep`) name every run: :meth:`~mlviz.sweep.Sweep.captions`."""
    if not isinstance(run, Run):
        return run.captions()
    scalars = {name: values for name, values in run.traces.items()
               if values.ndim == 1 and not name.startswith("params.")}
    rows = np.searchsorted(run.epochs, [s.epoch for s in run.snapshots])
    out = []
    for snapshot, row in zip(run.snapshots, rows):
        loss = float(snapshot.loss)
        parts = [f"epoch {snapshot.epoch}", *([f"loss {loss:.4g}"] if loss == loss else [])]
        if row < len(run.epochs) and run.epochs[row] == snapshot.epoch:
            parts += [f"{name} {_number(values[row])}" for name, values in scalars.items()]
        out.append(" · ".join(parts))
    return out


def _number(value: Any) -> str:
    """A trace value for a caption: yes/no for a flag, whole numbers as such, others to 4
    significant digits."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


#: Optional packages an algorithm may need, and the command that installs each: the
#: README's, whose pin (constraints.txt) keeps pip on torch's CPU build.
OPTIONAL_PACKAGES = {"torch": "pip install -c constraints.txt -e '.[torch]'"}


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
            f"install it from the mlviz folder with: {OPTIONAL_PACKAGES[package]}"
        ) from None
