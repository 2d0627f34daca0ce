# Two commands for a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test test-cases test-runtime bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# The checker over the bundled examples, which reproduce the seed article's
# mistakes: every error printed here is one the examples make on purpose.
demo: $(STAMP)
	$(PY) examples/run_demo.py

# The whole suite: the plugin's behaviour cases (cold and warm cache) and the
# runtime's tests with real threads.
test: $(STAMP)
	$(PY) -m pytest -n 2 -q

test-cases: $(STAMP)
	$(PY) -m pytest -n 2 -q tests/test_cases.py

test-runtime: $(STAMP)
	$(PY) -m pytest -q tests/runtime

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache build *.egg-info
