"""tools/ensure-packages.sh on a machine without apt-get and dpkg (Fedora, Arch, macOS):
one message naming the equivalents of the Makefile's Debian packages, and exit 1."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

SCRIPT = REPO / "tools" / "ensure-packages.sh"
BASH = shutil.which("bash")


def makefile_packages() -> list[str]:
    """DEB_BROWSER, DEB_PDF and DEB_TEST of the Makefile."""
    text = (REPO / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    found = re.findall(r"^DEB_\w+\s*:=\s*(.*)$", text, re.M)
    assert len(found) == 3
    return [pkg for line in found for pkg in line.split()]


def run(path: Path, *packages: str, **env: str) -> subprocess.CompletedProcess[str]:
    assert BASH is not None
    return subprocess.run([BASH, str(SCRIPT), *packages], capture_output=True, text=True,
                          env={"PATH": str(path), "HOME": str(path), **env}, timeout=30)


@pytest.fixture
def bare_path(tmp_path: Path) -> Path:
    """A PATH holding bash alone: no dpkg-query, apt-get, dnf, pacman or brew."""
    assert BASH is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "bash").symlink_to(BASH)
    return bin_dir


def fake(bin_dir: Path, name: str) -> None:
    tool = bin_dir / name
    tool.write_text("#!/bin/sh\nexit 0\n")
    tool.chmod(0o755)


def test_no_package_manager_names_all_three(bare_path: Path) -> None:
    packages = makefile_packages()
    proc = run(bare_path, *packages)
    assert proc.returncode == 1
    assert proc.stdout == ""
    err = proc.stderr
    assert err.startswith("error: no apt-get/dpkg here: install the equivalents of the Debian "
                          f"packages {' '.join(packages)}\n")
    lines = err.splitlines()
    fedora = next(line for line in lines if "Fedora:" in line)
    arch = next(line for line in lines if "Arch:" in line)
    mac = next(line for line in lines if "macOS:" in line)
    assert "sudo dnf install chromium google-noto-sans-fonts" in fedora
    assert "texlive-xetex" in fedora and "poppler-utils" in fedora
    assert "java-21-openjdk-headless" in fedora
    assert "sudo pacman -S --needed chromium noto-fonts" in arch and "poppler" in arch
    assert "brew install poppler openjdk epubcheck && brew install --cask chromium" in mac
    assert "mactex-no-gui" in mac
    assert "HANDBOOK_SKIP_PACKAGES=1" in err
    # every Debian package is mapped: none is passed through under its Debian name
    for debian in packages:
        # (these few have the same name on every system, epubcheck among them)
        if debian not in ("chromium", "latexmk", "texlive-xetex", "poppler-utils", "epubcheck"):
            assert f" {debian} " not in f" {fedora} {arch} {mac} ", debian


@pytest.mark.parametrize(("tool", "label", "command"), [
    ("dnf", "Fedora:", "sudo dnf install chromium texlive-tex-gyre"),
    ("pacman", "Arch:", "sudo pacman -S --needed chromium tex-gyre-fonts"),
    ("brew", "macOS:", "brew install --cask chromium mactex-no-gui"),
])
def test_the_package_manager_found(bare_path: Path, tool: str, label: str,
                                   command: str) -> None:
    fake(bare_path, tool)
    proc = run(bare_path, "chromium", "tex-gyre")
    assert proc.returncode == 1
    rows = [line.strip() for line in proc.stderr.splitlines() if ":  " in line]
    assert rows == [f"{label}{' ' * (9 - len(label))}{command}"]


def test_skip(bare_path: Path) -> None:
    proc = run(bare_path, "chromium", HANDBOOK_SKIP_PACKAGES="1")
    assert proc.returncode == 0 and proc.stderr == ""


@pytest.mark.skipif(not shutil.which("dpkg-query"), reason="a Debian machine")
def test_debian_unchanged() -> None:
    """On Debian, installed packages pass as before."""
    proc = subprocess.run([str(SCRIPT), "bash"], capture_output=True, text=True,
                          env={**os.environ}, timeout=30)
    assert proc.returncode == 0, proc.stderr
