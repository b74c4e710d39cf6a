//! With `verify: true`, two phases check every candidate pair by the exact Jaccard similarity of its
//! shingle sets, so LSH's false positives never link documents.
//!
//! `sets` (one task per input file that has candidates) reads the file's `need` lists, reads the file
//! again and writes the sorted shingle set of each needed document to each verify partition that needs
//! it: `vNNNNN/<file position>.bin`. Memory: the file's need list.
//!
//! `verify` (one task per verify partition) loads its pairs and the shingle sets they name — only
//! candidates', so memory is proportional to the candidate documents of one partition, never to the
//! corpus — and keeps the pairs at or above the threshold: `part-NNNNN.bin`, edges for `components`.

use std::collections::{BTreeMap, HashMap};

use sluice_core::runner::{Task, TaskContext, TaskInput};
use sluice_core::{Error, Result};

use super::records::{self, doc_ref, u32_at, RecordWriter, U64Reader};
use super::shingle::{jaccard, Shingler};
use super::MinhashStage;

impl MinhashStage {
    /// Phase `sets`: the shingle sets of one file's candidate documents, by verify partition.
    pub(super) fn sets(&self, task: &Task, context: &mut TaskContext) -> Result<()> {
        let (input, lists) = task.inputs.split_first().ok_or_else(|| Error::Other("sets task without input".into()))?;
        let mut needs: Vec<(u32, u32)> = Vec::new();
        for list in lists {
            records::read_records::<8>(context, list, |r| needs.push((u32_at(&r, 0), u32_at(&r, 4))))?;
        }
        needs.sort_unstable();
        needs.dedup();
        let file = input.position;
        let partitions = self.config.partitions;
        let mut writers: BTreeMap<u32, RecordWriter> = BTreeMap::new();
        let mut shingler = Shingler::new(self.config.ngram);
        let mut next = 0usize;
        let mut index: u64 = 0;
        let mut written = 0u64;
        let mut reader = context.open_documents(input)?;
        'read: while let Some(batch) = reader.next_batch()? {
            for doc in batch {
                let doc_index = index as u32;
                index += 1;
                if next >= needs.len() {
                    break 'read;
                }
                if needs[next].0 != doc_index {
                    continue;
                }
                let set = shingler.set(&doc.text);
                while next < needs.len() && needs[next].0 == doc_index {
                    let k = needs[next].1;
                    next += 1;
                    let writer = match writers.get_mut(&k) {
                        Some(writer) => writer,
                        None => {
                            let name = format!("v{k:05}/{file:08}.bin");
                            let writer = RecordWriter::with_buffer(context, name, records::write_buffer(partitions))?;
                            writers.entry(k).or_insert(writer)
                        }
                    };
                    writer.u64s(&[doc_ref(file, doc_index), set.len() as u64])?;
                    writer.u64s(&set)?;
                    written += 1;
                }
            }
        }
        if next < needs.len() {
            return Err(Error::Other(format!(
                "{}: a candidate (document {}) is past the end of the file; the input changed since \
                 phase `signatures` ran — rerun the stage",
                input.location, needs[next].0
            )));
        }
        for writer in writers.into_values() {
            writer.finish()?;
        }
        context.stats.count("sets_written", written);
        Ok(())
    }

    /// Phase `verify`: the pairs of one verify partition whose exact Jaccard similarity reaches the
    /// threshold.
    pub(super) fn verify(&self, task: &Task, context: &mut TaskContext) -> Result<()> {
        let (pair_files, set_files): (Vec<&TaskInput>, Vec<&TaskInput>) =
            task.inputs.iter().partition(|i| i.relative.starts_with("pairs/"));
        let set_bytes: u64 = set_files.iter().map(|i| i.size).sum();
        if set_bytes > (self.config.memory_mb as u64) << 20 {
            tracing::warn!(
                "minhash verify {}: the candidates' shingle sets take {} MiB (memory_mb is {}); raise \
                 `partitions` to split them",
                task.key,
                set_bytes >> 20,
                self.config.memory_mb
            );
        }
        let mut pairs = records::read_edges(context, &pair_files)?;
        pairs.sort_unstable();
        pairs.dedup();
        let mut sets: HashMap<u64, Vec<u64>> = HashMap::new();
        for input in set_files {
            let mut reader = U64Reader::open(context, input)?;
            while let Some(doc) = reader.read()? {
                let len = reader.expect()? as usize;
                let mut set = Vec::with_capacity(len);
                for _ in 0..len {
                    set.push(reader.expect()?);
                }
                sets.insert(doc, set);
            }
        }
        let threshold = self.params.threshold();
        let mut kept = Vec::with_capacity(pairs.len());
        for &(u, v) in &pairs {
            let (Some(a), Some(b)) = (sets.get(&u), sets.get(&v)) else {
                return Err(Error::Other(format!(
                    "minhash verify {}: no shingle set for a candidate document; rerun phase `sets`",
                    task.key
                )));
            };
            if jaccard(a, b) >= threshold {
                kept.push((u, v));
            }
        }
        let stats = &mut context.stats;
        stats.count("pairs_checked", pairs.len() as u64);
        stats.count("pairs_confirmed", kept.len() as u64);
        stats.count("pairs_rejected", (pairs.len() - kept.len()) as u64);
        if !kept.is_empty() {
            let partition = task.partition.unwrap_or_default();
            records::write_edges(context, super::bands::partition_name(partition), &kept)?;
        }
        Ok(())
    }
}
