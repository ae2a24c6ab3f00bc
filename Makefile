# runner-watchdog: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SPEC ?= slo.yaml

# Debian packages the checks and tests run for real.
RULE_TOOLS := promtool:prometheus amtool:prometheus-alertmanager
TEST_TOOLS := $(RULE_TOOLS) prometheus:prometheus prometheus-alertmanager:prometheus-alertmanager \
	prometheus-pushgateway:prometheus-pushgateway
BENCH_TOOLS := prometheus-process-exporter:prometheus-process-exporter prometheus:prometheus promtool:prometheus

.DEFAULT_GOAL := help
.PHONY: help venv tools rules check-rules test lint bench serve config-validate \
	evidence-rotate report chaos chaos-burst e2e golden clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,lint]'
	@touch $@

venv: $(STAMP) ## Create .venv and install the project into it

# ensure_tools: each word is command:debian-package. Installs what is missing
# when root with apt-get; otherwise stops with one line naming the packages.
define ensure_tools
@missing=""; for pair in $(1); do \
	command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
done; \
if [ -n "$$missing" ]; then \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian packages:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq --no-install-recommends $$missing >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; }; \
	else \
		echo "missing tools: install the Debian packages$$missing (as root: apt-get install$$missing)" >&2; \
		exit 1; \
	fi; \
fi
endef

tools: ## Install the Debian packages the tests need (promtool, amtool, ...)
	$(call ensure_tools,$(TEST_TOOLS))

rules: $(STAMP) ## Generate every artifact from slo.yaml and check it with promtool/amtool
	$(call ensure_tools,$(RULE_TOOLS))
	$(BIN)/rulegen build $(SPEC)
	$(BIN)/rulegen check

check-rules: $(STAMP) ## Check the committed artifacts with promtool and amtool
	$(call ensure_tools,$(RULE_TOOLS))
	$(BIN)/rulegen check

test: $(STAMP) ## Run the whole test suite (needs the Debian tools; installs them as root)
	$(call ensure_tools,$(TEST_TOOLS))
	$(BIN)/python -m pytest

lint: $(STAMP) ## Run ruff and mypy
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

CONFIG_FLAG := $(if $(CONFIG),--config $(CONFIG),)

config-validate: $(STAMP) ## Validate the watchdog config strictly (CONFIG=file, default: shipped)
	$(BIN)/runner-watchdog config validate --strict $(CONFIG)

serve: $(STAMP) ## Run the exporter on this host with the shipped config (CONFIG=file)
	$(BIN)/runner-watchdog serve --config $(or $(CONFIG),config/runner.yaml)

evidence-rotate: $(STAMP) ## Rotate, expire and re-seal evidence files now
	$(BIN)/runner-watchdog evidence rotate $(CONFIG_FLAG)

report: $(STAMP) ## Print today's daily report from the evidence (DATE=YYYY-MM-DD)
	$(BIN)/runner-watchdog report daily $(CONFIG_FLAG) $(if $(DATE),--date $(DATE),)

chaos: $(STAMP) ## Run every chaos scenario against a real exporter on loopback
	$(BIN)/runner-watchdog chaos all

chaos-burst: $(STAMP) ## Run the stall-burst chaos scenario only
	$(BIN)/runner-watchdog chaos burst

e2e: $(STAMP) ## Stall -> exporter -> Prometheus -> rules -> Alertmanager, end to end
	$(call ensure_tools,$(TEST_TOOLS))
	$(BIN)/python -m pytest -m e2e tests

bench: $(STAMP) ## Measure speed and memory side by side with the references
	$(call ensure_tools,$(BENCH_TOOLS))
	$(BIN)/python -m bench

golden: $(STAMP) ## Regenerate the golden files under tests/ after an intended change
	$(BIN)/python -m pytest tests -k golden --update-golden

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
