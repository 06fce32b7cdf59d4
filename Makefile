# Set-up is part of every target: a fresh clone needs only `make tables` or `make test`.
# The venv sees system site-packages so that a preinstalled torch (e.g. a CUDA build on a GPU box)
# is reused instead of downloaded again.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup lint tables test bench regression regression-update mutation clean wheelhouse gpu

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv --system-site-packages $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Formatting and lint (ruff, pinned in the test extra); CI runs this before the tests.
lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

tables: $(STAMP)
	$(PY) -m bench.tables $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(ARGS)

bench: $(STAMP)
	$(PY) -m pytest bench --benchmark-only $(ARGS)

regression: $(STAMP)
	$(PY) -m bench.regression check $(ARGS)

regression-update: $(STAMP)
	$(PY) -m bench.regression update $(ARGS)

# Mutation testing (mutmut, dev extra) of the files in tests/mutation/targets.toml, each against its
# focused tests in a scratch copy: `make mutation TARGETS=datasets/metrics.py ARGS="--timeout 900"`.
mutation: $(STAMP)
	$(PY) -c "import mutmut" 2>/dev/null || $(PY) -m pip install --quiet -e ".[dev]"
	$(PY) tests/mutation/run.py $(TARGETS) $(ARGS)

# A lent GPU machine (README: "Running on a lent GPU"): `make wheelhouse` here, where pip has
# internet; carry .wheelhouse; `make gpu` there (python3 with torch; no set-up, no internet).
WHEELHOUSE ?= .wheelhouse
GPU_PY := $(if $(wildcard $(PY)),$(PY),$(PYTHON))

wheelhouse: $(STAMP)
	$(PY) -m bench.gpu_run --build-wheelhouse --wheelhouse $(WHEELHOUSE)

gpu:
	$(GPU_PY) -m bench.gpu_run --wheelhouse $(WHEELHOUSE) $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
