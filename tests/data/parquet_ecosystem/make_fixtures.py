"""Writes the Parquet files tests/parquet_ecosystem.rs reads: documents as pandas/pyarrow write them by
default and with every other codec and text encoding the ecosystem uses. Made with pyarrow 26.0.1 and
pandas 3.1.1 (`pip install pyarrow pandas`, then `python3 make_fixtures.py` in this folder).
The texts are three short sentences written for these files."""
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

TEXTS = [
    "Rivers carry water from higher ground to the sea.",
    "A river's drainage basin collects rain and snowmelt.",
    "Meanders form where the current erodes the outer bank.",
]
URLS = ["http://example.org/a", "http://example.org/b", None]

# pandas' own default: snappy, large_string text, the pandas schema metadata, an extra float column.
pd.DataFrame({"text": TEXTS, "url": URLS, "score": [0.5, 0.25, 1.0]}).to_parquet("pandas_default.parquet")

base = pa.table({"text": TEXTS, "url": URLS})
for codec in ["gzip", "lz4", "brotli", "zstd", "none"]:
    pq.write_table(base, f"codec_{codec}.parquet", compression=codec)

pq.write_table(
    pa.table({"text": pa.array(TEXTS, pa.large_string()), "url": pa.array(URLS, pa.large_string())}),
    "large_string.parquet",
)
pq.write_table(
    pa.table({"text": pa.array(TEXTS).dictionary_encode(), "id": pa.array([1, 2, 3], pa.int64())}),
    "dictionary_text_integer_id.parquet",
)
metadata = pa.array(
    [{"lang": "en", "len": 49}, {"lang": "en", "len": 52}, None],
    pa.struct([("lang", pa.string()), ("len", pa.int32())]),
)
pq.write_table(pa.table({"text": TEXTS, "metadata": metadata}), "struct_metadata.parquet")
pq.write_table(
    pa.table({"text": pa.array([TEXTS[0], None, TEXTS[2]]), "url": URLS}),
    "null_text.parquet",
)
