"""One page per LaTeX-hostile context, each using every role (tests/test_latex.py)."""

extensions = ["myst_parser", "handbook_tools"]
bibtex_bibfiles = ["_data/sources.bib"]
bibtex_default_style = "plain"
handbook_today = "2026-01-01"
handbook_acronym_allowlist = ["LaTeX", "HTML", "PDF"]
# glossary terms here carry roles: nobody links to them
suppress_warnings = ["handbook.unused-term"]
myst_enable_extensions = ["colon_fence", "deflist"]
latex_engine = "xelatex"
latex_use_xindy = False
latex_documents = [("index", "handbook.tex", "LaTeX contexts", "Handbook tests", "manual")]
latex_elements = {
    "papersize": "a4paper",
    "fontpkg": "\\setmainfont{FreeSerif}\n\\setsansfont{FreeSans}\n\\setmonofont{FreeMono}\n",
    "printindex": "",
}
latex_domain_indices = False
