# Two commands matter: `make run` and `make test`. Both install what they need first (pinned, into .venv).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP_VERSION := 26.3

.PHONY: install test unit lint run bench openapi clean

install: $(STAMP)

$(STAMP): requirements-dev.txt constraints.txt layers/booking_core/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# A current pip first: the machine's pip 23.2 can stall for minutes resolving this stack.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==$(PIP_VERSION)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

lint: install
	$(BIN)/cfn-lint template.yaml

test: install lint
	$(BIN)/python -m pytest

unit: install
	$(BIN)/python -m pytest tests/unit

run: install
	$(BIN)/python -m local

bench: install
	$(BIN)/python -m tests.bench

openapi: install
	$(BIN)/python -m tests.openapi_dump > functions/booking_api/openapi.json

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
