"""Plugin loading: isolation of broken plugins, duplicate names, entry points on disk."""

from __future__ import annotations

import os
import types

import pytest

import mlviz
from mlviz import Algorithm, Config, MlvizError, Scene, hookimpl
from mlviz.panels import LossCurvePanel
from mlviz.plugins import build_registry, get_plugin_manager, register_plugin


def algorithm(name: str) -> Algorithm:
    return Algorithm(name=name, summary=f"the {name} algorithm", config=Config,
                     trainer=lambda c: None, dataset=lambda c: None,
                     scene=lambda c: Scene([LossCurvePanel()]))


def plugin_module(name: str, *algorithm_names: str, hook=None) -> types.ModuleType:
    module = types.ModuleType(name)

    def mlviz_algorithms():
        return [algorithm(n) for n in algorithm_names]

    module.mlviz_algorithms = hookimpl(hook or mlviz_algorithms)
    return module


def registry_of(*plugins):
    """The registry of ``plugins``; every warning it keeps was also issued to Python."""
    import warnings as python_warnings

    from mlviz.registry import PluginWarning

    pm, warnings = get_plugin_manager(load_entry_points=False)
    for name, load in plugins:
        warning = register_plugin(pm, name, load)
        if warning:
            warnings.append(warning)
    with python_warnings.catch_warnings(record=True) as caught:
        python_warnings.simplefilter("always")
        registry = build_registry(pm, warnings)
    assert [str(w.message) for w in caught if w.category is PluginWarning] == registry.warnings
    return registry


def test_algorithms_from_several_plugins():
    reg = registry_of(("a (dist-a 1.0)", lambda: plugin_module("a", "alpha")),
                      ("b (dist-b 2.0)", lambda: plugin_module("b", "beta", "gamma")))
    assert sorted(reg.algorithms) == ["alpha", "beta", "gamma"]
    assert reg.algorithms["beta"].plugin == "b (dist-b 2.0)"
    assert reg.warnings == []


def test_broken_plugins_are_reported_and_the_rest_works():
    def fails_to_import():
        raise ImportError("No module named 'sklearn'")

    wrong_signature = types.ModuleType("wrong")
    wrong_signature.mlviz_algorithms = hookimpl(lambda config: [])

    unknown_hook = types.ModuleType("unknown")
    unknown_hook.mlviz_algoritms = hookimpl(lambda: [])

    def raises():
        raise RuntimeError("boom")

    reg = registry_of(
        ("good (good 1.0)", lambda: plugin_module("good", "kept")),
        ("broken (broken 0.1)", fails_to_import),
        ("wrong (wrong 0.1)", lambda: wrong_signature),
        ("unknown (unknown 0.1)", lambda: unknown_hook),
        ("raising (raising 0.1)", lambda: plugin_module("raising", hook=raises)),
        ("junk (junk 0.1)", lambda: plugin_module("junk", hook=lambda: ["not an algorithm"])),
    )
    assert list(reg.algorithms) == ["kept"]
    text = "\n".join(reg.warnings)
    assert len(reg.warnings) == 5
    assert "broken (broken 0.1) failed to import: ImportError" in text
    assert "wrong (wrong 0.1) was not loaded" in text
    assert "unknown (unknown 0.1) was not loaded" in text and "mlviz_algoritms" in text
    assert "raising (raising 0.1) failed in mlviz_algorithms: RuntimeError: boom" in text
    assert "junk (junk 0.1) returned str" in text


def test_a_taken_name_is_refused_not_overwritten():
    reg = registry_of(("first (mlviz 0.1)", lambda: plugin_module("first", "kmeans")),
                      ("second (other 1.0)", lambda: plugin_module("second", "kmeans")))
    assert reg.algorithms["kmeans"].plugin == "first (mlviz 0.1)"
    assert reg.warnings == [
        "plugin second (other 1.0) registers algorithm 'kmeans', already taken by "
        "first (mlviz 0.1); ignored"
    ]


def test_unknown_algorithm_suggests_the_closest_name():
    reg = registry_of(("a (a 1)", lambda: plugin_module("a", "kmeans", "pca")))
    with pytest.raises(MlvizError, match="unknown algorithm 'kmean'. Did you mean 'kmeans'"):
        reg.get("kmean")
    with pytest.raises(MlvizError, match="Known: kmeans, pca"):
        reg.get("zzz")


def test_builtins_load_through_entry_points():
    reg = mlviz.load_registry()
    assert reg.algorithms["kmeans"].plugin.startswith("kmeans (mlviz ")
    assert "loss-curve" in reg.panels and "kmeans-elbow" in reg.panels


def test_hookimpl_is_reexported():
    from mlviz.hookspecs import hookimpl as original

    assert mlviz.hookimpl is original


THROWAWAY_PLUGIN = '''
from dataclasses import dataclass
import numpy as np
from mlviz import Algorithm, Config, Dataset, Scene, Snapshot, hookimpl, param
from mlviz.panels import LossCurvePanel


@dataclass(frozen=True)
class HalvingConfig(Config):
    steps: int = param(5, "how many halvings", min=1)


class Halving:
    def __init__(self, config):
        self.config = config

    def run(self, dataset):
        for epoch in range(self.config.steps):
            yield Snapshot(epoch=epoch, loss=0.5 ** epoch)


@hookimpl
def mlviz_algorithms():
    return [Algorithm(name="halving", summary="a loss that halves every epoch",
                      config=HalvingConfig, trainer=Halving,
                      dataset=lambda c: Dataset(np.zeros((1, 1))),
                      scene=lambda c: Scene([LossCurvePanel()]))]
'''


def install_throwaway_distribution(site) -> None:
    """A real distribution on disk: package + dist-info with an ``mlviz`` entry point."""
    (site / "halving_plugin.py").write_text(THROWAWAY_PLUGIN)
    info = site / "mlviz_halving-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mlviz-halving\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text("[mlviz]\nhalving = halving_plugin\n")


def test_a_third_party_distribution_appears_in_list_info_and_render(tmp_path, run_cli):
    site = tmp_path / "site"
    site.mkdir()
    install_throwaway_distribution(site)
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    listed = run_cli("list", env=env)
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if line.startswith("halving "))
    assert "a loss that halves every epoch" in line and "[halving (mlviz-halving 0.3)]" in line
    assert "kmeans" in listed.stdout
    info = run_cli("info", "halving", env=env)
    assert "steps" in info.stdout and "how many halvings" in info.stdout
    rendered = run_cli("render", "halving", "-o", "h.gif", "--set", "steps=3", "-q", env=env)
    assert rendered.returncode == 0, rendered.stderr
    assert (tmp_path / "h.gif").stat().st_size > 0


def test_a_broken_third_party_plugin_warns_once_and_mlviz_still_works(tmp_path, run_cli):
    site = tmp_path / "site"
    site.mkdir()
    (site / "broken_plugin.py").write_text("import no_such_module\n")
    info = site / "mlviz_broken-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mlviz-broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[mlviz]\nbroken = broken_plugin\n")
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    result = run_cli("list", env={"PYTHONPATH": path})
    assert result.returncode == 0
    warnings = [line for line in result.stderr.splitlines() if "broken" in line]
    assert warnings == [
        "mlviz: warning: plugin broken (mlviz-broken 1.0) failed to import: "
        "ModuleNotFoundError: No module named 'no_such_module'"
    ]
    assert result.stdout.startswith("kmeans") or "\nkmeans " in result.stdout


# --- one registry, the session, warnings for Python users, leaving plugins out ----------


def install_broken_distribution(site) -> None:
    (site / "broken_plugin.py").write_text("import no_such_module\n")
    info = site / "mlviz_broken-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mlviz-broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[mlviz]\nbroken = broken_plugin\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on sys.path whose distributions importlib.metadata finds, in this process;
    the modules imported from it are forgotten afterwards."""
    import importlib
    import sys

    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delenv("MLVIZ_DISABLE_PLUGINS", raising=False)
    yield folder
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(folder)):
            del sys.modules[name]
    importlib.invalidate_caches()


def test_plugin_warnings_reach_python_users(site):
    from mlviz.registry import PluginWarning
    from mlviz.session import Session

    install_broken_distribution(site)
    expected = ("plugin broken (mlviz-broken 1.0) failed to import: ModuleNotFoundError: "
                "No module named 'no_such_module'")
    with pytest.warns(PluginWarning) as caught:
        registry = Session().registry
    assert [str(w.message) for w in caught] == [expected]
    assert registry.warnings == [expected] and "kmeans" in registry.algorithms


def test_plugins_are_left_out_by_entry_point_or_distribution_name(site, monkeypatch):
    install_throwaway_distribution(site)
    assert "halving" in mlviz.load_registry().algorithms
    monkeypatch.setenv("MLVIZ_DISABLE_PLUGINS", "kmeans, MLVIZ_Halving")
    registry = mlviz.load_registry()  # entry point 'kmeans'; distribution 'mlviz-halving'
    assert "kmeans" not in registry.algorithms and "halving" not in registry.algorithms
    assert "pca" in registry.algorithms and "kmeans-elbow" not in registry.panels
    assert registry.warnings == []


def test_a_disabled_name_that_matches_nothing_is_a_warning(site, monkeypatch):
    from mlviz.registry import PluginWarning

    monkeypatch.setenv("MLVIZ_DISABLE_PLUGINS", "kmeens")
    with pytest.warns(PluginWarning, match="MLVIZ_DISABLE_PLUGINS names 'kmeens', which is no "
                                           "installed plugin"):
        registry = mlviz.load_registry()
    assert "kmeans" in registry.algorithms


def test_the_cli_leaves_a_disabled_plugin_out(tmp_path, run_cli):
    site = tmp_path / "site"
    site.mkdir()
    install_broken_distribution(site)
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    warned = run_cli("list", env={"PYTHONPATH": path})
    assert "mlviz: warning: plugin broken (mlviz-broken 1.0) failed" in warned.stderr
    quiet = run_cli("list", env={"PYTHONPATH": path, "MLVIZ_DISABLE_PLUGINS": "broken,pca"})
    assert quiet.returncode == 0 and quiet.stderr == ""
    names = [line.split()[0] for line in quiet.stdout.splitlines() if line.strip()]
    assert "pca" not in names and "kmeans" in names


def test_one_lookup_suggests_the_closest_name_of_every_kind():
    reg = mlviz.load_registry()
    for kind, typo, meant in (("algorithm", "kmean", "kmeans"), ("panel", "loss-curv",
                              "loss-curve"), ("writer", ".giff", ".gif"),
                              ("theme", "drak", "dark")):
        with pytest.raises(MlvizError, match=f"unknown {kind} '{typo}'. Did you mean '{meant}'"):
            reg.lookup(kind, typo)
        assert reg.lookup(kind, meant) is reg.table(kind)[meant]


def test_a_clash_of_any_kind_names_both_plugins():
    from mlviz.registry import PluginWarning, Registry

    reg = Registry()
    first, second = object(), object()
    assert reg.add("panel", "p", first, "a (dist-a 1)")
    assert reg.add("panel", "p", first, "b (dist-b 1)") is False  # the same item: quiet
    with pytest.warns(PluginWarning, match=r"plugin c \(dist-c 1\) registers panel 'p', "
                                           r"already taken by a \(dist-a 1\); ignored"):
        assert reg.add("panel", "p", second, "c (dist-c 1)") is False
    assert reg.panels["p"] is first and len(reg.warnings) == 1


def test_the_session_gives_its_registry_to_lower_layers():
    from mlviz import session
    from mlviz.registry import Registry
    from mlviz.theme import LIGHT, resolve_theme
    from mlviz.wiring import default_registry

    sepia = replace_name(LIGHT, "sepia")
    mine = Registry(themes={"sepia": sepia})
    with session.use(session.Session(registry=mine, theme="sepia")) as current:
        assert session.current() is current and default_registry() is mine
        assert resolve_theme("sepia") is sepia  # the theme module never imports the session
        assert current.resolve_theme() is sepia
        assert resolve_theme(None) is sepia  # the session's theme is the default one
        assert session.registry() is mine
    assert session.current() is not current and resolve_theme(None) is LIGHT
    assert session.current().registry is session.current().registry  # loaded once
    with pytest.raises(MlvizError, match="unknown theme 'sepia'"):
        resolve_theme("sepia")


def replace_name(theme, name):
    from dataclasses import replace

    return replace(theme, name=name)


# --- plugins sharing code: a failure is the plugin's whose algorithm was running ----------

TWIN_SHARED = '''
from dataclasses import dataclass

import numpy as np

from mlviz import Algorithm, Config, Dataset, Scene, Snapshot, param
from mlviz.panels import LossCurvePanel


@dataclass(frozen=True)
class TwinConfig(Config):
    fail: str = param("none", "where to fail", choices=("none", "trainer", "helper"))


def check(epoch, config, who):
    if config.fail == "helper" and epoch == 1:
        raise ValueError(f"{who}'s helper failed")


class SharedTrainer:
    who = "nobody"

    def __init__(self, config):
        self.config = config

    def run(self, dataset):
        for epoch in range(3):
            if self.config.fail == "trainer" and epoch == 1:
                raise ValueError(f"{self.who}'s shared trainer failed")
            yield Snapshot(epoch=epoch, loss=1.0 / (epoch + 1))


def data(config):
    return Dataset(np.zeros((3, 1)))


def scene(config):
    return Scene([LossCurvePanel()])


def algorithm(name, trainer):
    return Algorithm(name=name, summary=f"{name} on shared code", config=TwinConfig,
                     trainer=trainer, dataset=data, scene=scene)
'''

# A plugin whose trainer is the shared one (named after it), and whose own code calls the
# shared helper: ``{who}`` is the plugin.
TWIN_PLUGIN = '''
from mlviz import Snapshot, hookimpl

from {shared} import SharedTrainer, algorithm, check


class Trainer(SharedTrainer):
    who = "{who}"


class OwnTrainer(SharedTrainer):
    who = "{who}"

    def run(self, dataset):
        for epoch in range(3):
            check(epoch, self.config, self.who)
            yield Snapshot(epoch=epoch, loss=1.0)


@hookimpl
def mlviz_algorithms():
    return [algorithm("{who}-shared", Trainer), algorithm("{who}-own", OwnTrainer)]
'''


def install_twins(site) -> None:
    """Two distributions importing one helper module (``twin_shared``), and one package
    with two entry points, its plugins sharing the package's helper module."""
    (site / "twin_shared.py").write_text(TWIN_SHARED)
    package = site / "twinpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "common.py").write_text(TWIN_SHARED)
    entries = {"mlviz-twin-a": [("twin-a", "twin_a_plugin", "twin_shared", "a")],
               "mlviz-twin-b": [("twin-b", "twin_b_plugin", "twin_shared", "b")],
               "mlviz-twinpkg": [("twin-c", "twinpkg.c", "twinpkg.common", "c"),
                                 ("twin-d", "twinpkg.d", "twinpkg.common", "d")]}
    for dist, points in entries.items():
        for _, module, shared, who in points:
            path = site.joinpath(*module.split(".")).with_suffix(".py")
            path.write_text(TWIN_PLUGIN.format(shared=shared, who=who))
        info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(
            "[mlviz]\n" + "".join(f"{entry} = {module}\n" for entry, module, _, _ in points))


@pytest.mark.parametrize("who, plugin", [
    ("a", "twin-a (mlviz-twin-a 1.0)"), ("b", "twin-b (mlviz-twin-b 1.0)"),
    ("c", "twin-c (mlviz-twinpkg 1.0)"), ("d", "twin-d (mlviz-twinpkg 1.0)"),
])
def test_plugins_sharing_a_helper_module_are_each_blamed_for_their_own_failure(
        site, tmp_path, monkeypatch, capsys, who, plugin):
    """Each failure names the plugin whose algorithm was running, not the one that loaded
    the shared module first: in the shared trainer, and in the shared helper its own
    trainer calls."""
    from mlviz.cli import main

    install_twins(site)
    monkeypatch.chdir(tmp_path)
    hint = "(set MLVIZ_TRACEBACK=1 or pass --traceback to see where)"
    for name, fail, what in [(f"{who}-shared", "trainer", "shared trainer"),
                             (f"{who}-own", "helper", "helper")]:
        status = main(["render", name, "--set", f"fail={fail}", "-o", "out.gif", "-q"])
        err = capsys.readouterr().err
        assert status == 1, err
        assert err == (f"mlviz: error: plugin {plugin} failed in its trainer: ValueError: "
                       f"{who}'s {what} failed {hint}\n")
    assert sorted(os.listdir(tmp_path)) == ["site"]


def test_without_an_algorithm_each_plugin_of_one_package_keeps_its_own_module(site):
    """Two entry points of one package: code of the second plugin's module is the second's
    (the package is the first's), and so is a failure in the package's shared helper that
    the second plugin's code called."""
    import importlib

    from mlviz.failure import blame

    install_twins(site)
    registry = mlviz.load_registry()
    module = importlib.import_module("twinpkg.d")
    config = registry.get("d-own").config.from_overrides({"fail": "helper"})
    with pytest.raises(ValueError, match="d's helper failed") as caught:
        list(module.OwnTrainer(config).run(None))
    assert blame(caught.value, registry) == ("twin-d (mlviz-twinpkg 1.0)", "")
    assert registry.plugin_of("twinpkg.common") == "twin-c (mlviz-twinpkg 1.0)"  # the first


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_distribution_is_named_from_its_metadata_headers_only(tmp_path, newline):
    """The name and version come from the headers: a long description that mentions other
    names and versions (a README) is not read as one."""
    from importlib import metadata

    from mlviz.plugins import _name_and_version

    info = tmp_path / "demo_plugin-1.2.dist-info"
    info.mkdir()
    text = newline.join(["Metadata-Version: 2.1", "Name: demo-plugin", "Version: 1.2",
                         "Summary: a demo", "", "Name: not-this", "Version: 9.9", ""])
    (info / "METADATA").write_bytes(text.encode())
    dist = metadata.PathDistribution(info)
    assert _name_and_version(dist) == ("demo-plugin", "1.2")
    assert (dist.metadata["Name"], dist.version) == ("demo-plugin", "1.2")  # the full parse agrees
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bare\n")  # no version header
    assert _name_and_version(metadata.PathDistribution(info)) == ("bare", "None")
