"""Text from plugins, files and exceptions made safe to print on a terminal or a page.

Plugin text (a summary, a warning, an exception message) could hold terminal escape
sequences, which recolour or rewrite the terminal, and newlines, which forge extra lines.
:func:`one_line` removes the first and folds the second.
"""

from __future__ import annotations

import re
import unicodedata

#: ANSI/VT escape sequences: CSI (ESC [ or 0x9b), OSC (ESC ]) up to BEL or ST, and the
#: two-character ESC sequences.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
#: Characters that end a line somewhere: they become one space.
_BREAKS = re.compile(r"\s*[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+\s*")


def one_line(text: object, limit: int = 500) -> str:
    """``text`` as a single printable line: escapes and control characters removed,
    line breaks and tabs folded into spaces, cut to ``limit`` characters."""
    text = _clean(text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def printable(text: object) -> str:
    """``text`` with its lines (split at ``\\n`` only) kept, escapes and controls removed."""
    return "\n".join(_clean(part) for part in str(text).split("\n"))


class PrintableStream:
    """A text stream that passes everything written through :func:`printable`."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(printable(text))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _clean(text: object) -> str:
    text = _BREAKS.sub(" ", _ESCAPES.sub("", str(text))).replace("\t", " ")
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))


def discard_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit raises nothing (the reader of
    a pipe went away: ``mlviz info x | head -1``)."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        stdout = sys.__stdout__
        if stdout is not None:
            os.dup2(devnull, stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
