//! Phase `apply` (one task per input file): writes the file without its duplicates — every clustered
//! document but its cluster's representative — or, with `annotate`, every document with its cluster.

use serde_json::Value;
use sluice_core::runner::{ShardStats, Task, TaskContext};
use sluice_core::{Error, Result};

use super::records::{self, doc_ref, u64_at};
use super::{count_unreadable, MinhashStage};

/// Drop reason of a near-duplicate.
pub const DROP_REASON: &str = "minhash_duplicate";
/// Attributes written with `annotate`.
pub const CLUSTER_ID: &str = "minhash_cluster_id";
pub const CLUSTER_SIZE: &str = "minhash_cluster_size";
pub const DUPLICATE: &str = "minhash_duplicate";

/// The id of the cluster whose representative is `doc`: `<input file position>:<index in the file>`.
pub fn cluster_id(doc: u64) -> String {
    format!("{}:{}", records::file_of(doc), records::index_of(doc))
}

/// One clustered document of the file: (index, representative, cluster size).
type Member = (u64, u64, u64);

impl MinhashStage {
    pub(super) fn apply(&self, task: &Task, context: &mut TaskContext) -> Result<()> {
        let (input, lists) =
            task.inputs.split_first().ok_or_else(|| Error::Other("apply task without input".into()))?;
        let mut members: Vec<Member> = Vec::new();
        for list in lists {
            records::read_records::<24>(context, list, |r| {
                members.push((u64_at(&r, 0), u64_at(&r, 8), u64_at(&r, 16)))
            })?;
        }
        members.sort_unstable();
        let file = input.position;
        let mut sink = context.create_documents(&task.key)?;
        let mut stats = ShardStats::default();
        let mut next = 0usize;
        let mut index: u64 = 0;
        let (mut representatives, mut duplicates) = (0u64, 0u64);
        let mut reader = context.open_documents(input)?;
        while let Some(batch) = reader.next_batch()? {
            for mut doc in batch {
                stats.docs_in += 1;
                let this = doc_ref(file, index as u32);
                let member = members.get(next).filter(|m| m.0 == index).copied();
                index += 1;
                let (representative, size) = match member {
                    Some((_, representative, size)) => {
                        next += 1;
                        (representative, size)
                    }
                    None => (this, 1),
                };
                let duplicate = representative != this;
                if size > 1 && !duplicate {
                    representatives += 1;
                }
                if duplicate {
                    duplicates += 1;
                }
                if self.config.annotate {
                    doc.attributes.insert(CLUSTER_ID.into(), Value::String(cluster_id(representative)));
                    doc.attributes.insert(CLUSTER_SIZE.into(), size.into());
                    doc.attributes.insert(DUPLICATE.into(), duplicate.into());
                } else if duplicate {
                    stats.drop_doc(DROP_REASON);
                    continue;
                }
                sink.push(doc)?;
            }
        }
        if next < members.len() {
            return Err(Error::Other(format!(
                "{}: clustered document {} is past the end of the file; the input changed since phase \
                 `signatures` ran — rerun the stage",
                input.location, members[next].0
            )));
        }
        stats.count("cluster_representatives", representatives);
        stats.count("near_duplicates", duplicates);
        count_unreadable(reader.as_ref(), &mut stats, true);
        context.stats.merge(&stats);
        context.finish_documents(sink)
    }
}
