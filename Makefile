# The two commands: `make run` (the local stack with a demo) and `make test` (every tier).
# Both install what is missing first: a venv with the pinned packages, Debian's Chromium and
# (for the browser tests) axe-core from npm.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST := $(PY) -m pytest -p no:cacheprovider
AXE    := node_modules/axe-core/axe.min.js

.PHONY: run test install chromium unit integration functional schema e2e browser clean package deploy

run: install
	$(PY) infra/local/stack.py

test: install chromium $(AXE)
	$(PYTEST) tests

unit integration functional schema e2e: install
	$(PYTEST) tests/$@

browser: install chromium $(AXE)
	$(PYTEST) tests/$@

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

$(AXE): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm >/dev/null; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# AWS: `make package STAGE=prod` writes chalice's package (sam.json + deployment.zip, the tables,
# stream settings, queue and alarms of infra/aws merged in) to build/prod/ and lints it;
# `make deploy STAGE=prod DEPLOY_BUCKET=<s3 bucket>` uploads the code and the template (it is over
# CloudFormation's 51,200-byte inline limit) and deploys the stack tapcard-prod. No stage is
# assumed: a deployed stage is public. See README, "Deploying to AWS". The package is built for the
# runtime and architecture in .chalice/config.json (python3.13, arm64) with bytecode
# (infra/aws/bundle.py); ARCH=host builds the same package for this machine's CPU, which
# bench/cold_start.py and tests/deploy run.
BUILD  ?= build/$(STAGE)
REGION ?= $(or $(AWS_REGION),$(AWS_DEFAULT_REGION),us-east-1)
ARTIFACTS := tapcard-$(STAGE)

ifneq ($(filter package deploy,$(MAKECMDGOALS)),)
ifeq ($(strip $(STAGE)),)
$(error Set STAGE, e.g. make $(firstword $(filter package deploy,$(MAKECMDGOALS))) STAGE=prod (no stage is assumed))
endif
endif
ifneq ($(filter deploy,$(MAKECMDGOALS)),)
ifeq ($(strip $(DEPLOY_BUCKET)),)
$(error Set DEPLOY_BUCKET to an S3 bucket for the code and the template, e.g. make deploy STAGE=$(STAGE) DEPLOY_BUCKET=my-artifacts)
endif
endif

package: install
	@mkdir -p $(BUILD)
	$(PY) -m infra.aws.template $(STAGE) > $(BUILD).merge.json
	AWS_DEFAULT_REGION=$(REGION) $(PY) -m infra.aws.bundle package $(STAGE) $(BUILD) --merge-template $(BUILD).merge.json $(if $(ARCH),--arch $(ARCH))
	$(PY) -m infra.aws.bundle finish $(BUILD)/deployment.zip --stage $(STAGE)
	$(VENV)/bin/cfn-lint $(BUILD)/sam.json
	@echo "packaged $(STAGE): $(BUILD)/sam.json, $(BUILD)/deployment.zip ($$(du -h $(BUILD)/deployment.zip | cut -f1))"

deploy: package
	aws cloudformation package --region $(REGION) --template-file $(BUILD)/sam.json \
	  --s3-bucket $(DEPLOY_BUCKET) --s3-prefix $(ARTIFACTS) --output-template-file $(BUILD)/packaged.json --use-json
	aws cloudformation deploy --region $(REGION) --template-file $(BUILD)/packaged.json \
	  --s3-bucket $(DEPLOY_BUCKET) --s3-prefix $(ARTIFACTS) \
	  --stack-name tapcard-$(STAGE) --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset
	aws cloudformation describe-stacks --region $(REGION) --stack-name tapcard-$(STAGE) --query "Stacks[0].Outputs" --output table

clean:
	rm -rf $(VENV) node_modules .pytest_cache test-artifacts build .tapcard-dev.json
