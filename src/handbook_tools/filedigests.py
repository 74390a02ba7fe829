"""Content digests of the output's files, read again only for the files that changed.

The steps that run after an HTML build over the whole site (the stylesheet cut's key, the
icon scan, the pre-compressed copies) need to know what each file holds, but a rebuild
after a one-page edit rewrites only a few of them.  :func:`file_digests` keeps, in a record
of its caller's, each file's size, modification time and SHA-256; a file whose size and
time are those recorded is not read again.  Whoever wrote the file (Sphinx, or a handler
of ours or of another extension) does not matter: every write changes the time.

A file rewritten within the clock tick in which it was recorded could keep its time
with new bytes (git's "racily clean" entries): a file whose time is less than
:data:`RACY_NS` before the record was written is read again at the next call.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from pathlib import Path

from .pictures import read_json, write_json

#: a recorded time this close to the record's own is not trusted (2 s: coarse file
#: system clocks, and FAT's)
RACY_NS = 2_000_000_000


def record_path(cache: Path, root: Path, kind: str) -> Path:
    """Where a caller keeps its record for the output folder ROOT (one cache folder may
    serve several builds)."""
    tag = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return cache / f"{kind}-{tag}.digests.json"


def file_digests(root: Path, paths: Iterable[Path], record: Path | None) -> dict[Path, str]:
    """The SHA-256 (hex) of each of PATHS (files under ROOT). With RECORD, a file whose
    size and time have not changed since the last call with that record is not read; the
    record is then rewritten with what this call found (files no longer listed drop out).
    """
    old: dict[str, list[int | str]] = {}
    trusted_before = 0
    if record is not None:
        kept = read_json(record, {})
        if isinstance(kept, dict) and isinstance(kept.get("files"), dict):
            old = kept["files"]
            trusted_before = int(kept.get("written", 0)) - RACY_NS
    new: dict[str, list[int | str]] = {}
    out: dict[Path, str] = {}
    for path in paths:
        rel = path.relative_to(root).as_posix()
        stat = path.stat()
        seen = old.get(rel)
        if (seen is not None and len(seen) == 3 and seen[0] == stat.st_size
                and seen[1] == stat.st_mtime_ns and stat.st_mtime_ns < trusted_before):
            digest = str(seen[2])
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        new[rel] = [stat.st_size, stat.st_mtime_ns, digest]
        out[path] = digest
    if record is not None:
        write_json(record, {"written": time.time_ns(), "files": new})
    return out
