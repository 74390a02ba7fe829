"""The pre-commit hooks (.pre-commit-config.yaml) pass on the repository's files, offline:
every hook is local and runs from the project's virtual environment."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from handbook_tools.cli import main

VENV = REPO / ".venv"
pytestmark = pytest.mark.skipif(not (VENV / "bin" / "pre-commit").is_file(),
                                reason="needs the virtual environment (make setup)")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def test_hooks_are_local_and_offline() -> None:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    for repo in config["repos"]:
        assert repo["repo"] == "local"
        for hook in repo["hooks"]:
            assert hook["language"] == "system", hook["id"]
            assert hook["entry"].startswith(".venv/bin/"), hook["id"]
            assert (REPO / hook["entry"].split()[0]).is_file(), hook["entry"]


def test_pre_commit_run_all_files(tmp_path: Path) -> None:
    """`pre-commit run --all-files` in a fresh repository holding the working tree's files
    (committed or not, ignored files left out), with the project's venv beside them."""
    clone = tmp_path / "clone"
    files = git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, files.split("\0")):
        src = REPO / name
        if not src.is_file():
            continue  # deleted in the working tree
        dest = clone / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
    (clone / ".venv").symlink_to(VENV)
    git(clone, "init", "-q")
    git(clone, "add", "-A")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "SKIP": "", "PIP_NO_INDEX": "1"}
    proc = subprocess.run([str(VENV / "bin" / "pre-commit"), "run", "--all-files",
                           "--show-diff-on-failure"], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Failed" not in proc.stdout


def test_check_files_reports_invisible_characters(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n\nThe troops \u202eleft\u202c in 2021.\n", encoding="utf-8")
    clean = tmp_path / "clean.md"
    clean.write_text("\ufeff# Title\n\nNo hidden characters.\n", encoding="utf-8")
    binary = tmp_path / "dot.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + "\u202e".encode())
    assert main(["check-files", str(clean), str(binary)]) == 0
    assert main(["check-files", str(page), str(clean)]) == 1
    out = capsys.readouterr().out
    assert f"{page}:3: invisible control character U+202E" in out
    assert "U+202C" in out
    assert main(["check-files", str(tmp_path / "missing.md")]) == 2


def test_citation_cff_hook(tmp_path: Path) -> None:
    """The CITATION.cff hook's entry (the file may not exist yet): a valid file passes, one
    without authors and message fails."""
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hook = next(h for r in config["repos"] for h in r["hooks"] if h["id"] == "citation-cff")
    assert re.fullmatch(hook["files"], "CITATION.cff")
    entry = hook["entry"].split()
    good, bad = tmp_path / "good" / "CITATION.cff", tmp_path / "bad" / "CITATION.cff"
    good.parent.mkdir()
    bad.parent.mkdir()
    good.write_text('cff-version: 1.2.0\nmessage: "Cite it as below."\ntitle: Handbook\n'
                    "authors:\n  - name: Handbook contributors\n", encoding="utf-8")
    bad.write_text("cff-version: 1.2.0\ntitle: Handbook\n", encoding="utf-8")
    run = [str(REPO / entry[0]), *entry[1:]]
    assert subprocess.run([*run, str(good)], capture_output=True).returncode == 0
    proc = subprocess.run([*run, str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1 and "'authors' is a required property" in proc.stdout
