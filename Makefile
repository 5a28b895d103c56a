# The two commands of the README: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Backends the test suite runs on; CI and these machines have PostgreSQL on 127.0.0.1:5432.
# On a laptop without PostgreSQL: make test KAMPANJ_TEST_BACKENDS=sqlite
KAMPANJ_TEST_BACKENDS ?= sqlite,postgresql
# Work queues the worker tests use (Redis on 127.0.0.1:6379); without Redis: KAMPANJ_TEST_QUEUES=sqlite
KAMPANJ_TEST_QUEUES ?= sqlite,redis
DEMO_DIR ?= demo
DEMO_PEOPLE ?= 10000

.PHONY: demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p $(DEMO_DIR)
	rm -f $(DEMO_DIR)/kampanj.db $(DEMO_DIR)/kampanj.db-wal $(DEMO_DIR)/kampanj.db-shm
	$(BIN)/kampanj demo --db sqlite:///$(DEMO_DIR)/kampanj.db --people $(DEMO_PEOPLE) --workdir $(DEMO_DIR)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# pytest exits 5 when it collected no tests: that is a failure here, not a pass.
test: lint typecheck
	KAMPANJ_TEST_BACKENDS=$(KAMPANJ_TEST_BACKENDS) KAMPANJ_TEST_QUEUES=$(KAMPANJ_TEST_QUEUES) $(BIN)/pytest tests; \
	status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
	exit $$status

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache .hypothesis
