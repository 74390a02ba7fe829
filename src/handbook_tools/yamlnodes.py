"""Read YAML data files keeping the line of every record and field.

PyYAML's composer gives each node a start mark; we walk the node tree ourselves so that
a schema problem can name the exact line of the field at fault.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .invisible import invisible_problems
from .problems import Check, Problem


@dataclass
class Record:
    """One mapping of a YAML list: its fields, and the line of each field."""

    path: str
    line: int
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    #: the YAML node of each field, to read nested records with their lines
    nodes: dict[str, yaml.Node] = field(default_factory=dict, repr=False, compare=False)
    #: the file's line of a YAML mark (see :func:`load_records`), for nested records
    line_at: Callable[[yaml.Mark], int] = field(default=lambda m: m.line + 1, repr=False,
                                                compare=False)

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


def read_text(path: Path, display: str, problems: list[Problem]) -> str | None:
    """Read a file as UTF-8, or report the line of the first bad byte."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(display, line, f"not valid UTF-8 (byte {data[exc.start]:#04x}): "
                    "save the file as UTF-8", Check.ENCODING)
        )
        return None


#: deeper nesting is no data record: PyYAML's composer recurses and would crash on it
MAX_DEPTH = 50


#: how PyYAML spells the tags of the ``!!`` handle
_STANDARD = "tag:yaml.org,2002:"


def tag_text(tag: str) -> str:
    """A tag as it was written: ``!!int`` rather than ``tag:yaml.org,2002:int``."""
    return "!!" + tag.removeprefix(_STANDARD) if tag.startswith(_STANDARD) else tag


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing nesting deeper than :data:`MAX_DEPTH` with a marked error
    (PyYAML would raise RecursionError, a crash instead of a message), and noting every
    explicit tag (``!!int x``, ``!foo``, ``! x``) with its mark in :attr:`tags`."""

    _depth = 0

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.tags: list[tuple[str, yaml.Mark]] = []

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            event = self.peek_event()
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
            tag = getattr(event, "tag", None)  # None when the node has no explicit tag
            if tag is not None:
                self.tags.append((tag, event.start_mark))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Constructor(yaml.SafeLoader):
    """The safe constructor, keeping the text of a plain value that looks like a number or
    a date but is none (``0x_``, ``2024-13-45``, ``=``) wherever it stands, instead of
    raising ValueError (a crash) or a constructor error."""


def _lenient(construct: Callable[[Any, yaml.Node], Any]) -> Callable[[Any, yaml.Node], Any]:
    def read(loader: Any, node: yaml.Node) -> Any:
        try:
            return construct(loader, node)
        except ValueError:
            return str(node.value)

    return read


for _name in ("int", "float", "timestamp"):
    _Constructor.add_constructor(
        _STANDARD + _name, _lenient(yaml.SafeLoader.yaml_constructors[_STANDARD + _name]))
# PyYAML resolves a lone '=' to a "value" tag no safe constructor knows
_Constructor.add_constructor(_STANDARD + "value", lambda loader, node: str(node.value))


def _construct(node: yaml.Node) -> Any:
    """The value of a node (explicit tags were refused before: only plain, resolved ones
    reach here)."""
    loader = _Constructor("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


LineOf = Callable[[yaml.Mark], int]


def _mapping_record(item: yaml.MappingNode, display: str, problems: list[Problem],
                    line_of: LineOf) -> Record:
    rec = Record(display, line_of(item.start_mark), line_at=line_of)
    for key_node, value_node in item.value:
        key_line = line_of(key_node.start_mark)
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(Problem(display, key_line, "field names must be plain words",
                                    Check.SCHEMA))
            continue
        key = str(key_node.value)
        if key in rec.values:
            problems.append(Problem(display, key_line, f"field {key!r} given twice",
                                    Check.DUPLICATE))
            continue
        try:
            rec.values[key] = _construct(value_node)
        except yaml.MarkedYAMLError as exc:  # such as a merge key ('<<') of a non-mapping
            mark = exc.problem_mark or exc.context_mark
            problems.append(Problem(display, line_of(mark) if mark else key_line,
                                    f"field {key!r}: {exc.problem or exc.context}",
                                    Check.YAML))
            continue
        except yaml.YAMLError as exc:  # pragma: no cover - constructor errors are marked
            problems.append(Problem(display, key_line, f"field {key!r}: {exc}", Check.YAML))
            continue
        rec.lines[key] = key_line
        rec.nodes[key] = value_node
    return rec


def _records_of(seq: yaml.SequenceNode, display: str, problems: list[Problem],
                line_of: LineOf) -> list[Record]:
    records = []
    for item in seq.value:
        if not isinstance(item, yaml.MappingNode):
            problems.append(Problem(display, line_of(item.start_mark),
                                    "expected a mapping of fields (key: value)", Check.SCHEMA))
            continue
        records.append(_mapping_record(item, display, problems, line_of))
    return records


def sub_records(rec: Record, key: str, problems: list[Problem]) -> list[Record] | None:
    """The records of a field holding a list of mappings, each with its own lines.

    None (and a problem at the field's line) when the field is not such a list.
    """
    node = rec.nodes.get(key)
    if not isinstance(node, yaml.SequenceNode):
        problems.append(Problem(rec.path, rec.line_of(key),
                                f"field {key!r} must be a list of records (items starting "
                                "with '- ')", Check.SCHEMA))
        return None
    return _records_of(node, rec.path, problems, rec.line_at)


def load_records(path: Path, display: str, problems: list[Problem]) -> list[Record]:
    """Load a YAML file holding a list of mappings.

    Problems (bad YAML, a top level that is not a list, an item that is not a mapping,
    a key given twice) are appended to ``problems``; the records that could be read are
    returned, so one bad record does not hide the others.
    """
    text = read_text(path, display, problems)
    if text is None:
        return []
    problems.extend(invisible_problems(text, display))
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]

    def line_of(mark: yaml.Mark) -> int:
        """The line of a mark as editors and ``grep -n`` count it: PyYAML also counts
        U+0085, U+2028 and U+2029 as line breaks, which would shift every line after."""
        return bisect.bisect_left(newlines, mark.index) + 1

    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # reads the whole text: may raise a ReaderError
        root = loader.get_single_node()
    except yaml.reader.ReaderError as exc:  # a control character YAML does not allow
        problems.append(Problem(display, text.count("\n", 0, exc.position) + 1,
                                f"malformed YAML: character U+{exc.character:04X} is not "
                                "allowed in YAML", Check.YAML))
        return []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = line_of(mark) if mark else 1
        what = exc.problem or exc.context or "syntax error"
        problems.append(Problem(display, line, f"malformed YAML: {what}", Check.YAML))
        return []
    except yaml.YAMLError as exc:  # pragma: no cover - composer errors are all marked
        problems.append(Problem(display, 1, f"malformed YAML: {exc}", Check.YAML))
        return []
    finally:
        if loader is not None:
            loader.dispose()
    if loader.tags:  # nothing in the book needs one, and a tag's constructor may reject
        for tag, mark in loader.tags:  # its value: one message at each tag's line
            problems.append(Problem(display, line_of(mark),
                                    f"explicit YAML tag {tag_text(tag)!r} is not allowed in "
                                    "data files: remove it and write the plain value",
                                    Check.YAML))
        return []
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        problems.append(
            Problem(display, line_of(root.start_mark),
                    "expected a YAML list of records (items starting with '- ')", Check.SCHEMA)
        )
        return []
    return _records_of(root, display, problems, line_of)


def fields_ok(rec: Record, known: dict[str, bool], problems: list[Problem],
              text_fields: tuple[str, ...] = ()) -> bool:
    """Report unknown, missing (``known[key]`` is True when required) and non-text fields
    of one record; True when it is usable."""
    ok = True
    for key in rec.values:
        if key not in known:
            problems.append(Problem(rec.path, rec.line_of(key),
                                    f"unknown field {key!r} (known fields: "
                                    f"{', '.join(known)})", Check.SCHEMA))
            ok = False
    for key, required in known.items():
        value = rec.values.get(key)
        if required and (value is None or value == "" or value == []):
            problems.append(Problem(rec.path, rec.line, f"missing required field {key!r}",
                                    Check.SCHEMA))
            ok = False
        elif key in text_fields and value is not None and not isinstance(value, str):
            problems.append(Problem(rec.path, rec.line_of(key), f"field {key!r} must be text",
                                    Check.SCHEMA))
            ok = False
    return ok


#: the id of a mission or a scenario: lowercase letters, digits, '-' and '_'
RECORD_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def new_id(rec: Record, what: str, seen: dict[str, Record], problems: list[Problem],
           first_with_path: bool = True) -> str | None:
    """The ``id`` of a record of a list of ``what`` (mission, scenario) when it is well
    formed and not given before in ``seen`` (it is then added); else None, the problem
    reported.  ``first_with_path``: name the first record's file too, not only its line."""
    rid = rec.values["id"]
    if not RECORD_ID.match(rid):
        problems.append(Problem(rec.path, rec.line_of("id"), f"bad {what} id {rid!r}: "
                                "lowercase letters, digits, '-' and '_'", Check.SCHEMA))
        return None
    if rid in seen:
        first = seen[rid]
        where = f"{first.path}:{first.line}" if first_with_path else f"line {first.line}"
        problems.append(Problem(rec.path, rec.line_of("id"), f"duplicate {what} id {rid!r} "
                                f"(first at {where})", Check.DUPLICATE))
        return None
    seen[rid] = rec
    return str(rid)
