extensions = ["myst_parser", "handbook_tools"]
bibtex_bibfiles = ["_data/sources.bib"]
handbook_today = "2026-01-01"
