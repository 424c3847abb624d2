"""The ``mlviz`` command: render, list, info, gallery.

matplotlib and torch are not imported here: ``mlviz --help`` and ``mlviz list`` stay fast.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import MlvizError, Terminated


def _number(kind: type, minimum: float, inclusive: bool = True):
    """An argparse type: a finite ``kind`` (int or float) at least (or above) ``minimum``."""
    word = "a whole number" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {word}, got '{text}'") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"expected a finite number, got '{text}'")
        if value < minimum or (not inclusive and value == minimum):
            bound = f"at least {minimum:g}" if inclusive else f"more than {minimum:g}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    return parse


_positive_int = _number(int, 1)
_positive_float = _number(float, 0, inclusive=False)


def _hold(text: str) -> float:
    """An argparse type: seconds the last frame is held, 0 to ``MAX_HOLD``."""
    from .writers import MAX_HOLD

    value = _number(float, 0)(text)
    if value > MAX_HOLD:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_HOLD:g} seconds, got {text}")
    return value


def _seed(text: str) -> int:
    """An argparse type: a seed numpy and torch both accept (0 … 2**32 - 1)."""
    from .limits import MAX_SEED

    value = _number(int, 0)(text)
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_SEED}, got {text}")
    return value


class _VersionAction(argparse.Action):
    """``--version``: the installed version, looked up only when asked (the package
    metadata costs more to import than the rest of ``mlviz --help``)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show program's version number and exit"):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0,
                         help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        parser.exit(message=f"{parser.prog} {_version()}\n")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line like every other mlviz error, and no
    abbreviated options: ``--frame 10`` is an error, not silently ``--frames 10``."""

    #: ``render`` and ``train``: the help ends with the installed algorithms' names.
    lists_algorithms: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        from .terminal import one_line

        self.exit(2, f"{self.prog}: error: {one_line(message)} (see '{self.prog} --help')\n")

    def format_help(self) -> str:
        """The help, and for ``render`` and ``train`` the installed algorithms' names."""
        text = super().format_help()
        if self.lists_algorithms:
            text += "\n" + _algorithms_help()
        return text


def _algorithms_help() -> str:
    """One paragraph naming every installed algorithm (plugins load; no matplotlib)."""
    import textwrap

    from .session import registry

    try:
        names = sorted(registry().algorithms)
    except Exception:  # a broken installation must not break --help
        return ""
    text = f"algorithms: {', '.join(names)} ('mlviz list' says what each does)"
    return textwrap.fill(text, width=80, break_on_hyphens=False) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mlviz",
        description="Train classic machine-learning algorithms and animate how they learn.",
        epilog="Example: mlviz render kmeans -o kmeans.mp4 --set k_max=6",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("--traceback", action="store_true",
                        help="on an error, print the whole traceback before the one-line "
                             "message (or set MLVIZ_TRACEBACK=1): for plugin authors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    training = _Parser(add_help=False)
    training.add_argument("--frames", type=_positive_int, metavar="N",
                          help="frame budget: draw at most N frames, evenly spread over training "
                               "(default: every scheduled frame, at most 1000)")
    training.add_argument("--seed", type=_seed,
                          help="random seed (same seed, same animation), 0 to 4294967295")
    training.add_argument("--set", dest="settings", action="append", default=[],
                          metavar="KEY=VALUE",
                          help="set a hyperparameter (repeatable); see 'mlviz info ALGORITHM'")
    training.add_argument("--data", type=Path, metavar="FILE.csv",
                          help="train on your own CSV file instead of the default data ("
                               "separator , ; tab | or spaces, header row optional); 'mlviz "
                               "info ALGORITHM' says which columns it takes")
    training.add_argument("--columns", metavar="A,B",
                          help="the --data columns to use as features, by header name (x1, "
                               "x2, … without a header), in order")
    training.add_argument("--label", metavar="C",
                          help="the --data column holding the label or target (default: the "
                               "last chosen column), for algorithms that take one")
    training.add_argument("--max-epochs", type=_positive_int, metavar="N",
                          help="stop training after N epochs and draw what was trained")
    training.add_argument("--max-seconds", type=_positive_float, metavar="S",
                          help="stop training after S seconds and draw what was trained")
    training.add_argument("--sweep", action="append", default=[], metavar="KEY=V1,V2,...",
                          help="compare runs: train one per value of hyperparameter KEY and "
                               "draw them in one animation, synchronised by epoch (values of a "
                               "list hyperparameter are separated by ';'; KEY alone: the "
                               "algorithm's default values); twice for a grid")
    training.add_argument("-q", "--quiet", action="store_true",
                          help="print nothing but errors (no progress bar)")

    render = commands.add_parser(
        "render", parents=[training], help="train an algorithm and write its animation",
        description="Train an algorithm and write its animation (GIF, MP4, WebP, APNG, or a "
                    "PNG poster), "
                    "or render a run record saved by 'mlviz train' without training again. "
                    "Ctrl-C during training stops it and draws what was trained so far.",
    )
    render.lists_algorithms = True
    render.add_argument("algorithm", metavar="ALGORITHM|RECORD.npz",
                        help="algorithm name (see 'mlviz list'), or a run record")
    render.add_argument("-o", "--output", type=Path, metavar="PATH",
                        help="output file; its suffix picks the format: .gif (256 colours, plays "
                             "everywhere), .mp4 (H.264, smallest), .webp (the GIF's pixels, 20 "
                             "to 40 percent smaller), .apng (exact colours, largest), .png (the last "
                             "frame), or a plugin's (default: ALGORITHM.gif in the current "
                             "folder)")
    render.add_argument("--fps", type=_positive_float, help="frames per second "
                        "(default: the algorithm's, usually 5); GIF 0.002 to 50, WebP and APNG "
                        "0.001 to 90, MP4 0.01 to 240")
    render.add_argument("--hold", type=_hold, metavar="SECONDS", default=None,
                        help="how long the last frame stays on screen before the animation "
                             "loops (default: 2); 0 gives it one frame's time; at most 60")
    render.add_argument("--dpi", type=_positive_float, default=None,
                        help="pixels per inch (default: 100, which gives 1280x720 frames for "
                             "every built-in scene; a sweep's and --panel's default gives "
                             "1280x720 too); 10 to 800, at most 8192 pixels a side and 40 Mpx "
                             "a frame")
    look = render.add_argument_group("look")
    look.add_argument("--theme", metavar="NAME", default=None,
                      help="colours and background: light (default), dark, transparent (PNG "
                           "posters only: no background, for slides), or a plugin's theme; "
                           "every palette is colour-blind safe")
    look.add_argument("--size", metavar="WxH", default=None,
                      help="frame size in pixels, e.g. 1920x1080: the layout stays, the "
                           "resolution follows (instead of --dpi); each side 144 to 8192, "
                           "1 to 4 times as wide as tall, 40 Mpx at most")
    look.add_argument("--font-scale", type=_positive_float, default=None, metavar="X",
                      help="text X times larger, for a projector or a small embed (0.5 to "
                           "1.5; default: 1)")
    look.add_argument("--panel", metavar="NAME", default=None,
                      help="draw only this panel of the scene (names: 'mlviz info ALGORITHM'); "
                           "NAME:N picks the N-th of several with one name")
    look.add_argument("--no-caption", dest="caption", action="store_false",
                      help="leave out the caption strip below the panels (the playing "
                           "chapter's sentence and the objective, where the algorithm tells "
                           "a story; never in .html)")
    render.add_argument("--overlay", metavar="PANELS",
                        help="with --sweep: the panels drawn once with every run on them "
                             "(names from 'mlviz info', comma-separated; 'all': every panel "
                             "that can; 'none': all side by side; default: the algorithm's "
                             "choice); the others are drawn side by side, one per run")
    render.add_argument("-j", "--jobs", type=_positive_int, default=None, metavar="N",
                        help="processes drawing frames while this one encodes them (default: "
                             "one per available core; 1: draw here); runs of fewer than 16 "
                             "frames are drawn here; the output is the same either way")

    train = commands.add_parser(
        "train", parents=[training], help="train an algorithm and save the run record (.npz)",
        description="Train an algorithm and save everything needed to draw it (config, data, "
                    "every epoch's traces, the snapshots to draw) as a run record, so that "
                    "'mlviz render RECORD.npz' can draw it to any format without training.",
    )
    train.lists_algorithms = True
    train.add_argument("algorithm", help="algorithm name (see 'mlviz list')")
    train.add_argument("-o", "--output", type=Path, metavar="FILE.npz",
                       help="the run record to write (default: ALGORITHM.npz)")
    train.add_argument("--record-params", action="store_true",
                       help="also record every parameter at every epoch (more memory)")

    commands.add_parser("list", help="list the available algorithms",
                        description="One line per algorithm: name, summary, plugin.")

    info = commands.add_parser("info", help="describe an algorithm's hyperparameters and panels")
    info.add_argument("algorithm", help="algorithm name (see 'mlviz list')")

    check = commands.add_parser(
        "check", help="run the conformance checks of an algorithm (mlviz.testing)",
        description="Train the algorithm once and run every check of "
                    "mlviz.testing.check_algorithm; print one line per check; exit 1 if one "
                    "fails.")
    check.add_argument("algorithm", help="algorithm name (see 'mlviz list')")
    check.add_argument("--set", dest="settings", action="append", default=[],
                       metavar="KEY=VALUE",
                       help="set a hyperparameter for the checks (repeatable): settings that "
                            "train quickly make the checks quick")

    gallery = commands.add_parser(
        "gallery", help="render every algorithm and write a browsable index.html",
        description="Render every installed algorithm (built-in and third-party) to a GIF, an "
                    "MP4 (or the formats of --formats) and a PNG poster, two at a time, and "
                    "write OUTDIR/index.html: a grid of posters that play on hover or click. "
                    "An algorithm that fails is reported on stderr and in the page; the "
                    "others still render.",
    )
    gallery.add_argument("outdir", type=Path, metavar="OUTDIR",
                         help="folder for the page and the animations (created if missing)")
    gallery.add_argument("--only", nargs="+", metavar="NAME", default=None,
                         help="render only these algorithms")
    gallery.add_argument("--frames", type=_positive_int, metavar="N",
                         help="frame budget for every algorithm (quick previews)")
    gallery.add_argument("--set", dest="settings", action="append", default=[],
                         metavar="NAME:KEY=VALUE",
                         help="set a hyperparameter of one algorithm (repeatable), "
                              "e.g. kmeans:k_max=4")
    gallery.add_argument("--formats", metavar="LIST", default="gif,mp4",
                         help="animation formats to write besides the PNG poster, "
                              "comma-separated, e.g. webp,gif,mp4 (any format 'mlviz render -o' "
                              "takes); the page plays the first (default: gif,mp4)")
    gallery.add_argument("-j", "--jobs", type=_positive_int, default=2, metavar="N",
                         help="worker processes, one algorithm each (default: 2)")
    gallery.add_argument("--scheduler", metavar="ADDRESS", default=None,
                         help="run the renders on the Dask cluster of this scheduler "
                              "(e.g. tcp://10.0.0.5:8786; needs pip install 'mlviz[dask]') "
                              "instead of local worker processes")
    gallery.add_argument("--no-cache", dest="cache", action="store_false",
                         help="render every algorithm, even those whose settings, data, "
                              "versions and code have not changed since the last build")
    gallery.add_argument("-q", "--quiet", action="store_true",
                         help="print nothing but failures")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; every failure is one ``mlviz: error:`` line (see mlviz.failure)."""
    args = build_parser().parse_args(argv)
    from .failure import run_command

    if argv is None and args.command in ("list", "info"):
        # The real command line: answered from the cache when no plugin changed since
        # (see mlviz.cache); a call from Python always runs in full.
        from .cache import cached_command

        return cached_command(args, lambda: run_command(_dispatch, args, exiting=True))
    return run_command(_dispatch, args, exiting=argv is None)


def _dispatch(registry, args) -> int:
    if args.command == "list":
        return _list(registry)
    if args.command == "info":
        return _info(registry, args.algorithm)
    if args.command == "gallery":
        return _gallery(registry, args)
    if args.command == "check":
        return _check(registry, args)
    if args.command == "train":
        return _train(registry, args)
    return _render(registry, args)


def _list(registry) -> int:
    if not registry.algorithms:
        print("no algorithms are installed", file=sys.stderr)
        return 1
    from .plugins import OWN_DISTRIBUTION

    names = sorted(registry.algorithms)
    width = max(map(len, names))
    own = ""
    for name in names:
        algorithm = registry.algorithms[name]
        dist = _distribution(algorithm.plugin)
        if dist and dist.split()[0] == OWN_DISTRIBUTION:
            own = dist
            print(f"{name:<{width}}  {algorithm.summary}")
        else:
            print(f"{name:<{width}}  {algorithm.summary}  [{algorithm.plugin}]")
    if own:
        print(f"\nbuilt in: {own}; others name their plugin in [brackets]. "
              "'mlviz info NAME' for more")
    from .compat import requirement_conflicts

    for line in requirement_conflicts():
        print(f"mlviz: warning: {line}", file=sys.stderr)
    return 0


def _check(registry, args) -> int:
    from .testing import run_checks

    results = run_checks(registry.get(args.algorithm), registry=registry,
                         settings=args.settings)
    prefix = f"check_algorithm({args.algorithm!r}) "
    for check_id, message in results:
        why = " ".join(message.removeprefix(prefix).partition(": ")[2].split())
        print(f"{'FAIL' if message else 'ok':<4}  {check_id}{': ' + why if why else ''}")
    return 1 if any(message for _, message in results) else 0


def _distribution(plugin: str) -> str:
    """The distribution and version of a plugin label ``"kmeans (mlviz 0.2.0)"``."""
    head, sep, tail = plugin.rpartition(" (")
    return tail[:-1] if sep and tail.endswith(")") else ""


def _info(registry, name: str) -> int:
    from .config import show_value
    from .sweep import sweep_defaults

    algorithm = registry.get(name)
    config = algorithm.config()
    print(f"{algorithm.name}: {algorithm.summary}")
    print(f"plugin: {algorithm.plugin}")
    print("\nhyperparameters (--set KEY=VALUE):")
    params = algorithm.config.params()
    name_w = max(len(p.name) for p in params)
    type_w = max(len(p.type_name) for p in params)
    default_w = max(len(show_value(p.default)) for p in params)
    for p in params:
        allowed = _allowed(p)
        print(f"  {p.name:<{name_w}}  {p.type_name:<{type_w}}  "
              f"{show_value(p.default):<{default_w}}  {p.help}{allowed}")
    print()
    print(_wrapped(f"default dataset: {algorithm.dataset_help or 'built in'}", "    "))
    if algorithm.load_data is None:
        reason = algorithm.no_data_reason or "its plugin reads no data"
        print(_wrapped(f"--data: not accepted: {reason}", "    "))
    else:
        print(_wrapped(f"--data: {algorithm.data_help or 'a CSV file of numbers'}", "    "))
        print(_wrapped("--columns A,B chooses columns by header name (x1, x2, … without a "
                       "header); the separator (, ; tab | or spaces) is detected", "    "))
        if algorithm.dataset_params:
            names = algorithm.dataset_params
            they = "they shape" if len(names) > 1 else "it shapes"
            print(_wrapped(f"with --data, leave out {', '.join(names)}: {they} the default "
                           "dataset only", "    "))
    print("\npanels:")
    panels = algorithm.make_scene(config).panels
    kinds = Counter(type(panel) for panel in panels)
    first = {kind: next(p for p in panels if type(p) is kind) for kind in kinds}
    for kind, count in kinds.items():
        times = f" (×{count})" if count > 1 else ""
        print(_wrapped(f"  {kind.name or kind.__name__}{times}: {_first_paragraph(kind)}",
                       "      "))
        fields, traces = first[kind].requires()
        needs = [*(f"field {f}" for f in fields), *(f"trace {t}" for t in traces)]
        if needs:
            print(f"      needs: {', '.join(needs)}")
    print(f"\nframes: {algorithm.fps:g} per second by default")
    for key, values in sweep_defaults(algorithm).values.items():
        shown = (";" if isinstance(values[0], tuple) else ",").join(map(show_value, values))
        print(_wrapped(f"sweep: --sweep {key} compares {key}={shown} (see docs: Sweeps)",
                       "    "))
    return 0


def _first_paragraph(kind: type) -> str:
    """A class docstring's first paragraph, on one line."""
    text = (kind.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(text.split())


def _wrapped(text: str, indent: str) -> str:
    """``text`` wrapped to the terminal (at most 100 columns), later lines indented."""
    import shutil
    import textwrap

    width = max(60, min(100, shutil.get_terminal_size((100, 24)).columns))
    return textwrap.fill(text, width=width, subsequent_indent=indent, break_on_hyphens=False)


def _allowed(p) -> str:
    if p.choices:
        return f" [{' | '.join(map(str, p.choices))}]"
    if p.min is not None and p.max is not None:
        return f" [{_bound(p.min)} to {_bound(p.max)}]"
    if p.min is not None:
        return f" [≥ {_bound(p.min)}]"
    if p.max is not None:
        return f" [≤ {_bound(p.max)}]"
    return ""


def _bound(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _prepare(registry, args, then: str = "drawing", **options):
    """Train as the training options of ``render`` and ``train`` say; Ctrl-C keeps the run."""
    from .api import prepare

    algorithm = registry.get(args.algorithm)
    overrides = {} if args.seed is None else {"seed": args.seed}
    if args.sweep:
        options["sweep"] = args.sweep
    prepared = prepare(algorithm, frames=args.frames, data=_user_data(args),
                       settings=args.settings,
                       epoch_limit=args.max_epochs, time_limit=args.max_seconds,
                       keep_on_interrupt=True, progress=_progress_wanted(args),
                       **options, **overrides)
    run = prepared.run
    if prepared.stopped and not args.quiet:  # a sweep marks each run instead
        print(f"mlviz: training stopped ({run.stopped}) after {run.n_epochs} epochs; "
              f"{then} what was trained", file=sys.stderr)
    return prepared


def _user_data(args):
    """``--data`` with the columns ``--columns`` and ``--label`` choose (``None``: none)."""
    if args.data is None:
        if args.columns is not None or args.label is not None:
            flag = "--columns" if args.columns is not None else "--label"
            raise MlvizError(f"{flag} chooses columns of a --data file; give --data FILE too")
        return None
    from .dataset import UserData

    return UserData(args.data, columns=args.columns, label=args.label)


def _progress_wanted(args) -> bool:
    """Progress bars on stderr: only on a terminal, never with --quiet."""
    from .progress import wanted

    return wanted(args.quiet)


def _render(registry, args) -> int:
    from .api import check_theme_output, parse_size, write_animation
    from .limits import check_dpi
    from .record import is_record, load_run
    from .renderer import skip_artist_docstrings
    from .theme import resolve_theme
    from .writers import check_fps, check_output_path

    skip_artist_docstrings()  # 0.1 s of start-up: this process never shows them
    start = time.perf_counter()
    if args.dpi is not None:
        check_dpi(args.dpi)
    if args.size is not None:
        parse_size(args.size)
        if args.dpi is not None:
            raise MlvizError("give --size or --dpi, not both: the size sets the resolution")
    theme = resolve_theme(args.theme, registry, args.font_scale)  # fails before training
    if args.panel is not None and args.sweep:
        raise MlvizError("--panel draws one panel of one run; a sweep draws them all (use "
                         "--overlay to choose which are shared)")
    if is_record(args.algorithm):
        changed = [flag for flag, value in (("--seed", args.seed), ("--set", args.settings),
                                            ("--data", args.data),
                                            ("--columns", args.columns),
                                            ("--label", args.label),
                                            ("--max-epochs", args.max_epochs),
                                            ("--max-seconds", args.max_seconds),
                                            ("--sweep", args.sweep))
                   if value not in (None, [])]
        if changed:
            raise MlvizError(f"{' and '.join(changed)} cannot change a recorded run; "
                             "train it again with 'mlviz train'")
        output: Path = args.output or Path(f"{Path(args.algorithm).stem}.gif")
        check_output_path(output, registry)
        check_theme_output(theme, output, registry)
        prepared = load_run(args.algorithm, registry).with_frames(args.frames)
        if args.overlay is not None:
            prepared = prepared.with_overlay(args.overlay)
    else:
        algorithm = registry.get(args.algorithm)
        output = args.output or Path(f"{algorithm.name}.gif")
        check_output_path(output, registry)
        check_theme_output(theme, output, registry)
        check_fps(output, args.fps or algorithm.fps, registry)
        prepared = _prepare(registry, args, **({} if args.overlay is None
                                               else {"overlay": args.overlay}))
    if args.fps is not None:
        prepared.fps = args.fps
    from .writers import DEFAULT_HOLD

    hold = DEFAULT_HOLD if args.hold is None else args.hold
    if (args.theme, args.font_scale, args.size, args.panel) != (None, None, None, None):
        prepared = prepared.styled(theme=args.theme, font_scale=args.font_scale,
                                   size=args.size, panel=args.panel, registry=registry)
    count = write_animation(prepared, output, dpi=args.dpi, progress=_progress_wanted(args),
                            hold=hold, registry=registry, jobs=args.jobs, caption=args.caption)
    if not args.quiet:
        size = output.stat().st_size
        print(f"wrote {output} ({count} frame{'' if count == 1 else 's'}, {_bytes(size)}, "
              f"{time.perf_counter() - start:.1f} s)")
    return 0


def _train(registry, args) -> int:
    from .record import check_record_path, save_run

    start = time.perf_counter()
    algorithm = registry.get(args.algorithm)
    output: Path = args.output or Path(f"{algorithm.name}.npz")
    check_record_path(output)
    prepared = _prepare(registry, args, then="saving", record_params=args.record_params)
    save_run(prepared, output)
    if not args.quiet:
        run = prepared.run
        size = _bytes(output.stat().st_size)
        trained = f"{len(prepared.runs)} runs" if args.sweep else f"{run.n_epochs} epochs"
        print(f"wrote {output} ({trained}, {prepared.n_frames} frames to draw, {size}, "
              f"{time.perf_counter() - start:.1f} s)")
    return 0


def _gallery(registry, args) -> int:
    from .gallery import build_gallery

    try:
        result = build_gallery(args.outdir, only=args.only, settings=args.settings,
                               frames=args.frames, workers=args.jobs, quiet=args.quiet,
                               registry=registry, formats=args.formats,
                               scheduler=args.scheduler, cache=args.cache)
    except (KeyboardInterrupt, Terminated) as exc:  # reported by run_command
        from .failure import stopped_leaving

        stopped_leaving(exc, "finished animations are kept, no partial file was left")
        raise
    return 1 if result.failed else 0


def _bytes(size: float) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("mlviz")
    except metadata.PackageNotFoundError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
