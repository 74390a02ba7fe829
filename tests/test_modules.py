"""The package's shape (CONTRIBUTING.md, "Architecture"): short modules, one way to warn,
one place that loads the data files, cache folders named for what they hold."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from handbook_tools.pictures import cache_dir

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "handbook_tools"
MAX_LINES = 400
MODULES = sorted(PACKAGE.glob("*.py"))


def test_the_package_is_found() -> None:
    assert len(MODULES) > 20 and (PACKAGE / "problems.py") in MODULES


def test_no_module_is_over_400_lines() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in MODULES}
    too_long = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert not too_long, f"split these modules (over {MAX_LINES} lines): {too_long}"


def test_every_warning_goes_through_problems_warn() -> None:
    """No module but problems.py writes a handbook warning by hand."""
    by_hand = re.compile(r"""type\s*=\s*["']handbook["']|subtype\s*=""")
    found = [f"{p.name}:{n}" for p in MODULES if p.name != "problems.py"
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if by_hand.search(line)]
    assert not found, f"use problems.warn(check, message, location) at {found}"


def test_the_data_files_load_in_one_handler_without_priorities() -> None:
    handlers = [(p.name, line.strip()) for p in MODULES
                for line in p.read_text(encoding="utf-8").splitlines()
                if 'connect("builder-inited"' in line]
    assert ("__init__.py", 'app.connect("builder-inited", load_data)') in handlers
    assert not [h for h in handlers if "priority" in h[1]], handlers


def test_cache_folders_are_named_for_what_they_hold(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    env = SimpleNamespace(srcdir=str(tmp_path / "docs"),
                          doctreedir=str(tmp_path / "build" / "doctrees"),
                          config=SimpleNamespace(handbook_cache_dir=""))
    monkeypatch.delenv("HANDBOOK_CACHE_DIR", raising=False)
    assert cache_dir(env, "diagrams") == tmp_path / "build" / "diagrams"
    env.config.handbook_cache_dir = "../build/.cache"
    assert cache_dir(env, "charts") == tmp_path / "docs" / "../build/.cache" / "charts"
    monkeypatch.setenv("HANDBOOK_CACHE_DIR", str(tmp_path / "shared"))
    assert cache_dir(env, "icons") == tmp_path / "shared" / "icons"


def test_the_architecture_section_names_every_module() -> None:
    text = (PACKAGE.parents[1] / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"\b([a-z_]+\.py)\b", section))
    modules = {p.name for p in MODULES} - {"__main__.py"}
    assert modules - named == set(), "add these modules to CONTRIBUTING.md, Architecture"
    assert named - modules - {"test_modules.py"} == set(), "no such module in the package"
