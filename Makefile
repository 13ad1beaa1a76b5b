# Two commands matter: `make run` and `make test`. Both install what they need first (pinned, into .venv).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP_VERSION := 26.3

# checkov lives in its own virtualenv (it pins many libraries the app uses too), from requirements-checkov.txt.
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# Accepted checkov findings: each one is explained in README.md ("Security", "Accepted checkov findings"), and
# tests/unit/test_security_docs.py keeps that table and this list equal.
#   CKV_AWS_27   SQS queues are encrypted with SSE-SQS; the check only recognises a KMS key
#   CKV_AWS_115  only booking_api and webhooks reserve concurrency; the others are capped by their event sources
#   CKV_AWS_116  no function is invoked asynchronously, so a function DLQ would never receive anything
#   CKV_AWS_117  no VPC: the functions reach AWS APIs and internet receivers only
#   CKV_AWS_119  DynamoDB encrypted with the AWS managed key; secrets inside are sealed with our own KMS key
#   CKV_AWS_149  Secrets Manager encrypted with the AWS managed key
#   CKV_AWS_158  log groups encrypted by CloudWatch Logs' own keys; logs hold no secrets
#   CKV_AWS_173  environment variables encrypted with Lambda's AWS managed key; they hold no secrets
CHECKOV_SKIP := CKV_AWS_27,CKV_AWS_115,CKV_AWS_116,CKV_AWS_117,CKV_AWS_119,CKV_AWS_149,CKV_AWS_158,CKV_AWS_173

.PHONY: install test unit lint checkov run bench openapi docs clean migrate

install: $(STAMP)

$(STAMP): requirements-dev.txt constraints.txt layers/booking_core/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# A current pip first: the machine's pip 23.2 can stall for minutes resolving this stack.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==$(PIP_VERSION)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

lint: install
	$(BIN)/cfn-lint template.yaml

$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==$(PIP_VERSION)"
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

# The SAM template is scanned as CloudFormation (checkov reads AWS::Serverless::* there; its "serverless"
# framework is the Serverless Framework's serverless.yml). --skip-download: no calls to the vendor's platform.
checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --skip-download --compact --quiet \
		--skip-check $(CHECKOV_SKIP)

test: install lint checkov
	$(BIN)/python -m pytest

unit: install
	$(BIN)/python -m pytest tests/unit

run: install
	$(BIN)/python -m local

bench: install
	$(BIN)/python -m tests.bench

# One-off data migrations of a deployed table (README, "Upgrading a deployed table"), with your AWS credentials:
#   make migrate STEP=configuration TABLE=<the stack's TableName output> AWS_REGION=<region> [ARGS="--start '{...}'"]
# A migration touches the main table only; the other names the settings require are never used.
migrate: install
	@test -n "$(STEP)" -a -n "$(TABLE)" || { echo "usage: make migrate STEP=<configuration|configuration-cleanup|listing> TABLE=<name>"; exit 2; }
	TABLE_NAME=$(TABLE) OUTBOX_TABLE_NAME=unused IDEMPOTENCY_TABLE_NAME=unused EVENT_BUS_NAME=unused PYTHONPATH=layers/booking_core \
		$(BIN)/python -m booking_core.repositories.migrations $(STEP) $(ARGS)

openapi: install
	$(BIN)/python -m tests.openapi_dump > functions/booking_api/openapi.json

docs: install
	$(BIN)/python -m tests.docs_sync

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .hypothesis
