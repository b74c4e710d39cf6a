# sluice — the two commands a new user needs: `make demo` and `make test`.
# Everything builds from crates.io with the Rust toolchain and a C compiler (for zstd); no system packages.

CARGO ?= cargo
# CI runs in a fresh clone each time: keep the build cache outside it so repeat runs are incremental.
ifeq ($(CI),true)
export CARGO_TARGET_DIR ?= $(HOME)/.cache/sluice-target
endif
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
SLUICE := $(TARGET_DIR)/debug/sluice
DEMO_OUT := demo/out

PYTHON ?= python3
BENCH_DIR := $(TARGET_DIR)/bench-extract
BENCH_VENV := .venv-bench

.PHONY: all build demo demo-clean test bench bench-extract bench-ingest bench-filters bench-dedup bench-tokenize bench-eval check-toolchain clean

all: build

check-toolchain:
	@command -v $(CARGO) >/dev/null 2>&1 || { echo "cargo not found: install Rust from https://rustup.rs (rustc >= 1.94)"; exit 1; }
	@command -v cc >/dev/null 2>&1 || { echo "no C compiler (cc) found: install gcc or clang (needed to build zstd)"; exit 1; }

build: check-toolchain
	$(CARGO) build --bin sluice

## demo: the whole pipeline on the bundled real WARCs: train a small quality classifier, then ingest →
## DCLM-Baseline's filters → quality scores → BFF dedup → shuffled OpenLM token shards (re-running resumes:
## `make demo-clean` to redo)
demo: build
	$(SLUICE) ingest demo/warc --extractor page --output $(DEMO_OUT)/page-text --quiet
	$(SLUICE) quality train --positive demo/quality/articles.jsonl --negative $(DEMO_OUT)/page-text --out $(DEMO_OUT)/quality.bin --dim 32 --bucket 100000 --epoch 25 --lr 0.5
	$(SLUICE) run recipes/demo.yaml
	@echo
	@echo "Score at or above which the top 10 % of kept documents lie (for a quality_filter step):"
	$(SLUICE) quality threshold $(DEMO_OUT)/2-filter --key demo_quality_prob --keep-fraction 0.1
	@echo
	@echo "First kept documents:"
	$(SLUICE) inspect $(DEMO_OUT)/3-dedup -n 2 --chars 300
	@echo
	@echo "Kept documents by quality score (SQL over the output):"
	$(SLUICE) sql "SELECT round(attr_demo_quality_prob, 1) AS quality, count(*) AS docs, sum(attr_previous_word_count) AS words FROM docs GROUP BY 1 ORDER BY 1" --docs $(DEMO_OUT)/3-dedup
	@echo "Outputs: $(DEMO_OUT)/1-ingest (all documents), $(DEMO_OUT)/2-filter (kept), $(DEMO_OUT)/3-dedup (deduplicated), each with _manifests/ and _stats.json; $(DEMO_OUT)/4-tokenize (OpenLM token shards, manifest.jsonl, dataset.json)"
	@echo "Look inside: $(SLUICE) inspect $(DEMO_OUT)/3-dedup --json -n 1"
	@echo "What a rerun would do: $(SLUICE) plan recipes/demo.yaml"

demo-clean:
	rm -rf $(DEMO_OUT)

## test: every test (unit, end-to-end on bundled data, on ../shared/data when it exists, and against a
## local S3 API server that tests/with-s3.sh installs from PyPI and starts on 127.0.0.1)
test: check-toolchain
	tests/with-s3.sh $(CARGO) test --workspace

## bench: every benchmark (release build; peers installed from PyPI into .venv-bench)
bench: bench-extract bench-ingest bench-filters bench-dedup bench-tokenize bench-eval

## bench-extract: sluice's extractors vs resiliparse and trafilatura on the same real pages, one run; with
## TRAFILATURA_EVALDATA (trafilatura's tests/evaldata.json), also trafilatura's own snippet evaluation
TRAFILATURA_EVALDATA ?= ../shared/data/html_trafilatura_eval/tests/evaldata.json
bench-extract: check-toolchain
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q resiliparse==2.0.1 trafilatura==2.3.1 lxml_html_clean
	rm -rf $(BENCH_DIR)
	$(CARGO) bench --bench extract -- prepare $(BENCH_DIR)
	$(BENCH_VENV)/bin/python benches/extract_peers.py $(BENCH_DIR)
	$(CARGO) bench --bench extract -- report $(BENCH_DIR)
	$(BENCH_VENV)/bin/python benches/wcxb_score.py $(BENCH_DIR)
	@if [ -f "$(TRAFILATURA_EVALDATA)" ]; then $(BENCH_VENV)/bin/python benches/trafilatura_eval_score.py \
		$(BENCH_DIR) "$(TRAFILATURA_EVALDATA)"; else echo "no $(TRAFILATURA_EVALDATA): trafilatura's own evaluation skipped"; fi

## bench-ingest: `sluice ingest` end to end (WARC -> JSONL.gz, both extractors) vs DCLM's extraction pipeline
## (fastwarc + resiliparse, benches/ingest_bench.py) on the same real WARC, one core each; INGEST_COPIES copies
INGEST_COPIES ?= 3
bench-ingest: check-toolchain
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q resiliparse==2.0.1 fastwarc==2.0.1
	$(CARGO) build --release --bin sluice
	$(BENCH_VENV)/bin/python benches/ingest_bench.py --sluice $(TARGET_DIR)/release/sluice \
		--work $(TARGET_DIR)/bench-ingest --copies $(INGEST_COPIES)

## bench-filters: DCLM-Baseline's chain in sluice vs datatrove's filters on DCLM's golden pages, one run
bench-filters: check-toolchain
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q "datatrove[processing,io]" spacy lxml_html_clean
	$(CARGO) bench --bench filters -- prepare $(TARGET_DIR)/bench-filters
	$(BENCH_VENV)/bin/python benches/filters_peers.py $(TARGET_DIR)/bench-filters/docs.jsonl $(TARGET_DIR)/bench-filters/peers.json
	$(CARGO) bench --bench filters -- report $(TARGET_DIR)/bench-filters

## bench-tokenize: sluice's tokenize stage end to end vs raw HF tokenizers (the ceiling) and datatrove's
## DocumentTokenizer on the same documents, one core each; the shuffle's peak RSS against its memory bound
bench-tokenize: check-toolchain
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q "datatrove[processing,io]"
	$(CARGO) bench -p sluice-tokenize --bench tokenize -- prepare $(abspath $(TARGET_DIR))/bench-tokenize
	$(BENCH_VENV)/bin/python benches/tokenize_peers.py $(TARGET_DIR)/bench-tokenize/docs.jsonl \
		tokenize/data/gpt-neox-20b/tokenizer.json $(TARGET_DIR)/bench-tokenize/peers.json
	$(CARGO) bench -p sluice-tokenize --bench tokenize -- report $(abspath $(TARGET_DIR))/bench-tokenize

## bench-dedup: sluice's BFF vs DCLM's bff binary (1 and 2 threads) and sluice's MinHash vs datatrove's, on DCLM's
## golden BFF inputs copied BFF_COPIES / MINHASH_COPIES times (datatrove's spaCy tokenizer makes large copies slow;
## needs ../shared: skipped with a message without it)
BFF_COPIES ?= 20
MINHASH_COPIES ?= 2
bench-dedup: check-toolchain
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q "datatrove[processing,io]" spacy
	$(CARGO) build --release --bin sluice
	$(BENCH_VENV)/bin/python benches/dedup_bench.py --sluice $(TARGET_DIR)/release/sluice \
		--work $(TARGET_DIR)/bench-dedup --copies $(BFF_COPIES) --only bff
	$(BENCH_VENV)/bin/python benches/dedup_bench.py --sluice $(TARGET_DIR)/release/sluice \
		--work $(TARGET_DIR)/bench-dedup-minhash --copies $(MINHASH_COPIES) --only minhash

## bench-eval: sluice scoring DCLM's Core tasks (first EVAL_LIMIT examples per evaluator) with seeded `tiny` and
## `micro` models vs the same weights' forward pass in PyTorch, one thread each, one run (needs ../shared; PyTorch
## from PyPI is a large download)
EVAL_LIMIT ?= 8
bench-eval: check-toolchain
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q torch safetensors numpy
	$(CARGO) bench -p sluice-eval-harness --bench eval -- prepare $(abspath $(TARGET_DIR))/bench-eval $(EVAL_LIMIT)
	$(BENCH_VENV)/bin/python benches/eval_peers.py --check-golden ../shared/golden/openlm $(TARGET_DIR)/bench-eval
	RAYON_NUM_THREADS=1 $(CARGO) bench -p sluice-eval-harness --bench eval -- report $(abspath $(TARGET_DIR))/bench-eval

clean:
	$(CARGO) clean
	rm -rf $(DEMO_OUT)
