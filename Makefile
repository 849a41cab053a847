# Two commands: `make run` (install, build the index, start the app) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: install run test bench index clean

install: $(VENV)/.installed

# torch first, from the CPU build, and pinned through constraints.txt so nothing pulls CUDA.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -c constraints.txt -e ".[test]"
	touch $@

index: install
	$(PY) -m assistant index build

run: index
	$(PY) app.py

test: install
	$(PY) -m pytest -q

# BENCH_ARGS="--sizes 5,100" runs a subset of the scale benchmark (see benchmarks/bench_scale.py -h).
bench: install
	$(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_scale.py $(BENCH_ARGS)

clean:
	rm -rf index/chroma index/bm25 index/*.json index/*.jsonl
