"""Sphinx configuration of the handbook on the US military presence in Iraq."""

from __future__ import annotations

import os
import time

project = "US Forces in Iraq: A Reference Handbook"
author = "The Iraq Handbook contributors"
# One date for the whole build: SOURCE_DATE_EPOCH when set (reproducible builds), else now.
_build_time = time.gmtime(int(os.environ.get("SOURCE_DATE_EPOCH", time.time())))
copyright = f"{_build_time.tm_year}, {author}"
today = time.strftime("%d %B %Y", _build_time)
# The edition is the build date. Only the EPUB shows it (EPUB3 requires a version); `release`
# stays empty so the PDF title page shows no "Release" line.
version = time.strftime("%Y.%m.%d", _build_time)
language = "en"

extensions = [
    "myst_parser",
    "sphinxcontrib.bibtex",
    "sphinxext.opengraph",
    "handbook_tools",
]
# Where the site is published, e.g. https://example.org/handbook/ (README: "Settings").
# Empty: no sitemap, no canonical links, and social-card tags carry relative addresses.
_base_url = os.environ.get("HANDBOOK_BASE_URL", "").strip()
if _base_url:
    _base_url = _base_url.rstrip("/") + "/"
    extensions.append("sphinx_sitemap")
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "_data/**"]
templates_path = ["_templates"]
nitpicky = True

# --- MyST ---------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_fence_as_directive = ["mermaid"]  # ```mermaid fences are diagrams too
myst_heading_anchors = 3

# --- Sources (sphinxcontrib-bibtex) -------------------------------------------------
bibtex_bibfiles = ["_data/sources.bib"]
bibtex_default_style = "plain"  # numbered [n] citations, listed alphabetically

# --- Facts and freshness (handbook_tools) -------------------------------------------
handbook_data_dir = "_data"
# The date against which facts are fresh or stale. Empty: HANDBOOK_TODAY from the
# environment, else the SOURCE_DATE_EPOCH date, else the day of the build.
handbook_today = ""
handbook_cache_dir = "../build/.cache"
# The node packages the diagram renderer and the stylesheet cut load (mermaid-cli,
# puppeteer, purgecss), relative to this
# folder: `make setup` installs them there (npm ci in tools/).
handbook_node_modules = "../tools/node_modules"
# The last day sources were searched (the method page shows it with {search-horizon}).
handbook_search_horizon = "2026-12-03"
# Checks reported as notes, not warnings, while content catches up with a new rule (such
# as "weak-only"); `make check` counts them and `--advisory` lists them. Empty: all enforced.
handbook_advisory_checks: list[str] = []
# Capitalised words that are not acronyms needing a glossary entry; each with its reason.
handbook_acronym_allowlist = [
    "US",  # the United States: the subject of the book, used on every page
    "UK",  # the United Kingdom, named only as a coalition member
    "PDF",  # the file format of the downloadable book
    "HTML",  # the file format of the web edition
    "II",  # Roman numeral in proper names ("World War II", "Union III")
    "III",  # Roman numeral in proper names ("Union III")
    "CNN", "BBC", "AP", "NBC", "CBS", "ABC", "NPR", "PBS",  # news outlets cited by name
]

# --- Edition, citation and data downloads (handbook_tools.edition, .changes, .downloads)
# The commit the book is built from, read once: HANDBOOK_COMMIT when set, else
# `git rev-parse HEAD`; empty outside a git checkout (the edition page says "unknown").
import subprocess  # noqa: E402


def _git(*args: str) -> str:
    """The output of a git command run in this folder; empty when git fails or is missing."""
    try:
        return subprocess.run(["git", *args], cwd=os.path.dirname(os.path.abspath(__file__)),
                              capture_output=True, text=True, timeout=30,
                              check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


handbook_commit = os.environ.get("HANDBOOK_COMMIT") or _git("rev-parse", "HEAD")
# The citation metadata ({cite-handbook} on the edition page), relative to this folder.
handbook_citation_file = "../CITATION.cff"
# Release tags: an edition is tagged vYYYY.MM.DD ({edition-changes} compares with the last).
handbook_release_tags = "v[0-9]*"
handbook_acronym_allowlist += [
    "CC", "BY",  # the licence of the text and data, "CC BY 4.0", named on the edition page
    "MIT",  # the licence of the code
    "BibTeX",  # the format of the bibliography download and of the citation
]

# --- Last updated (sphinx-last-updated-by-git) -----------------------------------------
# Each HTML page's footer gives the author date of the last commit that changed its source
# (or a file it includes, or the mission or scenario data it draws), in UTC: two builds of
# one commit show the same dates, and uncommitted edits do not count. Only in a git work
# tree: a copy of docs/ elsewhere (the tests build copies in temporary folders) has no
# history, where the extension would warn "Error getting data from Git" on every build;
# there the footer shows no date rather than the build's. The PDF and EPUB show none.
# (with a commit: in a repository with none yet, the extension's `git ls-tree HEAD` fails)
_in_git_work_tree = (_git("rev-parse", "--is-inside-work-tree") == "true"
                     and bool(_git("rev-parse", "--verify", "-q", "HEAD")))
if _in_git_work_tree:
    extensions.append("sphinx_last_updated_by_git")
    import datetime as _dt  # noqa: E402

    git_last_updated_timezone = _dt.UTC  # not the builder's local zone
    # a page never committed (a new page, before its first commit) shows no date; keep
    # its "show source" link all the same
    git_untracked_show_sourcelink = True
    git_untracked_check_dependencies = False
    # the fact register's files (facts, sources, publishers, link status) are read by
    # every page that cites a fact: counting them would date nearly every page by the last
    # data commit (the weekly link check's link-status.yaml included). Each fact shows its
    # own as-of and review dates instead. missions.yaml and scenarios.yaml, each drawn by
    # one page, do count for it.
    git_exclude_patterns = ["**/_data/facts/*.yaml", "**/_data/facts.yaml",
                            "**/_data/sources.bib", "**/_data/publishers.yaml",
                            "**/_data/link-status.yaml"]
    # A shallow clone (git clone --depth N) lacks the commits before its cut: pages last
    # changed there show no date (the extension's "Git clone too shallow", silenced here;
    # CI checks out the whole history: fetch-depth: 0 in .github/workflows/handbook.yml).
    if _git("rev-parse", "--is-shallow-repository") == "true":
        suppress_warnings = ["git.too_shallow"]

# --- HTML ---------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "US Forces in Iraq"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_favicon = "_static/favicon.svg"
html_baseurl = _base_url  # canonical links; the sitemap's addresses
# "Last updated on ..." in each page's footer: the date of the last commit that changed the
# page (sphinx-last-updated-by-git), never the build's clock: see "Last updated" above.
html_last_updated_fmt = "%d %B %Y" if _in_git_work_tree else None
html_copy_source = True
html_show_sourcelink = True
_repository = os.environ.get("HANDBOOK_REPOSITORY_URL", "")
html_theme_options = {
    "path_to_docs": "docs",
    "repository_branch": "main",
    "use_download_button": True,
    "use_fullscreen_button": False,
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "navigation_with_keys": False,
}
if _repository:  # the forge is not decided yet: buttons appear once its URL is set
    html_theme_options.update(
        repository_url=_repository,
        use_repository_button=True,
        use_edit_page_button=True,
        use_issues_button=True,
    )
html_sidebars = {
    "**": ["navbar-logo.html", "search-button-field.html", "sbt-sidebar-nav.html",
           "pdf-link.html"],
}
# default_mode: pydata-sphinx-theme's first-visit mode. Left unset, a reader with no stored
# choice gets `data-mode=""` and the console error "Got invalid theme mode: . Resetting to
# auto." on every first page; "auto" follows the system's light/dark preference.
html_context = {"pdf_name": "handbook.pdf", "default_mode": "auto"}

# --- What a shared link shows (sphinxext-opengraph, sphinx-sitemap) -------------------
# Each page's meta description and og:description: its first paragraph, cut at 200 chars.
ogp_enable_meta_description = True
ogp_site_url = _base_url
ogp_site_name = project
# One static card image for every page: no per-page cards drawn at build time (they cost
# a matplotlib figure a page and name Sphinx in a corner), and nothing fetched from anywhere.
ogp_social_cards = {"enable": False}
ogp_image = "_static/social-card.png" if _base_url else None
ogp_image_alt = project
sitemap_url_scheme = "{link}"  # not the default "{lang}{version}{link}": one edition
sitemap_locales = [None]  # no alternate-language links
sitemap_show_lastmod = _in_git_work_tree  # <lastmod>: the page's "last updated" date

# --- LaTeX / PDF --------------------------------------------------------------------
latex_engine = "xelatex"
latex_use_xindy = False
latex_documents = [("index", "handbook.tex", project, author, "manual")]
latex_show_urls = "no"
latex_elements = {
    "papersize": "a4paper",
    "pointsize": "11pt",
    "fontpkg": r"""
\setmainfont{FreeSerif}
\setsansfont{FreeSans}
\setmonofont{FreeMono}
""",
    "preamble": r"""
\hypersetup{pdftitle={US Forces in Iraq: A Reference Handbook},
  pdfauthor={The Iraq Handbook contributors},
  pdfsubject={The US military presence in Iraq, 2003 to today},
  pdfkeywords={Iraq, United States, Operation Inherent Resolve, ISIS, coalition}}
\setcounter{tocdepth}{1}
""",
    "printindex": "",
}
latex_domain_indices = False

# --- EPUB ---------------------------------------------------------------------------
epub_show_urls = "no"
epub_exclude_files = [
    ".buildinfo.bak",  # Sphinx's copy of the last build's settings, after they changed
    "_static/favicon.svg", "_static/social-card.png",  # for browsers and shared links only
]

# --- Link check (make linkcheck) ----------------------------------------------------
# `make linkcheck` (python -m handbook_tools linkcheck) takes its timeout, retries, workers
# and longest 429 wait from the first four; the rest serve `sphinx-build -b linkcheck`.
linkcheck_timeout = 10
linkcheck_retries = 2
linkcheck_rate_limit_timeout = 60.0
linkcheck_workers = 4
linkcheck_report_timeouts_as_broken = False
linkcheck_allowed_redirects = {
    # plain-http addresses that now redirect to https are fine
    r"http://.*": r"https://.*",
    # government sites move pages under new paths on the same domain
    r"https://www\.defense\.gov/.*": r"https://www\.defense\.gov/.*",
    r"https://www\.state\.gov/.*": r"https://www\.state\.gov/.*",
}
linkcheck_ignore: list[str] = [
    r"^http://127\.0\.0\.1",  # local test servers only
]
