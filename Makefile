# Two commands on a fresh machine: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# axe-core (npm, package.json): injected into pages by the browser tests.
AXE := node_modules/axe-core/axe.min.js
export SNP_INSTANCE_DIR ?= $(CURDIR)/instance

.PHONY: run test test-sqlite test-postgres test-browser-deps bench clean

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

# The suite runs twice: on SQLite (with the browser tests) and on a throwaway PostgreSQL cluster.
test: $(STAMP) $(AXE)
	SNP_TEST_DB=sqlite $(BIN)/pytest $(PYTEST_ARGS)
	SNP_TEST_DB=postgresql $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

test-sqlite: $(STAMP) $(AXE)
	SNP_TEST_DB=sqlite $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(STAMP)
	SNP_TEST_DB=postgresql $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules
