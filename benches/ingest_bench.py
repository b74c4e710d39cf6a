#!/usr/bin/env python3
"""`make bench-ingest`: `sluice ingest` end to end vs DCLM's extraction pipeline, same WARCs, same machine, one run.

Usage: ingest_bench.py --sluice PATH --work DIR [--warc PATH] [--copies 3] [--repeat 3] [--python PATH]
       ingest_bench.py dclm OUT_DIR WARC...     (the DCLM pipeline itself; run as a child by the benchmark)

DCLM-Pool was made by `tools/commoncrawl/process_common_crawl_w_ray.py` (DCLM_SPEC.md §1): fastwarc's
ArchiveIterator over response + warcinfo records, each payload decoded as strict UTF-8 and given to resiliparse's
`extract_plain_text(main_content=True)` (a record that raises is skipped), one JSON object per record
(`text`, `metadata` = the WARC headers, `warcinfo`), `json.dumps`, lines joined by "\\n", the whole file
gzip-compressed. `dclm` below is that function without Ray (Ray gives each core whole files, so one file per
process is its per-core cost).

sluice runs `sluice ingest --format jsonl.gz --threads 1` with each extractor: `article` (the default) and
`resiliparse` (DCLM-Pool's extractor, reproduced). sluice does more per record than DCLM's script (HTTP status and
MIME checks, charset detection and decoding instead of UTF-8-or-skip, metadata columns, a manifest per shard).

The input is ../shared/data/warc_realhtml (1,171 real pages, 34.5 MB of gzipped WARC) copied --copies times as
separate files. Each tool is one child process measured with os.wait4; "per core" divides by CPU seconds;
each tool runs --repeat times, round-robin, and its fastest run is reported (shared machines vary by ±25 %).
Prints markdown tables on stdout.
"""
from __future__ import annotations

import argparse
import datetime
import gzip
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchlib import Run, count_docs, fmt, fresh, machine_line, measure, table

REPO = Path(__file__).resolve().parent.parent
DEFAULT_WARC = REPO.parent / "shared/data/warc_realhtml/realhtml-trafilatura-aeb.warc.gz"
SLUICE_EXTRACTORS = ("article", "resiliparse")


# ---------------------------------------------------------------------------------------------- DCLM's pipeline


def dclm_process_file(warc: Path, out_dir: Path) -> int:
    """One WARC → one .jsonl.gz, as process_common_crawl_w_ray.py's per-file function does; returns records."""
    # Imported here so the driver itself needs no peer packages.
    try:
        from fastwarc.stream_io import GZipStream  # fastwarc 0.x, which DCLM's script was written for
    except ImportError:
        from fastwarc.stream_io import GzipReader as GZipStream  # the same reader, renamed in fastwarc 2.0
    from fastwarc.warc import ArchiveIterator, WarcRecordType
    from resiliparse.extract.html2text import extract_plain_text

    lines: list[str] = []
    warcinfo = None
    with open(warc, "rb") as f:
        types = WarcRecordType.response | WarcRecordType.warcinfo
        for record in ArchiveIterator(GZipStream(f), record_types=types):
            if record.record_type == WarcRecordType.warcinfo:
                warcinfo = record.reader.read().decode("utf-8").strip()
                continue
            try:
                text = extract_plain_text(record.reader.read().decode("utf-8"), main_content=True)
            except Exception:  # noqa: BLE001 — DCLM's `except: continue`
                continue
            doc = {"text": text, "metadata": dict(record.headers)}
            if warcinfo is not None:
                doc["warcinfo"] = warcinfo
            lines.append(json.dumps(doc))
    name = warc.name[:-3] if warc.name.endswith(".gz") else warc.name
    (out_dir / f"{name}.jsonl.gz").write_bytes(gzip.compress("\n".join(lines).encode()))
    return len(lines)


def dclm_main(out_dir: Path, warcs: list[Path]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for warc in warcs:
        dclm_process_file(warc, out_dir)


# ---------------------------------------------------------------------------------------------- the benchmark


@dataclass
class Input:
    files: list[Path]
    gz_bytes: int
    responses: int


def count_responses(warc: Path) -> int:
    """Response records in a gzipped WARC, read with the standard library only (the driver needs no peers)."""
    with gzip.open(warc, "rb") as f:
        return sum(1 for line in f if line.rstrip(b"\r\n") == b"WARC-Type: response")


def build_input(warc: Path, work: Path, copies: int) -> Input:
    if not warc.exists():
        sys.exit(f"missing input WARC {warc} (../shared/data/warc_realhtml; or pass --warc)")
    in_dir = fresh(work / "warcs")
    files = []
    for copy in range(copies):
        dest = in_dir / f"copy{copy:02d}-{warc.name}"
        shutil.copyfile(warc, dest)
        files.append(dest)
    return Input(files, warc.stat().st_size * copies, count_responses(warc) * copies)


def run_all(sluice: str, python: str, inputs: Input, work: Path, repeat: int) -> dict[str, tuple[Run, int, float]]:
    """Each tool `repeat` times, round-robin (so a slow spell of a shared machine hits every tool): its fastest
    run (least CPU), the documents it wrote, and the slowest run's CPU over the fastest's (the spread)."""
    out = work / "out"
    warcs = [str(f) for f in inputs.files]
    commands = {"DCLM (fastwarc + resiliparse)": [python, str(Path(__file__).resolve()), "dclm", str(out), *warcs]}
    for extractor in SLUICE_EXTRACTORS:
        commands[f"sluice ingest --extractor {extractor}"] = [
            sluice, "--quiet", "ingest", *warcs, "--output", str(out), "--format", "jsonl.gz",
            "--extractor", extractor, "--threads", "1", "--no-resume"]
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    docs: dict[str, int] = {}
    for round_ in range(repeat):
        for i, (name, cmd) in enumerate(commands.items()):
            fresh(out)
            print(f"  {name} (run {round_ + 1}/{repeat})…", file=sys.stderr, flush=True)
            runs[name].append(measure(cmd, work / f"run{i}-{name.split()[0].lower()}.log"))
            docs[name] = count_docs(out)
    shutil.rmtree(out, ignore_errors=True)
    results = {}
    for name, measured in runs.items():
        best = min(measured, key=lambda r: r.cpu)
        results[name] = (best, docs[name], max(r.cpu for r in measured) / best.cpu)
    return results


def report(sluice: str, inputs: Input, results: dict[str, tuple[Run, int, float]], repeat: int) -> None:
    version = subprocess.run([sluice, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"## Ingest benchmark, {datetime.date.today().isoformat()}\n")
    print(f"Machine: {machine_line()}. {version}; input: {len(inputs.files)} copies of the realhtml WARC "
          f"({fmt(inputs.responses)} response records, {inputs.gz_bytes / 1e6:.1f} MB gzipped). One process per "
          f"tool, one thread, measured with wait4; per core = per CPU second (user+sys); each tool run {repeat} "
          "times round-robin, its fastest run shown (spread = slowest CPU / fastest).\n")
    base_name = next(iter(results))
    base_cpu = results[base_name][0].cpu
    rows = []
    for name, (run, docs, spread) in results.items():
        rows.append([name, f"{run.wall:.2f}", f"{run.cpu:.2f}", f"{spread:.2f}", fmt(inputs.responses / run.cpu),
                     f"{inputs.gz_bytes / 1e6 / run.cpu:.1f}", fmt(docs), f"{run.rss_mib:.0f}",
                     f"**{base_cpu / run.cpu:.2f}×**"])
    print(table(["tool", "wall s", "CPU s", "spread", "records/s per core", "WARC MB/s per core", "docs written",
                 "peak RSS MiB", "× DCLM per core"], rows))
    print("\nRecords/s counts every response record read, whatever each tool then keeps: DCLM's script keeps "
          "every record that decodes as UTF-8, sluice drops non-HTML and error responses and empty extractions "
          "(counted in its statistics).")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "dclm":
        if len(sys.argv) < 4:
            sys.exit("usage: ingest_bench.py dclm OUT_DIR WARC...")
        dclm_main(Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--warc", type=Path, default=DEFAULT_WARC)
    ap.add_argument("--copies", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; the fastest is reported")
    ap.add_argument("--python", default=sys.executable, help="the Python that has fastwarc and resiliparse")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    inputs = build_input(args.warc, args.work, args.copies)
    os.environ["RAYON_NUM_THREADS"] = "1"
    report(args.sluice, inputs, run_all(args.sluice, args.python, inputs, args.work, args.repeat), args.repeat)


if __name__ == "__main__":
    main()
