"""Sphinx directives that generate mlviz's reference pages from the code itself.

* ``.. mlviz-cli::``: every command and option, from ``mlviz.cli.build_parser()``.
* ``.. mlviz-api::``: autodoc of every name in ``mlviz.__all__`` (the public API).
* ``.. mlviz-hooks::``: autodoc of every hook specification in ``mlviz.hookspecs``.
* ``.. mlviz-algorithms::``: a table of the algorithms installed when the docs are built.
* ``.. mlviz-gallery-scripts::``: each script of ``gallery/``, its docstring and its code.
* ``.. mlviz-formats::``: a table of the output formats (writers) installed.
* ``.. mlviz-gallery-embed::``: the gallery ``make docs`` rendered into the site's
  ``gallery/`` folder (before Sphinx runs), embedded as cards: each poster plays its
  animation on hover or click. Without a rendered gallery, a note says how to get one.

Nothing here touches the network; the docs build only imports mlviz and its plugins.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import os
import re
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
HELP_WIDTH = "72"  # the width of the page's code blocks


def escape(text: str) -> str:
    """Plain text made safe for reStructuredText inline markup."""
    return re.sub(r"([\\`*_|])", r"\\\1", text)


def hook_names() -> list[str]:
    """Every hook specification in ``mlviz.hookspecs``, in source order."""
    from mlviz import hookspecs

    marker = f"{hookspecs.PROJECT}_spec"
    functions = [f for f in vars(hookspecs).values()
                 if inspect.isfunction(f) and hasattr(f, marker)]
    return [f.__name__ for f in sorted(functions, key=lambda f: f.__code__.co_firstlineno)]


#: Modules a plugin may import from besides ``mlviz`` itself (documented on the API page;
#: the same list as the docstring of ``mlviz/__init__.py`` and ``tests/test_docs.py``).
PUBLIC_MODULES = ("mlviz.panels", "mlviz.theme", "mlviz.colorvision", "mlviz.style",
                  "mlviz.testing", "mlviz.torchutil",
                  "mlviz.landscape", "mlviz.datasets", "mlviz.sweep", "mlviz.story",
                  "mlviz.compat")


class _Generated(SphinxDirective):
    """Base: subclasses produce reStructuredText lines, parsed as if written in the page."""

    has_content = False

    def lines(self) -> list[str]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        return self.parse_text_to_nodes("\n".join(self.lines()), allow_section_headings=True)


class CliDirective(_Generated):
    def lines(self) -> list[str]:
        from mlviz.cli import build_parser

        old = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = HELP_WIDTH  # argparse wraps help to the terminal width
        try:
            parser = build_parser()
            out = self._parser("mlviz", parser, level="-")
            subparsers = next(a for a in parser._actions
                              if isinstance(a, argparse._SubParsersAction))
            helps = {c.dest: c.help for c in subparsers._choices_actions}
            for name, sub in subparsers.choices.items():
                out += self._parser(f"mlviz {name}", sub, level="-", summary=helps.get(name))
        finally:
            if old is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = old
        return out

    def _parser(self, title: str, parser: argparse.ArgumentParser, level: str,
                summary: str | None = None) -> list[str]:
        out = [f".. _cli-{title.replace(' ', '-')}:", "", title, level * len(title), ""]
        out += [".. code-block:: text", ""]
        out += [f"   {line}".rstrip() for line in parser.format_usage().splitlines()]
        out.append("")
        if parser.description:
            out += [escape(parser.description), ""]
        if parser.epilog:
            out += ["::", "", f"   {parser.epilog}", ""]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action._choices_actions:
                    out += [f":ref:`{sub.dest} <cli-mlviz-{sub.dest}>`",
                            f"   {escape(sub.help)}", ""]
                continue
            if action.option_strings:
                metavar = "" if action.nargs == 0 else f" {action.metavar or action.dest.upper()}"
                term = ", ".join(f"{o}{metavar}" for o in action.option_strings)
            else:
                term = action.metavar or action.dest
            text = escape(action.help or "")
            if action.default not in (None, False, [], argparse.SUPPRESS) and \
                    "default" not in text:
                text += f" (default: {escape(str(action.default))})"
            if action.nargs == "+":
                text += " (one or more)"
            out += [f"``{term}``", f"   {text}", ""]
        return out


class ApiDirective(_Generated):
    def lines(self) -> list[str]:
        import mlviz

        out: list[str] = []
        for name in mlviz.__all__:
            obj = getattr(mlviz, name)
            if inspect.isclass(obj):
                out += [f".. autoclass:: mlviz.{name}", "   :members:", ""]
            elif inspect.isfunction(obj):
                out += [f".. autofunction:: mlviz.{name}", ""]
            else:
                out += [f".. autodata:: mlviz.{name}", "   :no-value:", ""]
        return out


class HooksDirective(_Generated):
    def lines(self) -> list[str]:
        out: list[str] = []
        for name in hook_names():
            out += [f".. autofunction:: mlviz.hookspecs.{name}", ""]
        return out


class AlgorithmsDirective(_Generated):
    def lines(self) -> list[str]:
        from mlviz import load_registry

        registry = load_registry()
        out = [".. list-table::", "   :header-rows: 1", "   :widths: 18 52 30", "",
               "   * - algorithm", "     - what it shows", "     - plugin"]
        for name, algorithm in registry.algorithms.items():
            out += [f"   * - ``{name}``", f"     - {escape(algorithm.summary)}",
                    f"     - {escape(algorithm.plugin)}"]
        if not registry.algorithms:
            return ["No algorithm was installed when these pages were built."]
        return out + [""]


class GalleryScriptsDirective(_Generated):
    def lines(self) -> list[str]:
        out: list[str] = []
        for script in sorted((ROOT / "gallery").glob("*.py")):
            module = ast.parse(script.read_text(encoding="utf-8"))
            doc = ast.get_docstring(module) or ""
            first = module.body[0].end_lineno + 1 if doc else 1  # the code after the docstring
            self.env.note_dependency(str(script))
            title = f"``gallery/{script.name}``"
            rel = os.path.relpath(script, Path(self.env.srcdir))
            out += [title, "~" * len(title), "", *doc.strip().splitlines(), "",
                    f".. literalinclude:: {rel}", "   :language: python",
                    f"   :lines: {first}-", ""]
        return out


class FormatsDirective(_Generated):
    def lines(self) -> list[str]:
        from mlviz import load_registry

        registry = load_registry()
        out = [".. list-table::", "   :header-rows: 1", "   :widths: 10 50 18 22", "",
               "   * - suffix", "     - what it is", "     - frame rates", "     - plugin"]
        for suffix, writer in registry.writers.items():
            if writer.last_frame_only:
                rates = "(a still image)"
            else:
                top = "any" if writer.max_fps == float("inf") else f"{writer.max_fps:g}"
                rates = f"{writer.min_fps:g} to {top} fps"
            out += [f"   * - ``{suffix}``", f"     - {escape(writer.description)}",
                    f"     - {rates}", f"     - {escape(registry.writer_plugins[suffix])}"]
        return out + [""]


class GalleryEmbedDirective(SphinxDirective):
    """The rendered gallery's cards, read from ``OUTDIR/gallery/gallery.json``."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from mlviz.gallery import render_embed

        folder = Path(self.env.app.outdir) / "gallery"
        self.env.note_dependency(str(folder / "gallery.json"))  # re-read when re-rendered
        fragment = render_embed(folder, "gallery/")
        if fragment is None:
            return self.parse_text_to_nodes(
                ".. note::\n\n   The pictures appear here when the site is built with "
                "``make docs``, which renders the gallery into the site first.")
        return [nodes.raw("", fragment, format="html")]


def setup(app):
    app.add_directive("mlviz-cli", CliDirective)
    app.add_directive("mlviz-api", ApiDirective)
    app.add_directive("mlviz-hooks", HooksDirective)
    app.add_directive("mlviz-algorithms", AlgorithmsDirective)
    app.add_directive("mlviz-gallery-scripts", GalleryScriptsDirective)
    app.add_directive("mlviz-gallery-embed", GalleryEmbedDirective)
    app.add_directive("mlviz-formats", FormatsDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
