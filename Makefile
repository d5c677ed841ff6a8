# Quick start: `make demo` and `make test`. See docs/development.md for the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)

DEMO_SITE := demo
DEMO_ARGS := --fqdn localhost --http-port 8080 --tls-port 8443

.PHONY: demo test lint unit e2e bench bench-links bench-monitoring venv clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

venv: $(VENV)/.installed

demo: venv
	scripts/docker-engine.sh ensure
	hakobune images build
	@if [ -d $(DEMO_SITE) ]; then \
		echo "Site $(DEMO_SITE) already exists: https://localhost:8443/ (remove it with: hakobune remove -y $(DEMO_SITE))"; \
		hakobune status -C $(DEMO_SITE); \
	else \
		hakobune provision $(DEMO_ARGS) $(DEMO_SITE); \
		echo "Log in at https://localhost:8443/wp-admin/ with the user and password above (accept the self-signed certificate)."; \
	fi

lint: venv
	ruff check src tests bench images
	mypy
	python3 scripts/apply-templates.py --check
	hadolint images/*/Dockerfile tests/e2e/*/Dockerfile bench/contenders/Dockerfile
	shellcheck -x images/common/*.sh images/*/*.sh scripts/*.sh tests/e2e/*/*.sh bench/contenders/*.sh .ci/run

unit: venv
	pytest -m 'not e2e' tests/unit

# Debian packages the end-to-end tests use besides the engine: Go and bbolt build the scanner's test database;
# the SSH client reaches the remote-engine test's second engine; Chromium opens the monitoring page (test_monitor).
E2E_PACKAGES := golang-go golang-github-coreos-bbolt-dev openssh-client chromium
# Two workers: most of an end-to-end test is waiting (containers starting, health), so two share 2 cores well;
# each test file runs whole in one worker, so its module fixtures (its sites) are made once.
E2E_WORKERS := -n 2 --dist loadfile

# Tests marked `serial` act on every site on the engine (`upgrade --all`): they run alone, after the others.
e2e: venv
	scripts/apt-install.sh $(E2E_PACKAGES)
	scripts/docker-engine.sh run -- sh -c "pytest -m 'e2e and not serial' $(E2E_WORKERS) --durations=20 tests/e2e \
		&& pytest -m 'e2e and serial' tests/e2e"

test: lint unit e2e

# Hakobune's stack against a stock container stack and a LAMP server, on this machine (docs/performance.md).
# Never part of `make test`: it measures, it does not check. About 15 minutes on 2 cores.
$(VENV)/.bench: $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	touch $@

bench: $(VENV)/.bench
	scripts/docker-engine.sh run -- sh -c 'hakobune images build && python bench/run.py'

# What refusing symbolic links costs nginx and httpd (docs/performance.md). About 10 minutes.
bench-links: $(VENV)/.bench
	scripts/docker-engine.sh run -- sh -c 'hakobune images build && python bench/links.py'

# What monitoring costs: the stack at idle with three sites, and B with and without metrics (docs/monitoring.md).
# About 10 minutes.
bench-monitoring: $(VENV)/.bench
	scripts/docker-engine.sh run -- sh -c 'hakobune images build && python bench/monitoring.py'

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
