"""Where an HTML build of the book spends its time: ``python tools/profile_build.py``.

Builds a copy of ``docs/`` (in ``build/profile``) once with the Makefile's options, then
profiles the build asked for (``--edit PAGE``: after appending a comment to PAGE; default:
no change; ``--clean``: from an empty output) and prints:

- the time spent in each event handler (ours and every other extension's), by event;
- the slowest pages to read (``sphinx.ext.duration``);
- the top functions of a cProfile of the whole build, by cumulative and own time
  (``--no-cprofile``: the handlers' times alone, without the profiler's overhead, which
  doubles some of them).

The full profile is written to ``build/profile/build.prof`` (``python -m pstats``,
snakeviz). Times are those of this machine under its present load: compare runs made in
the same conditions. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "build" / "profile"


def sphinx_app(src: Path, extensions: list[str], status: io.StringIO | None = None) -> Any:
    from sphinx.application import Sphinx

    return Sphinx(str(src), str(src), str(OUT / "html"), str(OUT / "doctrees"), "html",
                  status=status or io.StringIO(), warning=io.StringIO(), keep_going=True,
                  confoverrides={"extensions": extensions, "nitpicky": True})


def time_listeners(app: Any) -> dict[tuple[str, str], float]:
    """Wrap every event handler so that its time adds up under (event, handler)."""
    spent: dict[tuple[str, str], float] = defaultdict(float)

    def wrap(event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        name = f"{handler.__module__}.{getattr(handler, '__qualname__', handler)}"

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return handler(*args, **kwargs)
            finally:
                spent[event, name] += time.perf_counter() - start
        return timed

    for event, listeners in app.events.listeners.items():
        listeners[:] = [lst._replace(handler=wrap(event, lst.handler)) for lst in listeners]
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edit", metavar="PAGE", help="append a comment to PAGE first")
    parser.add_argument("--clean", action="store_true", help="profile a clean build")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-cprofile", action="store_true",
                        help="time the event handlers alone (cProfile doubles some)")
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", subprocess.run(
        ["git", "log", "-1", "--format=%ct"], cwd=REPO, capture_output=True, text=True,
        check=False).stdout.strip() or str(int(time.time())))
    src = OUT / "docs"
    if not src.is_dir():
        shutil.copytree(REPO / "docs", src)
        shutil.copy2(REPO / "CITATION.cff", OUT / "CITATION.cff")  # ../CITATION.cff
    modules = OUT / "tools" / "node_modules"  # ../tools/node_modules (handbook_node_modules)
    if not modules.exists():
        modules.parent.mkdir(parents=True, exist_ok=True)
        modules.symlink_to(REPO / "tools" / "node_modules")
    # the conf's own extensions, plus sphinx.ext.duration
    ns: dict[str, Any] = {"__file__": str(src / "conf.py")}
    exec(compile((src / "conf.py").read_text(), str(src / "conf.py"), "exec"), ns)  # noqa: S102
    extensions = [*ns["extensions"], "sphinx.ext.duration"]
    if args.clean:
        shutil.rmtree(OUT / "html", ignore_errors=True)
        shutil.rmtree(OUT / "doctrees", ignore_errors=True)
    else:
        sphinx_app(src, extensions).build()  # the build to start from, not profiled
    if args.edit:
        with (src / args.edit).open("a", encoding="utf-8") as page:
            page.write(f"\n<!-- profile edit {time.time()} -->\n")
    profile = cProfile.Profile()
    start = time.perf_counter()
    cpu = time.process_time()
    if not args.no_cprofile:
        profile.enable()
    duration_out = io.StringIO()  # sphinx.ext.duration writes its table to the status
    app = sphinx_app(src, extensions, duration_out)  # set-up (extensions, config) counts too
    spent = time_listeners(app)
    app.build()
    profile.disable()
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - start
    if not args.no_cprofile:
        profile.dump_stats(OUT / "build.prof")

    what = "clean build" if args.clean else f"rebuild after editing {args.edit}" \
        if args.edit else "no-change rebuild"
    how = "profiled" if not args.no_cprofile else "not profiled"
    print(f"{what}: {wall:.2f} s, {cpu:.2f} s CPU (in-process, {how})\n")
    print("event handlers, slowest first (s):")
    for (event, name), secs in sorted(spent.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"  {secs:7.3f}  {event:22} {name}")
    slow = [line for line in duration_out.getvalue().splitlines() if line.strip()]
    print("\nsphinx.ext.duration:", *slow[-16:], sep="\n  ")
    if args.no_cprofile:
        return 0
    for key in ("cumulative", "tottime"):
        text = io.StringIO()
        pstats.Stats(str(OUT / "build.prof"), stream=text).sort_stats(key) \
            .print_stats(args.top)
        print(f"\ncProfile by {key}:")
        print("\n".join(text.getvalue().splitlines()[6:]))
    print(f"full profile: {OUT / 'build.prof'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
