"""GIF, MP4 and PNG writers: decode what was written; nothing half-written on failure."""

from __future__ import annotations

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from mlviz import MlvizError, open_writer
from mlviz.writers import GifWriter, Mp4Writer, PngWriter, writer_class


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


def test_suffix_picks_the_writer():
    assert writer_class("a.gif") is GifWriter
    assert writer_class("a.MP4") is Mp4Writer
    assert writer_class("a.png") is PngWriter
    with pytest.raises(MlvizError, match="unknown output type '.avi'"):
        writer_class("a.avi")


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


def test_png_poster_is_the_last_frame(tmp_path):
    path = tmp_path / "poster.png"
    with open_writer(path) as writer:
        for frame in frames(3):
            writer.write(frame)
    with Image.open(path) as png:
        assert np.asarray(png.convert("RGB"))[5, 5].tolist() == [220, 40, 40]


@pytest.mark.parametrize("suffix", [".gif", ".mp4", ".png"])
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
    from mlviz.writers import FrameSpool, _palette_index, _shared_palette, _to_palette

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
    colours = np.array(palette.getpalette()[:768]).reshape(-1, 3)
    white = _palette_index(palette, (255, 255, 255))
    with Image.open(path) as gif:
        assert gif.n_frames == len(rendered)
        for i, frame in enumerate(rendered):
            gif.seek(i)
            decoded = np.asarray(gif.convert("RGB")).astype(int)
            assert np.array_equal(decoded, colours[_to_palette(frame, palette, white)]), i
            error = np.abs(decoded - frame).max(axis=2)
            assert (error > 40).mean() < 0.005 and error.mean() < 2.0, i
