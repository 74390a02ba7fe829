"""Property-based tests: random and mutated data files and page snippets.

Whatever the input, the loaders and checks either succeed or give problems in the defined
``path:line: message (check)`` forms: never an exception escaping, never a hang.  Every
example runs under a hard time limit (:data:`HANG_LIMIT`); a limit is not a speed test,
it only turns a hang into a failure.

The number of examples is bounded so the suite stays quick, and the hypothesis profile
"default" (registered in ``conftest.py``) derandomises them: ``make test`` tries the same
inputs on every run and every machine, with or without ``CI`` set.  ``make fuzz`` explores:
the "fuzz" profile, ``HANDBOOK_FUZZ_SCALE`` times as many examples (``FUZZ_SCALE``,
default 10), and a random seed it prints; ``make fuzz FUZZ_SEED=<seed>`` replays a run.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import CORPUS, ROOTS
from handbook_tools import glossary, typedfigures
from handbook_tools.cli import main
from handbook_tools.missions import load_missions, mission_code
from handbook_tools.pagechecks import unclosed_fences
from handbook_tools.problems import Check, Problem
from handbook_tools.registry import load_registry, stale_problems
from handbook_tools.scenarios import load_scenarios, scenario_code
from handbook_tools.yamlnodes import read_text

SCALE = max(1, int(os.environ.get("HANDBOOK_FUZZ_SCALE", "1")))
HANG_LIMIT = 30  # seconds: far above any example's real time, even on a loaded machine
CLEAN = ROOTS / "test-clean"


def fuzz(examples: int) -> Callable[[Any], Any]:
    """``examples`` examples (times the scale); random or not as the profile says."""
    return settings(max_examples=examples * SCALE, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


def test_default_profile_is_repeatable() -> None:
    """``make test`` runs the "default" profile: derandomised and without an example
    database, so every run (with or without ``CI``) tries the same examples."""
    if settings.get_current_profile_name() == "fuzz":
        return  # `make fuzz`: random on purpose, from the seed it prints
    assert settings.get_current_profile_name() == "default"
    for current in (settings(), fuzz(1)):  # the profile, and what the tests here use
        assert current.derandomize and current.database is None


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: int = HANG_LIMIT) -> Iterator[None]:
    """Fail the example (instead of hanging the suite) if it runs longer than ``seconds``."""

    def stop(signum: int, frame: object) -> None:
        raise Hang(f"no result after {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------------------- messages
#: every message a data file can give, by check (full match)
Q = r"""('.*'|".*")"""  # a repr'd name or value
MEAN = rf"( \(did you mean {Q}\?\))?"  # a suggestion for a mistyped id
MESSAGES: dict[Check, list[str]] = {
    Check.ENCODING: [r"not valid UTF-8 \(byte 0x[0-9a-f]{2}\): save the file as UTF-8"],
    Check.YAML: [r"malformed YAML: .+", rf"field {Q}: .+",
                 rf"explicit YAML tag {Q} is not allowed in data files: remove it and write "
                 r"the plain value"],
    Check.INVISIBLE: [r"invisible control character U\+[0-9A-F]{4,6} \([A-Z0-9 -]+\): it "
                      r"can make text read differently from what is stored; delete it"
                      r"( \(it is kept only inside a word of a non-Latin script, such as "
                      r"Persian\))?"],
    Check.SCHEMA: [
        r"expected a YAML list of records \(items starting with '- '\)",
        r"expected a mapping of fields \(key: value\)",
        r"field names must be plain words",
        rf"unknown field {Q} \(known fields: [a-z_, ]+\)",
        rf"missing required field {Q}(: .+)?",
        rf"field {Q} has the wrong type \(\w+\): expected .+",
        rf"field {Q} must be text",
        rf"field {Q} must be a list of records \(items starting with '- '\)",
        rf"bad scenario id {Q}: lowercase letters, digits, '-' and '_'",
        r"'fact' needs a 'label' beside it saying what the fact's value is",
        r"'label' needs a 'fact' beside it",
        rf"bad fact id {Q}: use lowercase letters, digits, '\.', '_' and '-'",
        rf"bad mission id {Q}: lowercase letters, digits, '-' and '_'",
        rf"unknown kind {Q}: use one of figure, date, name",
        r"bad date .+ in '(as_of|review_by)': use .+",
        rf"impossible date {Q} in '(as_of|review_by)': the calendar has no such month or day",
        r"'(unit|series)' needs a 'number' beside it",
    ],
    Check.DUPLICATE: [
        rf"field {Q} given twice",
        rf"duplicate fact id {Q} \(first defined at .+:\d+\)",
        rf"duplicate source key {Q} \(first defined at (line \d+|.+:\d+)\)",
        rf"duplicate mission id {Q} \(first at .+:\d+\)",
        rf"duplicate scenario id {Q} \(first at line \d+\)",
        r"starting point given twice \(first at line \d+\)",
        rf"source {Q} has the same URL as {Q} \(.+:\d+\): cite {Q} and remove this entry",
    ],
    Check.SOURCE: [
        r"missing required field 'sources': .+",
        r"fact has no source: list one or more source keys",
        rf"fact {Q} cites unknown source {Q}: add it to the \.bib file or fix the key",
    ],
    Check.BIB: [
        rf"malformed BibTeX in entry {Q}: .+",
        rf"source {Q} lacks [a-z, ]+",
        rf"source {Q}: urldate {Q} is not YYYY-MM-DD",
        r"source file not found",
    ],
    Check.STALE: [rf"fact {Q} is past its review date \(\d{{4}}-\d\d-\d\d, today is "
                  r"\d{4}-\d\d-\d\d\): re-check the source, then update value, as_of and "
                  r"review_by"],
    Check.UNKNOWN_FACT: [rf"(start|fact) {Q} is not a fact id of the registry{MEAN}: name "
                         "an existing fact"],
    Check.SCENARIO: [r"no starting point: add a record with 'start: <fact id>' and 'title'"],
    Check.MISSION: [
        rf"(start|end) {Q} is not a fact id of the registry{MEAN}: name the fact that dates it",
        rf"mission {Q} starts before {Q} that precedes it: keep missions in chronological "
        r"order",
        rf"mission {Q} starts \([\d-]+\) before {Q} ends \([\d-]+\): phases overlap",
        rf"mission {Q} transitions to unknown mission {Q}{MEAN}",
    ],
}


def assert_defined(problems: list[Problem], lines: dict[str, int]) -> None:
    """Each problem names one of the files (``lines``: path -> its number of lines), a line
    inside it, and a message of the defined forms."""
    for prob in problems:
        assert isinstance(prob.check, Check), prob
        assert prob.path in lines, prob
        assert 1 <= prob.line <= lines[prob.path] + 1, prob
        forms = MESSAGES.get(prob.check, [])
        assert any(re.fullmatch(f, prob.message, re.S) for f in forms), prob
        assert "Traceback" not in prob.message


def n_lines(data: bytes) -> int:
    return data.count(b"\n") + 1


# ---------------------------------------------------------------------------- mutations
#: scalars that have broken YAML loaders before: empty, null, dates that are not, floats
#: that are not numbers, tags, anchors, aliases, quotes, very deep or very long values
TRICKY = ["", "~", "null", "[]", "{}", "[a, [b]]", "{a: 1}", "2023-02-30", "2024-13",
          "2024-02-29", "0000-01-01", "9999-12-31", "2024-01-01 10:00:00", "1000", "99999",
          ".nan", ".inf", "-.inf", "-1", "0x1F", "0o17", "1e400", "yes", "no", "true",
          "never", "Never", "!!binary xx", "!!timestamp 2024-99-99", "!!int abc",
          "!!float abc", "!!python/object:os.system x", "!foo bar", "&a x", "*a", "*nope",
          "'", '"', "'unterminated", '"\\x"', "|", ">", "- x", "? x", "%YAML 1.1", "@x",
          "`x`", "\t", "a: b: c", "[" * 80 + "]" * 80, "x" * 5000, "é", "\u2028",
          "\ufeff", "\x00", "\u202e", "\u200b", "\u200d", "\u2066", "\U000e0041",
          "!!set {a}", "!!omap [a: 1]", "!!pairs [a: 1]", "!!bool maybe", "!!str x", "! x",
          "!<tag:yaml.org,2002:int> x", "<<: *a", "=", "0x_", "0b_", "troops.2024",
          "invasion.start", "agency2024troops"]
SPECIAL = list(":-[]{}#&*!|>'\"%@`,?\n\t ") + ["\n- ", "\n  ", ": ", "\r", "\x85"]

insert_text = st.one_of(st.sampled_from(SPECIAL), st.sampled_from(TRICKY),
                        st.text(max_size=12))
op = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 10**6), insert_text),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 40)),
    st.tuples(st.just("value"), st.integers(0, 10**6), st.sampled_from(TRICKY)),
    st.tuples(st.just("dup"), st.integers(0, 10**6), st.just("")),
    st.tuples(st.just("drop"), st.integers(0, 10**6), st.just("")),
    st.tuples(st.just("swap"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("indent"), st.integers(0, 10**6), st.integers(-4, 4)),
)


def mutate(text: str, ops: list[tuple[str, int, Any]]) -> str:
    """Apply edit operations (positions wrap around the text)."""
    for kind, pos, arg in ops:
        lines = text.split("\n")
        i = pos % len(lines)
        if kind == "insert":
            at = pos % (len(text) + 1)
            text = text[:at] + arg + text[at:]
        elif kind == "delete":
            at = pos % (len(text) + 1)
            text = text[:at] + text[at + arg:]
        else:
            if kind == "value":
                key, sep, _ = lines[i].partition(":")
                lines[i] = f"{key}: {arg}" if sep else f"{lines[i]} {arg}"
            elif kind == "dup":
                lines.insert(i, lines[i])
            elif kind == "drop":
                del lines[i]
            elif kind == "swap":
                j = arg % len(lines)
                lines[i], lines[j] = lines[j], lines[i]
            elif kind == "indent":
                lines[i] = (" " * arg + lines[i]) if arg > 0 else lines[i][-arg:]
            text = "\n".join(lines)
    return text


def mutated(seed: str) -> st.SearchStrategy[str]:
    return st.lists(op, min_size=1, max_size=6).map(lambda ops: mutate(seed, ops))


FACTS = (CLEAN / "_data" / "facts" / "main.yaml").read_text(encoding="utf-8")
BIB = (CLEAN / "_data" / "sources.bib").read_text(encoding="utf-8")
MISSION_FACTS = (CORPUS / "missions-overlap" / "files" / "_data" / "facts"
                 / "missions.yaml").read_text(encoding="utf-8")
MISSIONS = """\
- id: invasion
  name: Invasion
  start: invasion.start
  end: withdrawal.end
  next: advice
  trigger: Troops leave
- id: advice
  name: Advice
  start: advice.start
  summary: Advice and assistance.
"""

data_text = st.one_of(mutated(FACTS), st.text(max_size=300),
                      st.sampled_from(TRICKY).map(lambda v: FACTS.replace("about 2,500", v)))
file_bytes = st.one_of(data_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
                       st.binary(max_size=300))


# ---------------------------------------------------------------------------- data files

def _load(facts: bytes, bib: bytes, missions: bytes | None = None,
          scenarios: bytes | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "facts").mkdir()
        (root / "facts" / "main.yaml").write_bytes(facts)
        (root / "facts" / "missions.yaml").write_text(MISSION_FACTS, encoding="utf-8")
        (root / "sources.bib").write_bytes(bib)
        lines = {"facts/main.yaml": n_lines(facts), "sources.bib": n_lines(bib),
                 "facts/missions.yaml": n_lines(MISSION_FACTS.encode())}
        with time_limit():
            reg = load_registry(root, [root / "sources.bib"], display_root=root)
            problems = list(reg.problems)
            for today in (dt.date(1, 1, 1), dt.date(2026, 1, 1), dt.date(9999, 12, 31)):
                problems += stale_problems(reg, today)
            for fact in reg.facts.values():  # what the register and the chart show
                fact.as_of.long(), fact.as_of.iso(), fact.as_of.first_day
                fact.status(dt.date(2026, 1, 1))
            for series in {f.series for f in reg.facts.values() if f.series}:
                reg.series(series)
            if missions is not None:
                (root / "missions.yaml").write_bytes(missions)
                lines["missions.yaml"] = n_lines(missions)
                found = load_missions(root / "missions.yaml", "missions.yaml", reg)
                problems += found.problems
                code, alt = mission_code(found)
                assert code.startswith("flowchart TD")
            if scenarios is not None:
                (root / "scenarios.yaml").write_bytes(scenarios)
                lines["scenarios.yaml"] = n_lines(scenarios)
                data = load_scenarios(root / "scenarios.yaml", "scenarios.yaml", reg)
                problems += data.problems
                if data.start is not None and data.items:
                    assert scenario_code(data)[0].startswith("flowchart LR")
        assert_defined(problems, lines)


@fuzz(300)
@given(facts=file_bytes)
@example(facts=("- id: x\n  value: " + "[" * 5000 + "]" * 5000).encode())
@example(facts=FACTS.replace("2026-09-30", "2026-09-30 10:00:00").encode())
@example(facts=FACTS.replace("2026-09-30", "2023-02-30").encode())
@example(facts=b"- id: troops.2024\n  value: \xe9\n")
@example(facts=FACTS.replace("kind: date", "kind:").encode())
@example(facts="- id: x\n  note: a\u2028b\x85c\u2029d\n  colour: red\n".encode())
@example(facts=FACTS.replace("[agency2024troops]", "[!!int abcagency2024troops]").encode())
@example(facts=FACTS.replace("[agency2024troops]", "!!timestamp 2024-99-99[").encode())
@example(facts=FACTS.replace("[agency2024troops]", "[2023-02-30, 0x_, =]").encode())
def test_facts_file_never_crashes(facts: bytes) -> None:
    _load(facts, BIB.encode())


@fuzz(200)
@given(bib=st.one_of(mutated(BIB).map(str.encode), st.binary(max_size=300),
                     st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))))
@example(bib=b"@misc{k,\n title = " + b"{" * 5000 + b"}" * 5000 + b",\n}")
@example(bib=b"@misc{")
@example(bib=b"@comment{x}\n@string{a = {b}}\n@misc{k, title=a}")
def test_bib_file_never_crashes(bib: bytes) -> None:
    _load(FACTS.encode(), bib)


@fuzz(200)
@given(missions=st.one_of(mutated(MISSIONS).map(str.encode), st.binary(max_size=200)))
@example(missions=("- id: x\n  name: " + "[" * 5000).encode())
def test_missions_file_never_crashes(missions: bytes) -> None:
    _load(FACTS.encode(), BIB.encode(), missions)


SCENARIOS = """\
- start: invasion.start
  title: Invasion

- id: stay
  title: Troops stay
  summary: An advisory role.
  signposts:
    - text: Troops remain
      fact: troops.2024
      label: Troops
    - text: No accord
"""


@fuzz(200)
@given(scenarios=st.one_of(mutated(SCENARIOS).map(str.encode), st.binary(max_size=200)))
def test_scenarios_file_never_crashes(scenarios: bytes) -> None:
    _load(FACTS.encode(), BIB.encode(), scenarios=scenarios)


@fuzz(60)
@given(records=st.lists(st.dictionaries(
    st.sampled_from(["id", "kind", "value", "as_of", "review_by", "sources", "excerpt",
                     "number", "unit", "series", "chronology", "note", "colour"]),
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats()
                 | st.text(max_size=10) | st.dates() | st.datetimes(),
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                 max_leaves=6)), max_size=4))
def test_facts_of_any_shape(records: list[dict[str, Any]]) -> None:
    """Well-formed YAML holding values of every type in every field."""
    import yaml

    _load(yaml.safe_dump(records, allow_unicode=True).encode("utf-8", "surrogatepass"),
          BIB.encode())


# ---------------------------------------------------------------------------- page text
page_line = st.one_of(
    st.sampled_from(["```", "````", "~~~", ":::", "::::", "```{note}", ":::{note}",
                     "```python", "``` x ```", "   ```", "    ```", "~~~~~~", "::::{tip}",
                     "", "text", "# Title", "`inline`", "The ISF and XYZ met 2,500 men.",
                     "NATO Mission Iraq (NMI)", "September 11, 2001", "12-month 3.5"]),
    st.text(max_size=30),
)
page = st.lists(page_line, max_size=25).map("\n".join)


@fuzz(300)
@given(text=page)
def test_unclosed_fences_are_exactly_those_left_open(text: str) -> None:
    with time_limit():
        found = unclosed_fences(text)
    n = len(text.splitlines())
    assert [line for line, _ in found] == sorted(line for line, _ in found)
    for line, marks in found:
        assert 1 <= line <= n and marks[0] * len(marks) == marks and len(marks) >= 3
        assert text.splitlines()[line - 1].lstrip().startswith(marks)
    closed = text + "".join(f"\n{marks}" for _, marks in reversed(found))
    assert unclosed_fences(closed) == []  # closing the reported fences closes them all


@fuzz(300)
@given(text=st.one_of(page, st.text(max_size=400)))
@example(text="a " * 3000 + "(ABC)")
@example(text=("Word-word, " * 400) + "(NATO)")
def test_prose_scanners_never_crash_or_hang(text: str) -> None:
    gloss = glossary.Glossary()
    gloss.add(glossary.Entry(["ISF"], "glossary", 1, "Iraqi Security Forces"))
    with time_limit():
        for raw, value in typedfigures.numbers(text):
            assert raw in text and value == float(raw.replace(",", ""))
        for token in glossary._tokens(text, gloss):
            assert token in text
            glossary.is_acronym(token)
        for m in glossary.EXPANDED.finditer(text):
            glossary._norm(m.group(1))


@fuzz(200)
@given(data=st.binary(max_size=200))
def test_encoding_check_names_the_first_bad_byte(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "page.md")
        path.write_bytes(data)
        problems: list[Problem] = []
        text = read_text(path, "page.md", problems)
    try:
        assert text == data.decode("utf-8") and problems == []
    except UnicodeDecodeError as exc:
        assert text is None and len(problems) == 1
        assert problems[0].line == data[: exc.start].count(b"\n") + 1
        assert problems[0].check is Check.ENCODING


# ---------------------------------------------------------------------------- whole pages
#: pieces of a page: the constructs our checks read, right and wrong
PIECES = ["# Title", "Plain text.", "The {term}`ISF` train.", "The ISF train.",
          "{fact}`troops.2024`", "{fact}`no.such.fact`", "{fact:value}`invasion.start`",
          "{fact:date}`troops.2024`", "{fact}``", "{term}`XYZ`", "XYZ and ABC met.",
          "2,500 troops and 170,000 more.", "[a link](glossary.md#isf)",
          "[a link](nowhere.md)", "[a link](glossary.md#nowhere)", "![img](missing.png)",
          "```", "```python", "print(1)", ":::{note}", ":::", "```{note}", "~~~",
          "NATO Mission Iraq (NMI)", "Iraqi Security Forces (ISF)", "Other Name (ISF)",
          "- item", "1. item", "> quote", "| a | b |", "|---|---|", "{", "}", "`",
          "<a href='glossary.html#x'>x</a>", "\u00e9\u2028\ufeff"]
OUT_LINE = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+): (?P<msg>.+) \((?P<kind>[\w.-]+)\)$")


@fuzz(40)
@given(lines=st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=20)),
                      max_size=12))
def test_check_of_a_random_page_gives_only_messages(lines: list[str]) -> None:
    """A read-only check (the CLI) of a page made of random pieces: exit 0 or 1 and only
    ``path:line: message (check)`` lines, never a traceback."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp, "p")
        shutil.copytree(CLEAN, root)
        index = root / "index.md"
        text = index.read_text(encoding="utf-8")
        head, _, rest = text.partition("\n\n")
        index.write_text(head + "\n\n" + "\n".join(lines) + "\n\n" + rest, encoding="utf-8",
                         errors="surrogatepass")
        out, err = io.StringIO(), io.StringIO()
        with time_limit(), redirect_stdout(out), redirect_stderr(err):
            code = main(["check", str(root)])
    assert code in (0, 1), err.getvalue()
    assert "Traceback" not in out.getvalue() + err.getvalue()
    for line in out.getvalue().splitlines():
        m = OUT_LINE.match(line)
        assert m, line
        assert int(m["line"]) >= 0
