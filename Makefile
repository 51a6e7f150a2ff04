# drift-healer — every command bootstraps its own virtual environment from the lock file.
# The folder of this Makefile: `sam build` runs it from elsewhere (Metadata: ContextPath).
ROOT   := $(dir $(realpath $(lastword $(MAKEFILE_LIST))))
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

SCAN   := .venv-scan
SAMENV := .venv-sam
# The SAM CLI of `make build`/`deploy`: the pinned one `make test` installs, once it has, else
# yours (>= 1.153.1); SAM=/path/to/sam names another.
SAM    ?= $(or $(wildcard $(SAMENV)/bin/sam),sam)
# Operations (override on the command line): make invoke STACK=app MODE=propose
ENV      ?= default
STACK    ?=
# propose, as a first deployment does (HealMode=propose): MODE=heal asks for an execution.
MODE     ?= propose
# The function is named after its stack (samconfig.toml: drift-healer, prod: drift-healer-prod).
FUNCTION ?= $(if $(filter prod,$(ENV)),drift-healer-prod,drift-healer)
EXECUTION ?=

.DEFAULT_GOAL := help
.PHONY: help demo test lint fmt bench lock clean package artifact lambda-code build deploy \
	deploy-prod invoke reconcile logs executions history build-HealerFunction build-ReconcilerFunction \
	build-ReviewFunction

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements/dev.lock
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP) ## heal a drifted stack in the embedded sandbox, end to end
	$(BIN)/drift-healer demo

# Two test workers per core: about a third of the suite's time is spent waiting in real time
# (the CLI's sandbox heals, local HTTP servers), which a second worker per core overlaps (on
# 2 cores: 3 minutes instead of 5). TEST_WORKERS=auto: one per core.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(2 * len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2 * (os.cpu_count() or 1))')

test: $(STAMP) $(SCAN)/.installed $(SAMENV)/.installed ## run the test suite, two workers per core (no AWS)
	CHECKOV=$(CURDIR)/$(SCAN)/bin/checkov SAM=$(CURDIR)/$(SAMENV)/bin/sam \
		$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

# checkov pins an old boto3, so the security scanner lives in its own environment.
$(SCAN)/.installed: requirements/scan.lock
	$(PYTHON) -m venv $(SCAN)
	$(SCAN)/bin/python -m pip install --quiet --upgrade pip
	$(SCAN)/bin/python -m pip install --quiet -r requirements/scan.lock
	touch $@

# The SAM CLI, pinned, apart too: tests/deploy runs `sam validate --lint` and `sam build` with it.
$(SAMENV)/.installed: requirements/sam.lock
	$(PYTHON) -m venv $(SAMENV)
	$(SAMENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAMENV)/bin/python -m pip install --quiet -r requirements/sam.lock
	touch $@

lint: $(STAMP) ## ruff, mypy (strict on src/ and bench/) and the import contracts (the layers)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

fmt: $(STAMP) ## format the code
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# Not part of `make test` (a smoke run of it is). BENCH_ARGS passes options, e.g.
# make bench BENCH_ARGS="--fleet-every 1" simulates every stack of the fleet (slower).
bench: $(STAMP) ## benchmark heals vs a fixed poller, a fleet night, the cold start (a few minutes, no AWS)
	$(BIN)/python -m bench $(BENCH_ARGS)

CHECKOV_VERSION := 3.3.30
SAM_VERSION     := 1.170.0

lock: ## re-resolve every pin into requirements/*.lock and lambda.txt (needs the registry)
	$(call freeze,'.[dev]',requirements/dev.lock)
	$(call freeze,.,requirements/lambda.txt)
	$(call freeze,checkov==$(CHECKOV_VERSION),requirements/scan.lock)
	$(call freeze,aws-sam-cli==$(SAM_VERSION),requirements/sam.lock)

# $(call freeze,WHAT,FILE): install WHAT in a throwaway venv and write its exact versions to FILE.
define freeze
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet --upgrade pip
	.lockenv/bin/python -m pip install --quiet $(1)
	.lockenv/bin/python -m pip freeze --exclude-editable | grep -v -e '^-e' -e '^drift-healer' > $(2)
	rm -rf .lockenv
endef

clean: ## remove the virtual environments and build output
	rm -rf $(VENV) $(SCAN) $(SAMENV) .lockenv build dist .aws-sam .pytest_cache .mypy_cache .ruff_cache \
		.import_linter_cache

# ---------------------------------------------------------------------------- the Lambda artifact
# What the function needs and nothing else: the pinned runtime requirements, as wheels for
# python3.13 on the target architecture, and the drift_healer package; and their bytecode,
# compiled by the runtime's Python when this machine has it (see `bytecode`).
LAMBDA_PY := 3.13
# The Python that compiles the bytecode: the runtime's version, nothing else will do
# (make package LAMBDA_PYTHON=/path/to/python3.13, or in the environment of sam build).
LAMBDA_PYTHON ?= python$(LAMBDA_PY)
PLATFORM_arm64  := manylinux2014_aarch64
PLATFORM_x86_64 := manylinux2014_x86_64

package: $(STAMP) ## build dist/drift-healer-{x86_64,arm64}.zip for python3.13 (bytecode: LAMBDA_PYTHON)
	$(MAKE) --no-print-directory artifact ARCH=x86_64 OUT=build/x86_64
	$(MAKE) --no-print-directory artifact ARCH=arm64 OUT=build/arm64

artifact:
	rm -rf $(OUT) && mkdir -p $(OUT) dist
	$(call wheels,$(OUT),$(PLATFORM_$(ARCH)))
	$(call copy-code,$(OUT))
	$(call bytecode,$(OUT))
	$(BIN)/python -c "$$ZIP_ARTIFACT" $(OUT) dist/drift-healer-$(ARCH).zip

lambda-code: ## copy the handler's package alone into OUT (what the artifact ships besides wheels)
	@test -n "$(OUT)" || (echo "usage: make lambda-code OUT=<folder>"; exit 2)
	$(call copy-code,$(OUT))

# $(call wheels,DIR,PLATFORM): requirements/lambda.txt as python3.13 wheels for PLATFORM, unpacked
# into DIR without bytecode; the console scripts (bin/, for the building Python) are dropped.
define wheels
	python3 -m pip install --quiet --no-compile --no-warn-conflicts --target $(1) \
		--platform $(2) --python-version $(LAMBDA_PY) --implementation cp --only-binary=:all: \
		-r $(ROOT)requirements/lambda.txt
	rm -rf $(1)/bin
endef

# $(call copy-code,DIR): the handler's package. The sandbox (drift_sandbox) and the command line
# (drift_healer_cli) are packages of their own; an import-linter contract keeps them out of it.
define copy-code
	python3 -c "import shutil, sys; shutil.copytree(sys.argv[1], sys.argv[2] + '/drift_healer', \
		dirs_exist_ok=True, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))" \
		$(ROOT)src/drift_healer $(1)
endef

# $(call bytecode,DIR): every module in DIR compiled by the runtime's Python. Lambda cannot write
# bytecode (its code folder is read-only), so an artifact without it compiles every module it
# imports at every cold start: most of the handler's import time (bench/coldstart.py). Hash-based
# and checked: Python uses a module's bytecode only while its source hashes the same (the zip's
# timestamps say nothing); each file's recorded path is its path in Lambda (/var/task/...), not
# DIR's, so the same sources give the same bytes wherever they are built (a reproducible zip, one
# upload for the three functions). A module that does not compile fails the build (Lambda could
# not import it either). Without the runtime's Python the artifact ships no bytecode, and says
# so: it works, only slower to start; a LAMBDA_PYTHON given that is not one fails the build.
define bytecode
	@if $(LAMBDA_PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(COMMA),$(LAMBDA_PY))))' \
		2>/dev/null; then \
		$(LAMBDA_PYTHON) -m compileall -q -j 0 --invalidation-mode checked-hash -s $(1) -p /var/task $(1) \
			|| { echo "error: a module above does not compile for Python $(LAMBDA_PY): fix it (Lambda could not import it either)" >&2; exit 1; }; \
		echo "bytecode compiled for Python $(LAMBDA_PY) ($(LAMBDA_PYTHON)): cold starts import it, not the sources"; \
	elif [ "$(origin LAMBDA_PYTHON)" != "file" ]; then \
		$(LAMBDA_PYTHON) -V; \
		echo "error: LAMBDA_PYTHON=$(LAMBDA_PYTHON) is not a Python $(LAMBDA_PY) that runs here: name one" \
			"(with pyenv: LAMBDA_PYTHON=\$$(pyenv prefix $(LAMBDA_PY))/bin/python$(LAMBDA_PY)), or leave it unset" >&2; \
		exit 1; \
	else \
		echo "note: python$(LAMBDA_PY) is not a Python $(LAMBDA_PY) that runs here: the artifact ships no" \
			"bytecode, and each cold start compiles the modules it imports (about three times as slow to" \
			"import). Install Python $(LAMBDA_PY), set LAMBDA_PYTHON=/path/to/python$(LAMBDA_PY) (pyenv:" \
			"\$$(pyenv prefix $(LAMBDA_PY))/bin/python$(LAMBDA_PY)), or sam build --use-container (Docker)."; \
	fi
endef
COMMA := ,

# Zip a folder reproducibly (sorted, fixed timestamps) and print the sizes.
define ZIP_ARTIFACT
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(src) for f in fs)
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for path in files:
        info = zipfile.ZipInfo(os.path.relpath(path, src), (2020, 1, 1, 0, 0, 0))
        info.external_attr, info.compress_type = 0o644 << 16, zipfile.ZIP_DEFLATED
        z.writestr(info, open(path, 'rb').read())
raw = sum(os.path.getsize(p) for p in files)
print(f'{out}: {os.path.getsize(out) // 1024} KiB zipped, {raw // 1024} KiB unzipped')
endef
export ZIP_ARTIFACT

# `sam build` runs these (Metadata: BuildMethod: makefile) with ARTIFACTS_DIR set; CodeUri is src/
# (all SAM copies and hashes) and ContextPath the folder of this Makefile. SAM tells make nothing
# of the Architecture parameter, so one artifact serves both: the wheels of each platform, merged.
# Only the compiled extensions differ between them, and those carry the architecture in their
# file names (_pydantic_core.cpython-313-aarch64-linux-gnu.so beside ...-x86_64-linux-gnu.so), so
# each runtime imports its own. The functions ship the same artifact (different handlers).
build-HealerFunction build-ReconcilerFunction build-ReviewFunction:
	$(call wheels,$(ARTIFACTS_DIR),$(PLATFORM_arm64))
	rm -rf $(ARTIFACTS_DIR).x86_64
	$(call wheels,$(ARTIFACTS_DIR).x86_64,$(PLATFORM_x86_64))
	cp -R -n $(ARTIFACTS_DIR).x86_64/. $(ARTIFACTS_DIR)/
	rm -rf $(ARTIFACTS_DIR).x86_64
	$(call copy-code,$(ARTIFACTS_DIR))
	$(call bytecode,$(ARTIFACTS_DIR))

# ---------------------------------------------------------------------------- operations (real AWS)
build: ## sam build
	$(SAM) build

deploy: build ## sam deploy (ENV=default|prod; first time: sam deploy --guided)
	$(SAM) deploy --config-env $(ENV)

deploy-prod: ## sam deploy to the prod environment of samconfig.toml
	$(MAKE) deploy ENV=prod

# invoke, reconcile, executions, history and logs need the AWS CLI v2 (v1 has no `aws logs tail`)
# and credentials: AWS_PROFILE and AWS_REGION choose the account and the region. Each checks both
# first and, if one is missing, stops with one line that says what to do: $(error) prints one line,
# where a failing recipe line would add make's own. `make -n` checks nothing: it prints commands.
AWS_CLI_INSTALL := https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html
MAKE_N := $(findstring n,$(firstword -$(MAKEFLAGS)))

# $(aws-cli-v2) expands to nothing when `aws` is the AWS CLI v2 with usable credentials.
aws-cli-v2 = $(if $(MAKE_N),,$(if $(shell command -v aws 2>/dev/null),$(call aws-version,$(shell \
	aws --version 2>&1)),$(error make $@ needs the AWS CLI v2, and there is no aws on PATH: install \
	it ($(AWS_CLI_INSTALL)) and run make $@ again)))
aws-version = $(if $(filter aws-cli/2.%,$(1)),$(call aws-caller,$(shell aws sts \
	get-caller-identity --query Arn --output text 2>&1; echo status=$$?)),$(error make $@ needs the \
	AWS CLI v2, and aws is $(or $(filter aws-cli/%,$(1)),not the AWS CLI ($(wordlist 1,8,$(1)))): \
	install v2 ($(AWS_CLI_INSTALL)) and run make $@ again))
aws-caller = $(if $(filter status=0,$(lastword $(1))),,$(error make $@ found no usable AWS \
	credentials (aws sts get-caller-identity: $(filter-out status=%,$(1))): sign in (aws sso login, \
	aws configure) or choose a profile (AWS_PROFILE=<profile> make $@) and run it again))

PAYLOAD_heal    = {"StackName": "$(STACK)"}
PAYLOAD_propose = {"StackName": "$(STACK)", "CreateChangeSetOnly": true}
PAYLOAD_dry-run = {"StackName": "$(STACK)", "DryRun": true}
DRY_RUN ?=
NAME    ?= HealerFunction
SINCE   ?= 10m

# $(call lambda-invoke,PAYLOAD,FUNCTION,OPTIONS): the payload goes in a file, as fileb://, which
# the AWS CLI reads as raw bytes (v2 reads an inline --payload as base64). The response (the
# result of a synchronous invocation, then the status) goes to the terminal.
define lambda-invoke
	payload=$$(mktemp) && printf '%s' '$(1)' > $$payload && echo 'invoking $(2) with $(1)' >&2 && \
		aws lambda invoke --function-name $(2) $(3) --payload fileb://$$payload /dev/stdout; \
		status=$$?; rm -f $$payload; exit $$status
endef

invoke: ## start one heal now, in the background (AWS CLI v2): make invoke STACK=app [MODE=propose|heal|dry-run]
	@$(if $(STACK),,$(error usage: make invoke STACK=<stack name or ARN> [MODE=propose|heal|dry-run]))
	@$(if $(PAYLOAD_$(MODE)),,$(error make invoke: MODE=$(MODE) is not a mode: use propose, heal or dry-run))
	@$(aws-cli-v2)
	@$(call lambda-invoke,$(PAYLOAD_$(MODE)),$(FUNCTION):live,--invocation-type Event)
	@echo 'started: make executions lists it, make history EXECUTION=<its arn> shows every step' >&2

reconcile: ## sync the schedules with the tagged stacks now (AWS CLI v2; DRY_RUN=1: print the plan, write nothing)
	@$(aws-cli-v2)
	@$(call lambda-invoke,$(if $(DRY_RUN),{"DryRun": true},{}),$(FUNCTION)-reconciler,--cli-read-timeout 0)

# The log group of a function is its LoggingConfig's (the template's HealerLogs, ReconcilerLogs).
LOGS_FUNCTION = $(FUNCTION)$(if $(filter ReconcilerFunction,$(NAME)),-reconciler)$(if $(filter ReviewFunction,$(NAME)),-review)
LOGS_USAGE    = usage: make logs [NAME=HealerFunction|ReconcilerFunction|ReviewFunction] [SINCE=10m|2h|1d]

logs: ## follow the healer's logs (AWS CLI v2; NAME=ReconcilerFunction or ReviewFunction: theirs; SINCE=10m)
	@$(if $(filter HealerFunction ReconcilerFunction ReviewFunction,$(NAME)),,$(error $(LOGS_USAGE)))
	@$(aws-cli-v2)
	group=$$(aws lambda get-function-configuration --function-name $(LOGS_FUNCTION) \
		--query LoggingConfig.LogGroup --output text) && \
		aws logs tail "$$group" --follow --since $(SINCE) --format short

executions: ## list the healer's durable executions (AWS CLI v2)
	@$(aws-cli-v2)
	aws lambda list-durable-executions-by-function --function-name $(FUNCTION) \
		--query 'DurableExecutions[].[DurableExecutionArn,Status,StartTimestamp]' --output table

history: ## one execution, its result and every step (AWS CLI v2): make history EXECUTION=<arn>
	@$(if $(EXECUTION),,$(error usage: make history EXECUTION=<durable execution ARN, from make executions>))
	@$(aws-cli-v2)
	aws lambda get-durable-execution --durable-execution-arn '$(EXECUTION)'
	aws lambda get-durable-execution-history --durable-execution-arn '$(EXECUTION)' \
		--include-execution-data
