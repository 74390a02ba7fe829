"""What the extension keeps during one build, reached from the build environment.

Sphinx 9 deprecates ``env.app`` and ``builder.app`` (gone in Sphinx 11), so roles,
directives and translators cannot reach the application.  Everything they share (the
loaded registry, the missions and scenarios data, the diagram results) lives in one
:class:`BuildState` per environment instead; it is never pickled with the environment,
and each build starts it afresh at ``builder-inited``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    from sphinx.environment import BuildEnvironment

    from .registry import Registry


@dataclass
class BuildState:
    registry: Registry | None = None
    #: publishers.Publishers, loaded with the registry; None when the project has none
    publishers: Any = None
    missions: Any = None  #: missions.Missions, loaded on first use
    scenarios: Any = None  #: scenarios.Scenarios, loaded on first use
    #: fact ids that generated pictures use (missions, scenarios): never "unused"
    data_uses: set[str] = field(default_factory=set)
    #: diagram hash -> mermaid's error message, from this build's render
    mermaid_errors: dict[str, str] = field(default_factory=dict)
    mermaid_rendered: int = 0


_STATES: WeakKeyDictionary[BuildEnvironment, BuildState] = WeakKeyDictionary()


def build_state(env: BuildEnvironment) -> BuildState:
    state = _STATES.get(env)
    if state is None:
        state = _STATES[env] = BuildState()
    return state


def reset_state(env: BuildEnvironment) -> BuildState:
    """A fresh state for a new build (data files may have changed since the last)."""
    state = _STATES[env] = BuildState()
    return state
