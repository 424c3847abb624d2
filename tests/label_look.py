"""Checks of where a drawn figure's labels sit, shared by the plugins' tests (not a test
module): 3D tick labels that run into each other, text that leaves the figure."""

from __future__ import annotations


def labels_3d(ax, renderer, axis_names: bool = True) -> list[tuple[str, object]]:
    """(name, window bbox) of every tick label a drawn 3D axes shows, as drawn, and of its
    axis names (``axis_names``). Read after ``fig.canvas.draw()``: ``get_ticklabels()``
    would move the labels back to 2D places, so the ticks are read directly."""
    found = []
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        low, high = sorted(axis.get_view_interval())
        slack = 1e-9 * (high - low)
        for tick, loc in zip(axis.majorTicks, axis.get_majorticklocs()):
            label = tick.label1
            if low - slack <= loc <= high + slack and label.get_visible() and label.get_text():
                found.append((f"{axis.axis_name} {label.get_text()}",
                              label.get_window_extent(renderer)))
        if axis_names and axis.label.get_text() and len(axis.label.get_text()) <= 2:
            # short names only: a long rotated name's bbox is far bigger than its ink
            found.append((f"name {axis.label.get_text()}", axis.label.get_window_extent(renderer)))
    return found


def overlapping_3d_labels(fig, margin: float = 2.0, axes=None) -> list[tuple[str, str]]:
    """Pairs of labels of one 3D axes of ``fig`` (or of those in ``axes``) closer than
    ``margin`` pixels (e.g. the tick labels "1" of x and "−1" of y meeting at a corner,
    read as "1−1")."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    pairs = []
    for ax in fig.axes if axes is None else axes:
        if ax.name != "3d":
            continue
        labels = labels_3d(ax, renderer)
        for i, (a, box_a) in enumerate(labels):
            for b, box_b in labels[i + 1:]:
                if box_a.padded(margin).overlaps(box_b):
                    pairs.append((a, b))
    return pairs


def titles_outside_figure(fig, margin: float = 2.0) -> list[str]:
    """Every axes title and figure title of a drawn ``fig`` that is not inside it, at least
    ``margin`` pixels from its edges (a title touching the edge looks cut)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox.padded(-margin)
    titles = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        titles += [ax.title, ax._left_title, ax._right_title]
    outside = []
    for title in titles:
        if not (title.get_visible() and title.get_text()):
            continue
        extent = title.get_window_extent(renderer)
        if extent.x0 < box.x0 or extent.x1 > box.x1 or extent.y0 < box.y0 or extent.y1 > box.y1:
            outside.append(title.get_text())
    return outside
