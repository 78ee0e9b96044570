# painflow: `make demo` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)

DEMO_DATA := demo/data
# The BIDS community's example layouts the discovery tests build from; the
# script pins the pybids sdist they come from.
BIDS_EXAMPLES := tests/data/bids-examples/pybids-sdist.json
DEMO_CONFIG := config/demo.yaml
DEMO_FSLR_CONFIG := config/demo_fslr.yaml
SNAKEMAKE := $(BIN)/snakemake --profile profiles/local --configfile

.PHONY: install demo test lint clean-demo system-packages

install: $(STAMP)

# Dependencies are pinned in pyproject.toml; requirements.lock pins the rest.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e ".[test]"
	touch $@

# The study in volumes (NIfTI) and in grayordinates (CIFTI), analysed in both,
# with a rest run in every session for the rest-run test. Lighter than the
# simulator's defaults, to keep the demo short: 2 rating runs a session (3 by
# default) and rest runs of 150 volumes (300); tests/test_demo.py checks the
# findings on the same settings. Fewer than 12 sessions leave a person's
# decoder below the findings' bar, as in the study.
DEMO_SIMULATION := --cifti --rest --runs 2 --rest-volumes 150
$(DEMO_DATA)/ground_truth.json: | $(STAMP)
	$(BIN)/painflow simulate $(DEMO_DATA) $(DEMO_SIMULATION)

demo: $(STAMP) $(DEMO_DATA)/ground_truth.json
	$(SNAKEMAKE) $(DEMO_CONFIG)
	$(SNAKEMAKE) $(DEMO_CONFIG) --report demo/output/report.html
	$(SNAKEMAKE) $(DEMO_FSLR_CONFIG)
	$(SNAKEMAKE) $(DEMO_FSLR_CONFIG) --report demo/output-fsLR/report.html

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow

# Tests run a single-node SLURM cluster and a headless Chromium from Debian's
# packages (installed as root).
system-packages:
	tests/install_system_packages.sh

$(BIDS_EXAMPLES): tools/fetch_bids_examples.py | $(STAMP)
	$(BIN)/python tools/fetch_bids_examples.py

test: lint system-packages $(BIDS_EXAMPLES)
	$(BIN)/pytest

clean-demo:
	rm -rf demo/output demo/output-fsLR .snakemake
