"""Compatibility between mlviz and its plugins: does a plugin accept the running mlviz?

A plugin's distribution declares which mlviz it works with (``dependencies = ["mlviz>=0.3,
<0.4"]``, see the version policy in the docs). :func:`requirement_conflicts` names each
installed plugin whose declared requirement excludes the running mlviz, for ``mlviz list``.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata

#: The distribution whose version plugins pin.
DISTRIBUTION = "mlviz"
#: The entry-point group plugins register under.
GROUP = "mlviz"


def running_version() -> str:
    """The installed mlviz's version (``"0"`` if mlviz is not installed as a distribution)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0"


def excluded_by(requires: Iterable[str], version: str) -> str | None:
    """The first requirement on mlviz among ``requires`` (a distribution's ``Requires-Dist``
    lines) that ``version`` does not satisfy, as written; ``None`` if none excludes it.
    Requirements under an extra or a marker that does not hold here are skipped."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    try:
        running = Version(version)
    except InvalidVersion:
        return None
    for line in requires:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) != DISTRIBUTION:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        if not requirement.specifier.contains(running, prereleases=True):
            return f"{requirement.name}{requirement.specifier}"
    return None


def requirement_conflicts(version: str | None = None) -> list[str]:
    """One line for each installed plugin distribution (entry-point group ``mlviz``) that
    declares a requirement on mlviz excluding ``version`` (default: the running one)."""
    version = version or running_version()
    lines: dict[str, str] = {}
    for entry_point in metadata.entry_points(group=GROUP):
        dist = getattr(entry_point, "dist", None)
        if dist is None:
            continue
        name = dist.metadata["Name"] or ""
        if name.lower() == DISTRIBUTION or name in lines:
            continue
        wanted = excluded_by(dist.requires or (), version)
        if wanted is not None:
            lines[name] = (f"plugin {name} {dist.version} declares {wanted}, which excludes "
                           f"the running mlviz {version}; it may fail: look for a newer "
                           f"version of {name}")
    return list(lines.values())
