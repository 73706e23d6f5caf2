# Quick start: `make demo` runs the Polewali Mandar baseline; `make test` runs the tests.
# Both create the virtual environment .venv (with a Python >= 3.12) and install kube-sim first.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean help

help:  ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	@PY=$$(scripts/find_python.sh) || exit 1; \
	  echo "Using $$PY ($$($$PY --version))"; \
	  [ -x $(BIN)/python ] || $$PY -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all]"
	@touch $(STAMP)

demo: $(STAMP)  ## run the baseline scenario; results and a survival figure go to results/baseline
	$(BIN)/kube-sim run baseline --out results/baseline

test: $(STAMP)  ## run the test suite
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check kube_sim tests benchmarks

bench: $(STAMP)  ## benchmark the model at district scale against Mesa's Boltzmann example
	$(BIN)/python benchmarks/bench_model.py --scale district

clean:  ## remove the virtual environment
	rm -rf $(VENV)
