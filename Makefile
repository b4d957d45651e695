# Podium — `make demo` and `make test` are all a newcomer needs; both set up first.
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup demo test lint typecheck imports pytest bench gallery clean

setup:
	@bash scripts/setup.sh

demo: setup
	@$(PY) scripts/demo.py

lint: setup
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts

typecheck: setup
	$(VENV)/bin/mypy

imports: setup
	$(VENV)/bin/lint-imports

pytest: setup
	$(VENV)/bin/pytest -q

test: setup
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest -q

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

gallery: setup
	$(PY) scripts/gallery.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache podium-out
