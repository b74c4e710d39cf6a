//! [`BffStage`]: BFF as one ordered task over every input file.
//!
//! Which copy of a duplicate survives depends on the order documents meet the filter. DCLM shuffles its
//! files and lets threads race on the filter; here the order is fixed — the sorted input list, then
//! document order within a file, then paragraph order — by running **one task** over all inputs. Inside
//! it, a batch's n-grams are hashed in parallel (on the runner's threads) while the previous batch is
//! checked against the filter in order, so the output does not depend on the thread or worker count. The
//! task writes one document file per input file, named by the input's key.

use std::io::Write;

use rayon::prelude::*;
use sluice_core::format::{DocumentReader, Format};
use sluice_core::runner::{DocumentSink, PhasedStage, PlanContext, ShardStats, Task, TaskContext, TaskInput};
use sluice_core::{Document, Result};

use super::config::BffConfig;
use super::error::BffError;
use super::filter::BloomFilter;
use super::ngrams::NgramHasher;
use super::remove::{apply, hash_document, Hashed, Rules, Tally};
use super::sizing;

/// The name of the saved filter in the stage output (`save_bloom_filter`).
pub const FILTER_ARTIFACT: &str = "bloom_filter.bff";
/// The drop reason of a document whose text BFF removed entirely.
pub const DROP_DUPLICATE: &str = "bff_duplicate";
/// The drop reason of a document whose text was blank to begin with (DCLM omits those lines too).
pub const DROP_EMPTY: &str = "empty_text";

/// The BFF dedup stage (see the module docs).
#[derive(Debug)]
pub struct BffStage {
    config: BffConfig,
    rules: Rules,
}

impl BffStage {
    /// Checks the configuration; nothing is read or allocated until the stage runs.
    pub fn new(config: BffConfig) -> Result<BffStage, BffError> {
        config.validate()?;
        let rules = Rules {
            remove_type: config.remove_type,
            min_ngram_size: config.min_ngram_size,
            max_ngram_size: config.max_ngram_size,
            threshold: config.threshold,
            substr_seqlen: config.substr_seqlen,
            annotate: config.annotate,
            read_only: config.read_only,
        };
        Ok(BffStage { config, rules })
    }

    pub fn config(&self) -> &BffConfig {
        &self.config
    }

    /// The size in bytes and hasher count of the filter a run starts with when it does not load one.
    pub fn new_filter_size(&self) -> (u64, usize) {
        let expected = self.config.expected_ngram_count.unwrap_or(1);
        let bytes = sizing::bloom_size(self.config.fp_rate, expected, self.config.num_hashers);
        let hashers = match self.config.num_hashers {
            0 => sizing::optimal_number_of_hashers(bytes, expected).max(1),
            k => k,
        };
        (bytes, hashers)
    }

    /// The filter a run starts with: the saved one, or a new empty one.
    pub fn open_filter(&self) -> Result<BloomFilter, BffError> {
        match &self.config.bloom_filter_file {
            Some(location) => BloomFilter::load(location),
            None => {
                let (bytes, hashers) = self.new_filter_size();
                BloomFilter::new(bytes, hashers)
            }
        }
    }

    /// Dedups one input file into the document file `key`.
    fn dedup_file(
        &self,
        input: &TaskInput,
        key: &str,
        filter: &mut BloomFilter,
        context: &mut TaskContext,
    ) -> Result<()> {
        let mut sink = context.create_documents(key)?;
        let mut reader = context.open_documents(input)?;
        let rules = self.rules;
        let read_and_hash = |reader: &mut Box<dyn DocumentReader>| -> Result<Option<(Vec<Document>, Vec<Hashed>)>> {
            let Some(batch) = reader.next_batch()? else { return Ok(None) };
            let hashed =
                batch.par_iter().map_init(NgramHasher::default, |h, doc| hash_document(&doc.text, &rules, h)).collect();
            Ok(Some((batch, hashed)))
        };
        let mut totals = Totals::default();
        let mut current = read_and_hash(&mut reader)?;
        while let Some((docs, hashed)) = current.take() {
            // The next batch is read and hashed while this one meets the filter, in order.
            let (next, applied) = rayon::join(
                || read_and_hash(&mut reader),
                || self.apply_batch(docs, &hashed, filter, &mut sink, &mut context.stats, &mut totals),
            );
            applied?;
            current = next?;
        }
        totals.record(&mut context.stats);
        // Lines the reader could not parse are documents too: counted in, dropped as unreadable.
        for (kind, n) in reader.skipped() {
            context.stats.docs_in += n;
            context.stats.drop_docs("unreadable", *n);
            context.stats.errors(kind, *n);
        }
        for (kind, n) in reader.repaired() {
            context.stats.errors(kind, *n);
        }
        context.finish_documents(sink)
    }

    /// Checks, inserts and cuts a batch in document order and writes what is left.
    fn apply_batch(
        &self,
        docs: Vec<Document>,
        hashed: &[Hashed],
        filter: &mut BloomFilter,
        sink: &mut DocumentSink,
        stats: &mut ShardStats,
        totals: &mut Totals,
    ) -> Result<()> {
        for (mut doc, hashed) in docs.into_iter().zip(hashed) {
            stats.docs_in += 1;
            let before = doc.text.len();
            let was_blank = doc.text.trim().is_empty();
            totals.tally.add(&apply(&mut doc, hashed, filter, &self.rules));
            if doc.text.trim().is_empty() {
                totals.bytes_removed += before as u64;
                stats.drop_doc(if was_blank { DROP_EMPTY } else { DROP_DUPLICATE });
                continue;
            }
            if doc.text.len() != before {
                totals.docs_changed += 1;
                totals.bytes_removed += (before - doc.text.len()) as u64;
            }
            sink.push(doc)?;
        }
        Ok(())
    }
}

/// Counters summed over a file.
#[derive(Debug, Default)]
struct Totals {
    tally: Tally,
    docs_changed: u64,
    bytes_removed: u64,
}

impl Totals {
    fn record(&self, stats: &mut ShardStats) {
        stats.count("bff:ngrams", self.tally.ngrams);
        stats.count("bff:ngrams_contained", self.tally.contained);
        stats.count("bff:units", self.tally.units);
        stats.count("bff:units_removed", self.tally.units_removed);
        stats.count("bff:docs_changed", self.docs_changed);
        stats.count("bff:text_bytes_removed", self.bytes_removed);
    }
}

/// Total RAM, from `/proc/meminfo` (Linux); `None` elsewhere.
fn total_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

impl PhasedStage for BffStage {
    fn name(&self) -> &str {
        "dedup-bff"
    }

    fn version(&self) -> u32 {
        1
    }

    fn fingerprint(&self) -> String {
        serde_json::to_string(&self.config).unwrap_or_default()
    }

    fn referenced_files(&self) -> Vec<String> {
        self.config.bloom_filter_file.iter().cloned().collect()
    }

    /// Fails early when the filter cannot fit in memory.
    fn prepare(&self) -> Result<()> {
        if self.config.bloom_filter_file.is_none() {
            let (bytes, _) = self.new_filter_size();
            if let Some(total) = total_memory_bytes().filter(|&total| bytes > total) {
                return Err(
                    BffError::TooLarge { bytes, reason: format!("this machine has {total} bytes of RAM") }.into()
                );
            }
        }
        Ok(())
    }

    fn accepts(&self, path: &str) -> bool {
        Format::from_path(path).is_some()
    }

    /// One task over every input, in the sorted input order.
    fn plan(&self, _phase: usize, context: &PlanContext) -> Result<Vec<Task>> {
        Ok(vec![Task { key: "bff".into(), inputs: context.inputs.to_vec(), partition: None }])
    }

    fn run(&self, _phase: usize, task: &Task, context: &mut TaskContext) -> Result<()> {
        let mut filter = self.open_filter()?;
        // The task's inputs are the stage's whole sorted input list, so their keys are the per-file keys.
        let keys = PlanContext { inputs: &task.inputs, earlier: &[] }.input_keys();
        for (input, key) in task.inputs.iter().zip(&keys) {
            self.dedup_file(input, key, &mut filter, context)?;
        }
        let stats = &mut context.stats;
        stats.count("bff:filter_bits", filter.size_in_bytes() * 8);
        stats.count("bff:filter_bits_set", filter.bits_set());
        stats.count("bff:filter_hashers", filter.num_hashers() as u64);
        if self.config.save_bloom_filter {
            let mut out = context.create_artifact(FILTER_ARTIFACT)?;
            let io = |e| sluice_core::Error::io(FILTER_ARTIFACT, e);
            filter.write_to(&mut out).map_err(io)?;
            out.flush().map_err(io)?;
        }
        Ok(())
    }
}
