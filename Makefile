# Shortcuts; the scripts do the work and need nothing but Python and bash.
.PHONY: serve test lint fix types bench

serve:
	scripts/serve

test:
	scripts/test

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports

fix:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .

types:
	.venv/bin/mypy

bench:
	.venv/bin/python bench/run.py
