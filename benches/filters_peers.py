#!/usr/bin/env python3
"""Step 2 of `make bench-filters`: time HuggingFace datatrove's closest equivalent of the Rust filter chain.

Usage: filters_peers.py INPUT.jsonl OUTPUT.json

`make bench-filters` first writes INPUT.jsonl (one {"text", "id", optional "metadata"} object per line) and runs the
Rust chain on it, then calls this script with the same INPUT.jsonl in the datatrove venv.

What it measures: datatrove 0.10.x's stand-in for DCLM-Baseline's RefinedWeb heuristics, i.e. GopherRepetitionFilter
-> GopherQualityFilter -> C4QualityFilter -> FineWebQualityFilter, all with default parameters, run in one process by
calling each filter's per-document `.filter(doc)` directly (no executor, no I/O, no multiprocessing). A document
dropped by one filter is not passed to the next, as in a datatrove pipeline; C4QualityFilter rewrites doc.text (it
drops lines), so later filters see its output, as they would in datatrove. Timing is `time.process_time()` (CPU
seconds of this process) around the filter calls only; one-time setup (spaCy tokenizer loading, triggered lazily on
first use) is done before timing by filtering a warm-up document, and reported separately under "setup_seconds".

Writes OUTPUT.json: {"peer", "version", "docs", "kept", "cpu_seconds", "docs_per_second",
"per_filter": {name: {"cpu_seconds", "docs_in", "dropped"}}, "setup_seconds": {name: s}, "skipped": {name: why}}
and prints a one-line summary to stderr.
"""
import json
import sys
import time
from importlib.metadata import version

from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)

# Chain order follows DCLM's RefinedWeb heuristics: repetition, quality, C4 line rules, FineWeb line rules.
FILTERS = [GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter, FineWebQualityFilter]

# A short English document that passes through every code path that loads lazily (word and sentence tokenizers).
WARMUP_TEXT = "This is a warm-up document. It has a few sentences.\nIt exists only to load the tokenizers once.\n"


def decision(result) -> bool:
    """datatrove's filter() returns True/False or (False, reason): normalise to keep/drop."""
    return bool(result[0] if isinstance(result, tuple) else result)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    in_path, out_path = sys.argv[1], sys.argv[2]

    docs = []
    with open(in_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                obj = json.loads(line)
                docs.append(Document(text=obj["text"], id=str(obj["id"]), metadata=dict(obj.get("metadata") or {})))

    # Instantiate each filter and run it once on a warm-up doc, so lazy setup is timed apart from the benchmark.
    # A filter whose setup fails (e.g. it would need a download with no network) is skipped with a message.
    chain, setup_seconds, skipped = [], {}, {}
    for cls in FILTERS:
        name = cls.__name__
        start = time.process_time()
        try:
            flt = cls()
            flt.filter(Document(text=WARMUP_TEXT, id="warmup"))
        except Exception as e:  # noqa: BLE001 - report and go on without this filter
            skipped[name] = f"{type(e).__name__}: {e}"
            print(f"filters_peers: skipping {name}, setup failed: {skipped[name]}", file=sys.stderr)
            continue
        setup_seconds[name] = time.process_time() - start
        chain.append((name, flt))

    # Run the chain filter by filter over the surviving docs; per-filter CPU time covers only .filter() calls.
    per_filter, alive = {}, docs
    for name, flt in chain:
        start = time.process_time()
        survivors = [doc for doc in alive if decision(flt.filter(doc))]
        per_filter[name] = {
            "cpu_seconds": time.process_time() - start,
            "docs_in": len(alive),
            "dropped": len(alive) - len(survivors),
        }
        alive = survivors

    total = sum(p["cpu_seconds"] for p in per_filter.values())
    report = {
        "peer": "datatrove",
        "version": version("datatrove"),  # datatrove has no __version__ attribute in 0.10.x
        "docs": len(docs),
        "kept": len(alive),
        "cpu_seconds": total,
        "docs_per_second": len(docs) / total if total > 0 else None,
        "per_filter": per_filter,
        "setup_seconds": setup_seconds,
        "skipped": skipped,
    }
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    rate = f"{report['docs_per_second']:.1f}" if report["docs_per_second"] else "n/a"
    print(
        f"datatrove {report['version']}: {len(docs)} docs, kept {len(alive)}, {total:.3f} CPU s ({rate} docs/s), "
        f"setup {sum(setup_seconds.values()):.3f} s" + (f", skipped {sorted(skipped)}" if skipped else ""),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
