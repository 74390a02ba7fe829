"""`make html` never leaves a half-written site: it builds into build/html.new and swaps
it in only when the build succeeds.  A failing build and a build killed while it writes
pages both leave the previous good site exactly as it was; the next build recovers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
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
    assert (f".venv/bin/python -m handbook_tools publish {build}/html.new {build}/html"
            in commands)
    assert not any("publish.py" in c for c in commands)


# ---------------------------------------------------------------------------- no-change make
# `make` runs nothing when no input changed, and rebuilds what depends on any input that
# did. The Makefile runs here in a copy of the project whose builds are stubbed: the stubs
# log each builder they stand for and write the files the recipes go on to use, so what
# is tested is Make's decision, with the real recipes (publish.py, latexlog) around them.

STUB_SPHINX = """#!/bin/sh
# sphinx-build -b BUILDER ... SRC OUT: log the builder, write the output folder
for last; do :; done
echo "$2" >> "$STUB_LOG"
mkdir -p "$last" && echo "<p>stub</p>" > "$last/index.html"
"""

STUB_LATEX = """#!/bin/sh
# make -C build/latex ... all-pdf: log it, write the PDF and an empty LaTeX log
echo latexmk >> "$STUB_LOG"
printf '%%PDF-1.4 stub' > "$2/handbook.pdf" && : > "$2/handbook.log"
"""

DATE = "1764720000"  # SOURCE_DATE_EPOCH of every run, unless a case changes it


def stub_make(project: Path, *args: str, **env: str) -> set[str]:
    """``make`` in the copy; the set of builders it ran (html, latex, latexmk)."""
    log = project / "stub.log"
    log.write_text("")
    proc = subprocess.run(
        ["make", "--no-print-directory", "-C", str(project), *args,
         "SPHINXBUILD=./stub-sphinx-build",
         "LATEXMAKE=./stub-latexmk"],
        env={**os.environ, "HANDBOOK_SKIP_PACKAGES": "1", "SOURCE_DATE_EPOCH": DATE,
             "STUB_LOG": str(log), **env},
        capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return set(log.read_text().split())


@pytest.fixture(scope="module")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project (the book, the package, the Makefile and what it reads, a git
    repository), built once with the stubs."""
    project = tmp_path_factory.mktemp("made") / "project"
    project.mkdir()
    for name in ("Makefile", "pyproject.toml", "CITATION.cff"):
        shutil.copy2(REPO / name, project / name)
    shutil.copytree(REPO / "docs", project / "docs")
    shutil.copytree(REPO / "src" / "handbook_tools", project / "src" / "handbook_tools",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (project / "tools" / "node_modules").mkdir(parents=True)
    for name in ("ensure-packages.sh", "package.json",
                 "package-lock.json"):
        shutil.copy2(REPO / "tools" / name, project / "tools" / name)
    (project / ".venv" / "bin").mkdir(parents=True)
    # python: the real one for publish.py (the swap of the site); the LaTeX log reader,
    # which would only read the stub's empty log, is stood in for (it imports Sphinx)
    python = project / ".venv" / "bin" / "python"
    python.write_text(f'#!/bin/sh\n[ "$1 $2 $3" = "-m handbook_tools latexlog" ] && exit 0\n'
                      f'exec "{REPO / ".venv" / "bin" / "python"}" "$@"\n')
    python.chmod(0o755)
    for installed in (project / ".venv" / "bin" / ".installed",
                      project / "tools" / "node_modules" / ".installed"):
        installed.touch()
    for name, text in (("stub-sphinx-build", STUB_SPHINX), ("stub-latexmk", STUB_LATEX)):
        (project / name).write_text(text)
        (project / name).chmod(0o755)
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "book"]):
        subprocess.run(["git", *cmd], cwd=project, check=True, capture_output=True)
    assert stub_make(project) == {"html", "latex", "latexmk"}
    assert (project / "build" / "html" / "handbook.pdf").read_bytes() == b"%PDF-1.4 stub"
    return project


@pytest.fixture
def project(built_project: Path, tmp_path: Path) -> Path:
    """A fresh copy of the built project, times kept (what Make compares)."""
    copy = tmp_path / "project"
    shutil.copytree(built_project, copy, symlinks=True)
    return copy


def test_nothing_runs_when_nothing_changed(project: Path) -> None:
    assert stub_make(project) == set()
    assert stub_make(project, "html") == set()
    assert stub_make(project, "pdf") == set()
    status = subprocess.run(
        ["make", "-q", "-C", str(project), "html", "pdf",
         "SPHINXBUILD=./stub-sphinx-build"],
        env={**os.environ, "SOURCE_DATE_EPOCH": DATE}, capture_output=True, check=False)
    assert status.returncode == 0  # -q: every target is up to date


def _append(path: str, text: str = "\n<!-- changed -->\n") -> Callable[[Path], None]:
    def change(project: Path) -> None:
        with (project / path).open("a", encoding="utf-8") as f:
            f.write(text)
    return change


def _add(path: str) -> Callable[[Path], None]:
    return lambda project: (project / path).write_text("# New page\n", encoding="utf-8")


def _remove(path: str) -> Callable[[Path], None]:
    return lambda project: (project / path).unlink()


def _touch(path: str) -> Callable[[Path], None]:
    return lambda project: (project / path).touch()


def _commit(project: Path) -> None:
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "next"], cwd=project,
                   check=True, capture_output=True)


BOTH = {"html", "latex", "latexmk"}
HTML = {"html"}

#: (what changes, how, the make variables or environment it sets, what must rebuild)
CHANGES = [
    ("page", _append("docs/takeaways.md"), {}, BOTH),
    ("new page", _add("docs/history/new-page.md"), {}, BOTH),
    ("removed page", _remove("docs/takeaways.md"), {}, BOTH),
    ("data", _append("docs/_data/missions.yaml", "\n# changed\n"), {}, BOTH),
    ("facts", _append("docs/_data/facts/cost.yaml", "\n# changed\n"), {}, BOTH),
    ("sources", _append("docs/_data/sources.bib", "\n% changed\n"), {}, BOTH),
    ("template", _append("docs/_templates/layout.html", "\n{# changed #}\n"), {}, HTML),
    ("stylesheet", _append("docs/_static/custom.css", "\n/* changed */\n"), {}, HTML),
    ("static image", _touch("docs/_static/social-card.png"), {}, BOTH),
    ("conf.py", _append("docs/conf.py", "\n# changed\n"), {}, BOTH),
    ("extension code", _append("src/handbook_tools/facts.py", "\n# changed\n"), {}, BOTH),
    ("extension static", _touch("src/handbook_tools/static/handbook.css"), {}, BOTH),
    ("diagram renderer", _touch("src/handbook_tools/render-mermaid.mjs"), {}, BOTH),
    ("citation file", _touch("CITATION.cff"), {}, BOTH),
    ("Makefile", _append("Makefile", "\n# changed\n"), {}, BOTH),
    ("installed packages", _touch(".venv/bin/.installed"), {}, BOTH),
    ("SPHINXOPTS", lambda p: None, {"SPHINXOPTS": "-n -W --keep-going"}, BOTH),
    ("freshness date", lambda p: None, {"HANDBOOK_TODAY": "2027-01-01"}, BOTH),
    ("SOURCE_DATE_EPOCH", lambda p: None, {"SOURCE_DATE_EPOCH": "1764806400"}, BOTH),
    ("base URL", lambda p: None, {"HANDBOOK_BASE_URL": "https://example.org/"}, BOTH),
    ("new commit", _commit, {}, BOTH),
]


@pytest.mark.parametrize(("change", "how", "env", "rebuilt"), CHANGES,
                         ids=[c[0] for c in CHANGES])
def test_a_changed_input_rebuilds_what_depends_on_it(
        project: Path, change: str, how: Callable[[Path], None], env: dict[str, str],
        rebuilt: set[str]) -> None:
    assert (project / "src/handbook_tools/static/handbook.css").is_file()
    how(project)
    assert stub_make(project, **env) == rebuilt, change
    assert stub_make(project, **env) == set(), f"{change}: once rebuilt, nothing runs"
    if env:  # back to the old settings: the build that matches them is gone, so rebuild
        assert stub_make(project) == rebuilt


def test_a_page_saved_during_a_build_is_seen_by_the_next_make(project: Path) -> None:
    page = project / "docs" / "takeaways.md"
    stub = project / "stub-sphinx-build"
    # the html build saves the page while it runs (after the build began)
    stub.write_text(STUB_SPHINX + f'[ "$2" = html ] && sleep 0.05 && touch "{page}"\nexit 0\n')
    _append("docs/index.md")(project)
    assert stub_make(project, "html") == HTML
    stub.write_text(STUB_SPHINX)
    assert stub_make(project, "html") == HTML  # the save during the last build counts
    assert stub_make(project, "html") == set()


def test_outside_git_the_date_is_the_day_and_nothing_runs_the_second_time(
        project: Path) -> None:
    """Without a commit to date the build, SOURCE_DATE_EPOCH is the start of today (UTC),
    not the second `make` starts: a no-change `make` stays one."""
    shutil.rmtree(project / ".git")
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}

    def run() -> str:
        log = project / "stub.log"
        log.write_text("")
        proc = subprocess.run(
            ["make", "--no-print-directory", "-C", str(project),
             "SPHINXBUILD=./stub-sphinx-build", "LATEXMAKE=./stub-latexmk"],
            env={**env, "HANDBOOK_SKIP_PACKAGES": "1", "STUB_LOG": str(log)},
            capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return log.read_text()

    assert run().split() == ["latex", "latexmk", "html"]  # no commit now: new settings
    settings = (project / "build" / ".stamps" / "settings").read_text()
    epoch = int(settings.split("SOURCE_DATE_EPOCH=")[1].split()[0])
    assert epoch % 86400 == 0
    time.sleep(1.1)  # the clock moves on; the date does not (unless midnight passes)
    if int(time.time()) // 86400 == epoch // 86400:
        assert run() == ""


def test_a_failed_build_is_run_again(project: Path) -> None:
    _append("docs/index.md")(project)
    stub = project / "stub-sphinx-build"
    stub.write_text(STUB_SPHINX + "exit 1\n")
    proc = subprocess.run(
        ["make", "-C", str(project), "html", "SPHINXBUILD=./stub-sphinx-build"],
        env={**os.environ, "SOURCE_DATE_EPOCH": DATE}, capture_output=True, check=False)
    assert proc.returncode != 0
    stub.write_text(STUB_SPHINX)
    assert stub_make(project, "html") == HTML
