# Quick start: `make demo` runs the Polewali Mandar baseline; `make test` runs the tests.
# Both create the virtual environment .venv (with a Python >= 3.12) and install kube-sim first, with the
# tested versions of its dependencies from constraints.txt; `make lock` rewrites that file from .venv.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := constraints.txt

.PHONY: demo app test lint docs bench lock clean help

help:  ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml $(LOCK)
	@PY=$$(scripts/find_python.sh) || exit 1; \
	  echo "Using $$PY ($$($$PY --version))"; \
	  [ -x $(BIN)/python ] || $$PY -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e ".[all]"
	@touch $(STAMP)

demo: $(STAMP)  ## run the baseline scenario; results and a survival figure go to results/baseline
	$(BIN)/kube-sim run baseline --out results/baseline

app: $(STAMP)  ## start the teaching app on http://127.0.0.1:8765 and open it in a browser
	$(BIN)/kube-sim app --open

test: $(STAMP)  ## run the test suite
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)  ## ruff and mypy (configured in pyproject.toml)
	$(BIN)/ruff check kube_sim tests benchmarks
	$(BIN)/mypy

docs: $(STAMP)  ## regenerate every generated document and figure quoted in the docs (the tests check they are current)
	$(BIN)/python docs/make_parameter_table.py
	$(BIN)/python docs/make_outcome_table.py
	$(BIN)/python docs/make_state_table.py
	$(BIN)/python docs/make_validation_docs.py render
	$(BIN)/python docs/make_teaching_figures.py
	$(BIN)/python scripts/readme_figures.py

bench: $(STAMP)  ## benchmark the model at district scale against Mesa's Boltzmann example
	$(BIN)/python benchmarks/bench_model.py --scale district

lock: $(STAMP)  ## pin the versions installed in .venv (the tested ones) into constraints.txt
	@{ echo "# Versions kube-sim is tested with: 'make' and CI install with 'pip install -c $(LOCK) -e \".[all]\"'."; \
	   echo "# Regenerate from the tested virtual environment with 'make lock'."; \
	   $(BIN)/python -m pip freeze --exclude-editable | grep -vi '^kube[-_]sim'; } > $(LOCK).new
	@mv $(LOCK).new $(LOCK)
	@echo "wrote $(LOCK) ($$(grep -vc '^#' $(LOCK)) packages)"

clean:  ## remove the virtual environment
	rm -rf $(VENV)
