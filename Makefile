# Two commands for a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test test-cases test-daemon test-mypy-oldest test-runtime test-ft compiled test-compiled wheel no-harm bench clean

# mypy cannot follow the import hooks of a default editable install, so the
# install is "strict": a tree of links to the sources.  A new source file
# needs a new link, hence the reinstall whenever the file list changes.
SOURCES := $(sort $(wildcard runtime/*.py runtime/*.c mypy_ownership/*.py mypy_ownership/*/*.py) $(shell find stubs -name '*.pyi'))
SOURCE_LIST := $(VENV)/.source-list

$(SOURCE_LIST): FORCE
	@mkdir -p $(VENV)
	@echo '$(SOURCES)' | cmp -s - $@ || echo '$(SOURCES)' > $@

$(STAMP): pyproject.toml setup.py $(wildcard runtime/*.c) $(SOURCE_LIST)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]' --config-settings editable_mode=strict
	touch $(STAMP)

FORCE:

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

# Every case through mypy's daemon (dmypy), edit after edit.
test-daemon: $(STAMP)
	$(PY) -m pytest -n 2 -q tests/test_daemon.py

# The oldest mypy the plugin supports (pyproject.toml's lower bound): the
# behaviour cases, cold and warm, in a venv of its own.  The newest is the
# one `make test` installs.
MYPY_OLDEST := 2.0.0
OLDEST := .venv-mypy-oldest
OLDEST_STAMP := $(OLDEST)/.installed-stamp

$(OLDEST_STAMP): pyproject.toml setup.py $(wildcard runtime/*.c) $(SOURCE_LIST)
	test -x $(OLDEST)/bin/python || $(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST)/bin/python -m pip install --quiet -e '.[test]' 'mypy==$(MYPY_OLDEST)' --config-settings editable_mode=strict
	touch $(OLDEST_STAMP)

# Left out: the one case written in PEP 695 syntax, which mypy 2.0 cannot
# parse on a Python older than 3.12 ("Expected '('", plugin or not).
test-mypy-oldest: $(OLDEST_STAMP)
	$(OLDEST)/bin/python -m mypy --version
	$(OLDEST)/bin/python -m pytest -n 2 -q tests/test_cases.py -k "not markerOnPep695GenericParameter"

# The plugin compiled with mypyc, as a release wheel ships it (setup.py):
# a venv of its own, the same mypy as .venv's, a non-editable install built
# with MYPY_OWNERSHIP_COMPILE=1 (some 4 minutes of C compiling on 2 cores).
COMPILED := build/compiled
COMPILED_PY := $(COMPILED)/bin/python
COMPILED_STAMP := $(COMPILED)/.installed-stamp

$(COMPILED_STAMP): $(STAMP) setup.py $(SOURCES)
	test -x $(COMPILED_PY) || $(PYTHON) -m venv $(COMPILED)
	$(COMPILED_PY) -m pip install --quiet --upgrade pip
	$(COMPILED_PY) -m pip install --quiet "$$($(PY) -m pip freeze | grep -i '^mypy==')" setuptools wheel typing-extensions pytest pytest-xdist attrs
	MYPY_OWNERSHIP_COMPILE=1 $(COMPILED_PY) -m pip install --quiet --no-build-isolation --no-deps --force-reinstall .
	touch $(COMPILED_STAMP)

compiled: $(COMPILED_STAMP)

# A release wheel: the compiled build, into dist/.
wheel: $(COMPILED_STAMP)
	MYPY_OWNERSHIP_COMPILE=1 $(COMPILED_PY) -m pip wheel --quiet --no-build-isolation --no-deps -w dist .

# The behaviour cases, cold and warm and through the daemon, against the
# compiled plugin.  Run from outside the tree, so that the sources there do
# not shadow the install; the first line fails unless the plugin imported is
# the compiled one.
# MYPY_OWNERSHIP_DEBUG: a hook that raises fails its case (the class hook's
# too, which otherwise drops its facts quietly).
test-compiled: $(COMPILED_STAMP)
	cd /tmp && $(CURDIR)/$(COMPILED_PY) -c 'import mypy_ownership.model.call as m; assert m.__file__.endswith(".so"), m.__file__; print("compiled:", m.__file__)'
	cd /tmp && MYPY_OWNERSHIP_DEBUG=1 $(CURDIR)/$(COMPILED_PY) -m pytest -n 2 -q -p no:cacheprovider $(CURDIR)/tests/test_cases.py $(CURDIR)/tests/test_daemon.py

test-runtime: $(STAMP)
	$(PY) -m pytest -q tests/runtime

# The runtime's tests on a free-threaded CPython, under -X gil=0.  The
# interpreter is python3.14t/python3.13t from PATH, $$FT_PYTHON, or the build
# cached in ~/.cache/mypy-ownership/ft; without any of them the script builds
# one there first (about 6 minutes on 2 cores, needs root for apt-get).
# `fearless` is the runtime/ directory itself, through a link under build/.
# The stress tests run FT_STRESS_ROUNDS rounds each here (3 in make test).
FT_PATH := build/ft-path
FT_STRESS_ROUNDS ?= 10

test-ft:
	@mkdir -p $(FT_PATH) && ln -sfn ../../runtime $(FT_PATH)/fearless
	py=$$(tools/free_threaded_python.sh) && \
	  tools/build_accel.sh $$py && \
	  PYTHONPATH=$(FT_PATH) PYTHON_GIL=0 $$py -X gil=0 -c 'import sys; assert not sys._is_gil_enabled(), "the GIL is on"' && \
	  PYTHONPATH=$(FT_PATH) PYTHON_GIL=0 $$py -X gil=0 -c 'import fearless, sys; assert not sys._is_gil_enabled(), "importing fearless turned the GIL on"' && \
	  PYTHONPATH=$(FT_PATH) PYTHON_GIL=0 FEARLESS_STRESS_ROUNDS=$(FT_STRESS_ROUNDS) \
	  $$py -X gil=0 -m pytest -q -p no:cacheprovider \
	    --confcutdir=tests/runtime --rootdir=tests/runtime tests/runtime

# The plugin over mypy's own check-*.test cases (../shared/mypy-check-cases,
# or MYPY_CHECK_CASES): mypy's output must not change.  make test runs it too.
no-harm: $(STAMP)
	$(PY) benchmarks/mypy_cases.py

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(OLDEST) .mypy_cache .pytest_cache build *.egg-info
