#!/usr/bin/env python3
"""Step 2 of `make bench-extract`: run resiliparse and trafilatura on the pages `extract prepare` wrote.

Usage: extract_peers.py DIR   (reads DIR/pages/{set}/*.html as UTF-8, writes DIR/peers/{peer}/{set}/*.txt and
DIR/peers/timings.json with the CPU seconds of the extraction calls alone, per peer and set).
"""
import json
import sys
import time
from pathlib import Path

from resiliparse.extract.html2text import extract_plain_text
import trafilatura

PEERS = {
    "resiliparse": lambda html: extract_plain_text(html, main_content=True),
    "resiliparse_full_page": lambda html: extract_plain_text(html, main_content=False),
    "trafilatura": lambda html: trafilatura.extract(html) or "",
}


def main():
    root = Path(sys.argv[1])
    timings = {}
    for set_dir in sorted((root / "pages").iterdir()):
        pages = {p.stem: p.read_text(encoding="utf-8") for p in sorted(set_dir.glob("*.html"))}
        for peer, extract in PEERS.items():
            out_dir = root / "peers" / peer / set_dir.name
            out_dir.mkdir(parents=True, exist_ok=True)
            texts = {}
            start = time.process_time()
            for page_id, html in pages.items():
                try:
                    texts[page_id] = extract(html)
                except Exception:  # a peer's failure on one page scores as an empty extraction
                    texts[page_id] = ""
            timings.setdefault(peer, {})[set_dir.name] = time.process_time() - start
            for page_id, text in texts.items():
                (out_dir / f"{page_id}.txt").write_text(text, encoding="utf-8")
            print(f"{peer} on {set_dir.name}: {len(pages)} pages in {timings[peer][set_dir.name]:.2f} CPU s", file=sys.stderr)
    (root / "peers" / "timings.json").write_text(json.dumps(timings, indent=2))


if __name__ == "__main__":
    main()
