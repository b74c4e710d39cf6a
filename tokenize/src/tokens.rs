//! The first phase, one task per input file: documents → ids (in parallel over documents and over the
//! pieces of long documents) → the file's token stream, consumed in document order by a sink:
//!
//! * [`ContextSink`] (`openlm`): documents (`[BOS] ids EOT`) concatenated into `seqlen`-token contexts
//!   exactly as tokshuf-rs cuts them — documents span contexts, contexts never span files, the last
//!   context is padded with PAD (an empty remainder gives one all-PAD context) — each scattered to a cell
//!   by a seeded hash of (file, context index);
//! * [`SequenceSink`] (`decomposed`): each document cut into 2^k+1-token sequences (DD), each scattered to
//!   a cell of its bucket;
//! * [`BinSink`] (`bin`): the token stream itself and a document index, written straight to the output.

use std::io::Write;

use rayon::prelude::*;
use sluice_core::format::{DocumentReader, Records};
use sluice_core::runner::{ShardStats, TaskContext};
use sluice_core::{Error, Result};

use crate::config::{OutputFormat, TokenizeConfig};
use crate::dd::decompose;
use crate::encoder::{Encoder, TokenWidth};
use crate::records::Scatter;
use crate::rng::{hash_parts, mix, reduce, Rng};

/// Documents are encoded in rounds of about this much text (all threads work on one round).
const ROUND_BYTES: usize = 8 << 20;
const ROUND_DOCS: usize = 16384;

/// Receives a file's documents as ids, in order.
pub trait TokenSink {
    /// One document: its ids in pieces (the sink adds BOS/EOT).
    fn document(&mut self, context: &mut TaskContext, ids: &[&[u32]]) -> Result<()>;
    /// The end of the file.
    fn finish(self: Box<Self>, context: &mut TaskContext) -> Result<()>;
}

/// Reads every document of `input`, encodes them and feeds `sink`; counts documents in `stats`.
pub fn tokenize_documents(
    encoder: &Encoder,
    reader: &mut dyn DocumentReader,
    sink: &mut dyn TokenSink,
    context: &mut TaskContext,
) -> Result<()> {
    let mut stats = ShardStats::default();
    let mut round: Vec<Records> = Vec::new();
    let (mut round_bytes, mut round_docs) = (0usize, 0usize);
    loop {
        let next = reader.next_records()?;
        let end = next.is_none();
        if let Some(records) = next {
            round_bytes += text_bytes(&records);
            round_docs += records.len();
            round.push(records);
        }
        if (end && !round.is_empty()) || round_bytes >= ROUND_BYTES || round_docs >= ROUND_DOCS {
            encode_round(encoder, &round, sink, context, &mut stats)?;
            round.clear();
            round_bytes = 0;
            round_docs = 0;
        }
        if end {
            break;
        }
    }
    for (kind, n) in reader.skipped() {
        stats.docs_in += n;
        stats.drop_docs("unreadable", *n);
        stats.errors(kind, *n);
    }
    for (kind, n) in reader.repaired() {
        stats.errors(kind, *n);
    }
    context.stats.merge(&stats);
    Ok(())
}

fn text_bytes(records: &Records) -> usize {
    match records {
        Records::Batch(batch) => batch.text_bytes(),
        Records::Documents(docs) => docs.iter().map(|d| d.text.len()).sum(),
    }
}

/// Encodes one round of documents on every thread, then feeds them to the sink in order.
fn encode_round(
    encoder: &Encoder,
    round: &[Records],
    sink: &mut dyn TokenSink,
    context: &mut TaskContext,
    stats: &mut ShardStats,
) -> Result<()> {
    let mut texts: Vec<&str> = Vec::new();
    for records in round {
        match records {
            Records::Batch(batch) => texts.extend(batch.text().iter().map(Option::unwrap_or_default)),
            Records::Documents(docs) => texts.extend(docs.iter().map(|d| d.text.as_str())),
        }
    }
    // Every piece of every document is one job; `pieces[d]..pieces[d + 1]` are document d's.
    let mut jobs: Vec<&str> = Vec::with_capacity(texts.len());
    let mut starts = Vec::with_capacity(texts.len() + 1);
    for text in &texts {
        starts.push(jobs.len());
        if !text.is_empty() {
            jobs.extend(encoder.pieces(text));
        }
    }
    starts.push(jobs.len());
    let encoded: Vec<_> = jobs.par_iter().map(|piece| encoder.encode_piece(piece)).collect();

    let mut parts: Vec<&[u32]> = Vec::new();
    for (d, text) in texts.iter().enumerate() {
        stats.docs_in += 1;
        if text.is_empty() {
            stats.drop_doc("empty_text");
            continue;
        }
        let results = &encoded[starts[d]..starts[d + 1]];
        if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
            tracing::debug!("document {d} of this round: {e}");
            stats.drop_doc("encode_failed");
            stats.error("encode_failed");
            continue;
        }
        parts.clear();
        parts.extend(results.iter().map(|r| r.as_ref().expect("checked above").as_slice()));
        if parts.iter().all(|p| p.is_empty()) {
            stats.drop_doc("no_tokens");
            continue;
        }
        if parts.len() > 1 {
            stats.count("documents_split", 1);
            stats.count("document_pieces", parts.len() as u64);
        }
        stats.docs_out += 1;
        stats.bytes_out += text.len() as u64;
        stats.count("document_tokens", parts.iter().map(|p| p.len() as u64).sum());
        sink.document(context, &parts)?;
    }
    Ok(())
}

/// The ids the stage adds around each document.
#[derive(Debug, Clone, Copy)]
pub struct Specials {
    pub bos: Option<u32>,
    pub eot: u32,
    pub pad: u32,
    pub width: TokenWidth,
}

impl Specials {
    pub fn of(encoder: &Encoder) -> Specials {
        Specials { bos: encoder.bos, eot: encoder.eot, pad: encoder.pad, width: encoder.width }
    }
}

/// The stable id of record `index` of a file: also the name of its tar member, so a context can be
/// traced to its file and position.
pub fn record_id(file_seed: u64, index: u64) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(&index.to_le_bytes(), file_seed)
}

/// The cell of a record (independent of its id's use as a name).
pub fn cell_of(id: u64, cells: usize) -> usize {
    reduce(mix(id ^ 0x6365_6c6c_5f6f_6621), cells as u64) as usize
}

/// The seed of a file's record ids: the run's seed and the file's key (not its position, so adding a
/// file elsewhere does not move this one's records).
pub fn file_seed(seed: u64, key: &str, what: &str) -> u64 {
    hash_parts(seed, &[what.as_bytes(), key.as_bytes()])
}

/// Cell artifact names of one file: `<key>/cell-NNNNN.bin`, or `<key>/D_k/cell-NNNNN.bin` per bucket.
pub fn cell_name(key: &str, bucket: Option<u32>, cell: usize) -> String {
    match bucket {
        None => format!("{key}/cell-{cell:05}.bin"),
        Some(k) => format!("{key}/D_{k}/cell-{cell:05}.bin"),
    }
}

/// `openlm`: contexts of `seqlen` tokens, scattered into cells.
pub struct ContextSink {
    specials: Specials,
    seqlen: usize,
    cells: usize,
    shuffle: bool,
    file_seed: u64,
    pending: Vec<u32>,
    index: u64,
    scatter: Scatter,
}

impl ContextSink {
    pub fn new(config: &TokenizeConfig, specials: Specials, key: &str) -> ContextSink {
        let cells = if config.shuffle { config.cells } else { 1 };
        ContextSink {
            specials,
            seqlen: config.seqlen,
            cells,
            shuffle: config.shuffle,
            file_seed: file_seed(config.seed, key, "context"),
            pending: Vec::with_capacity(config.seqlen),
            index: 0,
            scatter: Scatter::new((0..cells).map(|c| cell_name(key, None, c)).collect()),
        }
    }

    fn feed(&mut self, context: &mut TaskContext, mut tokens: &[u32]) -> Result<()> {
        while !tokens.is_empty() {
            let take = (self.seqlen - self.pending.len()).min(tokens.len());
            self.pending.extend_from_slice(&tokens[..take]);
            tokens = &tokens[take..];
            if self.pending.len() == self.seqlen {
                self.emit(context)?;
            }
        }
        Ok(())
    }

    fn emit(&mut self, context: &mut TaskContext) -> Result<()> {
        let id = record_id(self.file_seed, self.index);
        let cell = if self.shuffle { cell_of(id, self.cells) } else { 0 };
        self.scatter.push(context, cell, id, &self.pending, self.specials.width)?;
        self.index += 1;
        self.pending.clear();
        Ok(())
    }
}

impl TokenSink for ContextSink {
    fn document(&mut self, context: &mut TaskContext, ids: &[&[u32]]) -> Result<()> {
        if let Some(bos) = self.specials.bos {
            self.feed(context, &[bos])?;
        }
        for part in ids {
            self.feed(context, part)?;
        }
        self.feed(context, &[self.specials.eot])
    }

    fn finish(mut self: Box<Self>, context: &mut TaskContext) -> Result<()> {
        // tokshuf-rs: the remainder is padded to one full context — an empty remainder too.
        let pad = self.seqlen - self.pending.len();
        self.pending.resize(self.seqlen, self.specials.pad);
        self.emit(context)?;
        context.stats.count("pad_tokens", pad as u64);
        context.stats.count("contexts", self.index);
        self.scatter.finish(context)?;
        Ok(())
    }
}

/// `decomposed`: each document cut into 2^k+1-token sequences (DD), scattered into the cells of their
/// buckets.
pub struct SequenceSink {
    specials: Specials,
    min: u32,
    max: u32,
    randomize: bool,
    cells: usize,
    shuffle: bool,
    seed: u64,
    key: String,
    file_seed: u64,
    document: Vec<u32>,
    documents: u64,
    index: u64,
    per_bucket: Vec<(u64, u64)>,
    discarded: u64,
    scatter: Scatter,
}

impl SequenceSink {
    pub fn new(config: &TokenizeConfig, specials: Specials, key: &str) -> SequenceSink {
        let dd = &config.decomposition;
        let cells = if config.shuffle { config.cells } else { 1 };
        let names = dd.buckets().flat_map(|k| (0..cells).map(move |c| cell_name(key, Some(k), c))).collect();
        SequenceSink {
            specials,
            min: dd.min_bucket,
            max: dd.max_bucket,
            randomize: dd.randomize,
            cells,
            shuffle: config.shuffle,
            seed: config.seed,
            key: key.to_string(),
            file_seed: file_seed(config.seed, key, "sequence"),
            document: Vec::new(),
            documents: 0,
            index: 0,
            per_bucket: vec![(0, 0); (dd.max_bucket - dd.min_bucket + 1) as usize],
            discarded: 0,
            scatter: Scatter::new(names),
        }
    }
}

impl TokenSink for SequenceSink {
    fn document(&mut self, context: &mut TaskContext, ids: &[&[u32]]) -> Result<()> {
        let doc = &mut self.document;
        doc.clear();
        doc.extend(self.specials.bos);
        ids.iter().for_each(|part| doc.extend_from_slice(part));
        doc.push(self.specials.eot);
        let mut rng = Rng::for_parts(self.seed, &[b"decompose", self.key.as_bytes(), &self.documents.to_le_bytes()]);
        self.documents += 1;
        let pieces = decompose(doc.len(), self.min, self.max, self.randomize, &mut rng);
        let mut used = 0;
        for piece in pieces {
            let id = record_id(self.file_seed, self.index);
            self.index += 1;
            let cell = if self.shuffle { cell_of(id, self.cells) } else { 0 };
            let bucket = (piece.k - self.min) as usize;
            let slot = bucket * self.cells + cell;
            let tokens = &self.document[piece.start..piece.start + piece.len()];
            self.scatter.push(context, slot, id, tokens, self.specials.width)?;
            self.per_bucket[bucket].0 += 1;
            self.per_bucket[bucket].1 += piece.len() as u64;
            used += piece.len();
        }
        self.discarded += (self.document.len() - used) as u64;
        Ok(())
    }

    fn finish(self: Box<Self>, context: &mut TaskContext) -> Result<()> {
        for (i, (sequences, tokens)) in self.per_bucket.iter().enumerate() {
            let k = self.min + i as u32;
            context.stats.count(&format!("sequences:D_{k}"), *sequences);
            context.stats.count(&format!("sequence_tokens:D_{k}"), *tokens);
        }
        context.stats.count("discarded_tokens", self.discarded);
        self.scatter.finish(context)?;
        Ok(())
    }
}

/// `bin`: the file's token stream (`<key>.bin`), its document index (`<key>.idx`: u64 token offsets,
/// documents + 1 of them) and a header (`<key>.header.json`).
pub struct BinSink {
    specials: Specials,
    key: String,
    source: String,
    tokenizer: String,
    tokens: std::io::BufWriter<std::fs::File>,
    index: std::io::BufWriter<std::fs::File>,
    buffer: Vec<u8>,
    offset: u64,
    documents: u64,
}

impl BinSink {
    pub fn new(
        context: &mut TaskContext,
        specials: Specials,
        key: &str,
        source: &str,
        tokenizer: &str,
    ) -> Result<BinSink> {
        let tokens = context.create_artifact(&format!("{key}.bin"))?;
        let mut index = context.create_artifact(&format!("{key}.idx"))?;
        index.write_all(&0u64.to_le_bytes()).map_err(|e| Error::io(format!("{key}.idx"), e))?;
        Ok(BinSink {
            specials,
            key: key.to_string(),
            source: source.to_string(),
            tokenizer: tokenizer.to_string(),
            tokens,
            index,
            buffer: Vec::new(),
            offset: 0,
            documents: 0,
        })
    }
}

impl TokenSink for BinSink {
    fn document(&mut self, _context: &mut TaskContext, ids: &[&[u32]]) -> Result<()> {
        let width = self.specials.width;
        self.buffer.clear();
        let mut n = 1u64;
        if let Some(bos) = self.specials.bos {
            width.put(&[bos], &mut self.buffer);
            n += 1;
        }
        for part in ids {
            width.put(part, &mut self.buffer);
            n += part.len() as u64;
        }
        width.put(&[self.specials.eot], &mut self.buffer);
        self.offset += n;
        self.documents += 1;
        let name = || format!("{}.bin", self.key);
        self.tokens.write_all(&self.buffer).map_err(|e| Error::io(name(), e))?;
        self.index.write_all(&self.offset.to_le_bytes()).map_err(|e| Error::io(format!("{}.idx", self.key), e))
    }

    fn finish(mut self: Box<Self>, context: &mut TaskContext) -> Result<()> {
        self.tokens.flush().map_err(|e| Error::io(format!("{}.bin", self.key), e))?;
        self.index.flush().map_err(|e| Error::io(format!("{}.idx", self.key), e))?;
        let header = serde_json::json!({
            "format": "sluice-bin",
            "version": 1,
            "dtype": self.specials.width.name(),
            "byte_order": "little",
            "tokens": self.offset,
            "documents": self.documents,
            "bin": format!("{}.bin", self.key),
            "idx": format!("{}.idx", self.key),
            "idx_dtype": "u64",
            "eot_id": self.specials.eot,
            "bos_id": self.specials.bos,
            "tokenizer": self.tokenizer,
            "source": self.source,
        });
        let name = format!("{}.header.json", self.key);
        let mut out = context.create_artifact(&name)?;
        serde_json::to_writer_pretty(&mut out, &header).map_err(|e| Error::Other(format!("{name}: {e}")))?;
        out.write_all(b"\n").and_then(|_| out.flush()).map_err(|e| Error::io(name.as_str(), e))?;
        context.stats.count("tokens", self.offset);
        Ok(())
    }
}

/// The sink for `config.format`.
pub fn sink_for(
    config: &TokenizeConfig,
    encoder: &Encoder,
    context: &mut TaskContext,
    key: &str,
    source: &str,
) -> Result<Box<dyn TokenSink>> {
    let specials = Specials::of(encoder);
    Ok(match config.format {
        OutputFormat::Openlm => Box::new(ContextSink::new(config, specials, key)),
        OutputFormat::Decomposed => Box::new(SequenceSink::new(config, specials, key)),
        OutputFormat::Bin => Box::new(BinSink::new(context, specials, key, source, &encoder.name)?),
    })
}
