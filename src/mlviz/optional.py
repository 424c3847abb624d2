"""Optional packages (torch): a missing one becomes one line that says how to install it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .errors import MlvizError

#: Optional packages an algorithm may need, and the command that installs each: the
#: README's, whose pin (constraints.txt) keeps pip on torch's CPU build.
OPTIONAL_PACKAGES = {"torch": "pip install -c constraints.txt -e '.[torch]'"}


@contextmanager
def optional_dependencies(algorithm: str) -> Iterator[None]:
    """Turn a missing optional package (torch) into a one-line :class:`MlvizError`."""
    try:
        yield
    except ModuleNotFoundError as exc:
        package = (exc.name or "").partition(".")[0]
        if package not in OPTIONAL_PACKAGES:
            raise
        raise MlvizError(
            f"{algorithm} needs {package}, which is not installed; "
            f"install it from the mlviz folder with: {OPTIONAL_PACKAGES[package]}"
        ) from None
