# Two commands on a fresh machine: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# axe-core (npm, package.json): injected into pages by the browser tests.
AXE := node_modules/axe-core/axe.min.js
export SNP_INSTANCE_DIR ?= $(CURDIR)/instance

.PHONY: run test test-sqlite test-postgres test-browser-deps bench bench-scaling clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(AXE)

run: $(STAMP)
	$(BIN)/flask --app wsgi snp init-db
	$(BIN)/flask --app wsgi snp demo
	SNP_SCHEDULER_IN_PROCESS=1 $(BIN)/flask --app wsgi run --host 127.0.0.1 --port 5000 --no-reload

# The suite runs twice: on SQLite (with the browser tests) and on a throwaway PostgreSQL cluster. The two
# passes run side by side (each is mostly one process on one core; CI has two): the PostgreSQL pass writes
# test-output/postgresql.log, printed when both are done. SNP_TEST_SERIAL=1 runs them one after the other.
test: $(STAMP) $(AXE)
	@if [ -n "$$SNP_TEST_SERIAL" ]; then \
	  SNP_TEST_DB=sqlite $(BIN)/pytest $(PYTEST_ARGS) && \
	  SNP_TEST_DB=postgresql $(BIN)/pytest -m "not browser" $(PYTEST_ARGS); \
	else \
	  mkdir -p test-output; \
	  SNP_TEST_DB=postgresql $(BIN)/pytest -m "not browser" $(PYTEST_ARGS) >test-output/postgresql.log 2>&1 & pg=$$!; \
	  SNP_TEST_DB=sqlite $(BIN)/pytest $(PYTEST_ARGS); sqlite=$$?; \
	  wait $$pg; postgresql=$$?; \
	  echo "=== PostgreSQL pass (test-output/postgresql.log)"; cat test-output/postgresql.log; \
	  echo "=== SQLite pass: exit $$sqlite; PostgreSQL pass: exit $$postgresql"; \
	  [ $$sqlite -eq 0 ] && [ $$postgresql -eq 0 ]; \
	fi

test-sqlite: $(STAMP) $(AXE)
	SNP_TEST_DB=sqlite $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(STAMP)
	SNP_TEST_DB=postgresql $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

# Every benchmark at 1x and 4x region scale (SPEC section 6, "how cost grows"), one after the other: each
# prints its table and appends it to benchmarks/output/scaling.md. Regions are built once and kept there.
BENCH_SCALES ?= 1,4
bench-scaling: $(STAMP)
	$(BIN)/python benchmarks/bench_booking.py --scales $(BENCH_SCALES)
	$(BIN)/python benchmarks/bench_sas.py --scales $(BENCH_SCALES)
	$(BIN)/python benchmarks/bench_reports.py --scales $(BENCH_SCALES) --postgresql
	$(BIN)/python benchmarks/bench_reports.py --scales $(BENCH_SCALES)
	$(BIN)/python benchmarks/bench_publish.py --scales $(BENCH_SCALES) --postgresql
	$(BIN)/python benchmarks/bench_publish.py --scales $(BENCH_SCALES)
	$(BIN)/python benchmarks/bench_jobs.py --scales $(BENCH_SCALES) --postgresql
	$(BIN)/python benchmarks/bench_jobs.py --scales $(BENCH_SCALES)

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules
