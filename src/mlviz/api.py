"""The Python API: train an algorithm and render it in one call, or step by step."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .algorithm import Algorithm
from .config import merge_settings, moved_frame_budget, parse_settings
from .dataset import DataSource, UserData
from .errors import MlvizError
from .limits import check_dpi, check_frame_size
from .optional import OPTIONAL_PACKAGES, optional_dependencies
from .parallel import check_jobs, default_jobs
from .player import page_title
from .plugins import Registry
from .prepared import Prepared, frame_captions, parse_size, tell_story
from .progress import bar as progress_bar
from .progress import training as training_progress
from .renderer import DEFAULT_DPI
from .session import registry as session_registry
from .snapshot import Snapshot
from .theme import Theme, resolve_theme
from .trainer import train
from .writers import DEFAULT_HOLD, check_fps, check_hold, check_output_path, writer_class

__all__ = ["OPTIONAL_PACKAGES", "Prepared", "check_theme_output", "frame_captions",
           "optional_dependencies", "parse_size", "prepare", "render", "write_animation"]


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
) -> Prepared:
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

    ``sweep`` (``{"lr": [0.01, 0.1, 1.0]}``, one or two keys) trains one run per value,
    drawn together in one animation (``Prepared.sweep``); ``overlay`` names its panels
    drawn overlaid (see :func:`mlviz.sweep.prepare_sweep`). The algorithm's story of the
    run, if it tells one, is ``Prepared.story`` (checked: a :class:`ContractError` names
    the plugin of a wrong one).
    """
    if isinstance(algorithm, str):
        algorithm = session_registry(registry).get(algorithm)
    if sweep is not None:
        if on_epoch is not None:
            raise MlvizError("on_epoch is not available for a sweep (its runs train in "
                             "other processes)")
        from .sweep import prepare_sweep  # imported only for a sweep (0.05 s)

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
        scene = algorithm.make_scene(config, dataset)
        traces = (*scene.required_traces(), *(("params",) if record_params else ()))
        with training_progress(algorithm.name, config, epoch_limit=epoch_limit,
                               enabled=progress, on_epoch=on_epoch) as callback:
            run = train(algorithm.trainer(config), dataset, config, schedule, callback,
                        traces=traces, max_epochs=epoch_limit, max_seconds=time_limit,
                        keep_on_interrupt=keep_on_interrupt)
        story = tell_story(algorithm, config, run)
    source = "" if data is None else UserData(data).describe()
    return Prepared(algorithm, config, run, scene, fps or algorithm.fps, schedule, source,
                    story=story)


def render(
    algorithm: str | Algorithm,
    output: str | Path | None = None,
    *,
    fps: float | None = None,
    frames: int | None = None,
    dpi: float | None = None,
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
    caption: bool = True,
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
    ``caption=False`` leaves out the caption strip (see :func:`write_animation`).
    """
    name = algorithm if isinstance(algorithm, str) else algorithm.name
    output = Path(output) if output is not None else Path(f"{name}.gif")
    registry = session_registry(registry)
    check_output_path(output, registry)
    if dpi is not None:
        check_dpi(dpi)
    check_hold(hold)
    if fps is not None:
        check_fps(output, fps, registry)
    if size is not None:
        parse_size(size)
        if dpi is not None:
            raise MlvizError("give a size or a dpi, not both: the size sets the resolution")
    check_theme_output(resolve_theme(theme, registry, font_scale), output, registry)
    prepared = prepare(algorithm, frames=frames, data=data, fps=fps, registry=registry,
                       settings=settings, progress=progress, sweep=sweep, overlay=overlay,
                       **overrides)
    if (theme, font_scale, size, panel) != (None, None, None, None):
        prepared = prepared.styled(theme=theme, font_scale=font_scale, size=size, panel=panel,
                                   registry=registry)
    write_animation(prepared, output, dpi=dpi,
                    progress=progress, hold=hold, registry=registry, jobs=jobs,
                    caption=caption)
    return output


def write_animation(
    prepared: Prepared, output: str | Path, *, dpi: float | None = None, progress: bool = False,
    hold: float = DEFAULT_HOLD, captions: Sequence[str] | None = None,
    registry: Registry | None = None, jobs: int | None = None, caption: bool = True,
) -> int:
    """Render a prepared run into ``output`` (atomically); return the number of frames.

    ``jobs``: processes drawing frames while this one encodes them (default: one per
    available core; 1 draws here). Short runs are drawn here whatever ``jobs`` says, and
    the file is the same either way (see :mod:`mlviz.parallel`).

    ``hold``: seconds the last frame stays on screen. ``captions``: one text per drawn
    snapshot, for writers that show text (default: :meth:`Prepared.captions`). ``caption``:
    where the algorithm tells a story, draw the caption strip (the playing chapter's
    sentence and the objective) below the panels of every frame; the HTML player never
    does (it shows the sentence as text). ``registry`` supplies the writers (default: the
    installed plugins'). ``dpi`` defaults to the prepared run's (see
    :meth:`Prepared.styled`), else 100.
    """
    dpi = dpi or prepared.dpi or DEFAULT_DPI
    composition = prepared.composition()
    frame_size = check_frame_size(composition.figsize, dpi)
    frames = composition.n_frames
    if captions is None:
        captions = prepared.captions()
    elif isinstance(captions, str) or len(captions) != frames:
        raise MlvizError(f"captions must be {frames} texts, one per frame, got "
                         f"{1 if isinstance(captions, str) else len(captions)}")
    kind = writer_class(output, session_registry(registry))
    check_theme_output(prepared.theme, output, registry)
    chapters = prepared.chapters()
    if kind.last_frame_only:
        captions = captions[-1:]
        chapters = [(0, title, sentence) for first, title, sentence in chapters
                    if first <= frames - 1][-1:]
    options: dict[str, Any] = {}
    parameters = inspect.signature(kind).parameters
    if chapters and "chapters" in parameters:
        options["chapters"] = chapters
    if "title" in parameters:  # the player page: named after the run, not the file
        options["title"] = page_title(prepared)
    planned = getattr(kind, "check_planned", None)  # a size limit: refused before drawing
    if planned is not None:
        planned(output, 1 if kind.last_frame_only else frames, frame_size)
    strip = caption and getattr(kind, "caption_strip", kind.suffix != ".html")
    renderer = prepared.renderer(dpi, caption=bool(strip))
    with optional_dependencies(prepared.algorithm.name), \
            kind(output, fps=prepared.fps, hold=hold, captions=captions, **options) as writer:
        total = 1 if writer.last_frame_only else frames
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
    kind = writer_class(output, session_registry(registry))
    if not kind.keeps_alpha:
        raise MlvizError(f"the theme '{theme.name}' has a transparent background, which "
                         f"{kind.suffix} cannot store; write a .png, or use another theme")
