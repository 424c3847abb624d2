"""Writers: every format decoded (frames, size, durations with the hold); the writer
registry (plugins, duplicate suffixes, missing optional dependencies); ``--hold``; nothing
half-written on failure."""

from __future__ import annotations

import errno
import os
import sys
import types

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

import mlviz
from mlviz import MlvizError, hookimpl, open_writer
from mlviz.cli import main
from mlviz.errors import LimitError
from mlviz.plugins import build_registry, get_plugin_manager, register_plugin
from mlviz.writers import (
    DEFAULT_HOLD,
    MAX_HOLD,
    ApngWriter,
    GifWriter,
    Mp4Writer,
    PngWriter,
    WebpWriter,
    Writer,
    check_output_path,
    writer_class,
)

ANIMATIONS = [".gif", ".webp", ".apng"]  # formats Pillow decodes with per-frame durations


def frames(n: int, width: int = 64, height: int = 48) -> list[np.ndarray]:
    """White frames with a coloured square moving right; the last is all red."""
    out = []
    for i in range(n):
        frame = np.full((height, width, 3), 255, dtype=np.uint8)
        frame[10:20, 2 + 4 * i: 12 + 4 * i] = (30, 120, 200)
        out.append(frame)
    out[-1][:] = (220, 40, 40)
    return out


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def decode(path) -> tuple[list[np.ndarray], list[float]]:
    """Every frame of an animated GIF, WebP or APNG as RGB, and its duration (ms)."""
    frames_, durations = [], []
    with Image.open(path) as image:
        for i in range(getattr(image, "n_frames", 1)):
            image.seek(i)
            image.load()  # WebP sets the duration when the frame is decoded
            frames_.append(np.asarray(image.convert("RGB")))
            durations.append(image.info.get("duration"))
    return frames_, durations


def mp4_frames(path) -> list[np.ndarray]:
    reader = imageio_ffmpeg.read_frames(str(path))
    width, height = next(reader)["size"]
    return [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader]


def test_suffix_picks_the_writer():
    assert writer_class("a.gif") is GifWriter
    assert writer_class("a.MP4") is Mp4Writer
    assert writer_class("a.png") is PngWriter
    assert writer_class("a.webp") is WebpWriter
    assert writer_class("a.APNG") is ApngWriter
    with pytest.raises(MlvizError, match=r"unknown output type '.avi': use one of "
                                         r"\.apng, \.gif, .*\.mp4, \.png, \.webp"):
        writer_class("a.avi")


def test_the_built_in_writers_come_from_the_core_writers_plugin():
    registry = mlviz.load_registry()
    for suffix in (".gif", ".mp4", ".webp", ".apng", ".png"):
        assert registry.writer_plugins[suffix].startswith("core-writers (mlviz ")
    for kind in registry.writers.values():
        assert kind.description and kind.suffix.startswith(".")


@pytest.mark.parametrize("suffix", ANIMATIONS)
@pytest.mark.parametrize("hold, last", [(DEFAULT_HOLD, 2000), (0, 250), (0.1, 250), (3.5, 3500)])
def test_animations_decode_with_every_frame_and_the_hold(tmp_path, suffix, hold, last):
    """Frame count, size, and durations: every frame 1/fps, the last max(1/fps, hold)."""
    path = tmp_path / f"out{suffix}"
    written = frames(6)
    with open_writer(path, fps=4, hold=hold) as writer:
        for frame in written:
            writer.write(frame)
    assert leftovers(tmp_path) == [path.name]
    decoded, durations = decode(path)
    assert len(decoded) == 6 and decoded[0].shape == (48, 64, 3)
    assert durations == [250] * 5 + [last]
    with Image.open(path) as image:
        assert image.info["loop"] == 0  # forever
    for i, (a, b) in enumerate(zip(decoded, written)):
        assert np.array_equal(a, b), f"frame {i} differs"  # few colours: exact in all three


def changing_frames(width: int = 65, height: int = 47, colours: int = 40) -> list[np.ndarray]:
    """Rectangles of random colours appearing at odd places, an unchanged frame, and
    finally everything back to white."""
    rng = np.random.default_rng(1)
    base = np.full((height, width, 3), 255, np.uint8)
    palette = rng.integers(0, 256, (colours, 3))
    written = [base]
    for i in range(8):
        frame = written[-1].copy()
        if i != 3:  # frame 4 repeats frame 3
            y, x = rng.integers(0, height - 7), rng.integers(0, width - 7)
            frame[y: y + 1 + i % 3, x: x + 7] = palette[rng.integers(0, colours)]
        written.append(frame)
    written.append(base.copy())
    return written


def test_apng_frame_differences_are_exact_at_odd_sizes_and_offsets(tmp_path):
    """Thousands of colours, changed rectangles anywhere: APNG decodes exactly."""
    written = changing_frames(colours=5000)
    path = tmp_path / "odd.apng"
    with open_writer(path, fps=10, hold=0) as writer:
        for frame in written:
            writer.write(frame)
    decoded, durations = decode(path)
    assert durations == [100] * len(written)
    for i, (a, b) in enumerate(zip(decoded, written)):
        assert np.array_equal(a, b), f"frame {i} is not exact"


def test_webp_shows_exactly_the_gifs_pixels(tmp_path, monkeypatch):
    """The same palette, coded losslessly: every WebP frame equals the GIF's, at odd sizes
    and offsets (WebP stores offsets halved), with the spool spilled to disk."""
    monkeypatch.setattr(WebpWriter, "spool_bytes", 3 * 65 * 47 * 3)
    written = changing_frames(colours=600)
    for suffix in (".gif", ".webp"):
        with open_writer(tmp_path / f"odd{suffix}", fps=10, hold=0) as writer:
            for frame in written:
                writer.write(frame)
            if suffix == ".webp":
                assert writer._spool._on_disk == len(written) - 3
    webp, durations = decode(tmp_path / "odd.webp")
    gif, _ = decode(tmp_path / "odd.gif")
    assert durations == [100] * len(written)
    for i, (a, b) in enumerate(zip(webp, gif)):
        assert np.array_equal(a, b), f"frame {i} differs from the GIF's"


def test_a_primed_webp_streams_and_writes_the_same_file(tmp_path):
    """Given the palette's frames first (as the renderer does), WebP encodes each frame as
    it arrives, and the file is byte for byte the spooled one."""
    written = changing_frames(colours=600)
    with open_writer(tmp_path / "spooled.webp", fps=10) as writer:
        for frame in written:
            writer.write(frame)
    writer = open_writer(tmp_path / "primed.webp", fps=10)
    writer.prime([written[i] for i in writer.frames_wanted_first(len(written))])
    sizes = []
    for frame in written:
        writer.write(frame)
        sizes.append(os.path.getsize(writer._tmp))
    writer.close()
    assert all(after > before for before, after in zip(sizes, sizes[1:]))
    assert (tmp_path / "primed.webp").read_bytes() == (tmp_path / "spooled.webp").read_bytes()


def test_apng_streams_to_disk_one_frame_behind(tmp_path):
    """Frames reach the file while the run is drawn: memory does not grow with the run."""
    writer = open_writer(tmp_path / "s.apng", fps=5)
    sizes = []
    for frame in frames(12):
        writer.write(frame)
        sizes.append(os.path.getsize(writer._tmp))
    assert sizes[0] < 100  # the header: the first frame waits for its duration
    assert all(after > before for before, after in zip(sizes, sizes[1:]))
    writer.close()
    assert len(decode(tmp_path / "s.apng")[0]) == 12


@pytest.mark.parametrize("hold, expected", [(DEFAULT_HOLD, 12 + 19), (0, 12), (0.05, 12)])
def test_mp4_holds_the_last_frame_by_repeating_it(tmp_path, hold, expected):
    """At 10 fps a 2 s hold is 20 frames of the last picture: 19 copies after it."""
    path = tmp_path / "hold.mp4"
    written = frames(12)
    with open_writer(path, fps=10, hold=hold) as writer:
        for frame in written:
            writer.write(frame)
    decoded = mp4_frames(path)
    assert len(decoded) == expected
    red = np.array([220, 40, 40])
    for frame in decoded[11:]:
        assert np.abs(frame[20, 30].astype(int) - red).max() < 12
    assert np.abs(decoded[10][15, 44].astype(int) - [30, 120, 200]).max() < 25


def test_png_poster_ignores_hold_and_captions(tmp_path):
    path = tmp_path / "poster.png"
    with open_writer(path, hold=5, captions=["a", "b", "c"]) as writer:
        for frame in frames(3):
            writer.write(frame)
    with Image.open(path) as png:
        assert getattr(png, "n_frames", 1) == 1
        assert np.asarray(png.convert("RGB"))[5, 5].tolist() == [220, 40, 40]


@pytest.mark.parametrize("hold", [-1, MAX_HOLD + 1, float("nan"), "soon"])
def test_a_bad_hold_is_a_one_line_error(tmp_path, hold):
    with pytest.raises(LimitError, match="hold must be"):
        open_writer(tmp_path / "a.gif", hold=hold)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix, fps, message", [
    (".webp", 91, "fps 91 is out of range for WEBP: WebP frames last whole milliseconds"),
    (".webp", 0.0005, "use 0.001 to 90 fps"),
    (".apng", 120, "fps 120 is out of range for APNG: browsers slow APNG frames"),
])
def test_webp_and_apng_frame_rate_limits(tmp_path, suffix, fps, message):
    with pytest.raises(LimitError, match=message):
        open_writer(tmp_path / f"a{suffix}", fps=fps)


def test_gif_frames_size_duration_loop_and_exact_colours(tmp_path):
    path = tmp_path / "out.gif"
    with open_writer(path, fps=4) as writer:
        for frame in frames(6):
            writer.write(frame)
    assert leftovers(tmp_path) == ["out.gif"]
    with Image.open(path) as gif:
        assert gif.n_frames == 6 and gif.size == (64, 48)
        assert gif.info["loop"] == 0
        durations = []
        decoded = []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
            decoded.append(np.asarray(gif.convert("RGB")))
    assert durations == [250] * 6
    assert (decoded[0][0, 0] == 255).all()  # white stays exactly white
    assert decoded[2][15, 12].tolist() == [30, 120, 200]
    assert decoded[5][0, 0].tolist() == [220, 40, 40]


def test_gif_spills_to_disk_beyond_its_memory_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(GifWriter, "spool_bytes", 3 * 64 * 48 * 3)
    path = tmp_path / "spill.gif"
    writer = open_writer(path, fps=5)
    for frame in frames(8):
        writer.write(frame)
    assert writer._spool._on_disk == 5
    writer.close()
    with Image.open(path) as gif:
        assert gif.n_frames == 8
        gif.seek(6)
        assert np.asarray(gif.convert("RGB"))[15, 30].tolist() == [30, 120, 200]


def test_mp4_is_h264_yuv420p_with_even_size(tmp_path):
    path = tmp_path / "out.mp4"
    with open_writer(path, fps=10) as writer:
        for frame in frames(12, width=65, height=47):
            writer.write(frame)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    count = sum(1 for _ in reader)
    assert count == 12
    assert meta["size"] == (66, 48)
    assert meta["fps"] == 10
    assert meta["codec"] == "h264"
    assert meta["pix_fmt"].startswith("yuv420p")
    assert leftovers(tmp_path) == ["out.mp4"]


@pytest.mark.parametrize("suffix", [".gif", ".mp4", ".png", ".webp", ".apng"])
def test_failure_leaves_nothing_and_keeps_the_old_file(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    path.write_bytes(b"previous")
    with pytest.raises(KeyboardInterrupt):
        with open_writer(path) as writer:
            writer.write(frames(2)[0])
            raise KeyboardInterrupt
    assert leftovers(tmp_path) == [path.name]
    assert path.read_bytes() == b"previous"


def test_closing_without_frames_fails_cleanly(tmp_path):
    writer = open_writer(tmp_path / "empty.gif")
    with pytest.raises(ValueError, match="no frame"):
        writer.close()
    assert leftovers(tmp_path) == []


def test_frame_checks(tmp_path):
    with pytest.raises(ValueError, match="size changed"):
        with open_writer(tmp_path / "a.gif") as writer:
            writer.write(frames(1)[0])
            writer.write(frames(1, width=32)[0])
    with pytest.raises(ValueError, match="uint8"):
        with open_writer(tmp_path / "b.gif") as writer:
            writer.write(np.zeros((4, 4, 3)))
    assert leftovers(tmp_path) == []


def test_bad_output_paths(tmp_path):
    with pytest.raises(MlvizError, match="does not exist"):
        open_writer(tmp_path / "missing" / "a.gif")
    with pytest.raises(MlvizError, match="is a folder"):
        (tmp_path / "dir.gif").mkdir()
        open_writer(tmp_path / "dir.gif")
    with pytest.raises(MlvizError, match="fps must be positive"):
        open_writer(tmp_path / "a.gif", fps=0)


def test_every_decoded_gif_frame_matches_the_rendered_frame(tmp_path):
    """Frame differences (cropping, transparency) are lossless; the palette is close."""
    import mlviz
    from mlviz.writers import FrameSpool, _shared_palette
    from mlviz.writers.palette import Quantizer, palette_rgb

    renderer = mlviz.prepare("kmeans", k_max=4, max_iter=3).renderer(dpi=60)
    rendered = list(renderer.frames())
    path = tmp_path / "k.gif"
    with open_writer(path) as writer:
        for frame in rendered:
            writer.write(frame)
    spool = FrameSpool(10**10)
    for frame in rendered:
        spool.append(frame)
    palette = _shared_palette(spool, GifWriter.palette_samples)
    quantize = Quantizer(palette)
    with Image.open(path) as gif:
        assert gif.n_frames == len(rendered)
        for i, frame in enumerate(rendered):
            gif.seek(i)
            decoded = np.asarray(gif.convert("RGB")).astype(int)
            indices, used = quantize(frame)  # the shared palette, or a local one
            assert np.array_equal(decoded, palette_rgb(used)[indices]), i
            error = np.abs(decoded - frame).max(axis=2)
            assert (error > 40).mean() < 0.005 and error.mean() < 2.0, i


def test_pillows_coarse_colour_matching_is_corrected_to_the_nearest_entry():
    """Pillow's cached matching sends some colours to an entry more than OFF_BY away while
    a near one exists (seen as whole frames of the optimizers scene given local palettes):
    the quantizer moves those pixels to their nearest entry, so frames fit the palette."""
    from mlviz.writers.palette import (
        OFF_BY,
        Quantizer,
        nearest_entries,
        palette_from,
        palette_rgb,
        to_palette,
    )

    rng = np.random.default_rng(4)
    palette = palette_from(rng.integers(0, 256, (255, 3), dtype=np.uint8))
    colours = palette_rgb(palette).astype(int)
    frame = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    reachable = nearest_entries(frame.reshape(-1, 3), palette_rgb(palette))[1].reshape(64, 64)
    plain = np.abs(colours[to_palette(frame, palette, None)] - frame).max(axis=2)
    assert ((plain > OFF_BY) & (reachable <= OFF_BY)).sum() > 5  # Pillow alone misses them
    quantize = Quantizer(palette)
    for step in range(3):  # the first frame, then frames updated over what changed
        if step:
            frame[10 * step: 10 * step + 8, 5:40] = rng.integers(0, 256, (8, 35, 3))
            reachable = nearest_entries(frame.reshape(-1, 3), palette_rgb(palette))[1].reshape(64, 64)
        indices, used = quantize(frame)
        shown = np.abs(palette_rgb(used).astype(int)[indices] - frame).max(axis=2)
        if used is palette:
            np.testing.assert_array_equal(shown > OFF_BY, reachable > OFF_BY)
        assert np.all(indices != 255)  # the transparent entry stays free


def test_a_frame_whose_colours_the_palette_lacks_is_not_searched_pixel_by_pixel():
    """Past REMAP_LIMIT off pixels the nearest-entry search is skipped (it would cost more
    than the local palette such a frame gets): indices unchanged, every off pixel counted."""
    from mlviz.writers.palette import REMAP_LIMIT, palette_from, palette_rgb, remap_off

    colours = palette_rgb(palette_from(np.array([[255, 255, 255], [0, 0, 0]], np.uint8)))
    frame = np.full((80, 80, 3), 200, dtype=np.uint8)
    frame[0, 0] = (0, 0, 0)
    indices = np.zeros((80, 80), dtype=np.uint8)  # everything shown white: 6,400 off
    off = np.ones((80, 80), dtype=bool)
    assert 80 * 80 > REMAP_LIMIT
    assert remap_off(frame, indices, colours, off) == 80 * 80
    assert not indices.any()
    few = np.zeros_like(off)
    few[0, :3] = True  # (0,0,0) and two greys: black moves to its entry, the greys stay off
    assert remap_off(frame, indices, colours, few) == 2
    assert tuple(colours[indices[0, 0]]) == (0, 0, 0)


@pytest.mark.parametrize("abort", [False, True])
def test_an_mp4_leaves_no_open_pipe_behind(tmp_path, abort):
    """ffmpeg's message pipe is closed when the file is finished or discarded (it was
    left to the garbage collector: 'ResourceWarning: unclosed file' under -W)."""
    import gc
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        try:
            with open_writer(tmp_path / "a.mp4", fps=10) as writer:
                for frame in frames(3):
                    writer.write(frame)
                if abort:
                    raise KeyError("stop")
        except KeyError:
            pass
        del writer
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
    assert (tmp_path / "a.mp4").exists() is not abort


@pytest.mark.parametrize("suffix", [".webp", ".apng"])
def test_a_failed_fsync_keeps_the_old_file(tmp_path, monkeypatch, suffix):
    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    target = tmp_path / f"out{suffix}"
    target.write_bytes(b"previous")
    writer = open_writer(target, fps=5)
    for frame in frames(3):
        writer.write(frame)
    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="No space left on device; the existing file is unchanged"):
        writer.close()
    assert target.read_bytes() == b"previous" and leftovers(tmp_path) == [target.name]


# The registry --------------------------------------------------------------------------------

class TextWriter(Writer):
    """A throwaway format: one line per frame, its caption and mean colour."""

    suffix = ".txt"
    description = "captions as text"

    def _open(self, size):
        self._lines = []

    def _write(self, frame):
        self._lines.append(f"{self.caption(self.frames_written)}|{frame.mean():.1f}")

    def _finish(self):
        self._tmp.write_text("\n".join(self._lines + [f"hold {self.hold:g}"]))


class OtherGif(TextWriter):
    suffix = ".GIF"


class NeedsFancy(TextWriter):
    suffix = ".fancy"
    requires = ("mlviz_no_such_module_for_tests", "fancylib")
    extra = "fancy"


def plugin(name, *items):
    module = types.ModuleType(name)
    module.mlviz_writers = hookimpl(lambda: list(items))
    return module


def registry_of(*plugins):
    pm, warnings = get_plugin_manager(load_entry_points=False)
    for name, module in plugins:
        assert register_plugin(pm, name, lambda module=module: module) is None
    return build_registry(pm, warnings)


@pytest.fixture
def registry():
    """mlviz's writers, then a third party's: a new format, a taken suffix, junk."""
    return registry_of(("core-writers (mlviz 0.2.0)", mlviz.writers),
                       ("extra (mlviz-extra 1.0)",
                        plugin("extra", TextWriter, OtherGif, NeedsFancy, "junk", Mp4Writer)))


def test_a_plugin_adds_a_format_and_cannot_take_a_suffix(registry, tmp_path):
    assert registry.writers[".txt"] is TextWriter and registry.writers[".gif"] is GifWriter
    assert registry.writers[".mp4"] is Mp4Writer  # the same class twice: no warning
    assert registry.writer_plugins[".txt"] == "extra (mlviz-extra 1.0)"
    assert registry.warnings == [
        "plugin extra (mlviz-extra 1.0) registers writer '.gif', already taken by "
        "core-writers (mlviz 0.2.0); ignored",
        "plugin extra (mlviz-extra 1.0) returned 'junk' from mlviz_writers, not a Writer "
        "subclass; ignored",
    ]
    path = tmp_path / "run.txt"
    with open_writer(path, fps=2, hold=1.5, captions=["a", "b"], registry=registry) as writer:
        for frame in frames(2):
            writer.write(frame)
    assert path.read_text().splitlines()[0].startswith("a|")
    assert path.read_text().splitlines()[-1] == "hold 1.5"
    with pytest.raises(MlvizError, match=r"unknown output type '.txt': use one of \.apng, "):
        writer_class(path)  # not installed: the default registry does not have it


def test_a_missing_optional_dependency_names_the_extra_before_training(registry, tmp_path,
                                                                        monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking the output")

    monkeypatch.setattr("mlviz.api.prepare", no_training)
    with pytest.raises(MlvizError) as missing:
        mlviz.render("kmeans", tmp_path / "k.fancy", registry=registry)
    assert str(missing.value) == "writing .fancy needs fancylib: pip install 'mlviz[fancy]'"
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if not installed
    with pytest.raises(MlvizError, match="^writing .mp4 needs imageio-ffmpeg: pip install "
                                         "imageio-ffmpeg$"):
        check_output_path(tmp_path / "k.mp4")
    with pytest.raises(MlvizError, match="writing .mp4 needs"):
        Mp4Writer(tmp_path / "k.mp4")
    assert leftovers(tmp_path) == []


def test_write_animation_gives_each_writer_its_captions_and_hold(registry, tmp_path):
    from mlviz.api import frame_captions, write_animation

    prepared = mlviz.prepare("kmeans", k_max=2, max_iter=2, frames=3)
    assert write_animation(prepared, tmp_path / "k.txt", dpi=20, registry=registry) == 3
    lines = (tmp_path / "k.txt").read_text().splitlines()
    captions = frame_captions(prepared.run)
    assert [line.split("|")[0] for line in lines[:-1]] == captions
    assert captions[-1].startswith(f"epoch {prepared.run.snapshots[-1].epoch} · loss ")
    assert lines[-1] == f"hold {DEFAULT_HOLD:g}"
    write_animation(prepared, tmp_path / "k.txt", dpi=20, registry=registry, hold=0,
                    captions=["x", "y", "z"])
    again = (tmp_path / "k.txt").read_text().splitlines()
    assert [line.split("|")[0] for line in again] == ["x", "y", "z", "hold 0"]
    with pytest.raises(MlvizError, match="captions must be 3 texts, one per frame, got 2"):
        write_animation(prepared, tmp_path / "k.txt", registry=registry, captions=["x", "y"])


# The command line --------------------------------------------------------------------------

@pytest.mark.parametrize("value, message", [
    ("-1", "argument --hold: must be at least 0, got -1"),
    ("61", "argument --hold: must be at most 60 seconds, got 61"),
    ("1e9", "must be at most 60 seconds"),
    ("nan", "expected a finite number"),
    ("soon", "expected a number, got 'soon'"),
])
def test_bad_hold_on_the_command_line(tmp_path, monkeypatch, capsys, value, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["render", "kmeans", "--hold", value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert leftovers(tmp_path) == []


def test_the_hold_help_gives_the_real_default_and_limit(capsys):
    with pytest.raises(SystemExit):
        main(["render", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"(default: {DEFAULT_HOLD:g})" in text and f"at most {MAX_HOLD:g}" in text
    for suffix in (".gif", ".mp4", ".webp", ".apng", ".png"):
        assert suffix in text


def test_render_holds_by_default_and_hold_0_turns_it_off(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    quick = ["--set", "k_max=2", "--set", "max_iter=2", "--frames", "3", "--dpi", "20", "-q"]
    assert main(["render", "kmeans", *quick, "-o", "a.webp"]) == 0
    assert main(["render", "kmeans", *quick, "-o", "b.apng", "--hold", "0", "--fps", "8"]) == 0
    assert decode(tmp_path / "a.webp")[1] == [200, 200, 2000]
    assert decode(tmp_path / "b.apng")[1] == [125, 125, 125]


def read_frames(path) -> list[np.ndarray]:
    """Every frame of an animation as RGB, composed as a viewer shows it."""
    from PIL import ImageSequence

    with Image.open(path) as image:
        return [np.array(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)]


def off_share(decoded: np.ndarray, frame: np.ndarray) -> float:
    """The share of pixels off by more than 48 in some channel."""
    return float((np.abs(decoded.astype(int) - frame.astype(int)).max(axis=2) > 48).mean())


@pytest.mark.parametrize("suffix", [".gif", ".webp"])
def test_palette_keeps_rare_colours_and_gives_a_frame_that_does_not_fit_its_own(
        suffix, tmp_path):
    """A marker of a few pixels in a frame the palette never sampled keeps its colour; a
    frame in colours unlike the others gets a local palette instead of wrong colours."""
    from mlviz.writers.palette import palette_picks

    y, x = np.mgrid[0:64, 0:96]
    base = np.stack([x * 2, y * 3, np.full_like(x, 90)], axis=2).astype(np.uint8)
    frames = [base.copy() for _ in range(20)]
    unseen = next(i for i in range(20) if i not in palette_picks(20, GifWriter.palette_samples))
    frames[unseen][30:33, 40:43] = (250, 230, 40)  # viridis yellow, nine pixels
    rng = np.random.default_rng(3)
    odd = unseen + 1
    frames[odd] = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)  # every colour
    frames[odd][::2] = (20, 200, 240)
    with open_writer(tmp_path / f"x{suffix}", fps=10) as writer:
        for frame in frames:
            writer.write(frame)
    quantize = getattr(writer, "_quantize", None) or writer._encoder.quantize
    decoded = read_frames(tmp_path / f"x{suffix}")
    assert np.abs(decoded[unseen][30:33, 40:43].astype(int) - (250, 230, 40)).max() <= 48
    for i, (shown, frame) in enumerate(zip(decoded, frames)):
        if i != odd:  # noise has more colours than any palette: it only gets closer
            assert off_share(shown, frame) <= 0.00005, i
    assert quantize.local_frames >= 1
    # The noise frame is closer on its own palette than on the run's.
    from mlviz.writers.palette import Quantizer, off_pixels, palette_of, palette_rgb

    shared = palette_of([frames[i] for i in palette_picks(20, 8)])
    only = Quantizer(shared)
    indices, palette = only(frames[odd])
    assert palette is not shared
    on_shared = off_pixels(frames[odd], np.asarray(
        Image.fromarray(frames[odd]).quantize(palette=shared, dither=Image.Dither.NONE)),
        palette_rgb(shared))
    assert off_pixels(frames[odd], indices, palette_rgb(palette)) < on_shared


def test_chapters_reach_writers_that_take_them_and_spare_those_that_do_not(tmp_path):
    class OldWriter(Writer):  # written for mlviz 0.2: no chapters keyword
        suffix = ".old"

        def __init__(self, path, fps=5.0, *, hold=0.0, captions=None):
            super().__init__(path, fps, hold=hold, captions=captions)

        def _write(self, frame):
            pass

        def _finish(self):
            self._tmp.write_bytes(b"old")

    registry = registry_of(("core-writers (mlviz 0.2.0)", mlviz.writers))
    registry.writers[".old"] = OldWriter
    chapters = [(0, "Start", "It begins."), (2, "End", "It ends.")]
    old = open_writer(tmp_path / "a.old", chapters=chapters, registry=registry)
    old.abort()
    html = open_writer(tmp_path / "a.html", chapters=chapters, registry=registry)
    assert html.chapters == tuple(chapters) and html.chapter(1) == chapters[0]
    assert html.chapter(5) == chapters[1]
    html.abort()
