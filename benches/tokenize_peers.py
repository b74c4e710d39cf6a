#!/usr/bin/env python3
"""Peer side of `make bench-tokenize`: time datatrove's DocumentTokenizer and raw HF `tokenizers` on one core.

Usage: tokenize_peers.py DOCS_JSONL TOKENIZER_JSON OUT_JSON

DOCS_JSONL holds one {"id", "text"} object per line (.jsonl or .jsonl.gz); TOKENIZER_JSON is a HF tokenizer.json
(GPT-NeoX-20B's in the bench). Two peers, each timed in its own child process of this script:

  datatrove   JsonlReader -> DocumentTokenizer(eos_token="<|endoftext|>", shuffle_documents=True) under
              LocalPipelineExecutor(tasks=1, workers=1): the whole step as a user runs it (read + parse JSON, load the
              tokenizer, encode in batches of 10,000, write .ds tokens + .index, then rewrite shuffled by document).
              Its token count includes one EOS per document; "tokens_excl_eos" subtracts them.
  hf_python   Tokenizer.from_file(...).encode_batch(texts, add_special_tokens=False) in batches of 10,000 (as
              datatrove batches): the HF library's own cost from Python, without JSON, I/O or shuffling. The texts are
              read and the tokenizer loaded before timing.

Timing. cpu_s / wall_s are measured inside the child with time.process_time() / time.perf_counter() around the work
only, so interpreter start-up and imports are excluded; the child's whole-life figures from os.wait4 are reported as
process_cpu_s / process_wall_s. peak_rss_mib is ru_maxrss from os.wait4 (largest of the child and its reaped
descendants, e.g. datatrove's multiprocess Manager). Documents with empty text are skipped by both, as JsonlReader does.

Writes OUT_JSON: {"datatrove": {...}, "hf_python": {...}} and prints one summary line per peer.
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

BATCH = 10_000  # DocumentTokenizer's default batch_size; used for hf_python too so both encode the same batches
EOS = "<|endoftext|>"

# One core, one thread: tokenizers (Rust, rayon) would otherwise encode a batch on every core. TOKENIZERS_PARALLELISM
# turns its parallel iterators serial; the RAYON_* caps are a second guard. Set here, before anything imports
# tokenizers, and inherited by the children, which also pin themselves to a single CPU.
SINGLE_THREAD_ENV = {"RAYON_NUM_THREADS": "1", "RAYON_RS_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
                     "OMP_NUM_THREADS": "1"}
os.environ.update(SINGLE_THREAD_ENV)


def read_texts(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [t for line in f if line.strip() and (t := json.loads(line).get("text"))]


def run_datatrove(docs, tok_path, work):
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.tokens import DocumentTokenizer

    # JsonlReader takes a folder: give it one holding only (a link to) the input.
    in_dir, out_dir = work / "in", work / "out"
    in_dir.mkdir()
    (in_dir / Path(docs).name).symlink_to(Path(docs).resolve())
    # A local tokenizer.json path is loaded with Tokenizer.from_file (datatrove.utils.tokenization.load_tokenizer).
    tokenizer = DocumentTokenizer(output_folder=str(out_dir), tokenizer_name_or_path=tok_path, eos_token=EOS,
                                  shuffle_documents=True, seed=0, batch_size=BATCH)
    executor = LocalPipelineExecutor(pipeline=[JsonlReader(str(in_dir)), tokenizer], tasks=1, workers=1,
                                     logging_dir=str(work / "logs"))
    wall, cpu = time.perf_counter(), time.process_time()
    executor.run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall

    # Count what it wrote: .ds files are raw tokens of token_size bytes; each .ds.index holds one uint64 per document.
    token_size = tokenizer.token_size
    tokens = sum(p.stat().st_size for p in out_dir.glob("*.ds")) // token_size
    n_docs = sum(p.stat().st_size for p in out_dir.glob("*.ds.index")) // 8
    return {"version": version("datatrove"), "tokenizers_version": version("tokenizers"), "docs": n_docs,
            "tokens": tokens, "tokens_excl_eos": tokens - n_docs, "token_size_bytes": token_size,
            "wall_s": wall, "cpu_s": cpu}


def run_hf_python(docs, tok_path, work):
    from tokenizers import Tokenizer

    texts = read_texts(docs)
    tokenizer = Tokenizer.from_file(tok_path)
    wall, cpu, tokens = time.perf_counter(), time.process_time(), 0
    for i in range(0, len(texts), BATCH):
        tokens += sum(len(e.ids) for e in tokenizer.encode_batch(texts[i:i + BATCH], add_special_tokens=False))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"version": version("tokenizers"), "docs": len(texts), "tokens": tokens, "wall_s": wall, "cpu_s": cpu}


PEERS = {"datatrove": run_datatrove, "hf_python": run_hf_python}


def child(peer, docs, tok_path, work):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, whatever threads the library starts
    result = PEERS[peer](docs, tok_path, Path(work))
    (Path(work) / "result.json").write_text(json.dumps(result))


def measure(peer, docs, tok_path, tmp):
    """Run one peer in a fresh child of this script; return its result plus whole-process figures from wait4."""
    work = Path(tmp) / peer
    work.mkdir()
    log = open(work / "child.log", "wb")  # datatrove logs a lot to stderr: keep it, show it only on failure
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", peer, docs, tok_path, str(work)],
                            stdout=log, stderr=subprocess.STDOUT)
    _, status, ru = os.wait4(proc.pid, 0)  # reap it ourselves to get its rusage (Popen.wait would discard it)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    log.close()
    if proc.returncode != 0:
        sys.stderr.write((work / "child.log").read_text(errors="replace")[-5000:])
        sys.exit(f"tokenize_peers: {peer} child failed with status {proc.returncode}")
    result = json.loads((work / "result.json").read_text())
    result.update(process_cpu_s=ru.ru_utime + ru.ru_stime, process_wall_s=wall,
                  peak_rss_mib=ru.ru_maxrss / 1024)  # Linux reports ru_maxrss in KiB
    return result


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        return child(*sys.argv[2:])
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    docs, tok_path, out_path = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="tokenize_peers.") as tmp:
        report = {peer: measure(peer, docs, tok_path, tmp) for peer in PEERS}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)

    for peer, r in report.items():
        print(f"{peer} {r['version']}: {r['docs']} docs, {r['tokens']} tokens, {r['cpu_s']:.3f} CPU s "
              f"({r['tokens'] / r['cpu_s']:,.0f} tokens/s per core), wall {r['wall_s']:.3f} s, "
              f"process {r['process_cpu_s']:.3f} CPU s, peak RSS {r['peak_rss_mib']:.0f} MiB", file=sys.stderr)
    dt, hf = report["datatrove"], report["hf_python"]
    if (dt["docs"], dt["tokens_excl_eos"]) != (hf["docs"], hf["tokens"]):  # same tokenizer, same texts: must agree
        print(f"tokenize_peers: WARNING datatrove wrote {dt['docs']} docs / {dt['tokens_excl_eos']} non-EOS tokens, "
              f"hf_python encoded {hf['docs']} / {hf['tokens']}", file=sys.stderr)


if __name__ == "__main__":
    main()
