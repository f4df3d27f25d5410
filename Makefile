# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test demo bench bench-quick bench-npbench clean

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

# The peers (JAX, PyTorch's CPU build, autograd) install one by one; one that cannot is reported
# as missing. ARGS passes options to the runner: make bench ARGS="--quick -w lorenz".
# compileall: a normal installation has morphism's .pyc files; without them (PYTHONDONTWRITEBYTECODE)
# every fresh process of the compile workload would compile morphism's source first (~0.25 s).
bench: $(STAMP)
	$(PY) benchmarks/install_peers.py
	$(PY) -m compileall -q src
	$(PY) benchmarks/run.py $(ARGS)
	$(MAKE) bench-npbench

# NPBench's 54 kernels under mo.jit against NumPy and Numba (benchmarks/npbench/, no network
# needed): NPBENCH_ARGS passes options, e.g. make bench-npbench NPBENCH_ARGS="--check-only -k gemm".
bench-npbench: $(STAMP)
	$(PY) benchmarks/npbench/run.py --json benchmarks/results/npbench.json --md benchmarks/results/npbench.md $(NPBENCH_ARGS)

bench-quick: $(STAMP)
	$(PY) benchmarks/install_peers.py
	$(PY) -m compileall -q src
	$(PY) benchmarks/run.py --quick $(ARGS)

clean:
	rm -rf $(VENV) build src/*.egg-info
