# The two commands: `make demo` and `make test`. Both create or reuse .venv and install
# the project into it from pyproject.toml; nothing else needs to be on the machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean browser deploy-tools

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/minping demo

# Web pages are tested in Debian's chromium (Playwright drives it; nothing is downloaded).
browser:
	@command -v chromium >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# The deploy files are checked with the real tools: nginx -t and a real nginx in front of
# two workers (Debian's nginx), systemd-analyze verify (Debian's systemd), openssl.
deploy-tools:
	@command -v nginx >/dev/null && command -v systemd-analyze >/dev/null && command -v openssl >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx systemd openssl; }

test: $(STAMP) browser deploy-tools
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) var/demo .pytest_cache .hypothesis test-artifacts
