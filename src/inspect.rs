//! `sluice inspect`: look inside document shards.

use anyhow::{bail, Result};
use clap::Args;
use sluice_core::format::{document_to_json, open_reader, parquet_file_schema, Format};
use sluice_core::schema::document_schema;
use sluice_core::store::Location;
use sluice_core::Document;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A Parquet or JSONL(.gz/.zst) shard, or a folder (or URL prefix) of them.
    pub path: String,
    /// Documents to show.
    #[arg(short = 'n', long, default_value_t = 3)]
    pub limit: usize,
    /// Print only the document count.
    #[arg(long)]
    pub count: bool,
    /// Print the schema (of the first file: a Parquet file's own schema; JSONL maps into sluice's).
    #[arg(long)]
    pub schema: bool,
    /// Print documents as full JSON lines (all fields, whole text).
    #[arg(long)]
    pub json: bool,
    /// Characters of text to show per document (summary view).
    #[arg(long, default_value_t = 400)]
    pub chars: usize,
    /// Show the near-duplicate clusters of an annotated dedup output instead (the -n largest), grouped by
    /// this attribute (default: MinHash's `minhash_cluster_id`).
    #[arg(long, value_name = "ATTRIBUTE", num_args = 0..=1, default_missing_value = "minhash_cluster_id")]
    pub clusters: Option<String>,
}

pub fn inspect(args: &InspectArgs) -> Result<()> {
    let base = Location::parse(&args.path)?;
    let files: Vec<Location> = base
        .list_objects()?
        .into_iter()
        .map(|e| e.location)
        .filter(|l| {
            Format::from_path(l.file_name()).is_some() && !sluice_core::store::is_bookkeeping(&l.relative_to(&base))
        })
        .collect();
    if files.is_empty() {
        bail!("no Parquet or JSONL document files at {}", args.path);
    }
    if let Some(key) = &args.clusters {
        return crate::clusters::print_clusters(&files, key, args.limit, args.chars);
    }
    if args.schema {
        let first = &files[0];
        let schema = match Format::from_path(first.file_name()) {
            Some(Format::Parquet) => parquet_file_schema(first)?,
            _ => document_schema(), // JSONL lines are read into the document schema
        };
        println!("{first}:");
        for field in schema.fields() {
            let null = if field.is_nullable() { "" } else { " not null" };
            println!("  {}: {}{null}", field.name(), field.data_type());
        }
        return Ok(());
    }
    let mut total = 0u64;
    let mut shown = 0usize;
    for file in &files {
        // A count of a Parquet file needs only its footer.
        if args.count && Format::from_path(file.file_name()) == Some(Format::Parquet) {
            if let Some(count) = sluice_core::format::parquet_document_count(file)? {
                eprintln!("{file}: {count} documents");
                total += count;
                continue;
            }
        }
        let mut reader = open_reader(file)?;
        let mut in_file = 0u64;
        while let Some(batch) = reader.next_batch()? {
            in_file += batch.len() as u64;
            for doc in batch {
                if args.count || shown >= args.limit {
                    continue;
                }
                shown += 1;
                if args.json {
                    println!("{}", document_to_json(&doc));
                } else {
                    print_summary(&doc, args.chars);
                }
            }
        }
        let skipped: u64 = reader.skipped().values().sum();
        if files.len() > 1 || args.count {
            let note = if skipped > 0 { format!(" ({skipped} unreadable records skipped)") } else { String::new() };
            eprintln!("{file}: {in_file} documents{note}");
        }
        total += in_file;
    }
    if args.count {
        println!("{total}");
    } else if !args.json {
        println!("— {total} documents in {} file(s)", files.len());
    }
    Ok(())
}

fn print_summary(doc: &Document, chars: usize) {
    println!("── {}", doc.id);
    let fields = [
        ("url", &doc.url),
        ("title", &doc.title),
        ("language", &doc.language),
        ("content_type", &doc.content_type),
        ("warc_date", &doc.warc_date),
        ("source", &doc.source),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            println!("   {name}: {value}");
        }
    }
    let text: String = doc.text.chars().take(chars).collect();
    let more = if doc.text.chars().count() > chars { " …" } else { "" };
    println!("   text ({} chars):", doc.text.chars().count());
    for line in text.lines() {
        println!("   │ {line}");
    }
    if !more.is_empty() {
        println!("   │ …");
    }
}
