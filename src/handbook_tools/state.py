"""What the extension keeps during one build, and the one place its data files are loaded.

Sphinx 9 deprecates ``env.app`` and ``builder.app`` (gone in Sphinx 11), so roles,
directives and translators cannot reach the application.  Everything they share (the
registry, the publisher register, the missions and scenarios data) lives in one
:class:`BuildState` per environment instead; it is never pickled with the environment.

Every kind of data file has one path: :func:`load_data`, the extension's one
``builder-inited`` handler for data, loads each file once into a fresh state (fact
references resolved), reports its problems, and hands the pybtex style what it needs; a
role or directive that shows data notes the files as dependencies of its page
(:func:`registry_for_page`, :func:`data_for_page`).  Parallel readers are forked after
``builder-inited``, so each has the loaded state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from .problems import warn
from .settings import reference_date

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

    from .missions import Missions
    from .problems import Problem
    from .publishers import Attribution, Publishers
    from .registry import Registry
    from .scenarios import Scenarios

MISSIONS = "missions.yaml"
SCENARIOS = "scenarios.yaml"


@dataclass
class BuildState:
    registry: Registry | None = None
    #: None when the project has no publisher register
    publishers: Publishers | None = None
    missions: Missions | None = None
    scenarios: Scenarios | None = None
    #: fact ids that generated pictures use (missions, scenarios): never "unused"
    data_uses: set[str] = field(default_factory=set)
    #: source key -> publisher and standing, worked out on first use (every page's fact
    #: cards ask: 1.8 s of CPU a clean build when each page worked it out again)
    attributions: dict[str, Attribution] | None = None


_STATES: WeakKeyDictionary[BuildEnvironment, BuildState] = WeakKeyDictionary()


def build_state(env: BuildEnvironment) -> BuildState:
    """This build's state, its data loaded (by :func:`load_data`, or here on first use)."""
    state = _STATES.get(env)
    if state is None or state.registry is None:
        state = _STATES[env] = load_state(env)
    return state


# --------------------------------------------------------------------------- data files

def data_dir(env: BuildEnvironment) -> Path:
    return Path(env.srcdir, env.config.handbook_data_dir)


def data_file(env: BuildEnvironment, name: str) -> tuple[Path, str]:
    """A data file's path, and the path to show in messages: absolute, as Sphinx shows
    pages (the CLI shortens it; see :func:`handbook_tools.cli.parse_warnings`)."""
    path = data_dir(env) / name
    return path, str(path)


def bib_paths(env: BuildEnvironment) -> list[Path]:
    return [Path(env.srcdir, p) for p in env.config.bibtex_bibfiles]


def load_state(env: BuildEnvironment) -> BuildState:
    """Every data file, loaded once: the registry (facts, sources, link status) with the
    publisher register, then the missions and scenarios that name its facts."""
    from .missions import load_missions
    from .publishers import load_all
    from .scenarios import load_scenarios

    state = BuildState()
    reg, state.publishers = load_all(data_dir(env), bib_paths(env))
    state.registry = reg
    state.missions = load_missions(*data_file(env, MISSIONS), reg)
    state.scenarios = load_scenarios(*data_file(env, SCENARIOS), reg)
    # facts the generated diagrams consume count as used (read by facts.check_unused)
    state.data_uses = state.missions.fact_ids() | state.scenarios.fact_ids()
    return state


def load_data(app: Sphinx) -> None:
    """``builder-inited``: load every data file afresh (it may have changed since the last
    build), report the problems of each, and give the bibliography style its marks."""
    from .bibstyle import note_sources

    state = _STATES[app.env] = load_state(app.env)
    reg, missions, scenarios = state.registry, state.missions, state.scenarios
    if reg is None or missions is None or scenarios is None:  # pragma: no cover
        raise RuntimeError("the data files were not loaded")
    if app.config.handbook_checks:
        report(app, sorted(reg.problems) + stale(app.env, reg))
    report(app, missions.problems + scenarios.problems)
    note_sources(reg, get_attributions(app.env))


def stale(env: BuildEnvironment, reg: Registry) -> list[Problem]:
    from .registry import stale_problems

    return stale_problems(reg, today(env))


def report(app: Sphinx, problems: list[Problem]) -> None:
    """Warn about each problem of a data file at its file and line; a check named in
    ``handbook_advisory_checks`` is a note that does not fail the build."""
    from sphinx.util import logging

    advisory = set(app.config.handbook_advisory_checks)
    for problem in problems:
        if problem.kind in advisory:
            logging.getLogger(__name__).info(f"advisory: {problem.message} ({problem.kind})",
                                             location=problem.location)
        else:
            warn(problem.check, problem.message, problem.location)


# --------------------------------------------------------------------------- reading it

def get_registry(env: BuildEnvironment) -> Registry:
    reg = build_state(env).registry
    assert reg is not None
    return reg


def get_publishers(env: BuildEnvironment) -> Publishers | None:
    """The publisher register; None when the project has none."""
    return build_state(env).publishers


def get_attributions(env: BuildEnvironment) -> dict[str, Attribution]:
    """Source key -> its publisher and standing (empty without a publisher register)."""
    from .publishers import attributions

    state = build_state(env)
    if state.attributions is None:
        pubs = get_publishers(env)
        state.attributions = {} if pubs is None else attributions(get_registry(env), pubs)
    return state.attributions


def registry_for_page(env: BuildEnvironment) -> Registry:
    """The registry, for a role or directive of the page being read: the page is read
    again when any data file of the registry changes."""
    reg = get_registry(env)
    for path in reg.files:
        env.note_dependency(str(path))
    return reg


def data_for_page(env: BuildEnvironment, name: str) -> Any:
    """The loaded data of one file (``missions``, ``scenarios``: a field of the state), for
    a directive of the page being read: the page is read again when the file or the
    registry changes."""
    data = getattr(build_state(env), name)
    if data.path is not None:
        env.note_dependency(str(data.path))
    registry_for_page(env)
    return data


def today(env: BuildEnvironment) -> dt.date:
    return reference_date(env.config.handbook_today)


def signature_changed(data: dict[str, Any], digest: str) -> bool:
    """Whether what some pages show beyond their files (a digest of it, kept in their
    domain's ``data`` under ``signature``) changed since the last build; the new digest is
    kept."""
    if data.get("signature") == digest:
        return False
    data["signature"] = digest
    return True


# ------------------------------------------------------------------------ page records

def page_records(env: BuildEnvironment, attr: str) -> dict[str, Any]:
    """docname -> what a check noted of that page when it was read (at ``doctree-read``),
    kept in the environment under ``attr`` between builds, so that a check over every page
    does not unpickle every page's doctree on every build."""
    if not hasattr(env, attr):
        setattr(env, attr, {})
    records: dict[str, Any] = getattr(env, attr)
    return records


def keep_page_records(app: Sphinx, attr: str) -> None:
    """Drop a page's record when the page is removed or reread (``env-purge-doc``) and take
    the records of the pages a parallel reader read (``env-merge-info``)."""
    def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
        page_records(env, attr).pop(docname, None)

    def merge(app: Sphinx, env: BuildEnvironment, docnames: set[str],
              other: BuildEnvironment) -> None:
        theirs, mine = page_records(other, attr), page_records(env, attr)
        for docname in docnames:
            if docname in theirs:
                mine[docname] = theirs[docname]

    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
