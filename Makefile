# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

# No telemetry, no outside network at run time. Packages are installed with their bytecode
# compiled: where PYTHONDONTWRITEBYTECODE is set, nothing else would ever cache it, and every
# process (each Airflow task) would compile Great Expectations, Airflow and dbt from source.
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := false
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False

.PHONY: venv demo test test-fast lint lock clean browser bench wheel-demo

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION)
	$(VENV)/bin/uv pip sync --quiet --compile-bytecode --python $(VENV)/bin/python requirements.lock
	$(VENV)/bin/uv pip install --quiet --python $(VENV)/bin/python --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/hhp demo

test: $(STAMP) browser
	$(VENV)/bin/pytest -q

# Debian's Chromium for the tests of what a person looks at (needs root to install).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium not installed: browser tests will be skipped"

# The quick loop: everything but PostgreSQL and slow tests.
test-fast: $(STAMP)
	$(VENV)/bin/pytest -q -m "not postgres and not slow"

lint: $(STAMP)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DBT_HHP_DUCKDB_PATH=:memory: $(VENV)/bin/sqlfluff lint dbt_project/models

# The platform as a user installs it: a wheel built from this checkout, installed (at the lock's
# versions, without extras) in a fresh venv in a temporary folder, runs `hhp demo` from there.
wheel-demo: $(STAMP)
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(VENV)/bin/uv build --quiet --wheel --out-dir "$$tmp/dist"; rm -rf build; \
	UV_PYTHON_DOWNLOADS=never $(VENV)/bin/uv venv --quiet --python $(PYTHON) "$$tmp/venv"; \
	$(VENV)/bin/uv pip install --quiet --python "$$tmp/venv/bin/python" -c requirements.lock "$$tmp"/dist/*.whl; \
	home="$$tmp/a-platform-home-whose-path-is-longer-than-eighty-columns-so-that-wrapping-would-show"; \
	cd "$$tmp" && env -u PYTHONPATH HHP_HOME="$$home" "$$tmp/venv/bin/hhp" demo > "$$tmp/demo.out" || \
	{ cat "$$tmp/demo.out"; exit 1; }; \
	cat "$$tmp/demo.out"; \
	grep -qx "report: *$$home/reports/programme_report.html" "$$tmp/demo.out" || \
	{ echo "wheel-demo: the demo's output to a file cut or wrapped the report's path"; exit 1; }

# Re-resolve the pinned lock from pyproject.toml, every extra included (needs the package index).
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --all-extras --python-version 3.11 --no-header --no-annotate -o requirements.lock

clean:
	rm -rf $(VENV) .hhp dbt_project/target dbt_project/logs

# The platform at national scale against its engines, dlt and the naive loader; writes
# docs/benchmarks.md and benchmarks/results.json (about 25 minutes on 2 cores). dlt, for
# comparison only, is installed here and nowhere else (benchmarks/requirements.txt).
bench: $(STAMP)
	$(VENV)/bin/uv pip install --quiet --python $(VENV)/bin/python -c requirements.lock -r benchmarks/requirements.txt
	RUNTIME__DLTHUB_TELEMETRY=false $(VENV)/bin/python -m benchmarks.run
