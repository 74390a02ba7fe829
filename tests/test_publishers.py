"""The publisher register: attribution of sources, standing shown to readers, fact cards."""

from __future__ import annotations

import re
from pathlib import Path

from handbook_tools.publishers import Publishers, attribute, load_for, load_publishers
from handbook_tools.registry import Source

REGISTER = """\
- id: un
  name: United Nations
  standing: official
  domains: [un.org]
  reason: primary
- id: unami
  name: UN Assistance Mission for Iraq
  standing: established
  domains: [unami.unmissions.org, iraq.un.org]
  reason: a mission
- id: aggregator
  name: Aggregator
  standing: weak
  domains: [news.example]
  reason: reposts
"""


def _register(tmp_path: Path) -> Publishers:
    path = tmp_path / "publishers.yaml"
    path.write_text(REGISTER, encoding="utf-8")
    problems: list = []
    pubs = load_publishers(path, "publishers.yaml", problems)
    assert problems == []
    return pubs


def _source(url: str, **fields: str) -> Source:
    return Source("k", "s.bib", 1, {"url": url, **fields})


def test_longest_domain_wins_and_subdomains_match(tmp_path: Path) -> None:
    pubs = _register(tmp_path)
    assert pubs.for_host("www.un.org").id == "un"  # type: ignore[union-attr]
    assert pubs.for_host("iraq.un.org").id == "unami"  # type: ignore[union-attr]
    assert pubs.for_host("press.iraq.un.org").id == "unami"  # type: ignore[union-attr]
    assert pubs.for_host("notun.org") is None  # a suffix, not a subdomain


def test_repost_takes_the_original_standing(tmp_path: Path) -> None:
    pubs = _register(tmp_path)
    plain = attribute(pubs, _source("https://news.example/a"))
    assert plain is not None and plain.standing == "weak" and plain.who() == "Aggregator"
    repost = attribute(pubs, _source("https://news.example/b", original="un"))
    assert repost is not None and repost.standing == "official"
    assert repost.label() == "Aggregator, repost of United Nations, official"
    assert attribute(pubs, _source("https://news.example/c", original="nobody")) is None


def test_without_a_register_the_checks_are_off(tmp_path: Path, build) -> None:
    assert load_for(tmp_path) is None
    src = Path(__file__).parent / "roots" / "test-clean"
    import shutil

    shutil.copytree(src, tmp_path / "p")
    (tmp_path / "p" / "_data" / "publishers.yaml").unlink()
    bib = tmp_path / "p" / "_data" / "sources.bib"
    bib.write_text(bib.read_text(encoding="utf-8").replace("127.0.0.1:9", "127.0.0.2:9"),
                   encoding="utf-8")
    built = build(tmp_path / "p")
    assert built.warnings == ""
    assert "Standing:" not in (built.outdir / "sources.html").read_text(encoding="utf-8")
    assert "best source" not in (built.outdir / "register.html").read_text(encoding="utf-8")


def test_readers_see_standing_caveat_dispute_and_card(clean_project: Path, build) -> None:
    facts = clean_project / "_data" / "facts" / "main.yaml"
    facts.write_text(facts.read_text(encoding="utf-8").replace(
        "  unit: troops\n",
        "  unit: troops\n  caveat: \"unconfirmed: one wire\"\n"
        "  disputed: \"2,500 (News Agency) to 3,000 <officials>\"\n"), encoding="utf-8")
    bib = clean_project / "_data" / "sources.bib"
    bib.write_text(bib.read_text(encoding="utf-8") + """
@misc{agency2024again,
  author       = {{News Agency}},
  title        = {US troops may be more},
  year         = {2024},
  url          = {http://127.0.0.1:9/more},
  urldate      = {2026-01-01}
}
""", encoding="utf-8")
    facts.write_text(facts.read_text(encoding="utf-8").replace(
        "  sources: [agency2024troops]\n  excerpt: The country",
        "  sources: [agency2024troops, agency2024again]\n  excerpt: The country"),
        encoding="utf-8")
    conf = clean_project / "conf.py"
    conf.write_text(conf.read_text(encoding="utf-8") + 'handbook_search_horizon = "2026-12-03"\n',
                    encoding="utf-8")
    index = clean_project / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace(
        "# Clean\n", "# Clean\n\nSources were searched up to {search-horizon}`long`.\n"),
        encoding="utf-8")
    built = build(clean_project)
    assert built.warnings == ""
    html = (built.outdir / "index.html").read_text(encoding="utf-8")
    assert "searched up to <span class=\"hb-search-horizon\">3 December 2026</span>" in html
    # beside the value: the caveat and the dispute
    assert '<span class="hb-caveat">[unconfirmed: one wire]</span>' in html
    assert ('<span class="hb-disputed">[disputed: 2,500 (News Agency) to 3,000 '
            '&lt;officials&gt;]</span>') in html
    # one hidden card per fact, escaped, with its source, standing, excerpt and register link
    cards = re.findall(r'<div class="hb-card" id="([^"]+)" role="dialog" aria-label="[^"]+" '
                       r"hidden>", html)
    assert cards == ["hb-card-fact-invasion-start", "hb-card-fact-troops-2024"]
    card = html[html.index('id="hb-card-fact-troops-2024"'):]
    card = card[:card.index("</div>")]
    assert "The country has about 2,500 troops." in card
    assert '<a href="http://127.0.0.1:9/troops">US troops stay in Iraq</a>' in card
    assert 'hb-standing-major">major</span>' in card
    assert '<a href="register.html#fact-troops-2024">Fact register entry</a>' in card
    assert "&lt;officials&gt;" in card
    assert re.search(r'<script defer="defer" src="_static/hb-card\.js\?v=\w+"></script>', html)
    register = (built.outdir / "register.html").read_text(encoding="utf-8")
    assert "<strong>Caveat: </strong>unconfirmed: one wire" in register
    assert "<strong>Disputed: </strong>2,500 (News Agency) to 3,000 &lt;officials&gt;" in register
    assert 'best source: <span class="hb-standing-major">major</span>' in register
    assert "(News Agency, <span class=\"hb-standing-major\">major</span>)" in register
    sources = (built.outdir / "sources.html").read_text(encoding="utf-8")
    assert sources.count("Publisher: News Agency. Standing: <em>major</em>.") == 2
    # pages without facts carry neither cards nor the script
    glossary = (built.outdir / "glossary.html").read_text(encoding="utf-8")
    assert "hb-card" not in glossary


def test_editing_the_register_rebuilds_what_shows_standing(clean_project: Path,
                                                            build) -> None:
    first = build(clean_project)
    assert first.warnings == ""
    register = clean_project / "_data" / "publishers.yaml"
    register.write_text(register.read_text(encoding="utf-8").replace(
        "standing: major", "standing: established"), encoding="utf-8")
    again = build(clean_project, freshenv=False)
    assert again.warnings == ""
    for page in ("index.html", "register.html", "sources.html"):
        text = (again.outdir / page).read_text(encoding="utf-8")
        assert "established" in text and ">major<" not in text, page


def _mutations() -> object:
    from hypothesis import strategies as st

    lines = REGISTER.splitlines(keepends=True)
    junk = st.sampled_from(["standing: [x]\n", "domains: reuters.com\n", "- 1\n", "  id:\n",
                            "  domains: [Bad Host]\n", "  extra: 1\n", ": :\n", "\t\n",
                            "- id: un\n  name: x\n  standing: major\n  domains: [un.org]\n"
                            "  reason: x\n"])
    return st.lists(st.one_of(st.sampled_from(lines), junk, st.text(max_size=20)),
                    max_size=25).map("".join)


def test_register_loader_never_crashes(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """Mutated registers give problems with lines, never an exception."""
    import os

    from hypothesis import HealthCheck, given, settings

    folder = tmp_path_factory.mktemp("pubs")

    @settings(max_examples=150, deadline=None, derandomize=bool(os.environ.get("CI")),
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(_mutations())
    def run(text: str) -> None:
        path = folder / "publishers.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        problems: list = []
        pubs = load_publishers(path, "publishers.yaml", problems)
        for prob in problems:
            assert prob.line >= 1 and str(prob).startswith("publishers.yaml:")
        for pub in pubs.by_id.values():
            assert pub.standing in ("official", "major", "established", "weak", "deprecated")

    run()
