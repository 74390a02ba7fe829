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
# Reproducible output: one timestamp for the whole build (the last commit's, if any).
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH
export PUPPETEER_SKIP_DOWNLOAD := 1

DEB_BROWSER := chromium fonts-noto-core
DEB_PDF     := latexmk texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
               tex-gyre texlive-xetex fonts-freefont-otf
DEB_TEST    := poppler-utils default-jre-headless epubcheck

.DEFAULT_GOAL := all
.PHONY: help all setup html pdf epub serve screenshots check linkcheck bench test test-fast fuzz \
        lint clean

help: ## show this help
	@echo "Usage: make [target]   (first use installs what the target needs)"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

all: pdf html ## build the HTML site and the PDF book (default)
	@cp $(PDF) $(BUILD)/html/handbook.pdf
	@echo "HTML: $(BUILD)/html/index.html"
	@echo "PDF:  $(PDF)  (also linked from every HTML page)"

# ---------------------------------------------------------------------------- set-up
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,serve]'
	@touch $@

tools/node_modules/.installed: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.deb-browser:
	@tools/ensure-packages.sh $(DEB_BROWSER)
.deb-pdf:
	@tools/ensure-packages.sh $(DEB_PDF)
.deb-test:
	@tools/ensure-packages.sh $(DEB_TEST)
.PHONY: .deb-browser .deb-pdf .deb-test

setup: $(BIN)/.installed tools/node_modules/.installed .deb-browser .deb-pdf .deb-test ## install everything

BUILD_DEPS := $(BIN)/.installed tools/node_modules/.installed .deb-browser

# ---------------------------------------------------------------------------- builds
# HTML is built into a scratch copy and swapped in only when the build succeeds, in one
# atomic exchange (handbook_tools.publish), so a failing or killed build never leaves a
# half-written site, nor a moment without one, for whoever reads build/html.
html: $(BUILD_DEPS) ## build the HTML site into build/html (strict: warnings are errors), with the data downloads in build/html/data
	@rm -rf $(BUILD)/html.new; mkdir -p $(BUILD)
	@if [ -d $(BUILD)/html ]; then cp -a $(BUILD)/html $(BUILD)/html.new; fi
	$(SPHINXBUILD) -b html $(SPHINXOPTS) -d $(BUILD)/doctrees/html $(DOCS) $(BUILD)/html.new \
	  || { rm -rf $(BUILD)/html.new $(BUILD)/doctrees/html/environment.pickle; exit 1; }
	@if [ -f $(PDF) ]; then cp $(PDF) $(BUILD)/html.new/handbook.pdf; fi
	@$(BIN)/python -P src/handbook_tools/publish.py $(BUILD)/html.new $(BUILD)/html

pdf: $(BUILD_DEPS) .deb-pdf ## build the whole book as one PDF: build/handbook.pdf (a LaTeX error names its page and line)
	$(SPHINXBUILD) -b latex $(SPHINXOPTS) -d $(BUILD)/doctrees/latex $(DOCS) $(BUILD)/latex \
	  || { rm -f $(BUILD)/doctrees/latex/environment.pickle; exit 1; }
	$(MAKE) -C $(BUILD)/latex LATEXMKOPTS="-interaction=nonstopmode -halt-on-error -quiet \
	  -file-line-error" all-pdf >$(BUILD)/latex/latexmk.out 2>&1 || { \
	  $(BIN)/python -m handbook_tools latexlog --docs $(DOCS) $(BUILD)/latex/handbook.log; \
	  [ $$? = 1 ] || tail -40 $(BUILD)/latex/latexmk.out; exit 1; }
	$(BIN)/python -m handbook_tools latexlog --docs $(DOCS) $(BUILD)/latex/handbook.log
	@cp $(BUILD)/latex/handbook.pdf $(PDF)

epub: $(BUILD_DEPS) ## build an EPUB edition into build/epub
	$(SPHINXBUILD) -b epub $(SPHINXOPTS) -d $(BUILD)/doctrees/epub $(DOCS) $(BUILD)/epub

serve: $(BUILD_DEPS) ## live preview on http://127.0.0.1:8000, rebuilt on every save
	$(BIN)/sphinx-autobuild --host 127.0.0.1 --port 8000 -d $(BUILD)/doctrees/serve \
	  $(DOCS) $(BUILD)/serve

screenshots: html ## screenshots of home, mission diagram and troop chart (light, dark, phone) into build/screenshots
	$(BIN)/python tools/screenshots.py $(BUILD)/screenshots

check: $(BIN)/.installed .deb-browser tools/node_modules/.installed ## every check (facts, sources, terms, links, diagrams) without writing a site
	$(BIN)/python -m handbook_tools check $(DOCS)

# The date of the run is HANDBOOK_TODAY when set (see README), else today. Exit 3, with
# nothing written, when most hosts cannot be reached: the network looks down.
linkcheck: $(BIN)/.installed ## check every source URL and the excerpts quoted from it (needs the internet): docs/_data/link-status.yaml, build/linkcheck/report.json
	$(BIN)/python -m handbook_tools linkcheck $(DOCS) --write $(DOCS)/_data/link-status.yaml \
	  --report $(BUILD)/linkcheck/report.json

bench: setup ## time builds and weigh pages against a stock baseline (BENCH_RUNS=3): build/bench
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
