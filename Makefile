# Set-up is part of every target: a fresh clone needs only `make tables` or `make test`.
# The venv is self-contained (no system site-packages), so `pytest` and `python` in an activated
# venv are the venv's own and see torch.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup lint tables reference test test-slow bench regression regression-update mutation \
	wheelhouse gpu clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Formatting, lint and the layers contract (bench > datasets > architectures); CI runs this first.
lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# Tables 3-5 and the rest into runs/tables (a user's run; the committed set is `make reference`).
tables: $(STAMP)
	$(PY) -m bench.tables $(ARGS)

# The committed reference set in results/ (the command says what it replaces).
reference: $(STAMP)
	$(PY) -m bench.tables --out results $(ARGS)

# The default test run: hermetic (no network) and without the tests marked slow.
test: $(STAMP)
	$(PY) -m pytest -m "not slow" $(ARGS)

test-slow: $(STAMP)
	$(PY) -m pytest -m slow $(ARGS)

bench: $(STAMP)
	$(VENV)/bin/pytest bench --benchmark-only $(ARGS)

regression: $(STAMP)
	$(PY) -m bench.regression check $(ARGS)

regression-update: $(STAMP)
	$(PY) -m bench.regression update $(ARGS)

# Mutation testing (mutmut, dev extra) of the files in tools/mutation/targets.toml.
mutation: $(STAMP)
	$(PY) -c "import mutmut" 2>/dev/null || $(PY) -m pip install --quiet -e ".[dev]"
	$(PY) tools/mutation/run.py $(TARGETS) $(ARGS)

# The GPU capture (docs/gpu.md): `make wheelhouse` where pip can reach a package index, then
# `make gpu` on the GPU machine (Python with torch; no internet needed there).
WHEELHOUSE ?= .wheelhouse
GPU_PY := $(if $(wildcard $(PY)),$(PY),$(PYTHON))

wheelhouse: $(STAMP)
	$(PY) tools/gpu_capture.py --build-wheelhouse --wheelhouse $(WHEELHOUSE) $(ARGS)

gpu:
	$(GPU_PY) tools/gpu_capture.py --wheelhouse $(WHEELHOUSE) $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
