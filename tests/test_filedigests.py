"""Content digests kept by size and time (handbook_tools.filedigests)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from handbook_tools.filedigests import file_digests, record_path


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_digests_follow_the_content(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    page = root / "page.html"
    page.write_bytes(b"<p>one</p>")
    record = record_path(tmp_path / "cache", root, "test")
    assert file_digests(root, [page], record) == {page: _sha(b"<p>one</p>")}
    # rewritten at once with other bytes of the same size, its time set back to the one
    # recorded: within the racy window the record is not trusted
    stat = page.stat()
    page.write_bytes(b"<p>two</p>")
    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert file_digests(root, [page], record) == {page: _sha(b"<p>two</p>")}
    # an old file whose size and time are those recorded is not read again
    old = time.time_ns() - 60 * 10**9
    os.utime(page, ns=(old, old))
    file_digests(root, [page], record)
    page.write_bytes(b"<p>six</p>")
    os.utime(page, ns=(old, old))  # (a forged time: what the record trusts)
    assert file_digests(root, [page], record) == {page: _sha(b"<p>two</p>")}
    page.write_bytes(b"<p>ten</p>")  # a real write gives it a new time
    assert file_digests(root, [page], record) == {page: _sha(b"<p>ten</p>")}


def test_one_record_per_output_folder(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert record_path(tmp_path, a, "x") != record_path(tmp_path, b, "x")
    # a damaged record is rebuilt, not trusted
    a.mkdir()
    (a / "f.js").write_bytes(b"1")
    record = record_path(tmp_path, a, "x")
    record.write_text("{not json", encoding="utf-8")
    assert file_digests(a, [a / "f.js"], record) == {a / "f.js": _sha(b"1")}
    assert file_digests(a, [a / "f.js"], None) == {a / "f.js": _sha(b"1")}
