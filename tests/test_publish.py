"""`python -m handbook_tools publish NEW TARGET` swaps a new build in, in one step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from handbook_tools.cli import main
from handbook_tools.publish import exchange


def site(path: Path, text: str) -> Path:
    (path / "sub").mkdir(parents=True)
    (path / "index.html").write_text(text, encoding="utf-8")
    (path / "sub" / "page.html").write_text(text, encoding="utf-8")
    return path


def test_publish_replaces_the_old_site(tmp_path: Path) -> None:
    old, new = site(tmp_path / "html", "old"), site(tmp_path / "html.new", "new")
    assert main(["publish", str(new), str(old)]) == 0
    assert (old / "index.html").read_text(encoding="utf-8") == "new"
    assert (old / "sub" / "page.html").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["html"]  # nothing left beside it


def test_publish_a_first_site(tmp_path: Path) -> None:
    new = site(tmp_path / "html.new", "new")
    assert main(["publish", str(new), str(tmp_path / "html")]) == 0
    assert (tmp_path / "html" / "index.html").read_text(encoding="utf-8") == "new"
    assert not new.exists()


def test_publish_without_a_build_says_so(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["publish", str(tmp_path / "missing"), str(tmp_path / "html")]) == 2
    assert "no new build to publish" in capsys.readouterr().err


def test_exchange_swaps_two_folders_atomically(tmp_path: Path) -> None:
    a, b = site(tmp_path / "a", "A"), site(tmp_path / "b", "B")
    if not exchange(a, b):
        pytest.skip("this system or file system has no atomic exchange (renameat2)")
    assert (a / "index.html").read_text(encoding="utf-8") == "B"
    assert (b / "index.html").read_text(encoding="utf-8") == "A"


#: what the CLI must not import before a command needs it
HEAVY = ("sphinx", "docutils", "yaml", "pybtex", "matplotlib", "jinja2", "pygments")


def test_publish_through_the_cli_imports_no_sphinx(tmp_path: Path) -> None:
    """``make html`` publishes with ``python -m handbook_tools publish`` after every build:
    the CLI imports Sphinx, docutils and YAML only in the commands that use them."""
    new = site(tmp_path / "html.new", "new")
    code = ("import sys\n"
            "from handbook_tools.cli import main\n"
            f"rc = main(['publish', {str(new)!r}, {str(tmp_path / 'html')!r}])\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
            "sys.exit(rc)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    assert (tmp_path / "html" / "index.html").read_text(encoding="utf-8") == "new"
