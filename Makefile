# cdp: set-up, demo, tests and benchmarks. `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_CUSTOMERS ?= 5000
DEMO_SEED ?= 42
BENCH_CUSTOMERS ?= 1000000
# The dbt templater of sqlfluff compiles the project; keep its DuckDB file away from the demo's.
LINT_ENV := CDP_DUCKDB_PATH=$(CURDIR)/$(VENV)/lint.duckdb

.PHONY: install demo test lint lint-sql lint-python bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/cdp generate --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED)
	$(BIN)/cdp build
	$(BIN)/cdp eval-identity
	$(BIN)/cdp sync hubspot --dry-run
	@echo
	@echo "Demo warehouse: warehouse/cdp.duckdb (DuckDB). Look at:"
	@echo "  cdp_marts.customers              one row per resolved customer"
	@echo "  cdp_marts.customer_events        every touchpoint with its customer_id"
	@echo "  cdp_marts.customer_rfm_scores    RFM score per buying customer"
	@echo "  cdp_marts.customer_clv           lifetime value, probability alive (BG/NBD + Gamma-Gamma)"
	@echo "  cdp_marts.customer_scores        churn, purchase propensity and lifetime value per customer"
	@echo "  cdp_marts.model_evaluations      how well each model did on a time-split holdout"
	@echo "  cdp_marts.next_best_action       what to do next per customer, respecting consent"
	@echo "  cdp_marts.customer_features      behavioural features as of this run"
	@echo "  cdp_marts.customer_consent       consent per customer and purpose"
	@echo "  cdp_marts.audience_memberships   who is in which audience, since when"
	@echo "  cdp_marts.identity_health        how the identity graph looks"
	@echo "  cdp_marts.crm_hubspot_contacts   what the HubSpot sync would send"
	@echo "  cdp_staging.stg_*_rejected       raw rows staging refused, with the reason"
	@echo "e.g.  $(BIN)/python -c \"import duckdb; print(duckdb.connect('warehouse/cdp.duckdb', read_only=True).sql('select * from cdp_marts.customers limit 5'))\""

# Two test processes (pytest-xdist): the Postgres world's tests in one, the DuckDB world's in the
# other, the rest shared out (tests/python/conftest.py). TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= 2

test: lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

lint: lint-python lint-sql

lint-python: install
	$(BIN)/ruff check cdp tests python_models bench

lint-sql: install
	$(LINT_ENV) $(BIN)/sqlfluff lint models analyses --processes 2

BENCH_MATCHING_CUSTOMERS ?= 265000
BENCH_EDGES ?= 10000000

bench: install
	$(BIN)/python bench/bench_generate.py --customers $(BENCH_CUSTOMERS)
	$(BIN)/python bench/bench_components.py --edges $(BENCH_EDGES)
	$(BIN)/python bench/bench_matching.py --customers $(BENCH_MATCHING_CUSTOMERS)
	$(BIN)/python bench/bench_clv.py
	$(BIN)/python bench/bench_sync.py --target dev
	$(BIN)/python bench/bench_sync.py --target pg
	$(BIN)/python bench/bench_build.py --customers $(BENCH_CUSTOMERS)

clean:
	rm -rf target logs warehouse/*.duckdb warehouse/*.wal
