"""Shared fixtures: small Sphinx projects built with ``sphinx.testing``, the session's
diagram cache, and the real handbook's builds that several test files share."""

from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from filelock import FileLock
from hypothesis import settings
from sphinx.testing.util import SphinxTestApp
from sphinx.util.console import nocolor

pytest_plugins = ["sphinx.testing.fixtures"]

TESTS = Path(__file__).parent
ROOTS = TESTS / "roots"
CORPUS = TESTS / "corpus"
REPO = TESTS.parent
T = TypeVar("T")

nocolor()  # warnings are compared as text

# Hypothesis (tests/test_fuzz.py): the "default" profile is derandomised (the examples
# follow from each test's code alone) and keeps no example database, so `make test` tries
# the same inputs every time, with or without CI set.  The "fuzz" profile (`make fuzz`)
# explores: its inputs come from the seed that `--hypothesis-seed` gives, printed by
# `make fuzz` so that a failure can be replayed (`make fuzz FUZZ_SEED=...`).
settings.register_profile("default", derandomize=True, database=None, deadline=None,
                          print_blob=True)
settings.register_profile("fuzz", derandomize=False, database=None, deadline=None,
                          print_blob=True)
settings.load_profile("default")


#: The order in which ``pytest -n`` hands out the work (pyproject.toml turns off xdist's
#: own reordering, which hands out the groups of most tests first, whatever they cost):
#: first the two clean builds of the real book, one to each worker (test_repro's group
#: makes the second and waits for the first); then the long groups and files, longest
#: first, so that no long one is left for the end while the other workers idle: those
#: that need nothing built (a third worker takes them at once) before the builds that
#: start from ``real_book``'s cache (a worker that takes one waits for ``real_book``:
#: 283 s with ``-n 3`` when the edited copy came third); then the rest, as collected.
#: Each entry is an ``xdist_group`` (two groups of one test joined by "_", as xdist joins
#: them) or a file's name.
FIRST = ("book", "book-repro", "browser", "test_purged_css.py", "book_book-edit",
         "book_book-epub", "book_book-published", "book_book-shallow",
         "test_data_diagrams.py")


def _rank(item: pytest.Item) -> int:
    group = "_".join(sorted({str(m.args[0]) for m in item.iter_markers("xdist_group")}))
    for rank, key in enumerate(FIRST):
        if key in (group, item.path.name):
            return rank
    return len(FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: the order of collection within each rank


@pytest.fixture(scope="session")
def rootdir() -> Path:
    """Where ``@pytest.mark.sphinx(testroot=...)`` finds its ``test-<name>`` projects."""
    return ROOTS


def shorten(text: str, root: Path) -> str:
    """TEXT with the paths under ROOT written relative to it, as the corpus writes them
    (Sphinx and the extension log absolute paths)."""
    root = Path(root).resolve()
    return text.replace(f"{root}{os.sep}", "")


@dataclass
class Built:
    """A finished build of a small project: the ``sphinx.testing`` app and what it logged."""

    app: SphinxTestApp

    @property
    def srcdir(self) -> Path:
        return Path(self.app.srcdir)

    @property
    def outdir(self) -> Path:
        return Path(self.app.outdir)

    @property
    def warnings(self) -> str:
        return self.app.warning.getvalue()

    @property
    def status(self) -> str:
        return self.app.status.getvalue()

    def messages(self) -> list[str]:
        """The warnings as ``path:line: message (check)``, paths relative to the project:
        the CLI's parser, given the project as the folder to shorten paths against."""
        from handbook_tools.cli import parse_warnings

        return [str(p) for p in parse_warnings(self.warnings, root=self.srcdir)]


def build_app(app: SphinxTestApp) -> Built:
    app.build()
    return Built(app)


def build_once(srcdir: Path, builder: str = "html") -> Built:
    """A fresh build for a module or session fixture, where the function-scoped
    ``make_app`` is not available: ``sphinx.testing``'s app, cleaned up once built."""
    app = SphinxTestApp(builder, srcdir=Path(srcdir), freshenv=True,
                        confoverrides={"nitpicky": True})
    try:
        return build_app(app)
    finally:
        app.cleanup()


@pytest.fixture
def build(make_app: Callable[..., SphinxTestApp]) -> Callable[..., Built]:
    """``build(srcdir, builder="html", ...)``: build a project the way ``make`` does
    (nitpicky; Sphinx keeps going and collects every warning) with ``sphinx.testing``'s
    ``make_app``, into ``srcdir/_build`` unless ``builddir`` says otherwise.  A build is
    fresh unless ``freshenv=False`` (an incremental rebuild of the last one)."""
    made: list[SphinxTestApp] = []

    def run(srcdir: Path, builder: str = "html", *, freshenv: bool = True, parallel: int = 0,
            builddir: Path | None = None,
            confoverrides: dict[str, object] | None = None) -> Built:
        # one app's roles and directives in docutils' registries at a time
        for old in made:
            old.cleanup()
        app = make_app(builder, srcdir=Path(srcdir), builddir=builddir, freshenv=freshenv,
                       parallel=parallel,
                       confoverrides={"nitpicky": True, **(confoverrides or {})})
        made.append(app)
        return build_app(app)

    return run


@pytest.fixture(scope="session", autouse=True)
def shared_diagram_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One diagram cache for the session (for each worker of ``pytest -n``): a diagram is
    rendered once, not once a test."""
    cache = tmp_path_factory.mktemp("diagram-cache")
    old = os.environ.get("HANDBOOK_CACHE_DIR")
    os.environ["HANDBOOK_CACHE_DIR"] = str(cache)
    yield
    if old is None:
        os.environ.pop("HANDBOOK_CACHE_DIR", None)
    else:
        os.environ["HANDBOOK_CACHE_DIR"] = old


# ---------------------------------------------------------------------------- the real book
#: the freshness date and timestamp of the real book's builds in the tests: fixed, so that a
#: test run does not depend on the calendar
BOOK_TODAY = "2026-11-25"
BOOK_EPOCH = "1764028800"  # 2026-11-25 00:00 UTC
LATEXMKOPTS = "LATEXMKOPTS=-interaction=nonstopmode -halt-on-error -quiet"


def book_env(cache: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment of a test build of docs/: the fixed dates, no forge or published
    address (each has a test of its own), and CACHE as the diagram cache when given."""
    env = dict(os.environ, HANDBOOK_TODAY=BOOK_TODAY, SOURCE_DATE_EPOCH=BOOK_EPOCH)
    env.pop("HANDBOOK_REPOSITORY_URL", None)
    env.pop("HANDBOOK_BASE_URL", None)
    if cache is not None:
        env["HANDBOOK_CACHE_DIR"] = str(cache)
    return {**env, **extra}


def sphinx_book(builder: str, out: Path, doctrees: Path, env: dict[str, str],
                *extra: str, docs: Path = REPO / "docs") -> subprocess.CompletedProcess[str]:
    """The Makefile's strict build (``-n -W --keep-going -q``) of DOCS into OUT."""
    return subprocess.run([sys.executable, "-m", "sphinx", "-b", builder, "-n", "-W",
                           "--keep-going", "-q", *extra, "-d", str(doctrees), str(docs),
                           str(out)], cwd=REPO, env=env, capture_output=True, text=True,
                          check=False)


def latexmk(latex: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``make pdf``'s LaTeX run in a built LaTeX folder."""
    return subprocess.run(["make", "-C", str(latex), LATEXMKOPTS, "all-pdf"], env=env,
                          capture_output=True, text=True, check=False)


@dataclass
class Book:
    """A clean build of the real handbook in ``root``: ``html/``, ``latex/`` with the PDF
    (``latex/handbook.pdf``), and the diagram cache it started empty (``cache/``)."""

    root: Path
    html: subprocess.CompletedProcess[str]
    latex: subprocess.CompletedProcess[str]
    pdf: subprocess.CompletedProcess[str]  # latexmk's run, or the LaTeX build's if it failed

    @property
    def cache(self) -> Path:
        return self.root / "cache"


def build_book(root: Path) -> Book:
    """HTML, LaTeX and the PDF of docs/, from clean, with an empty diagram cache of its own
    (a shared cache would hide any nondeterminism of rendering from test_repro)."""
    env = book_env(root / "cache")
    html = sphinx_book("html", root / "html", root / "doctrees-html", env)
    latex = sphinx_book("latex", root / "latex", root / "doctrees-latex", env)
    pdf = latexmk(root / "latex", env) if latex.returncode == 0 else latex
    return Book(root, html, latex, pdf)


def built_once(tmp_path_factory: pytest.TempPathFactory, worker_id: str, name: str,
               make: Callable[[Path], T]) -> T:
    """``make(folder)``, done once for the whole test run: under ``pytest -n`` the first
    worker that asks makes it (in a folder that every worker of the run shares, as
    pytest-xdist's documentation shows) while a file lock holds the others, which then
    read its result. The result must pickle."""
    if worker_id == "master":  # no xdist workers
        return make(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent  # one folder a run, beside each worker's
    result = shared / f"{name}.pickle"
    with FileLock(shared / f"{name}.lock"):
        if result.is_file():
            return pickle.loads(result.read_bytes())
        folder = shared / name
        if folder.exists():  # a worker that died building it
            shutil.rmtree(folder)
        folder.mkdir()
        made = make(folder)
        result.write_bytes(pickle.dumps(made))
        return made


@pytest.fixture(scope="session")
def real_book(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Book:
    """The real handbook, built once for test_book and test_repro, whichever worker of
    ``pytest -n`` asks first (they are in different xdist groups, so that the second
    clean build of test_repro is made on one worker while this one is made on the
    other)."""
    return built_once(tmp_path_factory, worker_id, "book", build_book)


@pytest.fixture(scope="session")
def real_book_again(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Book:
    """A second clean build, in another folder with another empty cache (test_repro)."""
    return built_once(tmp_path_factory, worker_id, "book-again", build_book)


#: ``sphinx-build`` options for a build of the real book that tests what the pages say, not
#: what is done to the written files: no pre-compressed copies and no cut of the theme's
#: stylesheets (about 10 s of a 24 s build of a copy of the book). Both have tests of their
#: own (test_compress, test_purged_css, test_incremental) and run in ``real_book``.
PAGES_ONLY = ("-D", "handbook_precompress=0", "-D", "handbook_purge_css=0")


def seeded_cache(book: Book, dest: Path) -> Path:
    """DEST, a copy of BOOK's cache (its diagrams and charts, compressed copies and cut
    stylesheets, each kept by its content), for a build of the real book that tests
    something other than rendering: what a second ``make`` finds after the first. Only the
    builds of ``build_book`` start from an empty cache (test_repro compares their
    rendering); a copy keeps each test's renders out of ``real_book``'s cache."""
    shutil.copytree(book.cache, dest)
    return dest


@pytest.fixture
def clean_project(tmp_path: Path) -> Iterator[Path]:
    """A copy of tests/roots/test-clean to modify."""
    dest = tmp_path / "project"
    shutil.copytree(ROOTS / "test-clean", dest)
    yield dest


def picture(html: str, cls: str) -> tuple[str, str]:
    """(text alternative, light and dark inline SVG markup) of the first picture of a class
    (``hb-diagram``, ``hb-diagram hb-chart``) on a built page."""
    m = re.search(rf'<div (?:id="[^"]*" )?class="{cls}" role="img" aria-label="([^"]*)">'
                  r'(<div class="only-light">.*?</svg>\s*</div><div class="only-dark">.*?'
                  r'</svg>\s*</div>)</div>', html, re.S)
    assert m, f"no {cls} picture"
    return m.group(1), m.group(2)
