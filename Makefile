# The two commands of the README's quick start. Both install what is missing first.
.PHONY: demo demo-outbound test setup services

setup:
	@bash scripts/bootstrap.sh

services:
	@bash scripts/services.sh

demo: setup
	@pnpm --silent demo

# One outbound call on the embedded defaults: placed through the simulated carrier, its recording
# fetched, transcribed and summarized, and the lead made from it.
demo-outbound: setup
	@pnpm --silent demo --outbound

# No pnpm between make and the steps: under --silent it hides a child's exit, and it turns a signal it
# cannot re-raise into a bare 1.
test: setup
	@bash scripts/test.sh
