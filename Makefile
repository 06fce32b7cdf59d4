# Set-up is part of every target: a fresh clone needs only `make tables` or `make test`.
# The venv is self-contained (no system site-packages), so `pytest` and `python` in an activated
# venv are the venv's own and see torch.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup lint tables reference scored test test-slow bench regression regression-update mutation \
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

# The scored runtime x precision matrix (docs/runtimes.md): generated LIP and MPII sets, the two
# real-time models trained on them at 128x128 (~10 min each on 2 idle cores; a rerun resumes),
# every row scored. `make scored SCORED_OUT=results/runtimes_scored` refreshes the committed set.
SCORED := gcpm-ushaped-2stage:lip fpd-4stack:mpii
SCORED_OUT ?= runs/scored
TRAIN := --input-size 128 128 --batch-size 4 --lr 2e-3 --no-augment --epochs 25 --workers 1

scored: $(STAMP)
	for set in lip mpii; do \
	  test -d data/synthetic-$$set || \
	  $(PY) -m datasets.synthetic --format $$set --out data/synthetic-$$set --num-images 160 || exit 1; \
	done
	for spec in $(SCORED); do model=$${spec%:*}; set=$${spec#*:}; \
	  $(PY) -m bench.train --model $$model --dataset $$set --root data/synthetic-$$set \
	    --out runs/train/$$model $(TRAIN) || exit 1; \
	done
	$(PY) -m bench.tables --models $(foreach s,$(SCORED),$(firstword $(subst :, ,$(s)))) \
	  --runtimes eager onnxruntime openvino openvino:bf16 openvino:int8 onnxruntime:int8 \
	  $(foreach s,$(SCORED),--checkpoint $(firstword $(subst :, ,$(s)))=runs/train/$(firstword $(subst :, ,$(s)))/best.pt) \
	  --data-root data/synthetic-lip data/synthetic-mpii --no-profile --out $(SCORED_OUT) $(ARGS)

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
