//! Python reads what sluice writes: `tarfile` + `gzip` + `json` and `webdataset` read every context of an
//! `openlm` output back, and the ids equal those of the Python `tokenizers` package on the same
//! documents (tokshuf-rs's stream: each document's ids, EOT; the last context padded) — the same
//! multiset, shuffled. Needs `SLUICE_TEST_PYTHON`, a Python with `tokenizers` and `webdataset`
//! (`python3 -m venv /tmp/tokvenv && /tmp/tokvenv/bin/pip install tokenizers webdataset`); without it
//! the test says SKIPPED, or fails under CI=true.

mod common;

use common::*;
use sluice_tokenize::TokenizeConfig;

const SCRIPT: &str = r#"
import gzip, io, json, sys, tarfile
from collections import Counter
import tokenizers, webdataset as wds

out, inputs, tokenizer_path, seqlen, eot, pad = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
manifest = [json.loads(l) for l in open(f"{out}/manifest.jsonl")]

# tarfile + gzip + json
contexts = []
for entry in manifest:
    with tarfile.open(f"{out}/{entry['shard']}.tar") as tar:
        members = [m for m in tar.getmembers()]
        assert len(members) == entry["num_sequences"], (entry, len(members))
        for m in members:
            assert m.name.endswith(".json.gz"), m.name
            contexts.append(json.loads(gzip.decompress(tar.extractfile(m).read())))

# webdataset, as open_lm reads it (data key json.gz)
urls = [f"{out}/{e['shard']}.tar" for e in manifest]
via_wds = []
for sample in wds.WebDataset(urls, shardshuffle=False):
    via_wds.append(json.loads(gzip.decompress(sample["json.gz"])))
assert via_wds == contexts, "webdataset and tarfile disagree"

# The Python tokenizers package on the same documents.
tok = tokenizers.Tokenizer.from_file(tokenizer_path)
expected = []
for path in inputs.split(","):
    stream = []
    for line in open(path):
        text = json.loads(line)["text"]
        if text == "":
            continue
        stream.extend(tok.encode(text, add_special_tokens=False).ids)
        stream.append(eot)
    # tokshuf-rs: full contexts, then the remainder padded to one more (an empty one too).
    ctxs = [stream[i:i + seqlen] for i in range(0, len(stream), seqlen)]
    if not ctxs or len(ctxs[-1]) == seqlen:
        ctxs.append([])
    ctxs[-1] = ctxs[-1] + [pad] * (seqlen - len(ctxs[-1]))
    expected.extend(ctxs)

assert all(len(c) == seqlen for c in contexts)
assert Counter(map(tuple, contexts)) == Counter(map(tuple, expected)), (len(contexts), len(expected))
print(f"OK {len(contexts)} contexts in {len(manifest)} shards, tokenizers {tokenizers.__version__}")
"#;

#[test]
fn python_tarfile_webdataset_and_tokenizers_agree() {
    let python = match std::env::var("SLUICE_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("SLUICE_TEST_PYTHON is not set: CI must provide a Python with tokenizers and webdataset");
            }
            println!("SKIPPED: set SLUICE_TEST_PYTHON to a Python with tokenizers and webdataset");
            return;
        }
    };
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    // JSONL inputs, so Python reads the same documents; a Unicode-heavy file from ../shared when present.
    let mut files: Vec<(String, Vec<String>)> = corpus()
        .into_iter()
        .map(|(name, texts)| (format!("{}.jsonl", name.split('.').next().unwrap()), texts))
        .collect();
    if let Some(shared) = shared_data() {
        let valid = std::fs::read_to_string(shared.join("text/wikitext2_valid_test/valid.txt")).unwrap();
        let docs: Vec<String> = valid.split("\n = ").take(40).map(str::to_string).collect();
        files.push(("wikitext.jsonl".into(), docs));
    }
    write_inputs(&input, &files);
    let out = work.path().join("out");
    let config = TokenizeConfig { seqlen: 257, wds_chunk_size: 40, cells: 5, ..Default::default() };
    run_threads(&config, &input, &out, 2);

    let tokenizer = work.path().join("tokenizer.json");
    std::fs::write(&tokenizer, sluice_tokenize::BUNDLED_TOKENIZER).unwrap();
    let script = work.path().join("check.py");
    std::fs::write(&script, SCRIPT).unwrap();
    let paths: Vec<String> = files.iter().map(|(n, _)| input.join(n).to_str().unwrap().to_string()).collect();
    let result = std::process::Command::new(&python)
        .arg(&script)
        .arg(&out)
        .arg(paths.join(","))
        .arg(&tokenizer)
        .args(["257", "0", "50256"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "python failed:\n{stdout}\n{stderr}");
    println!("{stdout}");
}
