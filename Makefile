# Two entry points for a fresh clone:
#   make demo   set up .venv and run a small study on the built-in demo data
#   make test   set up .venv and run the test suite
# Extra pip arguments for torch (e.g. a CPU-only wheel index) go in TORCH_PIP_ARGS.

PYTHON ?= python3
VENV ?= .venv
TORCH_VERSION ?= 2.13.0
TORCH_PIP_ARGS ?=
BIN := $(VENV)/bin

.PHONY: demo test test-fast lint bench bench-study browser

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first, so the CPU build is the one that satisfies the project's torch requirement
	$(BIN)/pip install --quiet torch==$(TORCH_VERSION) $(TORCH_PIP_ARGS)
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python -m tune_study.launch

# The report and dashboard tests render pages in headless Chromium (Debian's package where
# apt-get works).
browser:
	@if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "note: no Chromium: the browser tests (report, dashboards) will be skipped (install chromium)"; \
	  fi; \
	fi

test: $(VENV)/.installed browser
	$(BIN)/python -m pytest

# The contributor's loop: every test not marked slow (docs/testing.md).
test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -m "not slow"

lint: $(VENV)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_first_call.py

# The study benchmarks: Ray's overhead, pruning, growth and memory (docs/benchmarks.md;
# over an hour on 2 CPU cores). A benchmark exits 1 when its floor is missed; the leading
# "-" lets the others still run, since Ray's overhead (floor: under 10 %) holds with a thin
# margin on 2 cores when trials use both.
bench-study: $(VENV)/.installed
	-$(BIN)/python benchmarks/bench_overhead.py
	-$(BIN)/python benchmarks/bench_overhead.py --threads 1 --repeats 1
	$(BIN)/python benchmarks/bench_pruning.py --seed 42 7 1 2 3
	$(BIN)/python benchmarks/bench_scaling.py
	$(BIN)/python benchmarks/bench_memory.py --size-gb 2
