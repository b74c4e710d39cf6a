#!/usr/bin/env python3
"""Optional last step of `make bench-extract`: trafilatura's own evaluation (snippets) on its 990 pages.

Usage: trafilatura_eval_score.py DIR EVALDATA [WARC]

The realhtml WARC (../shared/data/warc_realhtml) holds trafilatura's evaluation pages (tests/eval, tests/cache;
`WARC-Source-File` names the file) next to the 181 ScrapingHub pages; `extract report` writes every extractor's
text of them to DIR/out/{extractor}/realhtml/ and the peers' to DIR/peers/{peer}/realhtml/. EVALDATA is
trafilatura's `tests/evaldata.json` (adbar/trafilatura): per page, snippets the main text must contain ("with")
and boilerplate it must not ("without"). These pages were not used to develop sluice's `article` rules before extraction v2's
last steps (docs/extraction.md says which rules were checked on them).

Counting is trafilatura's evaluation's: each "with" snippet found is a true positive, else a false negative;
each "without" snippet found is a false positive, else a true negative; summed over all pages (whitespace
collapsed on both sides).
"""
import json
import sys
from pathlib import Path

from fastwarc.warc import ArchiveIterator, WarcRecordType

try:
    from fastwarc.stream_io import GzipReader
except ImportError:  # fastwarc 0.x
    from fastwarc.stream_io import GZipStream as GzipReader

DEFAULT_WARC = Path(__file__).resolve().parent.parent.parent / "shared/data/warc_realhtml/realhtml-trafilatura-aeb.warc.gz"


def page_ids(warc: Path) -> dict:
    """trafilatura's file name -> the document id sluice's bench names the page by (the record's UUID)."""
    ids = {}
    with open(warc, "rb") as f:
        for record in ArchiveIterator(GzipReader(f), record_types=WarcRecordType.response, parse_http=False):
            source = record.headers.get("WARC-Source-File", "")
            if source.startswith("trafilatura/"):
                record_id = record.headers.get("WARC-Record-ID", "").strip("<>")
                ids[source.rsplit("/", 1)[1]] = record_id.removeprefix("urn:uuid:")
    return ids


def collapse(text: str) -> str:
    return " ".join(text.split())


def score(system: Path, items: list, ids: dict) -> tuple:
    tp = fn = fp = tn = 0
    for item in items:
        path = system / f"{ids[item['file']]}.txt"
        text = collapse(path.read_text(encoding="utf-8")) if path.exists() else ""
        found = sum(collapse(s) in text for s in item["with"])
        leaked = sum(collapse(s) in text for s in item["without"])
        tp, fn = tp + found, fn + len(item["with"]) - found
        fp, tn = fp + leaked, tn + len(item["without"]) - leaked
    precision = tp / max(tp + fp, 1)
    recall = tp / max(tp + fn, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    return precision, recall, f1, (tp + tn) / max(tp + tn + fp + fn, 1)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    root, evaldata = Path(sys.argv[1]), Path(sys.argv[2])
    warc = Path(sys.argv[3]) if len(sys.argv) > 3 else DEFAULT_WARC
    ids = page_ids(warc)
    items = [
        {"file": v["file"], "with": v.get("with", []), "without": v.get("without", [])}
        for v in json.loads(evaldata.read_text(encoding="utf-8")).values()
    ]
    items = [item for item in items if item["file"] in ids]
    systems = sorted((root / "out").glob("*/realhtml")) + sorted((root / "peers").glob("*/realhtml"))
    print(f"\ntrafilatura's evaluation ({len(items)} pages, snippets found / leaked)\n")
    print("| extractor | precision | recall | F1 | accuracy |\n|---|---|---|---|---|")
    for system in systems:
        p, r, f1, acc = score(system, items, ids)
        print(f"| {system.parent.name.replace('_', ' ')} | {p:.3f} | {r:.3f} | {f1:.3f} | {acc:.3f} |")


if __name__ == "__main__":
    main()
