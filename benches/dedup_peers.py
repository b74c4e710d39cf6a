#!/usr/bin/env python3
"""One stage of datatrove's MinHash dedup, for `make bench-dedup` (driven by benches/dedup_bench.py).

Usage: dedup_peers.py STAGE --input DIR --work DIR

STAGE is one of signatures, buckets, cluster, filter (datatrove's stages 1-4: MinhashDedupSignature,
MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter). The driver starts each stage as its own process, so
that the OS reports each stage's wall time, CPU time and peak RSS apart (os.wait4). Inputs are the JSONL.gz files
in --input; everything the stages write lives under --work (sigs/, buckets/, remove_ids/, output/, logs/).

The settings follow datatrove's examples/minhash_deduplication.py, with the driver's LSH shape: 14 buckets x 9
hashes per bucket, word 5-grams (datatrove's default n_grams), 64-bit xxhash, English (spaCy blank) word
tokenizer. One worker per stage. Stages 1, 3 and 4 run one task; stage 2 must run a multiple of num_buckets
tasks (an assertion in MinhashDedupBuckets), so it runs 14 tasks, one after the other in the same process.
"""
import argparse
import sys
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.utils.hashing import HashConfig
from datatrove.utils.typeshelper import Languages

BANDS = 14
ROWS = 9
CONFIG = MinhashConfig(
    n_grams=5, num_buckets=BANDS, hashes_per_bucket=ROWS, hash_config=HashConfig(precision=64, hash_fc="xxhash")
)
STAGES = ("signatures", "buckets", "cluster", "filter")


def pipeline(stage: str, inputs: str, work: Path) -> tuple[list, int]:
    """The pipeline steps and task count of one stage."""
    sigs, buckets, remove_ids = str(work / "sigs"), str(work / "buckets"), str(work / "remove_ids")
    if stage == "signatures":
        return [JsonlReader(inputs), MinhashDedupSignature(output_folder=sigs, config=CONFIG, language=Languages.english)], 1
    if stage == "buckets":
        return [MinhashDedupBuckets(input_folder=sigs, output_folder=buckets, config=CONFIG)], BANDS
    if stage == "cluster":
        return [MinhashDedupCluster(input_folder=buckets, output_folder=remove_ids, config=CONFIG)], 1
    # Kept documents are written as JSONL.gz, as sluice's apply phase is asked to write them.
    return [JsonlReader(inputs), MinhashDedupFilter(input_folder=remove_ids), JsonlWriter(str(work / "output"))], 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument("--input", required=True)
    parser.add_argument("--work", required=True, type=Path)
    args = parser.parse_args()
    steps, tasks = pipeline(args.stage, args.input, args.work)
    # skip_completed=False: the driver wipes --work before stage 1, and a stale completion marker must never
    # turn a measured stage into a no-op.
    LocalPipelineExecutor(
        pipeline=steps,
        tasks=tasks,
        workers=1,
        logging_dir=str(args.work / "logs" / args.stage),
        skip_completed=False,
    ).run()


if __name__ == "__main__":
    sys.exit(main())
