//! Exact dedup: documents with the same normalised URL or text, or repeated paragraphs (lines), across
//! every input file — as three phases that shard across machines in memory bounded by the partition count.
//!
//! 1. `hash` (one task per input file): the xxh3-128 of each document's key (or of each line), written as
//!    fixed-size records into `partitions` files by hash: `<file>/part-NNNNN.bin`.
//! 2. `first` (one task per partition): reads that partition from every file, sorts by (hash, file,
//!    document, line) and, for every hash seen more than once, lists all but the first occurrence as
//!    duplicates, grouped by the file they are in: `<file position>/part-NNNNN.bin`. Memory: one
//!    partition's records (32 bytes each), i.e. the corpus' records divided by `partitions`.
//! 3. `apply` (one task per input file): drops the listed documents (or lines) and writes the rest.
//!
//! **Which copy survives:** the first occurrence in the sorted input list, then in document order within
//! a file, then in line order — whatever the thread or worker count.

use std::collections::HashMap;
use std::io::{BufReader, Write};

use serde::{Deserialize, Serialize};
use sluice_core::document::Document;
use sluice_core::format::{DocumentReader, Format, Records};
use sluice_core::runner::task::{read_u64, write_u64};
use sluice_core::runner::{PhasedStage, PlanContext, ShardStats, Task, TaskContext, TaskInput};
use sluice_core::{Error, Result};
use xxhash_rust::xxh3::xxh3_128;

/// What two documents must share to be duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExactKey {
    /// The whole (normalised) text.
    Text,
    /// The normalised URL (documents without a URL are never duplicates).
    Url,
    /// Each line (`\n`-separated, normalised): repeated lines are removed, documents left empty dropped.
    Paragraph,
}

/// How text is normalised before hashing (URLs always use [`normalize_url`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalizer {
    /// The text as it is.
    None,
    /// Lower-cased, whitespace runs collapsed to one space, trimmed (DCLM's
    /// `normalize_whitespace_and_lowercase`).
    WhitespaceLowercase,
    /// CCNet's `normalize_for_dedup`: trimmed, lower-cased, digits → `0`, CCNet's Unicode punctuation and
    /// non-printing characters removed.
    Ccnet,
}

/// Parameters of exact dedup (`dedup: {method: exact, …}` in a recipe).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExactConfig {
    /// Input document files or folders. Optional in a recipe stage that follows another.
    #[serde(skip_serializing)]
    pub input: Vec<String>,
    /// Where to write. Default: `<recipe output>/<stage number>-dedup`.
    #[serde(skip_serializing)]
    pub output: Option<String>,
    pub key: ExactKey,
    pub normalizer: Normalizer,
    /// Hash partitions: phase 2 holds one partition's records (32 bytes per document or line) in memory.
    pub partitions: usize,
    /// Keep every document and mark duplicates (`exact_duplicate: true`, and for `paragraph` the number of
    /// repeated lines `exact_duplicate_lines`) instead of removing them.
    pub annotate: bool,
}

impl Default for ExactConfig {
    fn default() -> Self {
        ExactConfig {
            input: Vec::new(),
            output: None,
            key: ExactKey::Text,
            normalizer: Normalizer::WhitespaceLowercase,
            partitions: 16,
            annotate: false,
        }
    }
}

/// The exact-dedup stage.
pub struct ExactDedupStage {
    config: ExactConfig,
}

const PHASES: [&str; 3] = ["hash", "first", "apply"];

impl ExactDedupStage {
    pub fn new(config: ExactConfig) -> Result<Self> {
        if config.partitions == 0 || config.partitions > 100_000 {
            return Err(Error::Other(format!("exact dedup: partitions must be 1..=100000, not {}", config.partitions)));
        }
        Ok(ExactDedupStage { config })
    }
}

/// One occurrence of a key: its hash and where it is. Written as four little-endian u64s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Occurrence {
    hash: u128,
    file: u64,
    doc: u64,
    line: u64,
}

fn partition_name(partition: usize) -> String {
    format!("part-{partition:05}.bin")
}

impl PhasedStage for ExactDedupStage {
    fn name(&self) -> &str {
        "dedup-exact"
    }

    fn version(&self) -> u32 {
        1
    }

    fn fingerprint(&self) -> String {
        serde_json::to_string(&self.config).unwrap_or_default()
    }

    fn accepts(&self, path: &str) -> bool {
        Format::from_path(path).is_some()
    }

    fn phases(&self) -> Vec<&'static str> {
        PHASES.to_vec()
    }

    fn plan(&self, phase: usize, context: &PlanContext) -> Result<Vec<Task>> {
        Ok(match phase {
            0 => context.one_task_per_input(),
            1 => (0..self.config.partitions)
                .map(|p| {
                    let suffix = format!("/{}", partition_name(p));
                    let inputs =
                        context.artifacts(0).iter().filter(|a| a.relative.ends_with(&suffix)).cloned().collect();
                    Task { key: format!("part-{p:05}"), inputs, partition: Some(p) }
                })
                .collect(),
            _ => {
                let mut tasks = context.one_task_per_input();
                for task in &mut tasks {
                    let prefix = format!("{:08}/", task.inputs[0].position);
                    task.inputs
                        .extend(context.artifacts(1).iter().filter(|a| a.relative.starts_with(&prefix)).cloned());
                }
                tasks
            }
        })
    }

    fn run(&self, phase: usize, task: &Task, context: &mut TaskContext) -> Result<()> {
        match phase {
            0 => self.hash(task, context),
            1 => self.first_occurrences(task, context),
            _ => self.apply(task, context),
        }
    }
}

impl ExactDedupStage {
    /// Phase 1: every key's hash, partitioned.
    fn hash(&self, task: &Task, context: &mut TaskContext) -> Result<()> {
        let input = &task.inputs[0];
        let mut buckets: Vec<Vec<Occurrence>> = vec![Vec::new(); self.config.partitions];
        let mut reader = context.open_documents(input)?;
        let mut doc_index = 0u64;
        let mut add = |text: &str, url: Option<&str>| {
            for (line, key) in self.keys(text, url).into_iter().enumerate() {
                let Some(key) = key else { continue };
                let occurrence = Occurrence {
                    hash: xxh3_128(key.as_bytes()),
                    file: input.position as u64,
                    doc: doc_index,
                    line: line as u64,
                };
                buckets[(occurrence.hash % self.config.partitions as u128) as usize].push(occurrence);
            }
            doc_index += 1;
        };
        while let Some(records) = reader.next_records()? {
            match records {
                // The keys straight from the columns: no documents built.
                Records::Batch(batch) => {
                    let urls: Vec<Option<&str>> = match batch.strings("url") {
                        Some(urls) => urls.iter().collect(),
                        None => vec![None; batch.num_rows()],
                    };
                    for (text, url) in batch.text().iter().zip(urls) {
                        add(text.unwrap_or_default(), url);
                    }
                }
                Records::Documents(docs) => docs.iter().for_each(|doc| add(&doc.text, doc.url.as_deref())),
            }
        }
        context.stats.count("docs_hashed", doc_index);
        let key = &task.key;
        for (partition, bucket) in buckets.iter().enumerate().filter(|(_, b)| !b.is_empty()) {
            let mut out = context.create_artifact(&format!("{key}/{}", partition_name(partition)))?;
            for o in bucket {
                write_occurrence(&mut out, o).map_err(|e| Error::io(key.as_str(), e))?;
            }
            out.flush().map_err(|e| Error::io(key.as_str(), e))?;
        }
        Ok(())
    }

    /// The keys of a document: one for `text`/`url` (none if empty), one per line for `paragraph`.
    fn keys(&self, text: &str, url: Option<&str>) -> Vec<Option<String>> {
        let nonempty = |s: String| (!s.is_empty()).then_some(s);
        match self.config.key {
            ExactKey::Text => vec![nonempty(normalize(text, self.config.normalizer))],
            ExactKey::Url => vec![url.map(normalize_url).and_then(nonempty)],
            ExactKey::Paragraph => text.split('\n').map(|l| nonempty(normalize(l, self.config.normalizer))).collect(),
        }
    }

    /// Whether phase 3 only drops whole documents and changes none (text and URL keys, not annotating).
    fn drops_documents_only(&self) -> bool {
        self.config.key != ExactKey::Paragraph && !self.config.annotate
    }

    /// Phase 2: for one partition, every occurrence after the first of its hash, grouped by file.
    fn first_occurrences(&self, task: &Task, context: &mut TaskContext) -> Result<()> {
        let mut all = Vec::new();
        for input in &task.inputs {
            let mut reader = BufReader::new(context.open_raw(input)?);
            while let Some(o) = read_occurrence(&mut reader).map_err(|e| Error::io(input.location.to_string(), e))? {
                all.push(o);
            }
        }
        all.sort_unstable();
        let mut by_file: HashMap<u64, Vec<(u64, u64)>> = HashMap::new();
        for pair in all.windows(2) {
            if pair[0].hash == pair[1].hash {
                by_file.entry(pair[1].file).or_default().push((pair[1].doc, pair[1].line));
            }
        }
        context.stats.count("occurrences", all.len() as u64);
        context.stats.count("duplicates", by_file.values().map(|v| v.len() as u64).sum());
        let partition = task.partition.unwrap_or_default();
        let mut files: Vec<_> = by_file.into_iter().collect();
        files.sort_unstable();
        for (file, mut dups) in files {
            dups.sort_unstable();
            let name = format!("{file:08}/{}", partition_name(partition));
            let mut out = context.create_artifact(&name)?;
            for (doc, line) in dups {
                write_u64(&mut out, doc)
                    .and_then(|_| write_u64(&mut out, line))
                    .map_err(|e| Error::io(name.as_str(), e))?;
            }
            out.flush().map_err(|e| Error::io(name.as_str(), e))?;
        }
        Ok(())
    }

    /// Phase 3: one input file without its duplicates.
    fn apply(&self, task: &Task, context: &mut TaskContext) -> Result<()> {
        let (input, lists) =
            task.inputs.split_first().ok_or_else(|| Error::Other("apply task without input".into()))?;
        let duplicates = read_duplicates(lists, context)?;
        let mut sink = context.create_documents(&task.key)?;
        let mut reader = context.open_documents(input)?;
        let mut stats = ShardStats::default();
        let mut doc_index = 0u64;
        while let Some(records) = reader.next_records()? {
            let batch = match records {
                Records::Batch(batch) if self.drops_documents_only() => batch,
                records => {
                    for mut doc in records.into_documents()? {
                        stats.docs_in += 1;
                        let lines = duplicates.get(&doc_index);
                        doc_index += 1;
                        match self.decide(&mut doc, lines, &mut stats) {
                            Some(reason) => stats.drop_doc(reason),
                            None => sink.push(doc)?,
                        }
                    }
                    continue;
                }
            };
            // Only which documents survive changes: the batch's rows, filtered, without building documents.
            let reason = if self.config.key == ExactKey::Url { "exact_duplicate_url" } else { "exact_duplicate_text" };
            let mut keep = Vec::with_capacity(batch.num_rows());
            for _ in 0..batch.num_rows() {
                stats.docs_in += 1;
                let duplicate = duplicates.contains_key(&doc_index);
                doc_index += 1;
                if duplicate {
                    stats.drop_doc(reason);
                }
                keep.push(!duplicate);
            }
            if keep.iter().all(|k| *k) {
                sink.push_batch(batch)?;
            } else if keep.contains(&true) {
                sink.push_batch(batch.filter(&keep).map_err(|e| Error::arrow(input.location.to_string(), e))?)?;
            }
        }
        count_unreadable(reader.as_ref(), &mut stats);
        context.stats.merge(&stats);
        context.finish_documents(sink)
    }

    /// What happens to one document given its duplicate lines (`Some(&[0])` for a duplicate document):
    /// the drop reason, or `None` to keep it (possibly shortened or annotated).
    fn decide(&self, doc: &mut Document, lines: Option<&Vec<u64>>, stats: &mut ShardStats) -> Option<&'static str> {
        let lines = lines?;
        match (self.config.key, self.config.annotate) {
            (ExactKey::Paragraph, annotate) => {
                stats.count("exact_duplicate_lines", lines.len() as u64);
                if annotate {
                    doc.attributes.insert("exact_duplicate_lines".into(), lines.len().into());
                    return None;
                }
                let kept: Vec<&str> = doc
                    .text
                    .split('\n')
                    .enumerate()
                    .filter(|(i, _)| lines.binary_search(&(*i as u64)).is_err())
                    .map(|(_, l)| l)
                    .collect();
                let text = kept.join("\n");
                if text.trim().is_empty() {
                    return Some("exact_duplicate_paragraphs");
                }
                doc.text = text;
                None
            }
            (_, true) => {
                doc.attributes.insert("exact_duplicate".into(), true.into());
                None
            }
            (ExactKey::Url, false) => Some("exact_duplicate_url"),
            (ExactKey::Text, false) => Some("exact_duplicate_text"),
        }
    }
}

/// Unreadable lines of a document file are documents too: counted in and dropped.
fn count_unreadable(reader: &dyn DocumentReader, stats: &mut ShardStats) {
    for (kind, n) in reader.skipped() {
        stats.docs_in += n;
        stats.drop_docs("unreadable", *n);
        stats.errors(kind, *n);
    }
    for (kind, n) in reader.repaired() {
        stats.errors(kind, *n);
    }
}

/// Duplicate (document → sorted lines) of one file, from every partition's list.
fn read_duplicates(lists: &[TaskInput], context: &TaskContext) -> Result<HashMap<u64, Vec<u64>>> {
    let mut duplicates: HashMap<u64, Vec<u64>> = HashMap::new();
    for list in lists {
        let mut reader = BufReader::new(context.open_raw(list)?);
        let io = |e| Error::io(list.location.to_string(), e);
        while let Some(doc) = read_u64(&mut reader).map_err(io)? {
            let line = read_u64(&mut reader)
                .map_err(io)?
                .ok_or_else(|| Error::Other(format!("{}: truncated", list.location)))?;
            duplicates.entry(doc).or_default().push(line);
        }
    }
    for lines in duplicates.values_mut() {
        lines.sort_unstable();
    }
    Ok(duplicates)
}

fn write_occurrence(out: &mut impl Write, o: &Occurrence) -> std::io::Result<()> {
    write_u64(out, (o.hash >> 64) as u64)?;
    write_u64(out, o.hash as u64)?;
    write_u64(out, o.file)?;
    write_u64(out, o.doc)?;
    write_u64(out, o.line)
}

fn read_occurrence(input: &mut impl std::io::Read) -> std::io::Result<Option<Occurrence>> {
    let Some(high) = read_u64(input)? else { return Ok(None) };
    let mut next =
        || read_u64(input)?.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "truncated record"));
    let low = next()?;
    let (file, doc, line) = (next()?, next()?, next()?);
    Ok(Some(Occurrence { hash: ((high as u128) << 64) | low as u128, file, doc, line }))
}

/// Applies a text normaliser.
pub fn normalize(text: &str, normalizer: Normalizer) -> String {
    match normalizer {
        Normalizer::None => text.to_string(),
        Normalizer::WhitespaceLowercase => text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase(),
        Normalizer::Ccnet => ccnet_normalize(text),
    }
}

/// CCNet's `text_normalizer.normalize_for_dedup`: strip, lower-case, every digit → `0`, and CCNet's
/// Unicode punctuation (`UNICODE_PUNCT`) and non-printing characters (U+0000–U+001F, U+007F–U+009F)
/// removed. Digits are those `char::is_numeric` calls decimal (`to_digit` in any script is not available,
/// so digits outside ASCII are matched by `is_numeric`, a superset of Python's `\d`).
fn ccnet_normalize(text: &str) -> String {
    const UNICODE_PUNCT: &str = "，。、„”“«»１」「《》´∶：？！（）；–—．～’…━〈〉【】％►";
    let trimmed = text.trim();
    let mut out = String::with_capacity(trimmed.len());
    for c in trimmed.chars().flat_map(char::to_lowercase) {
        if c.is_numeric() {
            out.push('0');
        } else if !(UNICODE_PUNCT.contains(c) || (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32))) {
            out.push(c);
        }
    }
    out
}

/// A URL in a canonical form for dedup: trimmed; scheme and host lower-cased; `http`/`https` treated as
/// the same; a leading `www.`, the default port, the fragment and a trailing `/` removed. Path and query
/// keep their case (they are case-sensitive on most servers).
pub fn normalize_url(url: &str) -> String {
    let url = url.trim();
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (host, path) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let mut host = host.to_ascii_lowercase();
    for default_port in [":80", ":443"] {
        if let Some(stripped) = host.strip_suffix(default_port) {
            host = stripped.to_string();
        }
    }
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let scheme = scheme.to_ascii_lowercase();
    let scheme = if scheme == "https" { "http" } else { scheme.as_str() };
    let path = path.strip_suffix('/').unwrap_or(path);
    format!("{scheme}://{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_normalise_to_one_form() {
        let same = [
            "http://www.Example.org/Path/?q=1#frag",
            "https://example.org:443/Path/?q=1",
            "HTTP://EXAMPLE.ORG/Path/?q=1",
        ];
        for url in same {
            assert_eq!(normalize_url(url), "http://example.org/Path/?q=1", "{url}");
        }
        assert_ne!(normalize_url("http://example.org/path"), normalize_url("http://example.org/Path"));
        assert_eq!(normalize_url("http://example.org/"), "http://example.org");
    }

    #[test]
    fn normalisers_do_what_they_say() {
        assert_eq!(normalize("  Hello\t\tWORLD \n", Normalizer::WhitespaceLowercase), "hello world");
        assert_eq!(normalize("  Hello\t\tWORLD \n", Normalizer::None), "  Hello\t\tWORLD \n");
        assert_eq!(normalize(" Price: 12,50 € — «cheap»!\u{7}", Normalizer::Ccnet), "price: 00,00 €  cheap!");
    }

    #[test]
    fn occurrences_round_trip_and_sort_by_hash_then_position() {
        let a = Occurrence { hash: u128::MAX - 3, file: 2, doc: 7, line: 1 };
        let mut buf = Vec::new();
        write_occurrence(&mut buf, &a).unwrap();
        assert_eq!(read_occurrence(&mut &buf[..]).unwrap(), Some(a));
        assert_eq!(read_occurrence(&mut &buf[..0]).unwrap(), None);
        let b = Occurrence { file: 1, ..a };
        let mut v = vec![a, b];
        v.sort();
        assert_eq!(v, vec![b, a]);
    }
}
