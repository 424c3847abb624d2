"""The HTML player, now :mod:`mlviz.writers.player`; this module re-exports it, and names
a player (:func:`page_title`).

Import the player from ``mlviz.writers.player`` (or ``mlviz.writers``) in new code.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .writers.player import (  # noqa: F401
    MAX_BYTES,
    PAGE_BYTES,
    SPEEDS,
    TEMPLATE,
    WEBP_METHOD,
    WEBP_QUALITY,
    FrameStore,
    HtmlWriter,
    PlayerTooLarge,
    encode_webp,
    notebook_player,
    player_html,
    poster_html,
)

if TYPE_CHECKING:
    from .prepared import Prepared


def page_title(prepared: Prepared) -> str:
    """What a player of ``prepared`` is called (its page's ``<title>`` and heading): the
    algorithm's name; a sweep's says what is swept, as ``--sweep`` writes it
    ("optimizers sweep: lr_sgd=0.001,0.01,0.1"); a run recorded by something else (a
    ``record_only`` algorithm, e.g. a watched model) is named by its scene's title
    ("Watched model: Sequential (1,058 parameters)")."""
    name = prepared.algorithm.name
    if prepared.sweep is not None:
        return f"{name} sweep: {prepared.sweep.description}"
    if prepared.algorithm.record_only:
        return plain_text(prepared.scene.title) or name
    return name


def plain_text(title: str) -> str:
    """A figure title as plain text: one line, matplotlib's ``$...$`` maths unwrapped."""
    text = re.sub(r"(?<!\\)\$", "", title)
    return " ".join(text.replace("\\$", "$").split())
