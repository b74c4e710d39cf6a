//! Documents survive every format change unchanged: WARC → Parquet → JSONL.zst → Parquet (and the other
//! JSONL compressions), on a real Common Crawl excerpt; and every store behaves the same.

mod common;

use common::*;
use sluice_core::format::{read_all, write_all, Compression, Format};
use sluice_core::runner::{run_stage, NoProgress, RunOptions};
use sluice_core::store::Location;
use sluice_ingest::{IngestConfig, IngestStage};

fn ingest(input: &str, output: &str, format: Format) {
    let stage = IngestStage::new(IngestConfig::default());
    let options = RunOptions { format, ..RunOptions::default() };
    run_stage(&stage, &[input.to_string()], output, &options, &NoProgress).unwrap();
}

#[test]
fn warc_to_parquet_to_jsonl_zst_to_parquet_keeps_documents_identical() {
    let out = tempfile::tempdir().unwrap();
    let warc = demo_warc().join("CC-MAIN-2020-34-excerpt.warc.gz");
    let parquet_dir = out.path().join("parquet");
    ingest(warc.to_str().unwrap(), parquet_dir.to_str().unwrap(), Format::Parquet);
    let original =
        read_all(&Location::parse(parquet_dir.join("CC-MAIN-2020-34-excerpt.parquet").to_str().unwrap()).unwrap())
            .unwrap();
    assert_eq!(original.len(), 16);

    let mut current = original.clone();
    for (i, format) in [
        Format::Jsonl(Compression::Zstd),
        Format::Parquet,
        Format::Jsonl(Compression::Gzip),
        Format::Jsonl(Compression::None),
        Format::Parquet,
    ]
    .into_iter()
    .enumerate()
    {
        let location =
            Location::parse(out.path().join(format!("step{i}.{}", format.extension())).to_str().unwrap()).unwrap();
        write_all(&location, format, &current).unwrap();
        current = read_all(&location).unwrap();
        assert_eq!(current, original, "after {format}");
    }
}

#[test]
fn ingesting_straight_to_jsonl_gives_the_same_documents_as_parquet() {
    let out = tempfile::tempdir().unwrap();
    let warc = demo_warc().join("clueweb09-ja-quirk.warc.gz");
    let read = |format: Format| {
        let dir = out.path().join(format.extension());
        ingest(warc.to_str().unwrap(), dir.to_str().unwrap(), format);
        read_all(
            &Location::parse(dir.join(format!("clueweb09-ja-quirk.{}", format.extension())).to_str().unwrap()).unwrap(),
        )
        .unwrap()
    };
    let parquet = read(Format::Parquet);
    assert_eq!(parquet.len(), 29);
    assert_eq!(read(Format::Jsonl(Compression::Zstd)), parquet);
}

#[test]
fn dolma_and_dclm_jsonl_files_go_through_unchanged() {
    let Some(data) = shared_or_skip("dolma_and_dclm_jsonl_files_go_through_unchanged") else { return };
    let dir = data.join("text/dolma_cc_samples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| sluice_core::format::Format::from_path(&p.to_string_lossy()).is_some())
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "the dolma samples in {}", dir.display());
    let out = tempfile::tempdir().unwrap();
    for file in files {
        let docs = read_all(&Location::parse(file.to_str().unwrap()).unwrap()).unwrap();
        let original = read_json_lines(&file);
        assert_eq!(docs.len(), original.len(), "{}: every line is a document", file.display());
        // JSONL → JSONL: the same JSON values line by line (key order may differ).
        let copy = Location::parse(out.path().join("copy.jsonl").to_str().unwrap()).unwrap();
        write_all(&copy, Format::Jsonl(Compression::None), &docs).unwrap();
        assert_eq!(original, read_json_lines(copy.local_path().unwrap()), "{}", file.display());
        // JSONL → Parquet → JSONL: the same documents and the same lines.
        let parquet = Location::parse(out.path().join("copy.parquet").to_str().unwrap()).unwrap();
        write_all(&parquet, Format::Parquet, &docs).unwrap();
        let back = read_all(&parquet).unwrap();
        assert_eq!(back, docs, "{}", file.display());
        write_all(&copy, Format::Jsonl(Compression::None), &back).unwrap();
        assert_eq!(original, read_json_lines(copy.local_path().unwrap()), "{} via Parquet", file.display());
    }
}

fn read_json_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    let bytes = std::fs::read(path).unwrap();
    let text = if path.to_string_lossy().ends_with(".gz") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut s).unwrap();
        s
    } else {
        String::from_utf8(bytes).unwrap()
    };
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn memory_and_local_stores_produce_the_same_bytes() {
    let out = tempfile::tempdir().unwrap();
    let input = demo_warc().join("CC-MAIN-2020-34-excerpt.warc.gz");
    // Copy the input into a memory store too, so both read and write paths go through object_store.
    let memory_input = Location::parse("memory://roundtrip/in/CC-MAIN-2020-34-excerpt.warc.gz").unwrap();
    memory_input.put_bytes(std::fs::read(&input).unwrap()).unwrap();
    ingest("memory://roundtrip/in", "memory://roundtrip/out", Format::Parquet);
    ingest(input.to_str().unwrap(), out.path().to_str().unwrap(), Format::Parquet);

    let local = std::fs::read(out.path().join("CC-MAIN-2020-34-excerpt.parquet")).unwrap();
    let memory =
        Location::parse("memory://roundtrip/out/CC-MAIN-2020-34-excerpt.parquet").unwrap().read_bytes().unwrap();
    assert_eq!(&memory[..], &local[..]);
    let manifest = Location::parse("memory://roundtrip/out/_manifests/CC-MAIN-2020-34-excerpt.json")
        .unwrap()
        .read_bytes()
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(manifest["stats"]["docs_out"], 16);
    // Documents read back from the memory store equal the local ones.
    let from_memory =
        read_all(&Location::parse("memory://roundtrip/out/CC-MAIN-2020-34-excerpt.parquet").unwrap()).unwrap();
    let from_local =
        read_all(&Location::parse(out.path().join("CC-MAIN-2020-34-excerpt.parquet").to_str().unwrap()).unwrap())
            .unwrap();
    assert_eq!(from_memory, from_local);
}
