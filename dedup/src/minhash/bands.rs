//! Phases 1 and 2: band keys per document, then candidate pairs per band-key partition.
//!
//! `signatures` (one task per input file) writes, for every document with words, one 12-byte record per
//! band (key, index in the file) into the key's partition: `<file key>/part-NNNNN.bin`. Records carry no
//! file position, so a file's task stays valid when other files come or go.
//!
//! `candidates` (one task per partition) reads that partition of every file, sorts by (key, document) and
//! links the documents that share a key. Its memory is one partition's records (16 bytes each in
//! memory); when they exceed `memory_mb` it makes several passes over its inputs, each keeping a slice of
//! the key space.

use std::collections::BTreeMap;

use sluice_core::runner::{Task, TaskContext, TaskInput};
use sluice_core::{Error, Result};

use super::records::{self, doc_ref, file_of, index_of, u32_at, u64_at, RecordWriter};
use super::shingle::Shingler;
use super::signature::band_keys;
use super::{count_unreadable, MinhashStage};

/// Groups up to this size are linked pair by pair when pairs are verified (a star from the first
/// document could lose a similar pair behind a false positive centre); larger groups — nearly always
/// copies of one page — are linked as a star.
const ALL_PAIRS_MAX_GROUP: usize = 32;

pub fn partition_name(partition: usize) -> String {
    format!("part-{partition:05}.bin")
}

/// The partition of a band key (its high bits; sub-passes use the low bits).
pub fn partition_of(key: u64, partitions: usize) -> usize {
    ((key as u128 * partitions as u128) >> 64) as usize
}

/// The verify partition of a pair.
pub fn verify_partition_of(u: u64, v: u64, partitions: usize) -> usize {
    let mut z = u ^ v.rotate_left(29) ^ 0x9E37_79B9_7F4A_7C15;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z as u128 * partitions as u128) >> 64) as usize
}

impl MinhashStage {
    /// Phase `signatures`: one input file's band records, partitioned.
    pub(super) fn signatures(&self, task: &Task, context: &mut TaskContext) -> Result<()> {
        let input = &task.inputs[0];
        let partitions = self.config.partitions;
        let mut writers: Vec<Option<RecordWriter>> = (0..partitions).map(|_| None).collect();
        let buffer = records::write_buffer(partitions);
        let mut shingler = Shingler::new(self.config.ngram);
        let (mut signature, mut keys) = (Vec::new(), Vec::new());
        let (mut signed, mut without_words) = (0u64, 0u64);
        let mut index: u64 = 0;
        let mut reader = context.open_documents(input)?;
        while let Some(batch) = reader.next_batch()? {
            for doc in batch {
                let doc_index = u32::try_from(index).map_err(|_| {
                    Error::Other(format!("{}: more than 2^32 documents in one file; split it", input.location))
                })?;
                index += 1;
                let shingles = shingler.hashes(&doc.text);
                if shingles.is_empty() {
                    without_words += 1;
                    continue;
                }
                self.permutations.signature(shingles, &mut signature);
                band_keys(&signature, self.params.bands, self.params.rows, &mut keys);
                for &key in &keys {
                    let partition = partition_of(key, partitions);
                    let writer = match &mut writers[partition] {
                        Some(writer) => writer,
                        slot => slot.insert(RecordWriter::with_buffer(
                            context,
                            format!("{}/{}", task.key, partition_name(partition)),
                            buffer,
                        )?),
                    };
                    let mut record = [0u8; 12];
                    record[..8].copy_from_slice(&key.to_le_bytes());
                    record[8..].copy_from_slice(&doc_index.to_le_bytes());
                    writer.write(&record)?;
                }
                signed += 1;
            }
        }
        for writer in writers.into_iter().flatten() {
            writer.finish()?;
        }
        let stats = &mut context.stats;
        stats.count("docs_signed", signed);
        stats.count("docs_without_words", without_words);
        stats.count("band_records", signed * self.params.bands as u64);
        count_unreadable(reader.as_ref(), stats, false);
        Ok(())
    }

    /// Phase `candidates`: the pairs of documents that share a band key in one partition. Inputs are in
    /// file order, each with its file's position.
    pub(super) fn candidates(&self, task: &Task, context: &mut TaskContext) -> Result<()> {
        let partition = task.partition.unwrap_or_default();
        let total_records: u64 = task.inputs.iter().map(|i| i.size / 12).sum();
        let budget = (self.config.memory_mb as u64) << 20;
        let passes = (total_records * 16).div_ceil(budget).max(1);
        let mut edges: Vec<(u64, u64)> = Vec::new();
        let mut records: Vec<(u64, u64)> = Vec::new();
        let (mut largest_group, mut groups) = (0usize, 0u64);
        for pass in 0..passes {
            records.clear();
            for input in &task.inputs {
                read_band_records(context, input, passes, pass, &mut records)?;
            }
            records.sort_unstable();
            for group in records.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1) {
                groups += 1;
                largest_group = largest_group.max(group.len());
                self.link(group, &mut edges);
            }
        }
        drop(records);
        edges.sort_unstable();
        edges.dedup();
        let stats = &mut context.stats;
        stats.count("band_records", total_records);
        stats.count("key_passes", passes);
        stats.count("shared_keys", groups);
        stats.count("largest_shared_key", largest_group as u64);
        stats.count("candidate_pairs", edges.len() as u64);
        if !self.config.verify {
            if !edges.is_empty() {
                records::write_edges(context, partition_name(partition), &edges)?;
            }
            return Ok(());
        }
        self.route_for_verification(partition, &edges, context)
    }

    /// Links the documents of one shared key (sorted by document): a star from the first, or every pair
    /// of a small group when pairs are verified.
    fn link(&self, group: &[(u64, u64)], edges: &mut Vec<(u64, u64)>) {
        let first = group[0].1;
        if self.config.verify && group.len() <= ALL_PAIRS_MAX_GROUP {
            for (i, a) in group.iter().enumerate() {
                edges.extend(group[i + 1..].iter().filter(|b| b.1 != a.1).map(|b| (a.1, b.1)));
            }
        } else {
            edges.extend(group[1..].iter().filter(|b| b.1 != first).map(|b| (first, b.1)));
        }
    }

    /// With `verify`: the pairs go to their verify partition (`pairs/vNNNNN/part-NNNNN.bin`), and each
    /// file learns which of its documents' shingle sets which verify partition needs
    /// (`need/<file position>/part-NNNNN.bin`).
    fn route_for_verification(&self, partition: usize, edges: &[(u64, u64)], context: &mut TaskContext) -> Result<()> {
        let partitions = self.config.partitions;
        let mut pairs: BTreeMap<usize, Vec<(u64, u64)>> = BTreeMap::new();
        let mut needs: BTreeMap<usize, Vec<(u32, u32)>> = BTreeMap::new();
        for &(u, v) in edges {
            let k = verify_partition_of(u, v, partitions);
            pairs.entry(k).or_default().push((u, v));
            for doc in [u, v] {
                needs.entry(file_of(doc)).or_default().push((index_of(doc), k as u32));
            }
        }
        for (k, pairs) in pairs {
            records::write_edges(context, format!("pairs/v{k:05}/{}", partition_name(partition)), &pairs)?;
        }
        for (file, mut wanted) in needs {
            wanted.sort_unstable();
            wanted.dedup();
            let mut out = RecordWriter::create(context, format!("need/{file:08}/{}", partition_name(partition)))?;
            for (index, k) in wanted {
                let mut record = [0u8; 8];
                record[..4].copy_from_slice(&index.to_le_bytes());
                record[4..].copy_from_slice(&k.to_le_bytes());
                out.write(&record)?;
            }
            out.finish()?;
        }
        Ok(())
    }
}

/// Appends the band records of one file's partition as (key, document), keeping only this pass's keys.
fn read_band_records(
    context: &TaskContext,
    input: &TaskInput,
    passes: u64,
    pass: u64,
    out: &mut Vec<(u64, u64)>,
) -> Result<()> {
    let file = input.position;
    records::read_records::<12>(context, input, |r| {
        let key = u64_at(&r, 0);
        if passes == 1 || ((key & 0xFFFF_FFFF) * passes) >> 32 == pass {
            out.push((key, doc_ref(file, u32_at(&r, 8))));
        }
    })
}
