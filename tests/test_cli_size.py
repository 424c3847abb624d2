"""``--size WxH``: a bad size is one line in pixels (what was typed), before training; every
size it accepts is drawn at exactly that size by every kind of layout."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

import mlviz
from mlviz.api import parse_size
from mlviz.errors import MlvizError
from mlviz.limits import MAX_PIXELS, MAX_SIDE, check_frame_size
from mlviz.prepared import MAX_WIDE, MIN_SIDE
from mlviz.scene import fit_figsize
from mlviz.sweep.declare import MAX_SCALE
from mlviz.sweep.layout import BASE_FIGSIZE

RANGE = (f"a frame is {MIN_SIDE} to {MAX_SIDE} pixels a side, {MAX_PIXELS:,} pixels at most, "
         f"and 1 to {MAX_WIDE} times as wide as tall (e.g. 1920x1080, ")

# (what was typed, what the line must say is wrong with it)
BAD = [
    ("10000x100", ["10000 pixels is over 8192", "100 pixels is under 144",
                   "it is 100 times as wide as tall"]),
    ("0x0", ["0 pixels is under 144"]),
    ("10x10", ["10 pixels is under 144"]),
    ("99999x99999", ["99999 pixels is over 8192"]),
    ("8000x5001", ["40,008,000 pixels in all is over 40,000,000"]),
    ("720x1280", ["it is taller than wide"]),
    ("2561x640", ["it is 4.002 times as wide as tall"]),
    ("143x143", ["143 pixels is under 144"]),
]
MALFORMED = ["abc", "1280x720x3", "1280", "1280.5x720", "x720", ""]


@pytest.fixture
def untrained(monkeypatch):
    """The CLI's training step made to fail: a size must be refused before it."""
    import mlviz.cli

    def train(*args, **kwargs):
        raise AssertionError("trained before checking --size")

    monkeypatch.setattr(mlviz.cli, "_prepare", train)


@pytest.mark.parametrize("size, wrong", BAD, ids=[size for size, _ in BAD])
def test_a_size_out_of_range_is_one_line_in_pixels(size, wrong, untrained, capsys, tmp_path,
                                                   monkeypatch):
    from mlviz.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["render", "kmeans", f"--size={size}", "-o", "x.png"]) == 2
    out = capsys.readouterr()
    line = out.err
    assert out.out == "" and line.count("\n") == 1, line
    assert line.startswith(f"mlviz: error: size {size} is out of range (") and RANGE in line
    given = re.search(r"\((.*?)\): a frame", line).group(1).split("; ")
    assert given == wrong
    assert not re.search(r"dpi|inch", line), line  # the user typed pixels
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("size", MALFORMED)
def test_a_malformed_size_is_one_line(size, untrained, capsys, tmp_path, monkeypatch):
    from mlviz.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["render", "kmeans", f"--size={size}", "-o", "x.png"]) == 2
    err = capsys.readouterr().err
    assert err == (f"mlviz: error: a size is WIDTHxHEIGHT in pixels, like 1920x1080; "
                   f"got {size!r}\n")


def test_the_bounds_are_inclusive():
    for size in (f"{MIN_SIDE}x{MIN_SIDE}", f"{MAX_SIDE}x{MAX_SIDE // MAX_WIDE}",
                 f"{MAX_WIDE * MIN_SIDE}x{MIN_SIDE}", "7680x4320", "1280X720", (800, 800)):
        width, height = parse_size(size)
        assert min(width, height) >= MIN_SIDE and width * height <= MAX_PIXELS
    for size in (f"{MAX_SIDE + 1}x{MAX_SIDE // MAX_WIDE}", f"{MAX_WIDE * MIN_SIDE + 1}x{MIN_SIDE}",
                 f"{MIN_SIDE}x{MIN_SIDE + 1}", (0, -1)):
        with pytest.raises(MlvizError, match="is out of range"):
            parse_size(size)


def test_every_accepted_size_gives_a_drawable_resolution():
    """At the size bounds, every layout a built-in draws (a 9.6 x 5.4 in scene or panel,
    a 12.8 x 7.2 in scene, the largest sweep) gets a dpi within mlviz's limits, so a size
    is never refused later in dpi."""
    largest_sweep = (BASE_FIGSIZE[0] * MAX_SCALE, BASE_FIGSIZE[1] * MAX_SCALE)
    smallest = [(MIN_SIDE, MIN_SIDE), (MAX_WIDE * MIN_SIDE, MIN_SIDE)]
    for figsize in ((9.6, 5.4), (12.8, 7.2), largest_sweep):
        for width, height in smallest + [(1920, 1080), (7680, 4320)] * (figsize != (9.6, 5.4)):
            inches, dpi = fit_figsize(figsize, width, height)
            assert check_frame_size(inches, dpi) == (width, height), (figsize, width, height)


def test_the_smallest_and_widest_sizes_are_drawn_exactly(tmp_path):
    prepared = mlviz.prepare("kmeans", k_max=3, frames=1)
    for size in ((MIN_SIDE, MIN_SIDE), (MAX_WIDE * MIN_SIDE, MIN_SIDE)):
        path = tmp_path / f"{size[0]}x{size[1]}.png"
        mlviz.api.write_animation(prepared.styled(size=size), path)
        frame = np.asarray(Image.open(path))
        assert frame.shape[1::-1] == size and frame.std() > 0  # something drawn
