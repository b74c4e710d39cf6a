#!/usr/bin/env python3
"""`make bench-dedup`: sluice's BFF and MinHash dedup vs their peers, same input, same machine, one run.

Usage: dedup_bench.py --sluice PATH --work DIR [--copies 20] [--only bff|minhash] [--shared DIR] [--python PATH]

* BFF: `sluice dedup bff` vs DCLM's own `bff` binary (../shared/peers/bff/bff), old-both, 13-grams, threshold
  0.8, fp-rate 0.01, at 1 and 2 threads.
* MinHash: `sluice dedup minhash` (one process per phase) vs datatrove's MinHash stages 1-4 (one process per
  stage, benches/dedup_peers.py), 14 bands x 9 rows, word 5-grams, one thread / one worker.

The corpus is DCLM's golden BFF DEV inputs (../shared/golden/bff/inputs, 2,743 docs) copied --copies times with
new ids (`id#copyNNN`), one copy per gzip file: ~55k docs at 20x, where copies 2..N are exact duplicates.
Every tool is a child process measured with os.wait4: wall time, user+sys CPU, peak RSS (ru_maxrss).
"Per core" figures divide by CPU seconds. Prints markdown tables on stdout.
"""
from __future__ import annotations

import argparse
import datetime
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchlib import Run, count_docs, fmt, fresh, machine_line, measure, table

REPO = Path(__file__).resolve().parent.parent
# DCLM's regex estimate of the word+punctuation tokens of one DEV copy (../shared/golden/bff/README.md): it sizes
# both tools' Bloom filters, scaled by the number of copies.
NGRAMS_PER_COPY = 2_521_278
FP_RATE = 0.01
BFF_THREADS = (1, 2)
BANDS, ROWS = 14, 9
# sluice's MinHash phases without --verify (dedup/src/minhash/mod.rs, PLAIN), in order.
SLUICE_MINHASH_PHASES = ("signatures", "candidates", "components", "apply")
DATATROVE_STAGES = ("signatures", "buckets", "cluster", "filter")


@dataclass
class Corpus:
    dir: Path
    docs: int
    text_bytes: int


# ---------------------------------------------------------------------------------------------- corpus


def build_corpus(golden_inputs: Path, work: Path, copies: int) -> Corpus:
    """The DEV inputs copied `copies` times with new ids; rebuilt only when missing or of another size."""
    corpus_dir = work / f"corpus-{copies}x"
    stamp = corpus_dir / ".complete"
    docs = [json.loads(line) for src in sorted(golden_inputs.glob("*.jsonl.gz")) for line in gzip.open(src, "rt")]
    text_bytes = sum(len(d.get("text", "").encode()) for d in docs) * copies
    if stamp.exists():
        return Corpus(corpus_dir, len(docs) * copies, text_bytes)
    fresh(corpus_dir)
    for copy in range(copies):
        # Level 1: the corpus is read by every run, and decompression speed barely depends on the level.
        with gzip.open(corpus_dir / f"copy{copy:03d}.jsonl.gz", "wt", compresslevel=1, encoding="utf-8") as f:
            for doc in docs:
                f.write(json.dumps({**doc, "id": f"{doc['id']}#copy{copy:03d}"}) + "\n")
    stamp.touch()
    return Corpus(corpus_dir, len(docs) * copies, text_bytes)


# ---------------------------------------------------------------------------------------------- BFF


def sluice_sysreq(sluice: str, ngrams: int) -> tuple[int, int]:
    """Filter bytes and hashers, from `sluice dedup sysreq` (the size the bff stage allocates)."""
    out = subprocess.run(
        [sluice, "dedup", "sysreq", "--expected-ngram-count", str(ngrams), "--fp-rate", str(FP_RATE)],
        check=True, capture_output=True, text=True,
    ).stdout
    m = re.search(r": (\d+) bytes .*?, (\d+) hashers", out)
    if not m:
        sys.exit(f"cannot parse `sluice dedup sysreq` output: {out!r}")
    return int(m.group(1)), int(m.group(2))


def dclm_sysreq(bff: str, ngrams: int) -> tuple[float, int]:
    """Filter MiB and hashers, from DCLM's `bff sysreq` (it prints MiB rounded to 0.1)."""
    out = subprocess.run(
        [bff, "sysreq", "--expected-ngram-count", str(ngrams), "--fp-rate", str(FP_RATE)],
        check=True, capture_output=True, text=True,
    ).stdout
    m = re.search(r"size ([\d.]+) MiB and (\d+) hashers", out)
    if not m:
        sys.exit(f"cannot parse `bff sysreq` output: {out!r}")
    return float(m.group(1)), int(m.group(2))


def bff_commands(tool: str, exe: str, corpus: Path, out: Path, threads: int, ngrams: int) -> list[str]:
    if tool == "DCLM bff":
        # No --bloom-filter-file: the filter starts empty and is not saved, as in a one-shot dedup. DCLM
        # shuffles its file order (unseeded), which changes which copy survives, not how much work is done.
        return [exe, "bff", "--inputs", str(corpus), "--output-directory", str(out),
                "--expected-ngram-count", str(ngrams), "--fp-rate", str(FP_RATE), "--remove-type", "old-both",
                "--threads", str(threads), "--min-ngram-size", "13", "--max-ngram-size", "13",
                "--filtering-threshold", "0.8", "--no-progress-bar", "--no-save-bloom-filter"]
    # jsonl.gz output, as DCLM writes; --no-resume so a leftover output is never reused.
    return [exe, "--quiet", "dedup", "bff", "--input", str(corpus), "--output", str(out), "--format", "jsonl.gz",
            "--threads", str(threads), "--ngram", "13", "--threshold", "0.8", "--remove-type", "old-both",
            "--expected-ngram-count", str(ngrams), "--fp-rate", str(FP_RATE), "--no-resume"]


def bench_bff(sluice: str, bff: str, corpus: Corpus, work: Path, copies: int) -> None:
    ngrams = NGRAMS_PER_COPY * copies
    s_bytes, s_k = sluice_sysreq(sluice, ngrams)
    d_mib, d_k = dclm_sysreq(bff, ngrams)
    tools = {"DCLM bff": bff, "sluice": sluice}
    runs: dict[tuple[str, int], Run] = {}
    kept: dict[str, int] = {}
    for threads in BFF_THREADS:
        for tool, exe in tools.items():
            out = fresh(work / "bff-out")
            print(f"  bff: {tool}, {threads} thread(s)…", file=sys.stderr, flush=True)
            runs[tool, threads] = measure(bff_commands(tool, exe, corpus.dir, out, threads, ngrams),
                                          work / f"bff-{tool.split()[0].lower()}-{threads}.log")
            if threads == 1:
                kept[tool] = count_docs(out)
    shutil.rmtree(work / "bff-out", ignore_errors=True)

    print(f"\n### BFF (old-both, 13-grams, threshold 0.8, fp-rate {FP_RATE}, expected n-grams {fmt(ngrams)})\n")
    rows = []
    for tool in tools:
        for threads in BFF_THREADS:
            r = runs[tool, threads]
            rows.append([tool, str(threads), fmt(r.wall, 2), fmt(r.cpu, 2), fmt(corpus.text_bytes / 1e6 / r.cpu, 1),
                         fmt(corpus.docs / r.wall), fmt(corpus.docs / r.cpu), fmt(r.rss_mib), fmt(runs[tool, 1].wall / r.wall, 2)])
    print(table(["tool", "threads", "wall s", "CPU s", "MB/s per core", "docs/s", "docs/s per core",
                 "peak RSS MiB", "speedup vs 1 thread"], rows))
    print()
    ratio_rows = []
    for threads in BFF_THREADS:
        s, d = runs["sluice", threads], runs["DCLM bff", threads]
        ratio_rows.append([str(threads), fmt(d.cpu / s.cpu, 2) + "×", fmt(d.wall / s.wall, 2) + "×", fmt(s.rss_mib / d.rss_mib, 2) + "×"])
    print(table(["threads", "sluice / DCLM docs/s per core", "sluice / DCLM docs/s", "sluice / DCLM peak RSS"], ratio_rows))
    print()
    s_rss, d_rss = runs["sluice", 1].rss_mib * 2**20, runs["DCLM bff", 1].rss_mib * 2**20
    print(table(["tool", "filter", "hashers", "filter bytes per n-gram", "peak RSS per n-gram (1 thread)", "docs kept (1 thread)"], [
        ["DCLM bff", f"{d_mib} MiB", str(d_k), fmt(d_mib * 2**20 / ngrams, 2), fmt(d_rss / ngrams, 2), fmt(kept["DCLM bff"])],
        ["sluice", f"{fmt(s_bytes / 2**20, 1)} MiB", str(s_k), fmt(s_bytes / ngrams, 2), fmt(s_rss / ngrams, 2), fmt(kept["sluice"])],
    ]))
    print(f"\nInput: {fmt(corpus.docs)} docs, {fmt(corpus.text_bytes / 1e6, 1)} MB of text. Docs kept differ a little "
          "because DCLM processes its files in a random order (an unseeded shuffle). Both tools give each thread "
          "whole files, so with fewer files than threads the extra threads idle.")


# ---------------------------------------------------------------------------------------------- MinHash


def bench_minhash(sluice: str, python: str, corpus: Corpus, work: Path) -> None:
    s_out = fresh(work / "minhash-sluice")
    s_runs: list[tuple[str, Run]] = []
    for phase in SLUICE_MINHASH_PHASES:
        # One process per phase (--phase) so each phase's peak RSS is its own; the output folder is new, so there
        # is nothing to resume.
        print(f"  minhash: sluice {phase}…", file=sys.stderr, flush=True)
        cmd = [sluice, "--quiet", "dedup", "minhash", "--input", str(corpus.dir), "--output", str(s_out),
               "--format", "jsonl.gz", "--bands", str(BANDS), "--rows", str(ROWS), "--threads", "1", "--phase", phase]
        s_runs.append((phase, measure(cmd, work / f"minhash-sluice-{phase}.log")))
    s_kept = count_docs(s_out)
    shutil.rmtree(s_out)

    d_work = fresh(work / "minhash-datatrove")
    d_runs: list[tuple[str, Run]] = []
    peers = str(Path(__file__).resolve().parent / "dedup_peers.py")
    for stage in DATATROVE_STAGES:
        print(f"  minhash: datatrove {stage}…", file=sys.stderr, flush=True)
        cmd = [python, peers, stage, "--input", str(corpus.dir), "--work", str(d_work)]
        d_runs.append((stage, measure(cmd, work / f"minhash-datatrove-{stage}.log")))
    d_kept = count_docs(d_work / "output")
    shutil.rmtree(d_work)
    d_version = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('datatrove'))"],
                               capture_output=True, text=True).stdout.strip()

    print(f"\n### MinHash ({BANDS} bands × {ROWS} rows, word 5-grams, 1 thread / 1 worker; datatrove {d_version})\n")
    rows = []
    for tool, runs in (("sluice", s_runs), ("datatrove", d_runs)):
        for name, r in runs:
            rows.append([tool, name, fmt(r.wall, 2), fmt(r.cpu, 2), fmt(r.rss_mib)])
        wall, cpu = sum(r.wall for _, r in runs), sum(r.cpu for _, r in runs)
        rows.append([f"**{tool}**", "**total**", f"**{fmt(wall, 2)}**", f"**{fmt(cpu, 2)}**",
                     f"**{fmt(max(r.rss_mib for _, r in runs))}** (max)"])
    print(table(["tool", "phase / stage", "wall s", "CPU s", "peak RSS MiB"], rows))
    print()
    s_cpu, d_cpu = sum(r.cpu for _, r in s_runs), sum(r.cpu for _, r in d_runs)
    s_wall, d_wall = sum(r.wall for _, r in s_runs), sum(r.wall for _, r in d_runs)
    print(table(["tool", "docs/s", "docs/s per core", "docs kept", "docs removed"], [
        ["sluice", fmt(corpus.docs / s_wall), fmt(corpus.docs / s_cpu), fmt(s_kept), fmt(corpus.docs - s_kept)],
        ["datatrove", fmt(corpus.docs / d_wall), fmt(corpus.docs / d_cpu), fmt(d_kept), fmt(corpus.docs - d_kept)],
    ]))
    print(f"\nsluice / datatrove, docs/s per core: **{fmt(d_cpu / s_cpu, 1)}×**. Input: {fmt(corpus.docs)} docs. "
          "datatrove's times include its Python start-up and imports (under 1 s) in each of its 4 processes. The two tokenise "
          "differently (sluice: SlimPajama-normalised words; datatrove: simplify_text + spaCy), so kept counts may "
          "differ slightly.")


# ---------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sluice", required=True, help="the sluice binary (a release build)")
    parser.add_argument("--work", required=True, type=Path, help="scratch folder (corpus, outputs, logs)")
    parser.add_argument("--copies", type=int, default=20, help="copies of the DEV corpus (default 20)")
    parser.add_argument("--only", choices=("bff", "minhash"))
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared", help="default: ../shared")
    parser.add_argument("--python", default=sys.executable, help="the Python with datatrove (default: this one)")
    args = parser.parse_args()

    golden_inputs = args.shared / "golden" / "bff" / "inputs"
    bff = args.shared / "peers" / "bff" / "bff"
    if not golden_inputs.is_dir() or not os.access(bff, os.X_OK):
        print(f"bench-dedup: skipped, nothing measured: needs {golden_inputs} (the corpus) and {bff} (DCLM's BFF); "
              f"{args.shared} is not there or incomplete.")
        return
    args.work.mkdir(parents=True, exist_ok=True)
    sluice = str(Path(args.sluice).resolve())
    print(f"  building the {args.copies}× corpus…", file=sys.stderr, flush=True)
    corpus = build_corpus(golden_inputs, args.work, args.copies)

    version = subprocess.run([sluice, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"## Dedup benchmark, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d}\n")
    print(f"Machine: {machine_line()}. {version}; corpus: golden BFF DEV inputs × {args.copies} "
          f"({fmt(corpus.docs)} docs, {fmt(corpus.text_bytes / 1e6, 1)} MB of text, one file per copy). "
          "Each run is one process measured with wait4; per core = per CPU second (user+sys).")
    if args.only in (None, "bff"):
        bench_bff(sluice, str(bff), corpus, args.work, args.copies)
    if args.only in (None, "minhash"):
        bench_minhash(sluice, args.python, corpus, args.work)


if __name__ == "__main__":
    main()
