"""The package is self-contained: a wheel built from it holds every file it runs, installs
on its own and builds a project; its node packages' folder is a setting of conf.py, and a
missing one is named, with what to run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from sphinx.util.console import strip_escape_sequences

from conftest import REPO, ROOTS

PACKAGE = REPO / "src" / "handbook_tools"
NODE_MODULES = REPO / "tools" / "node_modules"
HAS_RENDERER = (NODE_MODULES / "@mermaid-js" / "mermaid-cli").is_dir() and bool(
    shutil.which("node"))


def package_files() -> set[str]:
    """The package's files as a wheel names them (``handbook_tools/...``): tracked or new,
    never what git ignores (``__pycache__``)."""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "."], cwd=PACKAGE,
                         capture_output=True, text=True, check=True).stdout
    return {f"handbook_tools/{line}" for line in out.splitlines()
            if line and (PACKAGE / line).is_file()}


def test_every_package_data_pattern_matches_a_file() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["handbook_tools"]
    assert patterns
    for pattern in patterns:
        assert list(PACKAGE.glob(pattern)), f"package-data {pattern!r} matches no file"
    # what the package opens besides its modules is all covered
    data = {p for p in package_files() if not p.endswith(".py")}
    assert "handbook_tools/render-mermaid.mjs" in data
    assert {"handbook_tools/static/handbook.css", "handbook_tools/static/hb-card.js"} <= data
    for name in data:
        path = Path(name).relative_to("handbook_tools")
        assert any(path.match(p) for p in patterns), f"{name}: no package-data pattern"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built offline from a copy of the project (the build writes its own
    ``build/`` and ``*.egg-info`` beside the sources: not in the repository's)."""
    tmp = tmp_path_factory.mktemp("wheel")
    project = tmp / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, project / name)
    (project / "src").mkdir()
    for name in package_files():
        dest = project / "src" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / "src" / name, dest)
    out = tmp / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "--no-index", "-q", "-w", str(out),
                           str(project)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wheels = list(out.glob("iraq_handbook_tools-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_the_wheel_holds_every_file_the_package_runs(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        entry_points = next(whl.read(n).decode() for n in names
                            if n.endswith(".dist-info/entry_points.txt"))
    expected = package_files()
    assert {"handbook_tools/__init__.py", "handbook_tools/cli.py",
            "handbook_tools/render-mermaid.mjs", "handbook_tools/static/handbook.css",
            "handbook_tools/static/hb-card.js"} <= expected
    missing = sorted(expected - names)
    assert not missing, f"the wheel lacks {missing}"
    # one console script, named for the project
    assert "handbook = handbook_tools.cli:main" in entry_points
    assert "handbook-check" not in entry_points


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway virtual environment with the wheel installed (no dependencies: those
    of this environment are on its path through a ``.pth`` file, whose own ``.pth`` files,
    the editable install of the sources among them, are not read)."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "handbook-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n",
                                                  encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                           "--no-deps", "--no-index", "-q", str(wheel)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return venv


def run_in(venv: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], cwd=cwd,
                          capture_output=True, text=True, check=False,
                          env={**clean, **env})


def test_the_installed_wheel_runs_from_its_own_files(installed: Path, tmp_path: Path) -> None:
    proc = run_in(installed, "python", "-c", "import handbook_tools.nodepackages as n; "
                  "print(n.SCRIPT); print(n.SCRIPT.is_file())", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    script, exists = proc.stdout.split()
    assert Path(script).is_relative_to(installed) and exists == "True"
    proc = run_in(installed, "handbook", "--help", cwd=tmp_path)  # the console script
    assert proc.returncode == 0, proc.stderr
    assert "publish" in proc.stdout and "check" in proc.stdout


@pytest.mark.skipif(not HAS_RENDERER, reason="needs node and tools/node_modules (make setup)")
def test_the_installed_wheel_builds_a_project(installed: Path, tmp_path: Path) -> None:
    """Diagrams drawn by the wheel's own script, from the node packages conf.py names; the
    theme's static files from the wheel.  Unset, the setting is named in the message."""
    src = tmp_path / "src"
    shutil.copytree(ROOTS / "test-clean", src)
    env = {"HANDBOOK_CACHE_DIR": str(tmp_path / "cache")}  # render: nothing cached
    out = tmp_path / "out"
    proc = run_in(installed, "python", "-m", "sphinx", "-b", "html", "-q", "-n", "-W",
                  "--keep-going", "-D", f"handbook_node_modules={NODE_MODULES}", str(src),
                  str(out), cwd=tmp_path, **env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    html = (out / "index.html").read_text(encoding="utf-8")
    assert 'class="hb-diagram" role="img"' in html and "<svg" in html
    assert (out / "_static" / "handbook.css").is_file()
    assert (out / "_static" / "hb-card.js").is_file()

    # outside a source checkout there is no default folder: conf.py must say where
    proc = run_in(installed, "python", "-m", "sphinx", "-b", "html", "-q", str(src),
                  str(tmp_path / "out2"), cwd=tmp_path,
                  HANDBOOK_CACHE_DIR=str(tmp_path / "cache2"))
    assert (f"index.md:7: WARNING: cannot render diagrams: handbook_node_modules is not set "
            f"in {src / 'conf.py'}; set it to the node_modules folder that holds "
            "@mermaid-js/mermaid-cli (the handbook's is '../tools/node_modules': run 'make "
            "setup', npm ci in tools/) [handbook.mermaid]") in proc.stderr


@pytest.mark.sphinx("html", testroot="clean", srcdir="node-modules-missing",
                    confoverrides={"handbook_node_modules": "../no-such-folder"})
def test_a_missing_node_modules_folder_is_named_with_what_to_run(
        app, warning: StringIO, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDBOOK_CACHE_DIR", str(tmp_path))  # nothing cached: must render
    app.build()
    conf = Path(app.confdir, "conf.py")
    folder = Path(app.confdir, "../no-such-folder").resolve()
    text = strip_escape_sequences(warning.getvalue())
    lines = [ln for ln in text.splitlines() if "cannot render" in ln]
    assert len(lines) == 1, text
    assert lines[0].endswith(
        f"index.md:7: WARNING: cannot render diagrams: no @mermaid-js/mermaid-cli in {folder} "
        f"(handbook_node_modules = '../no-such-folder' in {conf}); run 'make setup' (npm ci "
        "in tools/), or point handbook_node_modules at the node_modules folder that holds "
        "it [handbook.mermaid]")


@pytest.mark.sphinx("html", testroot="clean", srcdir="node-missing")
def test_a_missing_node_program_is_named(app, warning: StringIO, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDBOOK_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no node
    app.build()
    assert "index.md:7: WARNING: cannot render diagrams: no 'node' program on the PATH; " \
        "install Node.js" in strip_escape_sequences(warning.getvalue())


@pytest.mark.skipif(not shutil.which("node"), reason="needs node")
def test_the_script_names_the_folder_it_cannot_load_from(tmp_path: Path) -> None:
    proc = subprocess.run(["node", str(PACKAGE / "render-mermaid.mjs"), str(tmp_path)],
                          input="[]", capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"render-mermaid: cannot load mermaid-cli from {tmp_path}: ")
