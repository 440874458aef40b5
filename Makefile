# The two commands a producer needs: `make demo` and `make test`.
# Everything else (the virtual environment, the sample media) is created on demand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SAMPLES := samples/media
OUT := samples/out

.PHONY: demo test test-loaded venv samples clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

samples: $(STAMP)
	$(BIN)/python samples/make_samples.py $(SAMPLES)

demo: samples
	$(BIN)/python samples/render_all.py

test: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider

# The suite RUNS times in a row (stopping at the first failure) beside a CPU hog of
# 2 x cores busy processes: the check that no test depends on the machine's speed.
RUNS ?= 10
test-loaded: $(STAMP)
	$(BIN)/python -m tests.tools.loaded_test_runs --runs $(RUNS)

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(SAMPLES) $(OUT) .pytest_cache
