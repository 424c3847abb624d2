"""How the command line fails: one line naming who failed, and signals handled like Ctrl-C.

An exception that escapes a command is traced to the plugin whose code raised it: the
traceback is walked from the innermost frame outward to the first frame in a registered
plugin's package. What that frame is (a panel method, the trainer, the scene or dataset
factory) says which part failed. With no plugin frame, a failure in a step that consumes
a plugin's output (``train`` reading what the trainer yields, the renderer calling the
panels) is still the plugin's; anything else is a bug in mlviz. Either way the user gets
one line, and the plugin's author a way to see the whole traceback: ``--traceback`` or
``MLVIZ_TRACEBACK=1``.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from .errors import (
    PLUGIN_STEPS,
    STOP_SIGNALS,
    ContractError,
    MlvizError,
    MlvizWarning,
    Terminated,
    cleaning_up,
)
from .terminal import PrintableStream, discard_stdout, one_line

if TYPE_CHECKING:
    from .algorithm import Algorithm
    from .plugins import Registry

TRACEBACK_VARIABLE = "MLVIZ_TRACEBACK"
HINT = f"set {TRACEBACK_VARIABLE}=1 or pass --traceback to see where"
#: mlviz functions that run a plugin's code or read its output, and the part involved.
#: By name, for functions not marked with :func:`mlviz.errors.plugin_step` yet; the
#: renderer's two (``_build``, ``_update``) are to be marked where they are defined, and
#: this table then shrinks to nothing.
_STEPS = {"train": "trainer", "make_dataset": "dataset", "check": "scene"}


def traceback_wanted(flag: bool = False) -> bool:
    """Whether the whole traceback is to be shown (``--traceback`` or the variable)."""
    return flag or os.environ.get(TRACEBACK_VARIABLE, "").strip() not in ("", "0")


def blame(exc: BaseException, registry: Registry | None,
          algorithm: Algorithm | None = None) -> tuple[str, str] | None:
    """(plugin label, part that failed) for an exception, or ``None`` if no plugin is at fault.

    The plugin is the one whose item mlviz was calling when it failed, not whichever
    plugin's files the failure passed through: from the innermost plugin frame, the
    traceback is walked out (past plugin code and libraries) to where mlviz called in.
    A call of a part of ``algorithm`` (the algorithm the command works on, if any: its
    trainer, scene, dataset, config, …) blames its plugin, even in code another plugin
    shares; a registered panel's methods blame the plugin that registered it. Otherwise
    the module of that frame says whose code it is. ``algorithm`` is also blamed for a
    failure of mlviz's step that consumed its output (a trainer that yielded a dict).
    """
    if registry is None:
        return None
    frames = [frame for frame, _ in traceback.walk_tb(exc.__traceback__)]  # outermost first
    owners = [registry.plugin_of(frame.f_globals.get("__name__")) for frame in frames]
    inner = next((i for i in reversed(range(len(frames))) if owners[i]), None)
    if inner is not None:
        entry = inner  # where mlviz called into this stretch of plugin (and library) code
        for i in reversed(range(inner)):
            if _is_mlviz(frames[i]):
                break
            if owners[i]:
                entry = i
        plugin, part = _called(frames[entry], owners[entry] or "", registry, algorithm)
        return plugin, part or _step(frames[:entry]) or ""
    if algorithm is not None and algorithm.plugin:
        step = _step(frames)
        if step:
            return algorithm.plugin, step
    return None


def _is_mlviz(frame: FrameType) -> bool:
    return str(frame.f_globals.get("__name__", "")).partition(".")[0] == "mlviz"


def _called(frame: FrameType, owner: str, registry: Registry,
            algorithm: Algorithm | None) -> tuple[str, str]:
    """(plugin, part) of the plugin code mlviz called at ``frame``; ``owner``: the plugin
    whose package holds that code."""
    from .panel import Panel

    target = frame.f_locals.get("self")
    if isinstance(target, Panel):
        name = type(target).name
        plugin = (registry.owner("panel", name) if registry.panels.get(name) is type(target)
                  else "") or (algorithm.plugin if algorithm is not None else "") or owner
        return plugin, _part_of(frame, None)
    if algorithm is not None and algorithm.plugin and _runs_part_of(frame, algorithm):
        return algorithm.plugin, _part_of(frame, algorithm)
    mine = algorithm if algorithm is not None and algorithm.plugin == owner else None
    return owner, _part_of(frame, mine)


def _runs_part_of(frame: FrameType, algorithm: Algorithm) -> bool:
    """Whether ``frame`` runs a part of ``algorithm``: a method of its trainer or config
    (an instance of either class), or its trainer, scene, dataset, loader or schedule."""
    target = frame.f_locals.get("self")
    for kind in (algorithm.trainer, algorithm.config):
        if target is not None and isinstance(kind, type) and isinstance(target, kind):
            return True
    return any(getattr(function, "__code__", None) is frame.f_code
               for function in (algorithm.trainer, algorithm.scene, algorithm.dataset,
                                algorithm.load_data, algorithm.schedule))


def describe(exc: BaseException, registry: Registry | None,
             algorithm: Algorithm | None = None) -> tuple[str, int]:
    """The one-line message (without ``mlviz: error:``) and exit status for ``exc``."""
    if isinstance(exc, MlvizError) and not isinstance(exc, ContractError):
        return one_line(exc), 2  # the user's input: the message says what to change
    what = _exception(exc)
    culprit = blame(exc, registry, algorithm)
    if culprit is not None:
        plugin, part = culprit
        where = f" in its {part}" if part else ""
        return one_line(f"plugin {plugin} failed{where}: {what} ({HINT})"), 1
    if isinstance(exc, ContractError):
        return one_line(exc), 2
    if isinstance(exc, MemoryError):
        return ("out of memory: try fewer frames (--frames), a lower --dpi or less data "
                f"({HINT})"), 1
    return one_line(f"internal error: {what}; this is a bug in mlviz ({HINT})"), 1


def _exception(exc: BaseException) -> str:
    message = one_line(exc, 300)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _part_of(frame: FrameType, algorithm: Algorithm | None) -> str:
    """Which part of a plugin ``frame`` runs: its panel, config, trainer, scene, dataset."""
    from .config import Config
    from .panel import Panel

    owner = frame.f_locals.get("self")
    if isinstance(owner, Panel):
        return f"panel {one_line(type(owner).name or type(owner).__name__, 80)}"
    if isinstance(owner, Config):
        return "config"
    if algorithm is None:
        return ""
    trainer = algorithm.trainer
    if owner is not None and isinstance(trainer, type) and isinstance(owner, trainer):
        return "trainer"
    for part, function in (("trainer", trainer), ("scene", algorithm.scene),
                           ("dataset", algorithm.dataset), ("data loader", algorithm.load_data),
                           ("frame schedule", algorithm.schedule)):
        if getattr(function, "__code__", None) is frame.f_code:
            return part
    return ""


def _step(frames: list[FrameType]) -> str:
    """The part named by the innermost mlviz step among ``frames`` (e.g. ``train``)."""
    from .panel import Panel

    for frame in reversed(frames):
        module = frame.f_globals.get("__name__", "")
        part = PLUGIN_STEPS.get(frame.f_code)  # marked: wherever it is defined
        if part is None and module.partition(".")[0] == "mlviz":
            part = _STEPS.get(frame.f_code.co_name)
        if part is None:
            continue
        panel = frame.f_locals.get("panel")
        if part == "panel" and isinstance(panel, Panel):
            return f"panel {one_line(type(panel).name or type(panel).__name__, 80)}"
        return part
    return ""


def report(exc: BaseException, registry: Registry | None, algorithm: Algorithm | None,
           show_traceback: bool) -> int:
    """Print ``exc`` as one ``mlviz: error:`` line (after its traceback if wanted)."""
    message, status = describe(exc, registry, algorithm)
    if show_traceback:
        traceback.print_exception(exc, file=sys.stderr)
    print(f"mlviz: error: {message}", file=sys.stderr)
    return status


def interrupted_status(exc: BaseException) -> int:
    """128 + the signal's number, as a shell reports a command a signal stopped."""
    return 128 + (exc.signum if isinstance(exc, Terminated) else signal.SIGINT)


#: What a stopped command leaves, unless it says otherwise (:func:`stopped_leaving`).
NOTHING_WRITTEN = "nothing was written"
_OUTCOME = "mlviz_outcome"


def stopped_leaving(exc: BaseException, outcome: str) -> None:
    """Note on a Ctrl-C or stop signal what the stopped command leaves on disk (e.g. "finished
    animations are kept"), for :func:`run_command`'s line instead of "nothing was written"."""
    setattr(exc, _OUTCOME, outcome)


def interrupted_reason(exc: BaseException) -> str:
    """``interrupted`` for Ctrl-C, ``stopped by SIGTERM`` for a signal."""
    if isinstance(exc, Terminated):
        return f"stopped by {signal.Signals(exc.signum).name}"
    return "interrupted"


@contextmanager
def stop_signals_interrupt(exiting: bool = False) -> Iterator[Callable[[], None]]:
    """SIGTERM and SIGHUP raise :class:`~mlviz.errors.Terminated`, so they unwind through
    the same clean-up as Ctrl-C. While that clean-up runs (see :func:`cleaning_up`), a
    further Ctrl-C or stop signal is ignored, so a second Ctrl-C cannot cut it short.

    Yields ``settle``: called once the command is stopping for good, it ignores every one
    of these signals from then on; restored when the block ends, unless ``exiting`` (the
    process ends next, and a signal now would kill it instead of its exit status).
    Ctrl-C is handled so only where Python's own handler is installed (not where the
    process started with it ignored). Outside the main thread nothing changes."""

    def interrupt(signum: int, frame) -> None:
        if not cleaning_up():
            raise KeyboardInterrupt

    def stop(signum: int, frame) -> None:
        if cleaning_up():
            return
        for number in STOP_SIGNALS:
            signal.signal(number, signal.SIG_IGN)
        raise Terminated(signum)

    previous: dict[int, Any] = {}
    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            previous[signal.SIGINT] = signal.signal(signal.SIGINT, interrupt)
        for number in STOP_SIGNALS:
            previous[number] = signal.signal(number, stop)
    except ValueError:  # not the main thread
        pass
    settled = False

    def settle() -> None:
        nonlocal settled
        settled = True
        for number in previous:
            signal.signal(number, signal.SIG_IGN)

    try:
        yield settle
    finally:
        if not (settled and exiting):
            for number, handler in previous.items():
                signal.signal(number, handler)


@contextmanager
def warnings_on_one_line() -> Iterator[None]:
    """Show every warning as one ``mlviz: warning:`` line on stderr (once per place)."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        kind = "" if issubclass(category, MlvizWarning) else f"{category.__name__}: "
        print(f"mlviz: warning: {kind}{one_line(message)}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def run_command(command: Callable[[Registry, Any], int], args: Any, *,
                exiting: bool = False) -> int:
    """Run a subcommand ``command(registry, args)`` and turn every failure into one line.

    Plugins are loaded first, into a session that is current while the command runs (their
    warnings print as ``mlviz: warning:`` lines); SIGTERM and SIGHUP stop the command like
    Ctrl-C, and a second one cannot cut the clean-up short; warnings print on one line;
    what goes to stdout is made printable. ``exiting``: the process ends with the returned
    status (the command line), so once stopped it ignores further signals to the end.
    Returns the exit status: 0, 1 (a plugin or mlviz failed), 2 (bad input), 128 + signal.
    """
    from .registry import PluginWarning
    from .session import Session, use

    registry: Registry | None = None
    show = traceback_wanted(bool(getattr(args, "traceback", False)))
    stdout = sys.stdout
    session = Session()
    with stop_signals_interrupt(exiting) as settle, warnings_on_one_line(), use(session):
        try:
            sys.stdout = PrintableStream(stdout)
            warnings.simplefilter("default", PluginWarning)  # even under -W ignore
            registry = session.registry  # loading warns through warnings_on_one_line
            status = command(registry, args)
            sys.stdout.flush()
            return status
        except (KeyboardInterrupt, Terminated) as exc:
            settle()
            start = "\n" if not isinstance(exc, Terminated) else ""
            outcome = getattr(exc, _OUTCOME, NOTHING_WRITTEN)
            print(f"{start}mlviz: {interrupted_reason(exc)}; {outcome}", file=sys.stderr)
            return interrupted_status(exc)
        except BrokenPipeError as exc:
            if blame(exc, registry, _algorithm(registry, args)) is not None:
                return report(exc, registry, _algorithm(registry, args), show)
            discard_stdout()  # the reader went away (``mlviz info x | head -1``)
            return 128 + getattr(signal, "SIGPIPE", 13)
        except SystemExit as exc:  # only a plugin's: mlviz itself returns its status
            algorithm = _algorithm(registry, args)
            if blame(exc, registry, algorithm) is None:
                raise
            return report(exc, registry, algorithm, show)
        except Exception as exc:
            return report(exc, registry, _algorithm(registry, args), show)
        finally:
            sys.stdout = stdout


def _algorithm(registry: Registry | None, args: Any) -> Algorithm | None:
    """The algorithm the command works on (render, train, info), if it names one."""
    name = getattr(args, "algorithm", None)
    if registry is None or not isinstance(name, str):
        return None
    return registry.algorithms.get(name)
