# The two quick-start commands: `make run` starts the toy, `make test` runs every test.
.PHONY: setup run test lint bench

setup:
	scripts/setup.sh

run: setup
	.venv/bin/rftoy serve

test:
	scripts/setup.sh --browser
	.venv/bin/python -m pytest

lint: setup
	.venv/bin/ruff check .

bench: setup
	.venv/bin/python bench/train.py
