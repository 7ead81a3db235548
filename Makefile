# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   := engagements/demo

.PHONY: demo test lab workshop venv browser bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

## make demo: install, generate the demo client, run it end to end, print where the deliverables are
demo: venv
	$(BIN)/workbench demo $(DEMO)

## make test: the whole test suite (notebooks, browser and crash tests included)
test: venv browser
	$(BIN)/python -m pytest -q -p no:cacheprovider

## make lab: JupyterLab on the project with the demo engagement ready
lab: venv
	test -f $(DEMO)/engagement.yaml || $(BIN)/workbench demo $(DEMO)
	$(BIN)/jupyter lab --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root,) notebooks/00_workshop.ipynb

## make workshop: the workshop on a projector (Voilà, no code, large type); ENGAGEMENT=engagements/<slug>
## opens that one, without it the room picks from the engagements/ folder
workshop: venv
	test -f $(DEMO)/engagement.yaml || $(BIN)/workbench demo $(DEMO)
	$(BIN)/workbench workshop $(or $(ENGAGEMENT),engagements)

## make browser: headless Chromium for the report and workshop checks (Debian's package)
browser:
	@bash .ci/ensure-chromium || echo "chromium unavailable: browser tests will be skipped"

BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	touch $(BENCH_STAMP)

## make bench: every command as a process against its peer or floor, one table (by hand, never
## in the tests; about 15 minutes). BENCH_ARGS=--quick: one pair per row, no 1 M-row run.
## The inner benchmarks (benchmarks/import.py, segment.py, batch.py) run by hand the same way.
bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/commands.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
