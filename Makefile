# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test demo bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,demo]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -n auto tests

demo: $(STAMP)
	$(PY) examples/run_all.py

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]' 'torch==2.13.0' || echo "some benchmark peers could not be installed; they will be reported as missing"
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build src/*.egg-info
