# Two commands: `make run` (install, build the index, start the app) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: install browser run test test-fast bench eval index clean

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

# The browser tests (tests/interfaces/web/test_web.py) drive Debian's Chromium through Playwright and need a CJK font;
# they fail, never skip, without them. CI runs as root on Debian.
browser:
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; }

test: install browser
	$(PY) -m pytest -q

# The unit tests only (no model, no index, no browser): under a minute.
test-fast: install
	$(PY) -m pytest -q -m "not integration and not browser"

# BENCH_ARGS="--sizes 5,100" runs a subset of the scale benchmark (see benchmarks/bench_scale.py -h);
# WRITE_ARGS="--sizes 1000 --runs 3" a subset of the write benchmark; BASELINE=<another checkout> measures it too
# (bench_core and bench_write; see BENCHMARKS.md, "Restructure (issue 13)"). BATCH_ARGS="--files 50" imports fewer
# real regulations than the default 500 (about an hour here from an empty embedding cache).
bench: install
	$(PY) benchmarks/bench_core.py $(if $(BASELINE),--baseline $(BASELINE))
	$(PY) benchmarks/bench_ingest.py
	$(PY) benchmarks/bench_app.py
	$(PY) benchmarks/bench_mixed.py
	$(PY) benchmarks/bench_api.py
	$(PY) benchmarks/bench_write.py $(WRITE_ARGS) $(if $(BASELINE),--baseline $(BASELINE))
	$(PY) benchmarks/bench_cold.py $(if $(BASELINE),--baseline $(BASELINE))
	$(PY) benchmarks/bench_scale.py $(BENCH_ARGS)
	$(PY) benchmarks/bench_metadata.py
	$(PY) benchmarks/bench_batch.py $(BATCH_ARGS)
	$(PY) benchmarks/bench_diff.py

# Evaluate on eval/gold.jsonl, fail below eval/thresholds.toml, and publish the latest summary and chart.
eval: install
	$(PY) -m assistant eval --check
	mkdir -p eval/latest
	latest=$$(ls -d eval/runs/*/ | tail -1); cp $$latest/summary.md $$latest/chart.png eval/latest/

clean:
	rm -rf index/chroma index/bm25 index/*.json index/*.jsonl
