"""The HTML player, now :mod:`mlviz.writers.player`; this module re-exports it.

Import from ``mlviz.writers.player`` (or ``mlviz.writers``) in new code.
"""

from __future__ import annotations

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
