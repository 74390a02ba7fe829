"""`make html` never leaves a half-written site: it builds into build/html.new and swaps
it in only when the build succeeds.  A failing build and a build killed while it writes
pages both leave the previous good site exactly as it was; the next build recovers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, ROOTS

pytestmark = pytest.mark.skipif(not (REPO / ".venv" / "bin" / "sphinx-build").is_file(),
                                reason="needs the virtual environment (make setup)")

#: added to the project's conf.py: with HANDBOOK_TEST_PAUSE set, the build stops while it
#: writes pages (some written, some not), says so in that file, and waits to be killed
PAUSE_HOOK = '''

import os as _os
import time as _time


def setup(app):
    def pause(app, pagename, templatename, context, doctree):
        marker = _os.environ.get("HANDBOOK_TEST_PAUSE")
        if marker and pagename == "register":
            with open(marker, "w") as out:
                out.write(str(_os.getpid()))
            _time.sleep(3600)
    app.connect("html-page-context", pause)
'''


def make_html(src: Path, build: Path, **env: str) -> subprocess.Popen[str]:
    """``make html`` of the repository's Makefile for another project and build folder.
    The set-up prerequisites count as done (``-o``): a test never reinstalls anything."""
    return subprocess.Popen(
        ["make", "--no-print-directory", "-C", str(REPO), "-o", ".venv/bin/.installed",
         "-o", "tools/node_modules/.installed", "html", f"DOCS={src}", f"BUILD={build}"],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True)  # its own process group, to kill it whole


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = proc.communicate()
    return proc.returncode, out


def snapshot(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes()
            for p in sorted(site.rglob("*")) if p.is_file()}


@pytest.fixture
def good_site(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """A project built once, successfully: (sources, build folder, the site's files)."""
    src = tmp_path / "src"
    shutil.copytree(ROOTS / "test-clean", src)
    with (src / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write(PAUSE_HOOK)
    build = tmp_path / "build"
    code, out = finish(make_html(src, build))
    assert code == 0, out
    site = snapshot(build / "html")
    assert "about 2,500" in site["index.html"].decode()
    return src, build, site


def change_title(src: Path) -> None:
    index = src / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace("# Clean", "# Changed", 1),
                     encoding="utf-8")


def test_failing_build_keeps_the_old_site(good_site: tuple[Path, Path, dict[str, bytes]]
                                          ) -> None:
    src, build, site = good_site
    change_title(src)
    index = src / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\n{fact}`no.such.fact`\n",
                     encoding="utf-8")
    code, out = finish(make_html(src, build))
    assert code != 0
    assert "unknown fact id 'no.such.fact'" in out
    assert snapshot(build / "html") == site  # not one byte of the good site changed
    assert not (build / "html.new").exists() and not (build / "html.old").exists()


def test_killed_build_keeps_the_old_site_and_the_next_build_recovers(
        good_site: tuple[Path, Path, dict[str, bytes]], tmp_path: Path) -> None:
    src, build, site = good_site
    change_title(src)
    marker = tmp_path / "paused"
    proc = make_html(src, build, HANDBOOK_TEST_PAUSE=str(marker))
    give_up = time.monotonic() + 600  # a guard against waiting forever, not a speed test
    while not marker.exists() and proc.poll() is None and time.monotonic() < give_up:
        time.sleep(0.1)
    if not marker.exists():
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("the build never reached its pause: " + finish(proc)[1][-2000:])
    os.killpg(proc.pid, signal.SIGKILL)  # the make process group this test started
    proc.wait()
    assert (build / "html.new").is_dir()  # the build was killed while writing its copy
    assert snapshot(build / "html") == site

    code, out = finish(make_html(src, build))
    assert code == 0, out
    assert "Changed" in (build / "html" / "index.html").read_text(encoding="utf-8")
    assert not (build / "html.new").exists() and not (build / "html.old").exists()


def test_html_publishes_through_the_cli(tmp_path: Path) -> None:
    """One publish path: ``make html`` swaps the site in with the CLI's ``publish``
    (``make -n`` lists the commands without running them)."""
    build = tmp_path / "build"
    proc = subprocess.run(
        ["make", "-n", "--no-print-directory", "-C", str(REPO), "-o", ".venv/bin/.installed",
         "-o", "tools/node_modules/.installed", "-o", ".deb-browser", "html",
         f"DOCS={tmp_path / 'src'}", f"BUILD={build}"],
        capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    commands = [line.strip() for line in proc.stdout.splitlines()]
    assert commands[-1] == (f".venv/bin/python -m handbook_tools publish {build}/html.new "
                            f"{build}/html")
    assert not any("publish.py" in c for c in commands)
