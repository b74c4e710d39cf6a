//! What a finished tokenize output holds ([`summarize`], for `make demo` and `sluice inspect`), and its
//! DCLM `exp_data`-style dataset JSON ([`write_dataset_json`]).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use sluice_core::runner::Manifest;
use sluice_core::store::Location;

use crate::bytesize::ByteSize;
use crate::error::TokenizeError;

/// One shard directory: the output itself (`openlm`) or a bucket `D_k/` (`decomposed`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ShardSet {
    /// `""` or `D_k/`.
    pub dir: String,
    /// The DD bucket.
    pub bucket: Option<u32>,
    /// Tokens per sequence.
    pub seq_len: u64,
    pub shards: u64,
    pub sequences: u64,
    /// `sequences × seq_len` (padding included).
    pub tokens: u64,
    /// Bytes of the shard files.
    pub bytes: u64,
    /// Shards with fewer sequences than the shard size (at most the last one).
    pub partial_shards: u64,
}

/// What a tokenize output holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OutputSummary {
    pub output: String,
    pub format: String,
    pub tokenizer: String,
    pub dtype: String,
    /// Shard files (`bin`: token files).
    pub shards: u64,
    /// Contexts / sequences (`bin`: documents).
    pub sequences: u64,
    /// Tokens written (padding included).
    pub tokens: u64,
    /// Bytes of the shard (or token) files.
    pub bytes: u64,
    /// `openlm` and `decomposed` per shard directory.
    pub sets: Vec<ShardSet>,
    /// Documents read, written (tokenized) and dropped by reason (from the first phase's manifests).
    pub documents_in: u64,
    pub documents_out: u64,
    pub drops: BTreeMap<String, u64>,
    /// The documents' own tokens (without BOS/EOT/padding).
    pub document_tokens: u64,
    /// Padding of the last context of each input file (`openlm`).
    pub pad_tokens: u64,
    /// Tokens of documents left over by the decomposition (shorter than the shortest bucket).
    pub discarded_tokens: u64,
}

fn read_json(location: &Location) -> Result<Value, TokenizeError> {
    let bytes = location
        .read_bytes()
        .map_err(|e| TokenizeError::NotAnOutput { location: location.to_string(), reason: e.to_string() })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| TokenizeError::Artifact { location: location.to_string(), reason: e.to_string() })
}

fn size_of(location: &Location) -> Result<u64, TokenizeError> {
    match location.head() {
        Ok(Some(entry)) => Ok(entry.size),
        Ok(None) => Err(TokenizeError::Artifact { location: location.to_string(), reason: "missing".into() }),
        Err(e) => Err(TokenizeError::Artifact { location: location.to_string(), reason: e.to_string() }),
    }
}

/// Reads `<dir>manifest.jsonl` and the sizes of its shards.
fn shard_set(
    root: &Location,
    dir: &str,
    bucket: Option<u32>,
    seq_len: u64,
    ext: &str,
) -> Result<ShardSet, TokenizeError> {
    let manifest = root.join(&format!("{dir}manifest.jsonl"));
    let text = manifest
        .read_bytes()
        .map_err(|e| TokenizeError::NotAnOutput { location: manifest.to_string(), reason: e.to_string() })?;
    let mut set = ShardSet { dir: dir.to_string(), bucket, seq_len, ..Default::default() };
    let mut largest = 0;
    let mut counts = Vec::new();
    for (i, line) in String::from_utf8_lossy(&text).lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |reason: String| TokenizeError::Artifact { location: format!("{manifest}:{}", i + 1), reason };
        let value: Value = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let shard = value["shard"].as_str().ok_or_else(|| bad("no \"shard\"".into()))?;
        let n = value["num_sequences"].as_u64().ok_or_else(|| bad("no \"num_sequences\"".into()))?;
        set.shards += 1;
        set.sequences += n;
        set.bytes += size_of(&root.join(&format!("{dir}{shard}.{ext}")))?;
        largest = largest.max(n);
        counts.push(n);
    }
    set.partial_shards = counts.iter().filter(|n| **n < largest).count() as u64;
    set.tokens = set.sequences * seq_len;
    Ok(set)
}

/// Sums the first phase's task manifests: documents, drops, token counters.
fn first_phase_stats(root: &Location, summary: &mut OutputSummary) -> Result<(), TokenizeError> {
    let dir = if summary.format == "bin" { root.join("_manifests") } else { root.join("_work/tokenize/_manifests") };
    let entries =
        dir.list_objects().map_err(|e| TokenizeError::Artifact { location: dir.to_string(), reason: e.to_string() })?;
    for entry in entries.iter().filter(|e| e.location.file_name().ends_with(".json")) {
        let Ok(bytes) = entry.location.read_bytes() else { continue };
        let Ok(manifest) = serde_json::from_slice::<Manifest>(&bytes) else { continue };
        let stats = &manifest.stats;
        summary.documents_in += stats.docs_in;
        summary.documents_out += stats.docs_out;
        for (reason, n) in &stats.drops {
            *summary.drops.entry(reason.clone()).or_default() += n;
        }
        let counter = |name: &str| stats.counters.get(name).copied().unwrap_or(0);
        summary.document_tokens += counter("document_tokens");
        summary.pad_tokens += counter("pad_tokens");
        summary.discarded_tokens += counter("discarded_tokens");
    }
    Ok(())
}

/// Summarises a tokenize output (any format): shards, sequences, tokens, bytes, and the documents behind
/// them. Fails on a folder that is not one (no `tokenize.json`) or whose shards are missing.
pub fn summarize(output: &str) -> Result<OutputSummary, TokenizeError> {
    let not_output = |reason: String| TokenizeError::NotAnOutput { location: output.to_string(), reason };
    let root = Location::parse(output).map_err(|e| not_output(e.to_string()))?;
    let description = read_json(&root.join("tokenize.json"))?;
    let text = |key: &str| description[key].as_str().unwrap_or_default().to_string();
    let mut summary = OutputSummary {
        output: output.to_string(),
        format: text("format"),
        tokenizer: text("tokenizer"),
        dtype: text("dtype"),
        ..Default::default()
    };
    match summary.format.as_str() {
        "openlm" => {
            let seqlen = description["config"]["seqlen"].as_u64().unwrap_or(0);
            summary.sets.push(shard_set(&root, "", None, seqlen, "tar")?);
        }
        "decomposed" => {
            let ext = if description["data_key"] == "bin" { "bin" } else { "tar" };
            for bucket in description["buckets"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                let k = bucket["bucket"].as_u64().map(|k| k as u32);
                let dir = bucket["dir"].as_str().unwrap_or_default();
                let seq_len = bucket["seq_len"].as_u64().unwrap_or(0);
                summary.sets.push(shard_set(&root, dir, k, seq_len, ext)?);
            }
        }
        "bin" => {
            for file in description["files"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                let header = read_json(&root.join(file["header"].as_str().unwrap_or_default()))?;
                summary.shards += 1;
                summary.sequences += header["documents"].as_u64().unwrap_or(0);
                summary.tokens += header["tokens"].as_u64().unwrap_or(0);
                summary.bytes += size_of(&root.join(file["bin"].as_str().unwrap_or_default()))?;
            }
        }
        other => return Err(not_output(format!("tokenize.json names an unknown format '{other}'"))),
    }
    for set in &summary.sets {
        summary.shards += set.shards;
        summary.sequences += set.sequences;
        summary.tokens += set.tokens;
        summary.bytes += set.bytes;
    }
    first_phase_stats(&root, &mut summary)?;
    Ok(summary)
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl std::fmt::Display for OutputSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.format == "bin" { "documents" } else { "sequences" };
        let files = if self.format == "bin" { "token files" } else { "shards" };
        writeln!(
            f,
            "tokenize ({}, {}, {}): {} {files}, {} {what}, {} tokens, {}",
            self.format,
            self.tokenizer,
            self.dtype,
            thousands(self.shards),
            thousands(self.sequences),
            thousands(self.tokens),
            ByteSize(self.bytes)
        )?;
        if self.sets.len() > 1 {
            for set in &self.sets {
                writeln!(
                    f,
                    "  {:<6} {} shards, {} sequences of {} tokens = {} tokens, {}",
                    set.dir.trim_end_matches('/'),
                    thousands(set.shards),
                    thousands(set.sequences),
                    set.seq_len,
                    thousands(set.tokens),
                    ByteSize(set.bytes)
                )?;
            }
        }
        let dropped: u64 = self.drops.values().sum();
        write!(
            f,
            "  from {} documents ({} tokenized, {} dropped{}): {} document tokens",
            thousands(self.documents_in),
            thousands(self.documents_out),
            thousands(dropped),
            if self.drops.is_empty() {
                String::new()
            } else {
                format!(": {}", self.drops.iter().map(|(r, n)| format!("{r} {n}")).collect::<Vec<_>>().join(", "))
            },
            thousands(self.document_tokens)
        )?;
        if self.pad_tokens > 0 {
            write!(f, ", {} padding", thousands(self.pad_tokens))?;
        }
        if self.discarded_tokens > 0 {
            write!(f, ", {} left over by the decomposition", thousands(self.discarded_tokens))?;
        }
        Ok(())
    }
}

/// Writes `<output>/dataset.json`, the dataset description DCLM keeps in `exp_data/datasets/tokenized/`
/// (tokshuf-rs's `make_exp_data_json`): `dataset_url`, `manifest_url`, `tokenized`, `tokenizer`,
/// `num_tokens` (sequences × seqlen, from the manifest), `size` (bytes of the shards and manifest) and
/// `data_key`, with a `uuid` derived from the manifest rather than random. Call it once every task of the
/// stage is committed (`size` needs every shard); it returns what it wrote. `decomposed` outputs get one
/// entry per bucket under `buckets`; `bin` outputs their files.
pub fn write_dataset_json(output: &str, name: Option<&str>) -> Result<Value, TokenizeError> {
    let summary = summarize(output)?;
    let root = Location::parse(output)
        .map_err(|e| TokenizeError::NotAnOutput { location: output.to_string(), reason: e.to_string() })?;
    let manifest_bytes = match summary.format.as_str() {
        "bin" => root.join("tokenize.json").read_bytes(),
        _ => root
            .join(&format!("{}manifest.jsonl", summary.sets.first().map(|s| s.dir.as_str()).unwrap_or("")))
            .read_bytes(),
    }
    .map_err(|e| TokenizeError::Artifact { location: output.to_string(), reason: e.to_string() })?;
    let base = output.trim_end_matches('/');
    let default_name = base.rsplit('/').next().unwrap_or("tokenized").to_string();
    let mut manifests_size = 0;
    for set in &summary.sets {
        manifests_size += size_of(&root.join(&format!("{}manifest.jsonl", set.dir)))?;
    }
    let mut dataset = serde_json::json!({
        "uuid": sluice_core::provenance::derived_uuid(&manifest_bytes),
        "name": name.map(str::to_string).unwrap_or(default_name),
        "dataset_url": format!("{base}/"),
        "manifest_url": format!("{base}/manifest.jsonl"),
        "sources": [],
        "tokenized": true,
        "tokenizer": summary.tokenizer,
        "num_tokens": summary.tokens,
        "size": summary.bytes + manifests_size,
        "dcnlp_commit_hash": "",
        "dcnlp_diff": "",
        "data_key": if summary.format == "openlm" { "json.gz" } else if summary.format == "bin" { "bin" } else { "json.gz" },
        "sampling_yaml": null,
        "format": summary.format,
        "num_sequences": summary.sequences,
    });
    match summary.format.as_str() {
        "decomposed" => {
            dataset.as_object_mut().expect("an object").remove("manifest_url");
            dataset["buckets"] = summary
                .sets
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "bucket": s.bucket,
                        "seq_len": s.seq_len,
                        "manifest_url": format!("{base}/{}manifest.jsonl", s.dir),
                        "num_sequences": s.sequences,
                        "num_tokens": s.tokens,
                        "shards": s.shards,
                    })
                })
                .collect();
            let description = read_json(&root.join("tokenize.json"))?;
            dataset["data_key"] = description["data_key"].clone();
        }
        "bin" => {
            dataset.as_object_mut().expect("an object").remove("manifest_url");
            dataset["manifest_url"] = format!("{base}/tokenize.json").into();
        }
        _ => {}
    }
    let bytes = serde_json::to_vec_pretty(&dataset)
        .map_err(|e| TokenizeError::Artifact { location: output.to_string(), reason: e.to_string() })?;
    root.join("dataset.json")
        .put_bytes(bytes)
        .map_err(|e| TokenizeError::Artifact { location: format!("{base}/dataset.json"), reason: e.to_string() })?;
    Ok(dataset)
}
