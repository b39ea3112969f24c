# The two commands of the README: `make demo` runs the main job on the bundled examples,
# `make test` runs the whole test suite. Both create .venv/ in this folder and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SOURCES := examples/sources/dblp.csv examples/sources/acm.csv examples/sources/aggregator.jsonl

.PHONY: demo test install lint bench-accuracy bench-speed bench-normalise default-model clean browser java

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate pyproject.toml constraints.txt
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,spark]"
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/linkage run $(SOURCES) --out reports/example --labels examples/labels/dblp_acm_mapping.csv

# Tests include a headless-browser check of the HTML report: install Debian's chromium when missing (CI runs as root).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian package) for the report tests"; \
	  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The Spark tests (tests/test_spark.py) need a Java runtime: install Debian's when missing (CI runs as root).
java:
	@command -v java >/dev/null 2>&1 || { \
	  echo "installing a Java runtime (Debian package) for the Spark tests"; \
	  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless >/dev/null; }

test: $(VENV)/.installed browser java
	$(BIN)/pytest -q

lint: $(VENV)/.installed
	$(BIN)/ruff check linkage tests benchmarks

# Benchmarks (not tests): real labelled data side by side with bib-dedupe and plain Splink, and speed.
bench-accuracy: $(VENV)/.installed
	$(BIN)/python -m benchmarks.accuracy

bench-speed: $(VENV)/.installed
	$(BIN)/python -m benchmarks.speed --sizes $(or $(SIZES),10000,100000) --memory-limit-mb $(or $(MEMORY_LIMIT_MB),12000)

# Normalisation alone on 1,000,000 generated records (records/s, peak memory): the "normalise-speed" section.
bench-normalise: $(VENV)/.installed
	$(BIN)/python -m benchmarks.normalise_speed --n $(or $(N),1000000) --write

# The shipped default model: used when a run has too few records to train on (training.min_records).
default-model: $(VENV)/.installed
	$(BIN)/linkage train dblp=benchmarks/data/dblp-acm/DBLP2.csv acm=benchmarks/data/dblp-acm/ACM.csv \
	  stroke=benchmarks/data/colrev-stroke/records_pre_merged.csv misq=benchmarks/data/misq/baseline/records_pre_merged.csv \
	  --out linkage/data/default_model.json

clean:
	rm -rf $(VENV) reports/example
