"""The ``mlviz`` command: render, list, info, gallery.

matplotlib and torch are not imported here: ``mlviz --help`` and ``mlviz list`` stay fast.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
import time
from collections.abc import Sequence
from pathlib import Path

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


def _seed(text: str) -> int:
    """An argparse type: a seed numpy and torch both accept (0 … 2**32 - 1)."""
    from .limits import MAX_SEED

    value = _number(int, 0)(text)
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_SEED}, got {text}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line like every other mlviz error."""

    def error(self, message: str):
        from .terminal import one_line

        self.exit(2, f"{self.prog}: error: {one_line(message)} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mlviz",
        description="Train classic machine-learning algorithms and animate how they learn.",
        epilog="Example: mlviz render kmeans -o kmeans.mp4 --set k_max=6",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--traceback", action="store_true",
                        help="on an error, print the whole traceback before the one-line "
                             "message (or set MLVIZ_TRACEBACK=1): for plugin authors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    training = argparse.ArgumentParser(add_help=False)
    training.add_argument("--frames", type=_positive_int, metavar="N",
                          help="frame budget: draw at most N frames, evenly spread over training")
    training.add_argument("--seed", type=_seed,
                          help="random seed (same seed, same animation), 0 to 4294967295")
    training.add_argument("--set", dest="settings", action="append", default=[],
                          metavar="KEY=VALUE",
                          help="set a hyperparameter (repeatable); see 'mlviz info ALGORITHM'")
    training.add_argument("--data", type=Path, metavar="FILE.csv",
                          help="train on your own numeric CSV file instead of the default data")
    training.add_argument("--max-epochs", type=_positive_int, metavar="N",
                          help="stop training after N epochs and draw what was trained")
    training.add_argument("--max-seconds", type=_positive_float, metavar="S",
                          help="stop training after S seconds and draw what was trained")
    training.add_argument("-q", "--quiet", action="store_true",
                          help="print nothing but errors (no progress bar)")

    render = commands.add_parser(
        "render", parents=[training], help="train an algorithm and write its animation",
        description="Train an algorithm and write its animation (GIF, MP4, or a PNG poster), "
                    "or render a run record saved by 'mlviz train' without training again. "
                    "Ctrl-C during training stops it and draws what was trained so far.",
    )
    render.add_argument("algorithm", metavar="ALGORITHM|RECORD.npz",
                        help="algorithm name (see 'mlviz list'), or a run record")
    render.add_argument("-o", "--output", type=Path, metavar="PATH",
                        help="output file; .gif, .mp4 or .png (last frame) "
                             "(default: ALGORITHM.gif in the current folder)")
    render.add_argument("--fps", type=_positive_float, help="frames per second "
                        "(default: the algorithm's, usually 5); GIF 0.002 to 50, MP4 0.01 to "
                        "240")
    render.add_argument("--dpi", type=_positive_float, default=100.0,
                        help="pixels per inch; 100 gives 960x540 frames (default: 100); 10 to "
                             "800, at most 8192 pixels a side and 40 Mpx a frame")

    train = commands.add_parser(
        "train", parents=[training], help="train an algorithm and save the run record (.npz)",
        description="Train an algorithm and save everything needed to draw it (config, data, "
                    "every epoch's traces, the snapshots to draw) as a run record, so that "
                    "'mlviz render RECORD.npz' can draw it to any format without training.",
    )
    train.add_argument("algorithm", help="algorithm name (see 'mlviz list')")
    train.add_argument("-o", "--output", type=Path, metavar="FILE.npz",
                       help="the run record to write (default: ALGORITHM.npz)")
    train.add_argument("--record-params", action="store_true",
                       help="also record every parameter at every epoch (more memory)")

    commands.add_parser("list", help="list the available algorithms",
                        description="One line per algorithm: name, summary, plugin.")

    info = commands.add_parser("info", help="describe an algorithm's hyperparameters and panels")
    info.add_argument("algorithm", help="algorithm name (see 'mlviz list')")

    gallery = commands.add_parser(
        "gallery", help="render every algorithm and write a browsable index.html",
        description="Render every installed algorithm (built-in and third-party) to a GIF, an "
                    "MP4 and a PNG poster, two at a time, and write OUTDIR/index.html: a grid "
                    "of posters that play on hover or click. An algorithm that fails is "
                    "reported on stderr and in the page; the others still render.",
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
    gallery.add_argument("-j", "--jobs", type=_positive_int, default=2, metavar="N",
                         help="worker processes, one algorithm each (default: 2)")
    gallery.add_argument("-q", "--quiet", action="store_true",
                         help="print nothing but failures")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; every failure is one ``mlviz: error:`` line (see mlviz.failure)."""
    args = build_parser().parse_args(argv)
    from .failure import run_command

    return run_command(_dispatch, args)


def _dispatch(registry, args) -> int:
    if args.command == "list":
        return _list(registry)
    if args.command == "info":
        return _info(registry, args.algorithm)
    if args.command == "gallery":
        return _gallery(registry, args)
    if args.command == "train":
        return _train(registry, args)
    return _render(registry, args)


def _list(registry) -> int:
    if not registry.algorithms:
        print("no algorithms are installed", file=sys.stderr)
        return 1
    names = sorted(registry.algorithms)
    width = max(map(len, names))
    for name in names:
        algorithm = registry.algorithms[name]
        print(f"{name:<{width}}  {algorithm.summary}  [{algorithm.plugin}]")
    return 0


def _info(registry, name: str) -> int:
    algorithm = registry.get(name)
    config = algorithm.config()
    print(f"{algorithm.name}: {algorithm.summary}")
    print(f"plugin: {algorithm.plugin}")
    print("\nhyperparameters (--set KEY=VALUE):")
    params = algorithm.config.params()
    name_w = max(len(p.name) for p in params)
    type_w = max(len(p.type_name) for p in params)
    default_w = max(len(_show(p.default)) for p in params)
    for p in params:
        allowed = _allowed(p)
        print(f"  {p.name:<{name_w}}  {p.type_name:<{type_w}}  {_show(p.default):<{default_w}}"
              f"  {p.help}{allowed}")
    print(f"\ndefault dataset: {algorithm.dataset_help or 'built in'}")
    if algorithm.load_data is None:
        print("--data: not supported")
    else:
        print(f"--data: {algorithm.data_help or 'a numeric CSV file'}")
    print("\npanels:")
    panels = algorithm.scene(config).panels
    kinds = Counter(type(panel) for panel in panels)
    first = {kind: next(p for p in panels if type(p) is kind) for kind in kinds}
    for kind, count in kinds.items():
        doc = (kind.__doc__ or "").strip().splitlines()
        times = f" (×{count})" if count > 1 else ""
        print(f"  {kind.name or kind.__name__}{times}: {doc[0] if doc else ''}")
        fields, traces = first[kind].requires()
        needs = [*(f"field {f}" for f in fields), *(f"trace {t}" for t in traces)]
        if needs:
            print(f"      needs: {', '.join(needs)}")
    print(f"\nframes: {algorithm.fps:g} per second by default")
    return 0


def _show(value) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


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
    progress = not args.quiet
    if progress and sys.stderr.isatty():
        print(f"training {algorithm.name}…", end="", file=sys.stderr, flush=True)
    prepared = prepare(algorithm, frames=args.frames, data=args.data, settings=args.settings,
                       epoch_limit=args.max_epochs, time_limit=args.max_seconds,
                       keep_on_interrupt=True, **options, **overrides)
    if progress and sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    run = prepared.run
    if run.stopped and not args.quiet:
        print(f"mlviz: training stopped ({run.stopped}) after {len(run.epochs)} epochs; "
              f"{then} what was trained", file=sys.stderr)
    return prepared


def _render(registry, args) -> int:
    from .api import write_animation
    from .limits import check_dpi
    from .record import is_record, load_run
    from .writers import check_fps, check_output_path

    start = time.perf_counter()
    check_dpi(args.dpi)
    if is_record(args.algorithm):
        changed = [flag for flag, value in (("--seed", args.seed), ("--set", args.settings),
                                            ("--data", args.data),
                                            ("--max-epochs", args.max_epochs),
                                            ("--max-seconds", args.max_seconds)) if value]
        if changed:
            raise MlvizError(f"{' and '.join(changed)} cannot change a recorded run; "
                             "train it again with 'mlviz train'")
        output: Path = args.output or Path(f"{Path(args.algorithm).stem}.gif")
        check_output_path(output)
        prepared = load_run(args.algorithm, registry).with_frames(args.frames)
    else:
        algorithm = registry.get(args.algorithm)
        output = args.output or Path(f"{algorithm.name}.gif")
        check_output_path(output)
        check_fps(output, args.fps or algorithm.fps)
        prepared = _prepare(registry, args)
    if args.fps is not None:
        prepared.fps = args.fps
    count = write_animation(prepared, output, dpi=args.dpi, progress=not args.quiet)
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
        print(f"wrote {output} ({len(run.epochs)} epochs, {run.n_frames} frames to draw, "
              f"{_bytes(output.stat().st_size)}, {time.perf_counter() - start:.1f} s)")
    return 0


def _gallery(registry, args) -> int:
    from .gallery import build_gallery

    try:
        result = build_gallery(args.outdir, only=args.only, settings=args.settings,
                               frames=args.frames, workers=args.jobs, quiet=args.quiet,
                               registry=registry)
    except (KeyboardInterrupt, Terminated) as exc:
        from .failure import interrupted_reason, interrupted_status

        print(f"\nmlviz: {interrupted_reason(exc)}; finished animations are kept, no partial "
              "file was left", file=sys.stderr)
        return interrupted_status(exc)
    return 1 if result.failed else 0


def _bytes(size: int) -> str:
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
