# The two commands of the README's quick start. Both install what is missing first.
.PHONY: demo test setup services

setup:
	@bash scripts/bootstrap.sh

services:
	@bash scripts/services.sh

demo: setup
	@pnpm --silent demo

test: setup
	@pnpm --silent test
