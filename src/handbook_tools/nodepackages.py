"""The node side of the diagram renderer: its script, the node packages it loads, and a
running renderer (:class:`RenderSession`) that the build feeds diagrams as it reads pages.

``render-mermaid.mjs`` ships in this package (package data, beside this module).  The node
packages it needs (``@mermaid-js/mermaid-cli`` and its peer ``puppeteer``) are installed
apart, by ``npm ci`` in the repository's ``tools/``: their folder is the setting
``handbook_node_modules`` in conf.py, a path relative to the conf.py folder (the book's
is ``../tools/node_modules``).  Left empty, it is the ``tools/node_modules`` of the source
checkout the package runs from, if any: the small projects of the tests use that.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx
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


class RenderSession:
    """One run of the renderer (``render-mermaid.mjs --stream``, one browser): jobs are
    written to it one a line as they come (the browser starts at once and draws each job
    as it arrives), results are read in a thread as they come, and :meth:`finish` waits
    for all of them."""

    def __init__(self, app: Sphinx) -> None:
        self.sent: dict[str, dict[str, Any]] = {}  # the job's final path -> the job
        self.results: list[dict[str, Any]] = []
        self.error: str | None = None
        self.proc: subprocess.Popen[str] | None = None
        self._stderr: list[str] = []
        self._threads: list[threading.Thread] = []
        config = app.config
        command = renderer_command(config, app.confdir)
        if isinstance(command, str):
            self.error = command
            return
        env = dict(os.environ)
        env.setdefault("CHROMIUM", config.handbook_chromium)
        self.proc = subprocess.Popen([*command, "--stream"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, encoding="utf-8", env=env)
        # both pipes are drained as they fill (the pages' console goes to stderr), so
        # the renderer never blocks on a full pipe while the build writes to it
        for target in (self._read_results, self._read_stderr):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _read_results(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip():
                try:
                    self.results.append(json.loads(line))
                except json.JSONDecodeError:
                    self.results.append({"ok": False, "error": f"no result: {line[:200]}"})

    def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)
            del self._stderr[:-50]  # the tail is enough for a message

    def send(self, job: dict[str, Any]) -> None:
        """Render JOB (written to ``job["out"]``, a ``.part`` file) in this session."""
        if job["final"] in self.sent:
            return
        self.sent[job["final"]] = job
        if self.proc is None or self.proc.stdin is None:
            return
        with suppress(OSError):  # the renderer has stopped: finish() says why
            self.proc.stdin.write(json.dumps(job) + "\n")
            self.proc.stdin.flush()

    def finish(self, timeout: float = 600) -> dict[str, dict[str, Any]] | str:
        """Wait for every job sent: its result by its final path, or a set-up error."""
        if self.error is not None or self.proc is None:
            return self.error or "diagram renderer did not start"
        if self.proc.stdin is not None:
            with suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
            return f"diagram renderer timed out after {timeout:.0f} s"
        for thread in self._threads:
            thread.join()
        stderr = "".join(self._stderr).strip()[-500:]
        if self.proc.returncode != 0:
            return f"diagram renderer failed: {stderr}"
        if len(self.results) != len(self.sent):
            return (f"diagram renderer gave {len(self.results)} result(s) for "
                    f"{len(self.sent)} diagram variant(s): {stderr}")
        return dict(zip(self.sent, self.results, strict=True))

    def close(self) -> None:
        """Stop the renderer (a build that failed before its results were awaited)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
