//! The second phase: the cells (or, unshuffled, the files) of the first phase become the output shards.
//!
//! ## One global order, cut into shards
//! A *stream* is the contexts (`openlm`) or one bucket's sequences (`decomposed`). Its records are put in
//! one order: group after group — cell 0, 1, … (or file after file, unshuffled) — each group's records
//! (its pieces from every file, in input order) permuted by a Fisher–Yates shuffle seeded with (seed,
//! group). That order is cut into shards of `wds_chunk_size` records (DD: its per-bucket shard size):
//! shard `s` holds positions `s·W .. (s+1)·W`, so every shard is full except the stream's last, and
//! shard numbers follow from the counts alone — known from the first phase's artifact sizes when this
//! phase is planned, whatever the threads or workers.
//!
//! One task per group writes the shards that *start* in it (possibly none); the last of them takes its
//! tail from the next group(s), whose permutation it recomputes (seed and count are all it needs) and whose pieces it
//! reads for the few records it takes. A task's output depends on where its group starts and where its
//! shards end, so both are part of its inputs' identity (a first input `@layout` that is never read):
//! a change in another group that moves them redoes it.
//!
//! ## Memory
//! A task holds at most `shuffle_memory` of records at once — a *window* of output positions — plus 4
//! bytes per record of each group it reads (the permutation) and the gzip of a few hundred contexts. A
//! group larger than the window is gathered in several sequential passes over its pieces (each pass
//! picks the records of one window). The output never depends on the window.

use std::collections::HashMap;
use std::io::{BufReader, Read, Write};

use rayon::prelude::*;
use sluice_core::runner::{PlanContext, Task, TaskContext, TaskInput};
use sluice_core::{Error, Result};

use crate::config::{OutputFormat, ShardFormat, TokenizeConfig};
use crate::dd::{dd_params, BucketCount};
use crate::encoder::{Encoder, TokenWidth};
use crate::member::MemberEncoder;
use crate::records::{record_bytes, record_id};
use crate::rng::{permutation, Rng};

/// The name of the synthetic first input of every task of this phase.
const LAYOUT: &str = "@layout";
/// Contexts gzipped in parallel at a time.
const RENDER_BATCH: usize = 512;

/// A sequence of fixed-length records cut into shards.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// The DD bucket (`None`: `openlm` contexts).
    pub bucket: Option<u32>,
    /// Tokens per record.
    pub tokens: usize,
    /// Records per shard.
    pub shard_size: u64,
    pub shard_format: ShardFormat,
}

impl Stream {
    /// The folder of its shards in the output (`""` or `D_k/`).
    pub fn dir(&self) -> String {
        self.bucket.map(|k| format!("D_{k}/")).unwrap_or_default()
    }

    fn task_prefix(&self) -> String {
        self.bucket.map(|k| format!("D_{k}-")).unwrap_or_default()
    }

    /// The output name of shard `s`.
    pub fn shard_name(&self, s: u64) -> String {
        let ext = match self.shard_format {
            ShardFormat::Openlm => "tar",
            ShardFormat::Bin => "bin",
        };
        format!("{}shard_{s:08}.{ext}", self.dir())
    }
}

/// The streams of a configuration.
pub fn streams(config: &TokenizeConfig) -> Vec<Stream> {
    match config.format {
        OutputFormat::Decomposed => config
            .decomposition
            .buckets()
            .map(|k| Stream {
                bucket: Some(k),
                tokens: (1usize << k) + 1,
                shard_size: config.decomposition.shard_size(k),
                shard_format: config.decomposition.shard_format,
            })
            .collect(),
        _ => vec![Stream {
            bucket: None,
            tokens: config.seqlen,
            shard_size: config.wds_chunk_size as u64,
            shard_format: ShardFormat::Openlm,
        }],
    }
}

/// A group of pieces that are shuffled together.
struct Group {
    /// What seeds its permutation (`cell-00003.bin`, `D_9/cell-00003.bin`), or the file for unshuffled.
    id: String,
    tag: String,
    pieces: Vec<TaskInput>,
    count: u64,
    offset: u64,
}

/// Where a first-phase artifact belongs: (file key, bucket, cell, group id).
fn parse_artifact(relative: &str) -> Option<(&str, Option<u32>, usize, &str)> {
    let (key, rest) = relative.split_once('/')?;
    let (bucket, file) = match rest.strip_prefix("D_") {
        Some(after) => {
            let (k, file) = after.split_once('/')?;
            (Some(k.parse().ok()?), file)
        }
        None => (None, rest),
    };
    let cell = file.strip_prefix("cell-")?.strip_suffix(".bin")?.parse().ok()?;
    Some((key, bucket, cell, rest))
}

/// Plans the shard tasks of every stream and the manifest task (key `manifest_key`).
pub fn plan(
    config: &TokenizeConfig,
    width: TokenWidth,
    context: &PlanContext,
    manifest_key: &str,
) -> Result<Vec<Task>> {
    let positions: HashMap<String, usize> = context.input_keys().into_iter().enumerate().map(|(i, k)| (k, i)).collect();
    let anchor = context
        .inputs
        .first()
        .or(context.artifacts(0).first())
        .ok_or_else(|| Error::Other("tokenize: nothing to shard (no inputs)".into()))?
        .location
        .clone();
    let mut tasks = Vec::new();
    let mut totals = Vec::new();
    for stream in streams(config) {
        let record = record_bytes(stream.tokens, width) as u64;
        // (sort key, group id, tag, piece)
        let mut pieces: Vec<((usize, usize), String, String, TaskInput)> = Vec::new();
        for artifact in context.artifacts(0) {
            let Some((key, bucket, cell, rest)) = parse_artifact(&artifact.relative) else {
                return Err(Error::Other(format!("tokenize: unexpected intermediate file {}", artifact.relative)));
            };
            if bucket != stream.bucket {
                continue;
            }
            if artifact.size % record != 0 {
                return Err(Error::Other(format!(
                    "tokenize: {} is {} bytes, not a whole number of {record}-byte records (damaged?)",
                    artifact.relative, artifact.size
                )));
            }
            let position = *positions.get(key).unwrap_or(&usize::MAX);
            let piece = if config.shuffle {
                ((cell, position), rest.to_string(), format!("cell-{cell:05}"), artifact.clone())
            } else {
                ((position, 0), format!("{}/{key}", stream.dir()), format!("file-{key}"), artifact.clone())
            };
            pieces.push(piece);
        }
        pieces.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.3.relative.cmp(&b.3.relative)));
        let mut groups: Vec<Group> = Vec::new();
        for (_, id, tag, piece) in pieces {
            let count = piece.size / record;
            match groups.last_mut() {
                Some(group) if group.id == id => {
                    group.count += count;
                    group.pieces.push(piece);
                }
                _ => groups.push(Group { id, tag, pieces: vec![piece], count, offset: 0 }),
            }
        }
        let mut total = 0;
        for group in &mut groups {
            group.offset = total;
            total += group.count;
        }
        totals.push((stream.bucket, total));
        let w = stream.shard_size;
        for (g, group) in groups.iter().enumerate() {
            let first = group.offset.div_ceil(w);
            let after = (group.offset + group.count).div_ceil(w);
            // A group in which no shard starts (its records all go to the previous group's last shard)
            // still gets a task that writes nothing: the set of task keys stays the cells that hold data,
            // so a rerun whose counts moved does not prune another task's shard as an orphan.
            let end = if first < after { (after * w).min(total) } else { group.offset };
            let layout = TaskInput {
                location: anchor.clone(),
                relative: LAYOUT.into(),
                size: 0,
                identity: format!("layout:offset={}:end={end}", group.offset),
                position: 0,
                within_output: Some(LAYOUT.into()),
            };
            let mut inputs = vec![layout];
            for next in &groups[g..] {
                inputs.extend(next.pieces.iter().cloned());
                if next.offset + next.count >= end {
                    break;
                }
            }
            tasks.push(Task { key: format!("{}{}", stream.task_prefix(), group.tag), inputs, partition: Some(g) });
        }
    }
    let counts: Vec<String> =
        totals.iter().map(|(b, n)| format!("{}={n}", b.map(|k| k.to_string()).unwrap_or_default())).collect();
    let layout = TaskInput {
        location: anchor,
        relative: LAYOUT.into(),
        size: 0,
        identity: format!("layout:streams={}", counts.join(",")),
        position: 0,
        within_output: Some(LAYOUT.into()),
    };
    tasks.push(Task { key: manifest_key.to_string(), inputs: vec![layout], partition: None });
    Ok(tasks)
}

fn layout_field(task: &Task, field: &str) -> Result<String> {
    let identity = task
        .inputs
        .first()
        .filter(|i| i.relative == LAYOUT)
        .map(|i| i.identity.as_str())
        .ok_or_else(|| Error::Other(format!("tokenize task {} has no layout (a planning bug)", task.key)))?;
    identity
        .split(':')
        .find_map(|part| part.strip_prefix(field).and_then(|v| v.strip_prefix('=')))
        .map(str::to_string)
        .ok_or_else(|| Error::Other(format!("tokenize task {}: layout '{identity}' lacks {field}", task.key)))
}

/// Runs one shard task: gathers its positions window by window and writes its shards.
pub fn write_shards(config: &TokenizeConfig, width: TokenWidth, task: &Task, context: &mut TaskContext) -> Result<()> {
    let parse = |v: String| v.parse::<u64>().map_err(|e| Error::Other(format!("tokenize task {}: {e}", task.key)));
    let offset = parse(layout_field(task, "offset")?)?;
    let end = parse(layout_field(task, "end")?)?;
    let pieces = &task.inputs[1..];
    let first = pieces.first().ok_or_else(|| Error::Other(format!("tokenize task {} has no input", task.key)))?;
    let (_, bucket, _, _) = parse_artifact(&first.relative)
        .ok_or_else(|| Error::Other(format!("tokenize: unexpected intermediate file {}", first.relative)))?;
    let stream = streams(config)
        .into_iter()
        .find(|s| s.bucket == bucket)
        .ok_or_else(|| Error::Other(format!("tokenize: {} is not a bucket of this configuration", first.relative)))?;
    let record = record_bytes(stream.tokens, width);

    // The groups this task reads, in order.
    let mut groups: Vec<(String, Vec<&TaskInput>, u64)> = Vec::new();
    for piece in pieces {
        let (key, _, _, rest) = parse_artifact(&piece.relative)
            .ok_or_else(|| Error::Other(format!("tokenize: unexpected intermediate file {}", piece.relative)))?;
        let id = if config.shuffle { rest.to_string() } else { format!("{}/{key}", stream.dir()) };
        let count = piece.size / record as u64;
        match groups.last_mut() {
            Some(group) if group.0 == id => {
                group.1.push(piece);
                group.2 += count;
            }
            _ => groups.push((id, vec![piece], count)),
        }
    }
    if end == offset {
        return Ok(()); // no shard starts in this group
    }
    let w = stream.shard_size;
    let start = offset.div_ceil(w) * w - offset;
    let stop = end - offset;
    let available: u64 = groups.iter().map(|g| g.2).sum();
    if stop > available || start >= stop {
        return Err(Error::Other(format!(
            "tokenize task {}: positions {start}..{stop} but {available} records in its inputs (a planning bug)",
            task.key
        )));
    }

    let window = (config.shuffle_memory.0 / record as u64).max(1);
    let mut perms: Vec<Option<Vec<u32>>> = vec![None; groups.len()];
    let mut writer = ShardWriter::new(&stream, width, config.gzip_level);
    let mut buffer = Vec::new();
    let (mut passes, mut largest_window) = (0u64, 0u64);
    let mut a = start;
    while a < stop {
        let b = (a + window).min(stop);
        buffer.clear();
        buffer.resize((b - a) as usize * record, 0);
        let mut group_start = 0u64;
        for (g, (id, group_pieces, count)) in groups.iter().enumerate() {
            let (lo, hi) = (a.max(group_start), b.min(group_start + count));
            if lo < hi {
                if config.shuffle && perms[g].is_none() {
                    let mut rng = Rng::for_parts(config.seed, &[b"shuffle", id.as_bytes()]);
                    perms[g] = Some(permutation(*count as usize, &mut rng));
                }
                let mut wanted: Vec<(u64, usize)> = (lo..hi)
                    .map(|pos| {
                        let local = pos - group_start;
                        let index = perms[g].as_ref().map_or(local, |p| p[local as usize] as u64);
                        (index, (pos - a) as usize)
                    })
                    .collect();
                wanted.sort_unstable();
                gather(context, group_pieces, record, &wanted, &mut buffer)?;
                passes += 1;
            }
            group_start += count;
        }
        largest_window = largest_window.max(b - a);
        writer.write(context, offset + a, &buffer, record)?;
        a = b;
    }
    let shards = writer.finish()?;
    context.stats.count("records", stop - start);
    context.stats.count("shards", shards);
    context.stats.count("gather_passes", passes);
    context.stats.count("window_records_max", largest_window);
    Ok(())
}

/// Reads the records `wanted` (record index within the group's pieces → slot in `buffer`, sorted by
/// index) in one sequential pass over the pieces.
fn gather(
    context: &TaskContext,
    pieces: &[&TaskInput],
    record: usize,
    wanted: &[(u64, usize)],
    buffer: &mut [u8],
) -> Result<()> {
    let mut next = 0;
    let mut piece_start = 0u64;
    for piece in pieces {
        let count = piece.size / record as u64;
        if next == wanted.len() {
            break;
        }
        if wanted[next].0 >= piece_start + count {
            piece_start += count;
            continue;
        }
        let io = |e| Error::io(piece.location.to_string(), e);
        let mut reader = BufReader::with_capacity(1 << 20, context.open_raw(piece)?);
        let mut at = piece_start;
        while next < wanted.len() && wanted[next].0 < piece_start + count {
            let (index, slot) = wanted[next];
            let skip = (index - at) * record as u64;
            if skip > 0 {
                let skipped = std::io::copy(&mut (&mut reader).take(skip), &mut std::io::sink()).map_err(io)?;
                if skipped != skip {
                    return Err(Error::Other(format!("{}: shorter than its recorded size", piece.location)));
                }
            }
            let target = &mut buffer[slot * record..(slot + 1) * record];
            reader.read_exact(target).map_err(io)?;
            at = index + 1;
            next += 1;
        }
        piece_start += count;
    }
    if next != wanted.len() {
        return Err(Error::Other("tokenize: records missing from the intermediate files".into()));
    }
    Ok(())
}

/// Writes records at global positions into shard files (tar of gzipped JSON, or flat tokens).
struct ShardWriter<'s> {
    stream: &'s Stream,
    width: TokenWidth,
    gzip_level: u32,
    current: Option<(u64, String, std::io::BufWriter<std::fs::File>)>,
    shards: u64,
}

impl<'s> ShardWriter<'s> {
    fn new(stream: &'s Stream, width: TokenWidth, gzip_level: u32) -> Self {
        ShardWriter { stream, width, gzip_level, current: None, shards: 0 }
    }

    /// Writes `records` (consecutive, from global position `first`).
    fn write(&mut self, context: &mut TaskContext, first: u64, records: &[u8], record: usize) -> Result<()> {
        let count = records.len() / record;
        let w = self.stream.shard_size;
        let mut done = 0;
        while done < count {
            let batch = (count - done).min(RENDER_BATCH);
            let slice = &records[done * record..(done + batch) * record];
            let rendered: Vec<(u64, Vec<u8>)> = match self.stream.shard_format {
                ShardFormat::Openlm => {
                    let (width, level) = (self.width, self.gzip_level);
                    slice
                        .par_chunks(record)
                        .enumerate()
                        .map_init(
                            || (MemberEncoder::new(level), Vec::new()),
                            |(encoder, tokens), (i, rec)| {
                                let pos = first + (done + i) as u64;
                                tokens.clear();
                                width.get(&rec[8..], tokens);
                                let name = MemberEncoder::name(pos / w, pos % w, record_id(rec));
                                let mut out = Vec::with_capacity(tokens.len() * 3 + 1024);
                                encoder.append(&mut out, &name, tokens).map(|_| (pos, out))
                            },
                        )
                        .collect::<std::io::Result<_>>()
                        .map_err(|e| Error::io("tar member", e))?
                }
                ShardFormat::Bin => slice
                    .chunks(record)
                    .enumerate()
                    .map(|(i, rec)| (first + (done + i) as u64, rec[8..].to_vec()))
                    .collect(),
            };
            for (pos, bytes) in rendered {
                let shard = pos / w;
                if self.current.as_ref().is_none_or(|c| c.0 != shard) {
                    self.close()?;
                    let name = self.stream.shard_name(shard);
                    let file = context.create_artifact(&name)?;
                    self.current = Some((shard, name, file));
                    self.shards += 1;
                }
                let (_, name, file) = self.current.as_mut().expect("opened above");
                file.write_all(&bytes).map_err(|e| Error::io(name.as_str(), e))?;
            }
            done += batch;
        }
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        if let Some((_, name, mut file)) = self.current.take() {
            let result = match self.stream.shard_format {
                ShardFormat::Openlm => crate::tar::finish(&mut file).and_then(|_| file.flush()),
                ShardFormat::Bin => file.flush(),
            };
            result.map_err(|e| Error::io(name, e))?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<u64> {
        self.close()?;
        Ok(self.shards)
    }
}

/// The counts of every stream, from the manifest task's layout.
fn stream_counts(task: &Task) -> Result<Vec<(Option<u32>, u64)>> {
    let value = layout_field(task, "streams")?;
    value
        .split(',')
        .map(|part| {
            let (bucket, n) = part.split_once('=').unwrap_or(("", part));
            let bucket = if bucket.is_empty() { None } else { bucket.parse().ok() };
            n.parse().map(|n| (bucket, n)).map_err(|e| Error::Other(format!("tokenize layout '{value}': {e}")))
        })
        .collect()
}

/// The manifest task: `manifest.jsonl` (per bucket for DD), `dd_params.json` and `tokenize.json`.
pub fn write_manifests(
    config: &TokenizeConfig,
    encoder: &Encoder,
    task: &Task,
    context: &mut TaskContext,
) -> Result<()> {
    let counts = stream_counts(task)?;
    let mut described = Vec::new();
    for stream in streams(config) {
        let total = counts.iter().find(|(b, _)| *b == stream.bucket).map(|(_, n)| *n).unwrap_or(0);
        let w = stream.shard_size;
        let shards = total.div_ceil(w);
        let name = format!("{}manifest.jsonl", stream.dir());
        let mut out = context.create_artifact(&name)?;
        for s in 0..shards {
            let n = w.min(total - s * w);
            let shard = stream.shard_name(s);
            let stem = shard.rsplit('/').next().unwrap_or(&shard);
            let stem = stem.rsplit_once('.').map_or(stem, |(stem, _)| stem);
            // open_lm's make_wds_manifest.py writes json.dumps({"shard": …, "num_sequences": …}).
            writeln!(out, "{{\"shard\": \"{stem}\", \"num_sequences\": {n}}}")
                .map_err(|e| Error::io(name.as_str(), e))?;
        }
        out.flush().map_err(|e| Error::io(name.as_str(), e))?;
        described.push(serde_json::json!({
            "bucket": stream.bucket,
            "dir": stream.dir(),
            "seq_len": stream.tokens,
            "sequences_per_shard": w,
            "num_sequences": total,
            "num_tokens": total * stream.tokens as u64,
            "shards": shards,
            "full_shards": total / w,
        }));
        context.stats.count("manifest_shards", shards);
    }
    let sequences: u64 = counts.iter().map(|(_, n)| n).sum();
    let tokens: u64 = described.iter().map(|d| d["num_tokens"].as_u64().unwrap_or(0)).sum();
    let mut description = describe(config, encoder);
    description["num_sequences"] = sequences.into();
    description["num_tokens"] = tokens.into();
    description["shards"] = described.iter().map(|d| d["shards"].as_u64().unwrap_or(0)).sum::<u64>().into();
    if config.format == OutputFormat::Decomposed {
        description["buckets"] = described.into();
        let bucket_counts: Vec<BucketCount> =
            counts.iter().filter_map(|(b, n)| b.map(|k| BucketCount { k, sequences: *n })).collect();
        let params = match dd_params(&bucket_counts, &config.decomposition) {
            Ok(params) => serde_json::to_value(params).map_err(|e| Error::Other(e.to_string()))?,
            Err(reason) => serde_json::json!({ "error": reason }),
        };
        write_json(context, "dd_params.json", &params)?;
    } else {
        description["manifest"] = "manifest.jsonl".into();
    }
    write_json(context, "tokenize.json", &description)
}

/// What every output's `tokenize.json` says about how it was made.
pub fn describe(config: &TokenizeConfig, encoder: &Encoder) -> serde_json::Value {
    let mut config_json = serde_json::to_value(config).unwrap_or_default();
    if let Some(map) = config_json.as_object_mut() {
        map.remove("shuffle_memory");
        if config.format != OutputFormat::Decomposed {
            map.remove("decomposition");
        }
    }
    serde_json::json!({
        "format": config.format,
        "stage_version": crate::stage::VERSION,
        "tokenizer": encoder.name,
        "tokenizer_xxh3": encoder.checksum,
        "vocab_size": encoder.vocab_size,
        "base_vocab_size": encoder.base_vocab,
        "eot_id": encoder.eot,
        "pad_id": encoder.pad,
        "bos_id": encoder.bos,
        "dtype": encoder.width.name(),
        "data_key": match (config.format, config.decomposition.shard_format) {
            (OutputFormat::Bin, _) | (OutputFormat::Decomposed, ShardFormat::Bin) => "bin",
            _ => "json.gz",
        },
        "config": config_json,
    })
}

/// Writes a JSON artifact (pretty, newline-terminated).
pub fn write_json(context: &mut TaskContext, name: &str, value: &serde_json::Value) -> Result<()> {
    let mut out = context.create_artifact(name)?;
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| Error::Other(format!("{name}: {e}")))?;
    out.write_all(b"\n").and_then(|_| out.flush()).map_err(|e| Error::io(name, e))
}

#[cfg(test)]
mod tests {
    use sluice_core::store::Location;

    use super::*;

    fn input(relative: &str, size: u64, position: usize) -> TaskInput {
        TaskInput {
            location: Location::parse(&format!("/tmp/{relative}")).unwrap(),
            relative: relative.into(),
            size,
            identity: format!("id:{relative}"),
            position,
            within_output: None,
        }
    }

    /// Cells of 7, 2 and 9 records (two files) with 5 records per shard: shards start at positions 0, 5
    /// (cell 0), none in cell 1 (7..9), 10 and 15 (cell 2); cell 0's second shard takes its tail from
    /// cells 1 and 2, cell 2's last shard is partial.
    #[test]
    fn shards_start_in_the_cell_that_writes_them() {
        let config = TokenizeConfig { seqlen: 4, wds_chunk_size: 5, cells: 3, ..Default::default() };
        let record = record_bytes(4, TokenWidth::U16) as u64;
        let inputs = [input("a.jsonl", 1, 0), input("b.jsonl", 1, 1)];
        let artifacts = vec![
            input("a/cell-00000.bin", 3 * record, 0),
            input("a/cell-00002.bin", 4 * record, 0),
            input("b/cell-00000.bin", 4 * record, 0),
            input("b/cell-00001.bin", 2 * record, 0),
            input("b/cell-00002.bin", 5 * record, 0),
        ];
        let earlier = [artifacts];
        let context = PlanContext { inputs: &inputs, earlier: &earlier };
        let tasks = plan(&config, TokenWidth::U16, &context, "manifest").unwrap();
        let summary: Vec<(String, String, Vec<String>)> = tasks
            .iter()
            .map(|t| {
                (
                    t.key.clone(),
                    t.inputs[0].identity.clone(),
                    t.inputs[1..].iter().map(|i| i.relative.clone()).collect(),
                )
            })
            .collect();
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            summary,
            vec![
                (
                    "cell-00000".into(),
                    "layout:offset=0:end=10".into(),
                    names(&[
                        "a/cell-00000.bin",
                        "b/cell-00000.bin",
                        "b/cell-00001.bin",
                        "a/cell-00002.bin",
                        "b/cell-00002.bin"
                    ])
                ),
                ("cell-00001".into(), "layout:offset=7:end=7".into(), names(&["b/cell-00001.bin"])),
                (
                    "cell-00002".into(),
                    "layout:offset=9:end=18".into(),
                    names(&["a/cell-00002.bin", "b/cell-00002.bin"])
                ),
                ("manifest".into(), "layout:streams==18".into(), vec![]),
            ]
        );
    }

    #[test]
    fn artifacts_parse_into_file_bucket_and_cell() {
        assert_eq!(parse_artifact("a__b/cell-00003.bin"), Some(("a__b", None, 3, "cell-00003.bin")));
        assert_eq!(parse_artifact("x/D_9/cell-00012.bin"), Some(("x", Some(9), 12, "D_9/cell-00012.bin")));
        assert_eq!(parse_artifact("x/other.bin"), None);
    }
}
