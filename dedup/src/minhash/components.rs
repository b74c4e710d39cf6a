//! Phase `components`: connected components of the candidate (or verified) pairs, by union-find.
//!
//! One task merges every partition's edge list into one union-find over the documents that have an
//! edge — never over the corpus: its memory is O(edges) (16 bytes per edge while reading, 12 per linked
//! document after), whatever the number of documents. The representative of a cluster is its smallest
//! document (input file position, then index), so which copy survives does not depend on the order edges
//! arrive in. Output: for each input file with clustered documents, `<file position>.bin` listing each
//! one's (index, representative, cluster size), sorted by index.

use sluice_core::runner::{Task, TaskContext, TaskInput};
use sluice_core::Result;

use super::records::{self, file_of, index_of, RecordWriter};
use super::MinhashStage;

/// Union-find over `0..n` where the root of a set is always its smallest element.
pub struct MinUnionFind {
    parent: Vec<u32>,
}

impl MinUnionFind {
    pub fn new(n: usize) -> Self {
        MinUnionFind { parent: (0..n as u32).collect() }
    }

    /// The root (smallest element) of `x`'s set, halving the path on the way.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grandparent = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grandparent;
            x = grandparent;
        }
        x
    }

    pub fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (small, large) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[large as usize] = small;
        }
    }
}

impl MinhashStage {
    pub(super) fn components(&self, task: &Task, context: &mut TaskContext) -> Result<()> {
        let inputs: Vec<&TaskInput> = task.inputs.iter().collect();
        let edge_bytes: u64 = inputs.iter().map(|i| i.size).sum();
        if edge_bytes * 2 > (self.config.memory_mb as u64) << 20 {
            tracing::warn!(
                "minhash components: {} edges need about {} MiB (memory_mb is {})",
                edge_bytes / 16,
                (edge_bytes * 2) >> 20,
                self.config.memory_mb
            );
        }
        let edges = records::read_edges(context, &inputs)?;
        let mut nodes: Vec<u64> = Vec::with_capacity(edges.len() * 2);
        for &(u, v) in &edges {
            nodes.push(u);
            nodes.push(v);
        }
        nodes.sort_unstable();
        nodes.dedup();
        nodes.shrink_to_fit();
        if nodes.len() > u32::MAX as usize {
            return Err(sluice_core::Error::Other(format!(
                "minhash components: {} linked documents (at most 2^32 per run); dedup in parts",
                nodes.len()
            )));
        }
        let position = |doc: u64| nodes.binary_search(&doc).expect("every endpoint is a node") as u32;
        let mut sets = MinUnionFind::new(nodes.len());
        for &(u, v) in &edges {
            sets.union(position(u), position(v));
        }
        drop(edges);
        let roots: Vec<u32> = (0..nodes.len() as u32).map(|i| sets.find(i)).collect();
        drop(sets);
        let mut sizes = vec![0u32; nodes.len()];
        for &root in &roots {
            sizes[root as usize] += 1;
        }
        let clusters = sizes.iter().filter(|&&s| s > 0).count() as u64;
        let largest = sizes.iter().copied().max().unwrap_or(0);

        let mut writer: Option<(usize, RecordWriter)> = None;
        for (i, &doc) in nodes.iter().enumerate() {
            let file = file_of(doc);
            if writer.as_ref().is_none_or(|(f, _)| *f != file) {
                if let Some((_, done)) = writer.take() {
                    done.finish()?;
                }
                writer = Some((file, RecordWriter::create(context, format!("{file:08}.bin"))?));
            }
            let root = roots[i] as usize;
            let (_, out) = writer.as_mut().expect("opened above");
            out.u64s(&[index_of(doc) as u64, nodes[root], sizes[root] as u64])?;
        }
        if let Some((_, done)) = writer {
            done.finish()?;
        }
        let stats = &mut context.stats;
        stats.count("edges", edge_bytes / 16);
        stats.count("clustered_docs", nodes.len() as u64);
        stats.count("clusters", clusters);
        stats.count("duplicates", nodes.len() as u64 - clusters);
        stats.count("largest_cluster", largest as u64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_the_smallest_member_whatever_the_union_order() {
        let mut sets = MinUnionFind::new(8);
        for (a, b) in [(7, 6), (6, 5), (3, 7), (1, 2), (2, 0)] {
            sets.union(a, b);
        }
        let roots: Vec<u32> = (0..8).map(|i| sets.find(i)).collect();
        assert_eq!(roots, vec![0, 0, 0, 3, 4, 3, 3, 3]);
    }
}
