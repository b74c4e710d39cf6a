//! `sluice inspect OUT --clusters`: the near-duplicate clusters of an annotated dedup output (MinHash with
//! `annotate: true` adds `minhash_cluster_id`), largest first, with the start of each member's text, so a
//! user can judge what the threshold joins before dropping anything.

use std::collections::BTreeMap;

use anyhow::Result;
use sluice_core::format::open_reader;
use sluice_core::store::Location;
use sluice_core::Document;

/// Members shown per cluster (the count is always exact).
const SHOWN_MEMBERS: usize = 4;

/// One cluster as read: its size and the first members in input order.
#[derive(Default)]
struct Cluster {
    size: u64,
    first: Vec<Member>,
}

struct Member {
    id: String,
    url: Option<String>,
    text: String,
}

/// Groups the documents of `files` by the attribute `key` and prints the `limit` largest clusters (ties:
/// the cluster id), `chars` characters of each shown member, and totals. Documents without the attribute
/// count as unannotated.
pub fn print_clusters(files: &[Location], key: &str, limit: usize, chars: usize) -> Result<()> {
    let mut clusters: BTreeMap<String, Cluster> = BTreeMap::new();
    let (mut documents, mut unannotated) = (0u64, 0u64);
    for file in files {
        let mut reader = open_reader(file)?;
        while let Some(batch) = reader.next_batch()? {
            for doc in batch {
                documents += 1;
                match cluster_key(&doc, key) {
                    Some(id) => add(clusters.entry(id).or_default(), doc, chars),
                    None => unannotated += 1,
                }
            }
        }
    }
    let mut joined: Vec<(&String, &Cluster)> = clusters.iter().filter(|(_, c)| c.size > 1).collect();
    joined.sort_by(|a, b| b.1.size.cmp(&a.1.size).then_with(|| a.0.cmp(b.0)));
    for (id, cluster) in joined.iter().take(limit) {
        println!("── cluster {id}: {} documents", cluster.size);
        for member in &cluster.first {
            println!("   {}{}", member.id, member.url.as_ref().map(|u| format!("  {u}")).unwrap_or_default());
            println!("   │ {}", member.text);
        }
        if cluster.size > cluster.first.len() as u64 {
            println!("   … {} more", cluster.size - cluster.first.len() as u64);
        }
    }
    let in_joined: u64 = joined.iter().map(|(_, c)| c.size).sum();
    println!(
        "— {documents} documents: {} clusters of 2 or more hold {in_joined} documents ({} would be dropped), \
         {} singletons{}",
        joined.len(),
        in_joined - joined.len() as u64,
        clusters.len() - joined.len(),
        if unannotated > 0 { format!(", {unannotated} without `{key}`") } else { String::new() }
    );
    if clusters.is_empty() {
        anyhow::bail!("no document has the attribute `{key}`: run MinHash dedup with `annotate: true` (--annotate)");
    }
    Ok(())
}

/// The cluster a document belongs to: its attribute `key` as text (strings as they are, numbers printed).
fn cluster_key(doc: &Document, key: &str) -> Option<String> {
    match doc.attributes.get(key)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn add(cluster: &mut Cluster, doc: Document, chars: usize) {
    cluster.size += 1;
    if cluster.first.len() < SHOWN_MEMBERS {
        let text: String = doc.text.chars().take(chars).map(|c| if c.is_control() { ' ' } else { c }).collect();
        cluster.first.push(Member { id: doc.id, url: doc.url, text });
    }
}
