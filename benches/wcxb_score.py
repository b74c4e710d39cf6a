#!/usr/bin/env python3
"""Last step of `make bench-extract`: WCXB's own scoring of every extractor's output on WCXB's test split.

Usage: wcxb_score.py DIR   (reads DIR/gold/wcxb/*.txt, DIR/wcxb-types.json, and the texts under
DIR/out/{extractor}/wcxb/ (sluice, written by `extract report`) and DIR/peers/{peer}/wcxb/ (the peers)).

`word_f1` is WCXB's function as its README gives it (lower-cased `\\w+` token multisets, per page), averaged
over pages: overall, and per page type (WCXB's `metadata.json`).
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path


def word_f1(predicted: str, reference: str):
    """WCXB's word-level P/R/F1 (its README's `word_f1`, returning precision and recall too)."""
    pred = Counter(re.findall(r"\w+", predicted.lower()))
    ref = Counter(re.findall(r"\w+", reference.lower()))
    if not ref:
        return (1.0, 1.0, 1.0) if not pred else (0.0, 0.0, 0.0)
    if not pred:
        return (0.0, 0.0, 0.0)
    overlap = sum((pred & ref).values())
    p = overlap / sum(pred.values())
    r = overlap / sum(ref.values())
    return (p, r, 2 * p * r / (p + r) if (p + r) > 0 else 0.0)


def main():
    root = Path(sys.argv[1])
    gold = {p.stem: p.read_text(encoding="utf-8") for p in (root / "gold" / "wcxb").glob("*.txt")}
    if not gold:
        print("wcxb_score: no WCXB pages prepared (../shared/data/extraction_wcxb absent)", file=sys.stderr)
        return
    types = json.loads((root / "wcxb-types.json").read_text())
    kinds = sorted(set(types.values()))
    systems = sorted((root / "out").glob("*/wcxb")) + sorted((root / "peers").glob("*/wcxb"))
    print(f"\nWCXB test split ({len(gold)} pages), scored with WCXB's word_f1: F1 (P / R) overall, F1 per page type\n")
    print("| extractor | F1 | P | R | " + " | ".join(f"{k} ({sum(t == k for t in types.values())})" for k in kinds) + " |")
    print("|---|---|---|---|" + "---|" * len(kinds))
    for system in systems:
        scores = {}
        for page_id, truth in gold.items():
            path = system / f"{page_id}.txt"
            scores[page_id] = word_f1(path.read_text(encoding="utf-8") if path.exists() else "", truth)
        mean = [sum(s[i] for s in scores.values()) / len(scores) for i in range(3)]
        per_kind = []
        for kind in kinds:
            of_kind = [s[2] for page_id, s in scores.items() if types.get(page_id) == kind]
            per_kind.append(f"{sum(of_kind) / max(len(of_kind), 1):.3f}")
        name = system.parent.name.replace("_", " ")
        print(f"| {name} | {mean[2]:.3f} | {mean[0]:.3f} | {mean[1]:.3f} | " + " | ".join(per_kind) + " |")


if __name__ == "__main__":
    main()
