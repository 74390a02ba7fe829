"""Shared fixtures: build small Sphinx projects in a temporary folder."""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

pytest_plugins = ["sphinx.testing.fixtures"]

TESTS = Path(__file__).parent
ROOTS = TESTS / "roots"
CORPUS = TESTS / "corpus"
REPO = TESTS.parent

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


@pytest.fixture(scope="session")
def rootdir() -> Path:
    """Where ``@pytest.mark.sphinx(testroot=...)`` finds its ``test-<name>`` projects."""
    return ROOTS


@dataclass
class Built:
    srcdir: Path
    outdir: Path
    warnings: str
    status: str


def build_project(srcdir: Path, builder: str = "html", parallel: int = 0,
                  outdir: Path | None = None, freshenv: bool = True,
                  confoverrides: dict[str, object] | None = None) -> Built:
    """Build a project the way ``make`` does (nitpicky, keep going), capturing warnings."""
    from sphinx.application import Sphinx
    from sphinx.util.console import nocolor
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    nocolor()
    outdir = outdir or srcdir / "_build" / builder
    warning, status = io.StringIO(), io.StringIO()
    old = Path.cwd()
    os.chdir(srcdir)
    try:
        with patch_docutils(srcdir), docutils_namespace():
            app = Sphinx(str(srcdir), str(srcdir), str(outdir), str(srcdir / "_build" / "doctrees"
                                                                   / builder),
                         builder, confoverrides={"nitpicky": True, **(confoverrides or {})},
                         status=status, warning=warning, freshenv=freshenv, keep_going=True,
                         parallel=parallel)
            app.build()
    finally:
        os.chdir(old)
    return Built(srcdir, outdir, warning.getvalue(), status.getvalue())


@pytest.fixture(scope="session", autouse=True)
def shared_diagram_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One diagram cache for the session: a diagram is rendered once, not once a test."""
    cache = tmp_path_factory.mktemp("diagram-cache")
    old = os.environ.get("HANDBOOK_CACHE_DIR")
    os.environ["HANDBOOK_CACHE_DIR"] = str(cache)
    yield
    if old is None:
        os.environ.pop("HANDBOOK_CACHE_DIR", None)
    else:
        os.environ["HANDBOOK_CACHE_DIR"] = old


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
