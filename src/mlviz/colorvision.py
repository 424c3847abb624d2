"""Colour-vision-deficiency simulation, to check that a palette stays readable.

:func:`simulate` applies Machado, Oliveira & Fernandes (2009)'s matrices at full severity
(protanopia, deuteranopia, tritanopia) in linear sRGB; :func:`check_palette` measures the
smallest CIELAB distance between any two colours of a palette, and between each colour
and the background, as each kind of reader sees them.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

#: Machado et al. (2009), severity 1.0, for linear RGB.
DEFICIENCIES: dict[str, np.ndarray] = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
_SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805],
                         [0.2126, 0.7152, 0.0722],
                         [0.0193, 0.1192, 0.9505]])
_WHITE = np.array([0.95047, 1.0, 1.08883])
#: Smallest CIELAB distance (ΔE*76) :func:`check_palette` accepts by default: clearly
#: different side by side (about 2.3 is just noticeable).
MIN_DISTANCE = 12.0


def _linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    xyz = linear @ _SRGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


def simulate(colors: Sequence, deficiency: str | None) -> np.ndarray:
    """CIELAB coordinates, shape (n, 3), of ``colors`` as seen with ``deficiency``
    (``None``: normal vision)."""
    from matplotlib.colors import to_rgb

    linear = _linear(np.array([to_rgb(c) for c in colors], dtype=float))
    if deficiency is not None:
        linear = np.clip(linear @ DEFICIENCIES[deficiency].T, 0.0, 1.0)
    return _lab(linear)


def palette_distances(colors: Sequence, background: object | None = None
                      ) -> dict[str, tuple[float, float | None]]:
    """For normal vision and each deficiency: (smallest distance between two of
    ``colors``, smallest distance of one to ``background`` or ``None``)."""
    result = {}
    for kind in (None, *DEFICIENCIES):
        lab = simulate(colors, kind)
        pairs = min((float(np.linalg.norm(lab[i] - lab[j]))
                     for i, j in combinations(range(len(lab)), 2)), default=float("inf"))
        back = None
        if background is not None:
            back = float(np.linalg.norm(lab - simulate([background], kind)[0], axis=1).min())
        result[kind or "normal"] = (pairs, back)
    return result


def check_palette(colors: Sequence, background: object | None = None,
                  minimum: float = MIN_DISTANCE) -> list[str]:
    """What makes ``colors`` hard to tell apart (empty when every pair, and every colour
    against ``background``, is at least ``minimum`` apart for every reader)."""
    problems = []
    for kind, (pairs, back) in palette_distances(colors, background).items():
        if pairs < minimum:
            problems.append(f"{kind}: two colours only {pairs:.1f} apart (need {minimum:g})")
        if back is not None and back < minimum:
            problems.append(f"{kind}: a colour only {back:.1f} from the background "
                            f"(need {minimum:g})")
    return problems
