"""What the Python benchmark drivers (`make bench-dedup`, `make bench-ingest`) share: running a tool as a child
process and reading its cost from the OS, and printing markdown tables."""
from __future__ import annotations

import gzip
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    """What the OS says one child process cost."""

    wall: float
    cpu: float
    rss_mib: float


def measure(cmd: list[str], log: Path) -> Run:
    """Run cmd to completion with stdout+stderr to log; its cost from wait4 (includes children it waited for)."""
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait for it again
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        sys.exit(f"command failed (exit {proc.returncode}): {' '.join(cmd)}\n--- {log} (tail) ---\n{tail}")
    # ru_maxrss is in KiB on Linux.
    return Run(wall=wall, cpu=usage.ru_utime + usage.ru_stime, rss_mib=usage.ru_maxrss / 1024)


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path



def fmt(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def machine_line() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.machine()}"


def count_docs(out_dir: Path) -> int:
    """Lines of the JSONL.gz outputs, skipping sluice's bookkeeping folders (_work, _manifests, _stats, …)."""
    total = 0
    for path in sorted(out_dir.rglob("*.jsonl.gz")):
        if any(part.startswith("_") for part in path.relative_to(out_dir).parts):
            continue
        with gzip.open(path, "rb") as f:
            total += sum(1 for line in f if line.strip())
    return total
