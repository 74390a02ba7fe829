# The handbook's build. `make` builds the HTML site and the PDF book; `make test` runs the
# tests. Every target installs what it needs on first use (see `make help`).

PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
SPHINXBUILD := $(BIN)/sphinx-build
SPHINXOPTS  ?= -n -W --keep-going -q
DOCS        := docs
BUILD       := build
PDF         := $(BUILD)/handbook.pdf
# Sphinx's LaTeX Makefile (latexmk) in build/latex; not $(MAKE), which `make -n` would run
LATEXMAKE   := make
# Reproducible output: one timestamp for the whole build (the last commit's; outside a git
# checkout, the start of today, UTC: the build shows only the date, and a no-change `make`
# then stays a no-change until the date changes).
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null \
                       || echo $$(( $$(date +%s) / 86400 * 86400 )))
export SOURCE_DATE_EPOCH
export PUPPETEER_SKIP_DOWNLOAD := 1

DEB_BROWSER := chromium fonts-noto-core
DEB_PDF     := latexmk texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
               tex-gyre texlive-xetex fonts-freefont-otf
DEB_TEST    := poppler-utils default-jre-headless epubcheck

.DEFAULT_GOAL := all
.PHONY: help all setup html pdf epub serve screenshots check linkcheck bench test test-fast fuzz \
        lint clean

# ---------------------------------------------------------------------------- what a build reads
# `make` with no input changed runs nothing: the site and the PDF are remade only when a
# file they are built from is newer than the stamp of their last good build. Stamps take
# the time a build STARTED, so a page saved during a build is seen by the next `make`.
STAMPS   := $(BUILD)/.stamps
PACKAGE  := src/handbook_tools
# Every file and folder of the book (a folder's time changes when a page is added,
# removed or renamed); the package's files; what else the build reads. A space in a name
# is escaped for Make.
find_inputs = $(shell find $(1) $(2) -not -name '*.pyc' -not -name __pycache__ \
                -not -name '.*' 2>/dev/null | sed 's/ /\\ /g')
DOCS_INPUTS := $(call find_inputs,$(DOCS))
CODE_INPUTS := $(call find_inputs,$(PACKAGE),-type f) Makefile \
               $(wildcard $(DOCS)/../CITATION.cff)
# The settings a build depends on, written to $(SETTINGS) only when they change (so its
# time is that of the last change): sphinx-build and its options, the dates (the
# freshness date HANDBOOK_TODAY, else SOURCE_DATE_EPOCH's), the variables conf.py reads,
# and the commit and release tags the edition page names.
SETTINGS := $(STAMPS)/settings
SETTINGS_TEXT := SPHINXBUILD=$(SPHINXBUILD) SPHINXOPTS=$(SPHINXOPTS) \
  SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) HANDBOOK_TODAY=$(HANDBOOK_TODAY) \
  HANDBOOK_BASE_URL=$(HANDBOOK_BASE_URL) HANDBOOK_REPOSITORY_URL=$(HANDBOOK_REPOSITORY_URL) \
  HANDBOOK_COMMIT=$(HANDBOOK_COMMIT) HANDBOOK_CACHE_DIR=$(HANDBOOK_CACHE_DIR) \
  git=$(shell git -C $(DOCS) rev-parse HEAD 2>/dev/null) \
  tags=$(shell git -C $(DOCS) tag --list 'v[0-9]*' --merged HEAD 2>/dev/null)
ifneq ($(if $(MAKECMDGOALS),$(filter-out help clean,$(MAKECMDGOALS)),all),)
$(shell mkdir -p $(STAMPS))
$(file >$(SETTINGS).new,$(SETTINGS_TEXT))
$(shell cmp -s $(SETTINGS).new $(SETTINGS) && rm -f $(SETTINGS).new || mv -f $(SETTINGS).new $(SETTINGS))
endif
$(SETTINGS): # after `make clean` in the same run
	$(shell mkdir -p $(@D))$(file >$@,$(SETTINGS_TEXT))
# The PDF does not read the web pages' templates, stylesheets and scripts.
HTML_ONLY   := $(filter $(DOCS)/_templates/%.html $(DOCS)/_static/%.css $(DOCS)/_static/%.js, \
                 $(DOCS_INPUTS))
HTML_INPUTS := $(DOCS_INPUTS) $(CODE_INPUTS) $(SETTINGS)
PDF_INPUTS  := $(filter-out $(HTML_ONLY),$(DOCS_INPUTS)) $(CODE_INPUTS) $(SETTINGS)


help: ## show this help
	@echo "Usage: make [target]   (first use installs what the target needs)"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

all: pdf html $(BUILD)/html/handbook.pdf ## build the HTML site and the PDF book (default); with nothing changed, nothing runs
	@echo "HTML: $(BUILD)/html/index.html"
	@echo "PDF:  $(PDF)  (also linked from every HTML page)"

$(BUILD)/html/handbook.pdf: $(STAMPS)/pdf $(STAMPS)/html
	@cp $(PDF) $@

# ---------------------------------------------------------------------------- set-up
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,serve]'
	@touch $@

tools/node_modules/.installed: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Debian packages: checked once a build folder (again after `make clean` or a change of
# this Makefile), not on every `make`.
$(STAMPS)/deb-browser: Makefile
	@tools/ensure-packages.sh $(DEB_BROWSER) && mkdir -p $(@D) && touch $@
$(STAMPS)/deb-pdf: Makefile
	@tools/ensure-packages.sh $(DEB_PDF) && mkdir -p $(@D) && touch $@
$(STAMPS)/deb-test: Makefile
	@tools/ensure-packages.sh $(DEB_TEST) && mkdir -p $(@D) && touch $@

setup: $(BIN)/.installed tools/node_modules/.installed $(STAMPS)/deb-browser $(STAMPS)/deb-pdf \
       $(STAMPS)/deb-test ## install everything

# Installed tools are inputs too (a new Sphinx or mermaid may change the output).
BUILD_DEPS := $(BIN)/.installed tools/node_modules/.installed $(STAMPS)/deb-browser

# ---------------------------------------------------------------------------- builds
# HTML is built into a scratch copy and swapped in only when the build succeeds, in one
# atomic exchange (`python -m handbook_tools publish`, whose import loads no Sphinx), so a
# failing or killed build never leaves a half-written site, nor a moment without one, for
# whoever reads build/html.
html: $(STAMPS)/html ## build the HTML site into build/html (strict: warnings are errors), with the data downloads in build/html/data; only when an input changed

$(STAMPS)/html: $(HTML_INPUTS) $(BUILD_DEPS)
	@rm -f $@; touch $@.start
	@rm -rf $(BUILD)/html.new; mkdir -p $(BUILD)
	@if [ -d $(BUILD)/html ]; then cp -a $(BUILD)/html $(BUILD)/html.new; fi
	$(SPHINXBUILD) -b html $(SPHINXOPTS) -d $(BUILD)/doctrees/html $(DOCS) $(BUILD)/html.new \
	  || { rm -rf $(BUILD)/html.new $(BUILD)/doctrees/html/environment.pickle; exit 1; }
	@if [ -f $(PDF) ]; then cp $(PDF) $(BUILD)/html.new/handbook.pdf; fi
	@$(BIN)/python -m handbook_tools publish $(BUILD)/html.new $(BUILD)/html
	@mv $@.start $@

pdf: $(STAMPS)/pdf ## build the whole book as one PDF: build/handbook.pdf (a LaTeX error names its page and line); only when an input changed

$(STAMPS)/pdf: $(PDF_INPUTS) $(BUILD_DEPS) $(STAMPS)/deb-pdf
	@rm -f $@; touch $@.start
	$(SPHINXBUILD) -b latex $(SPHINXOPTS) -d $(BUILD)/doctrees/latex $(DOCS) $(BUILD)/latex \
	  || { rm -f $(BUILD)/doctrees/latex/environment.pickle; exit 1; }
	$(LATEXMAKE) -C $(BUILD)/latex LATEXMKOPTS="-interaction=nonstopmode -halt-on-error -quiet \
	  -file-line-error" all-pdf >$(BUILD)/latex/latexmk.out 2>&1 || { \
	  $(BIN)/python -m handbook_tools latexlog --docs $(DOCS) $(BUILD)/latex/handbook.log; \
	  [ $$? = 1 ] || tail -40 $(BUILD)/latex/latexmk.out; exit 1; }
	$(BIN)/python -m handbook_tools latexlog --docs $(DOCS) $(BUILD)/latex/handbook.log
	@cp $(BUILD)/latex/handbook.pdf $(PDF)
	@mv $@.start $@

epub: $(BUILD_DEPS) ## build an EPUB edition into build/epub
	$(SPHINXBUILD) -b epub $(SPHINXOPTS) -d $(BUILD)/doctrees/epub $(DOCS) $(BUILD)/epub

SERVE_PORT ?= 8000
# The preview keeps the theme's whole stylesheets and writes no .gz/.br copies: both cost
# time on every save (PurgeCSS reruns when a page changes) and change nothing a reader sees.
serve: $(BUILD_DEPS) ## live preview on http://127.0.0.1:8000 (SERVE_PORT), rebuilt on every save
	$(BIN)/sphinx-autobuild --host 127.0.0.1 --port $(SERVE_PORT) -d $(BUILD)/doctrees/serve \
	  -D handbook_purge_css=0 -D handbook_precompress=0 $(DOCS) $(BUILD)/serve

screenshots: html ## screenshots of home, diagram, chart, a long page and the register (desktop and phone, light and dark) into build/screenshots
	$(BIN)/python tools/screenshots.py $(BUILD)/screenshots

check: $(BIN)/.installed $(STAMPS)/deb-browser tools/node_modules/.installed ## every check (facts, sources, terms, links, diagrams) without writing a site
	$(BIN)/python -m handbook_tools check $(DOCS)

# The date of the run is HANDBOOK_TODAY when set (see README), else today. Exit 3, with
# nothing written, when most hosts cannot be reached: the network looks down.
linkcheck: $(BIN)/.installed ## check every source URL and the excerpts quoted from it (needs the internet): docs/_data/link-status.yaml, build/linkcheck/report.json
	$(BIN)/python -m handbook_tools linkcheck $(DOCS) --write $(DOCS)/_data/link-status.yaml \
	  --report $(BUILD)/linkcheck/report.json

bench: setup ## time builds, weigh pages and run Lighthouse (mobile, desktop) against a stock baseline (BENCH_RUNS=3; BENCH_ONLY=reader or html): build/bench
	$(BIN)/python tools/bench.py

lint: $(BIN)/.installed ## ruff on src, tools and tests, mypy on the extension
	$(BIN)/ruff check src tools tests
	$(BIN)/mypy

# pytest-xdist: TEST_WORKERS processes (auto: one per CPU); tests that share a build are one
# xdist group (--dist loadgroup, set in pyproject.toml), so each build is made once.
TEST_WORKERS ?= auto
test: setup lint all ## lint, build the handbook, then run the whole test suite in TEST_WORKERS=auto processes (browser tests use build/html)
	$(BIN)/pytest -n $(TEST_WORKERS)

test-fast: $(BUILD_DEPS) ## pytest without the book builds and browser tests (corpus, fuzz, small projects: their diagrams use Chromium); no lint
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not slow and not browser"

# Exploratory fuzzing: the hypothesis "fuzz" profile (tests/conftest.py) with FUZZ_SCALE
# times the examples `make test` tries, from a random seed that is printed; a failing run
# is replayed with `make fuzz FUZZ_SEED=<that seed>` (and the same FUZZ_SCALE).
FUZZ_SCALE ?= 10
FUZZ_SEED  ?=
fuzz: $(BUILD_DEPS) ## explore random data files and pages (FUZZ_SCALE=10 times the examples); prints the seed, replay with FUZZ_SEED=...
	@seed="$(FUZZ_SEED)"; [ -n "$$seed" ] || seed=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' '); \
	echo "fuzz: seed $$seed, $(FUZZ_SCALE) times the examples"; \
	HANDBOOK_FUZZ_SCALE=$(FUZZ_SCALE) $(BIN)/pytest -p no:cacheprovider tests/test_fuzz.py \
	  --hypothesis-profile=fuzz --hypothesis-seed=$$seed \
	  || { echo "fuzz: failed; replay: make fuzz FUZZ_SEED=$$seed FUZZ_SCALE=$(FUZZ_SCALE)"; exit 1; }

clean: ## remove build output (keeps the virtual environment and node packages)
	rm -rf $(BUILD)
