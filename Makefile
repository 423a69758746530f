# The two commands: `make up` (a cluster running) and `make test` (everything checked).
# `make install` is idempotent: apt packages, the venv, base images.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# The venv's interpreter: Debian's own, not whatever python3 comes first on PATH. Measured side by side
# (bench/control_plane.py, 100 hollow nodes, two alternated rounds): 1.2-1.3x the pods/s at 0.76-0.85x
# the server's CPU per pod of a pyenv build (a shared libpython, no PGO or LTO); `run --rm` 9-13 ms less.
BASE_PYTHON ?= /usr/bin/python3
DATA ?= $(CURDIR)/.kubelite

.PHONY: install up down test lint unit bench clean

install: $(VENV)/.installed
	@# the kubelite command as a launcher: `kubelite runtime` starts without site (kubelite/launcher.py)
	@$(PY) -m kubelite.launcher $(VENV)/bin/kubelite
	@# bytecode once (the environment may set PYTHONDONTWRITEBYTECODE): CLI start-up is benchmarked
	@$(PY) -m compileall -q -j 0 api apiserver controller kubelet kubectl runtime kubelite dashboard >/dev/null
	@bash scripts/install-images.sh $(PY)
	@bash scripts/check-kubectl.sh

$(VENV)/.installed: pyproject.toml scripts/install-system.sh Makefile
	bash scripts/install-system.sh
	@# a venv made on another interpreter is made again
	if [ "$$(realpath $(VENV)/bin/python3 2>/dev/null)" != "$$(realpath $(BASE_PYTHON))" ]; then \
		rm -rf $(VENV) && $(BASE_PYTHON) -m venv $(VENV); fi
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $@

up: install
	$(VENV)/bin/kubelite up --nodes 2 --data-dir $(DATA)
	KUBECONFIG=$(DATA)/server/kubeconfig.yaml $(VENV)/bin/kubectl apply -f manifests/web-rc.yaml -f manifests/two-containers.yaml
	@echo
	@echo "A demo is running: 3 web pods behind the 'web' service (ClusterIP, and NodePort 30080 on each node),"
	@echo "and a pod of two containers talking over localhost. Try:"
	@echo "  export KUBECONFIG=$(DATA)/server/kubeconfig.yaml PATH=$(CURDIR)/$(VENV)/bin:\$$PATH"
	@echo "  kubectl get pods -o wide"
	@echo "  kubectl exec two-containers -c client -- sh -c 'wget -qO- http://\$$WEB_SERVICE_HOST/'"
	@echo "  kubectl logs -f two-containers -c client"
	@echo "  kubectl apply -f manifests/crashloop.yaml; kubectl get pod crashloop -w"
	@echo "  make down"

down:
	$(VENV)/bin/kubelite down --data-dir $(DATA)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: install
	bash scripts/ensure-postgres.sh
	$(MAKE) lint
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

bench: install
	@# every bench runs; the target fails if any of them failed (a loop would report only the last)
	@failed=""; for b in bench/[!_]*.py; do echo "== $$b"; $(PY) $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "bench failed:$$failed" >&2; exit 1; fi

clean:
	rm -rf $(VENV) *.egg-info
