"""Every hook is documented (docstring fields, the hooks page) and exercised: adding a hook
without docs, without a registry path or without a test here fails."""

from __future__ import annotations

import inspect
import types
import warnings
from pathlib import Path

import pluggy
import pytest

from mlviz import hookimpl, hookspecs
from mlviz.plugins import _HOOKS, build_registry, get_plugin_manager, register_plugin
from mlviz.registry import PluginWarning

DOCS = Path(__file__).resolve().parent.parent / "docs"


def spec_functions() -> dict[str, types.FunctionType]:
    """Every function pluggy takes as a hook specification from hookspecs.py."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    names = [name for name in dir(pm.hook) if name.startswith("mlviz_")]
    return {name: getattr(hookspecs, name) for name in names}


def _sample_algorithm():
    from mlviz import Algorithm, Config, Scene
    from mlviz.panels import LossCurvePanel

    return Algorithm(name="sample-algorithm", summary="a sample", config=Config,
                     trainer=lambda c: None, dataset=lambda c: None,
                     scene=lambda c: Scene([LossCurvePanel()]))


def _sample_panel():
    from mlviz.panels import MetricCurvePanel

    return type("SamplePanel", (MetricCurvePanel,), {"name": "sample-panel"})


def _sample_writer():
    from mlviz.writers import PngWriter

    return type("SampleWriter", (PngWriter,), {"suffix": ".sample"})


def _sample_theme():
    from dataclasses import replace

    from mlviz.theme import LIGHT

    return replace(LIGHT, name="sample-theme")


#: For each hook: an item a plugin could return, and where the registry must then hold it.
SAMPLES = {
    "mlviz_algorithms": (_sample_algorithm, "algorithm", "sample-algorithm"),
    "mlviz_panels": (_sample_panel, "panel", "sample-panel"),
    "mlviz_writers": (_sample_writer, "writer", ".sample"),
    "mlviz_themes": (_sample_theme, "theme", "sample-theme"),
}


def test_every_hook_has_a_sample_and_a_registry_path():
    specs = set(spec_functions())
    assert specs == set(SAMPLES), "a hook without a sample in SAMPLES: test it here"
    assert specs == set(_HOOKS), "a hook the registry never collects (plugins._HOOKS)"


@pytest.mark.parametrize("hook", sorted(SAMPLES))
def test_every_hook_is_documented(hook):
    function = spec_functions()[hook]
    doc = inspect.getdoc(function) or ""
    for parameter in inspect.signature(function).parameters:
        assert f":param {parameter}:" in doc, f"{hook}: document parameter {parameter}"
    assert ":returns:" in doc, f"{hook}: say what it returns (:returns:)"
    assert ".. versionadded::" in doc, f"{hook}: say since when (.. versionadded::)"
    page = (DOCS / "hooks.rst").read_text()
    # the page autodocs every hook (.. mlviz-hooks::), or names each one explicitly
    assert ".. mlviz-hooks::" in page or f"autofunction:: mlviz.hookspecs.{hook}" in page


def test_the_hooks_page_directive_documents_every_spec():
    import sys

    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        from mlviz_docs import hook_names
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    assert set(hook_names()) == set(spec_functions())


@pytest.mark.parametrize("hook", sorted(SAMPLES))
def test_every_hook_adds_its_items_and_refuses_a_taken_name(hook):
    make, kind, name = SAMPLES[hook]
    first, second = make(), make()

    def plugin(item, label):
        module = types.ModuleType(label)
        setattr(module, hook, hookimpl(lambda: [item]))
        return module

    pm, messages = get_plugin_manager(load_entry_points=False)
    for label, item in (("one (dist-one 1.0)", first), ("two (dist-two 2.0)", second)):
        assert register_plugin(pm, label, lambda i=item, n=label: plugin(i, n)) is None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        registry = build_registry(pm, messages)
    kept = registry.lookup(kind, name)
    assert kept is first or getattr(kept, "plugin", None) == "one (dist-one 1.0)"
    assert registry.owner(kind, name) == "one (dist-one 1.0)"
    clash = (f"plugin two (dist-two 2.0) registers {kind} '{name}', already taken by "
             f"one (dist-one 1.0); ignored")
    assert registry.warnings == [clash]
    assert [str(w.message) for w in caught if w.category is PluginWarning] == [clash]
