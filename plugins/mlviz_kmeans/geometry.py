"""Exact Voronoi cells of a few centroids inside a rectangle (no raster, no scipy)."""

from __future__ import annotations

import numpy as np


def clip_half_plane(polygon: np.ndarray, normal: np.ndarray, offset: float) -> np.ndarray:
    """The part of a convex ``polygon`` (m, 2) where ``p · normal <= offset``."""
    if len(polygon) == 0:
        return polygon
    side = polygon @ normal - offset
    kept: list[np.ndarray] = []
    for i in range(len(polygon)):
        j = (i + 1) % len(polygon)
        if side[i] <= 0:
            kept.append(polygon[i])
        if (side[i] < 0 < side[j]) or (side[j] < 0 < side[i]):
            t = side[i] / (side[i] - side[j])
            kept.append(polygon[i] + t * (polygon[j] - polygon[i]))
    return np.array(kept).reshape(-1, 2)


def voronoi_cells(centroids: np.ndarray, box: tuple[float, float, float, float]) -> list[np.ndarray]:
    """For each centroid, the polygon of box points nearer to it than to any other.

    ``box`` is (xmin, xmax, ymin, ymax). A cell is the box clipped by the perpendicular
    bisector with every other centroid; coincident centroids share a cell.
    """
    x0, x1, y0, y1 = box
    rectangle = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)
    cells = []
    for i, ci in enumerate(centroids):
        cell = rectangle
        for j, cj in enumerate(centroids):
            normal = cj - ci
            if i == j or not normal.any():
                continue
            cell = clip_half_plane(cell, normal, float(normal @ (ci + cj)) / 2.0)
        cells.append(cell)
    return cells
