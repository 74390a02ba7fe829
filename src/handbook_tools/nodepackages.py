"""The node side of the diagram renderer: its script, and the node packages it loads.

``render-mermaid.mjs`` ships in this package (package data, beside this module).  The node
packages it needs (``@mermaid-js/mermaid-cli`` and its peer ``puppeteer``) are installed
apart, by ``npm ci`` in the repository's ``tools/``: their folder is the setting
``handbook_node_modules`` in conf.py, a path relative to the conf.py folder (the book's
is ``../tools/node_modules``).  Left empty, it is the ``tools/node_modules`` of the source
checkout the package runs from, if any: the small projects of the tests use that.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sphinx.config import Config

#: the renderer, shipped as package data
SCRIPT = Path(__file__).with_name("render-mermaid.mjs")
#: the node packages of a source checkout (src/handbook_tools -> tools/node_modules)
CHECKOUT_MODULES = Path(__file__).resolve().parents[2] / "tools" / "node_modules"
#: the package the renderer loads first; it brings puppeteer's resolution with it
MERMAID_CLI = ("@mermaid-js", "mermaid-cli")


def node_modules(config: Config, confdir: str | os.PathLike[str]) -> Path | None:
    """The node packages' folder that conf.py names (``handbook_node_modules``); unset, the
    source checkout's, if the package runs from one that has it."""
    setting = str(config.handbook_node_modules or "")
    if setting:
        return Path(confdir, setting).resolve()
    return CHECKOUT_MODULES if CHECKOUT_MODULES.is_dir() else None


def node_command(config: Config, confdir: str | os.PathLike[str], script: Path,
                 package: tuple[str, ...], doing: str) -> list[str] | str:
    """``node SCRIPT NODE_MODULES`` for a script of this package that loads PACKAGE from
    the node packages' folder, or what is missing and how to install it (``cannot DOING:
    ...``)."""
    node = shutil.which("node")
    if node is None:
        return (f"cannot {doing}: no 'node' program on the PATH; install Node.js "
                "(20 or later), then run 'make setup'")
    conf = Path(confdir, "conf.py")
    name = "/".join(package)
    modules = node_modules(config, confdir)
    if modules is None:
        return (f"cannot {doing}: handbook_node_modules is not set in {conf}; set it "
                f"to the node_modules folder that holds {name} (the handbook's is "
                "'../tools/node_modules': run 'make setup', npm ci in tools/)")
    if not modules.joinpath(*package).is_dir():
        return (f"cannot {doing}: no {name} in {modules} (handbook_node_modules = "
                f"{config.handbook_node_modules!r} in {conf}); run 'make setup' (npm ci in "
                "tools/), or point handbook_node_modules at the node_modules folder that "
                "holds it")
    return [node, str(script), str(modules)]


def renderer_command(config: Config, confdir: str | os.PathLike[str]) -> list[str] | str:
    """The command that runs the diagram renderer, or what is missing and how to install
    it."""
    return node_command(config, confdir, SCRIPT, MERMAID_CLI, "render diagrams")
