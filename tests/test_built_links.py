"""The built-link check with its cache: a page rewritten since the last scan is parsed
again (its new ids and links count); an unchanged page is not."""

from __future__ import annotations

import os
from pathlib import Path

from handbook_tools import links
from handbook_tools.links import broken_links


def write(site: Path, name: str, body: str) -> None:
    (site / name).write_text(f"<html><body>{body}</body></html>", encoding="utf-8")


def test_a_rewritten_page_is_parsed_again(tmp_path: Path) -> None:
    site, cache = tmp_path / "html", tmp_path / "links.pickle"
    site.mkdir()
    (site / "part").mkdir()
    write(site, "index.html", '<a href="b.html#here">b</a> <a href="part/">part</a>')
    write(site, "b.html", '<p id="here">here</p> <a href="../outside.html">x</a>')
    write(site / "part", "index.html", '<a href="../index.html#top">home</a>')
    assert broken_links(site, cache) == [
        ("b.html", "../outside.html", "points outside the site"),
        ("part/index.html", "../index.html#top", "no element with id 'top'")]
    write(site, "b.html", '<p id="elsewhere">moved</p>')  # the id is gone
    assert broken_links(site, cache) == [
        ("index.html", "b.html#here", "no element with id 'here'"),
        ("part/index.html", "../index.html#top", "no element with id 'top'")]
    (site / "part" / "index.html").unlink()
    assert broken_links(site, cache) == [
        ("index.html", "b.html#here", "no element with id 'here'"),
        ("index.html", "part/", "no such file")]


def test_an_unchanged_page_comes_from_the_cache(tmp_path: Path, monkeypatch) -> None:
    site, cache = tmp_path / "html", tmp_path / "links.pickle"
    site.mkdir()
    write(site, "index.html", '<a href="b.html#here">b</a>')
    write(site, "b.html", '<p id="here">here</p>')
    assert broken_links(site, cache) == []
    fed: list[str] = []
    real = links._Collector.feed
    monkeypatch.setattr(links._Collector, "feed",
                        lambda self, text: (fed.append(text), real(self, text))[1])
    assert broken_links(site, cache) == []
    assert fed == []  # nothing parsed again
    stat = (site / "b.html").stat()
    write(site, "b.html", '<p id="hear">here</p>')  # same size, new content
    os.utime(site / "b.html", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert broken_links(site, cache) == [("index.html", "b.html#here",
                                          "no element with id 'here'")]
    assert len(fed) == 1
    assert broken_links(site) == broken_links(site, cache)  # no cache: the same findings
