//! Hostile WARC framing: stray bytes between records, lying `Content-Length`s, truncated gzip members and
//! ARC records ahead of WARC records. Every file is the real Common Crawl excerpt (or real ARC fixtures)
//! damaged one way, and every test checks that each record after the damage is still read: the documents
//! are exactly those of the undamaged file, and each lost candidate is a counted drop.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use common::*;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data).read_to_end(&mut out).unwrap();
    out
}

/// The Common Crawl excerpt as one uncompressed WARC.
fn cc_plain() -> Vec<u8> {
    gunzip(&std::fs::read(demo_warc().join("CC-MAIN-2020-34-excerpt.warc.gz")).unwrap())
}

/// The records of an uncompressed WARC, each with its trailing `CRLF CRLF`.
fn split_records(plain: &[u8]) -> Vec<Vec<u8>> {
    let mut records = Vec::new();
    let mut start = 0;
    let boundary = b"\r\n\r\nWARC/1.0\r\n";
    while let Some(found) = memchr_find(&plain[start..], boundary) {
        let end = start + found + 4;
        records.push(plain[start..end].to_vec());
        start = end;
    }
    records.push(plain[start..].to_vec());
    assert_eq!(records.len(), 50, "the excerpt has 50 records");
    assert!(records.iter().all(|r| r.starts_with(b"WARC/1.0\r\n") && r.ends_with(b"\r\n\r\n")));
    records
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn is_response(record: &[u8]) -> bool {
    memchr_find(&record[..record.len().min(2000)], b"WARC-Type: response\r\n").is_some()
}

/// Replaces a record's `Content-Length` value.
fn with_content_length(record: &[u8], length: u64) -> Vec<u8> {
    let at = memchr_find(record, b"\r\nContent-Length: ").unwrap() + 2;
    let end = at + memchr_find(&record[at..], b"\r\n").unwrap();
    let mut out = record[..at].to_vec();
    out.extend_from_slice(format!("Content-Length: {length}").as_bytes());
    out.extend_from_slice(&record[end..]);
    out
}

/// Ingests one file; returns its manifest and its documents (WARC-Record-ID → text).
fn ingest(dir: &Path, name: &str, bytes: &[u8]) -> (serde_json::Value, BTreeMap<String, String>) {
    let input = dir.join("in").join(name);
    std::fs::create_dir_all(input.parent().unwrap()).unwrap();
    std::fs::write(&input, bytes).unwrap();
    let output = dir.join(format!("out-{name}"));
    sluice_ok(&["ingest", input.to_str().unwrap(), "--output", output.to_str().unwrap()]);
    let manifest = manifests(&output).into_values().next().unwrap();
    assert_accounted(&manifest);
    let data = std::fs::read_dir(&output)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "parquet"))
        .unwrap();
    let docs = sluice_core::format::read_all(&sluice_core::store::Location::parse(data.to_str().unwrap()).unwrap())
        .unwrap()
        .into_iter()
        .map(|d| (d.warc_record_id.unwrap(), d.text))
        .collect();
    (manifest, docs)
}

fn map(manifest: &serde_json::Value, name: &str) -> BTreeMap<String, u64> {
    serde_json::from_value(manifest["stats"][name].clone()).unwrap()
}

/// `base` plus `extra`, summed per key.
fn plus(base: &BTreeMap<String, u64>, extra: &[(&str, u64)]) -> BTreeMap<String, u64> {
    let mut out = base.clone();
    for (name, n) in extra {
        *out.entry(name.to_string()).or_default() += n;
    }
    out
}

/// The record counters (`records:*`) of a manifest.
fn record_counts(manifest: &serde_json::Value) -> BTreeMap<String, u64> {
    map(manifest, "counters").into_iter().filter(|(k, _)| k.starts_with("records:")).collect()
}

#[test]
fn stray_bytes_between_records_of_a_plain_warc_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let plain = cc_plain();
    let (clean, clean_docs) = ingest(dir.path(), "clean.warc", &plain);
    assert_eq!(clean_docs.len(), 16);

    // A stray byte (or a few) after the trailing CRLFs of five records, the last record included, and one
    // before the first record: as broken writers leave them.
    let strays: [(usize, &[u8]); 5] = [(3, b"X"), (11, b"\0"), (20, b" "), (33, b"\0\0\0"), (49, b"\xff")];
    let mut damaged = b"\0".to_vec();
    for (i, record) in split_records(&plain).iter().enumerate() {
        damaged.extend_from_slice(record);
        if let Some((_, stray)) = strays.iter().find(|(at, _)| *at == i) {
            damaged.extend_from_slice(stray);
        }
    }
    let (manifest, docs) = ingest(dir.path(), "stray.warc", &damaged);
    // Every record is read, every document is the undamaged one, and each stray run is one counted error.
    assert_eq!(record_counts(&manifest), record_counts(&clean), "{manifest}");
    assert_eq!(docs, clean_docs);
    assert_eq!(map(&manifest, "drops"), map(&clean, "drops"));
    assert_eq!(map(&manifest, "errors"), plus(&map(&clean, "errors"), &[("garbage_skipped", 6)]), "{manifest}");
    assert_eq!(manifest["stats"]["docs_in"], clean["stats"]["docs_in"]);
}

#[test]
fn a_huge_lying_content_length_skips_nothing_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let plain = cc_plain();
    let (clean, clean_docs) = ingest(dir.path(), "clean.warc", &plain);
    let records = split_records(&plain);
    let responses: Vec<usize> = (0..records.len()).filter(|i| is_response(&records[*i])).collect();
    assert_eq!(responses.len(), 16);
    // The first, a middle and the last response declare 99,999,999,999 bytes (over the 64 MiB record limit).
    let liars = [responses[0], responses[7], responses[15]];
    let damaged: Vec<u8> = records
        .iter()
        .enumerate()
        .flat_map(|(i, r)| if liars.contains(&i) { with_content_length(r, 99_999_999_999) } else { r.clone() })
        .collect();

    // Uncompressed, and gzip per record as Common Crawl ships it.
    let per_record: Vec<u8> = records
        .iter()
        .enumerate()
        .flat_map(|(i, r)| gzip(&if liars.contains(&i) { with_content_length(r, 99_999_999_999) } else { r.clone() }))
        .collect();
    for (name, bytes) in [("lying.warc", damaged), ("lying.warc.gz", per_record)] {
        let (manifest, docs) = ingest(dir.path(), name, &bytes);
        assert_eq!(record_counts(&manifest), record_counts(&clean), "{name}: {manifest}");
        assert_eq!(docs, clean_docs, "{name}");
        assert_eq!(map(&manifest, "drops"), map(&clean, "drops"), "{name}");
        assert_eq!(
            map(&manifest, "errors"),
            plus(&map(&clean, "errors"), &[("content_length_mismatch", 3)]),
            "{name}: {manifest}"
        );
    }
}

#[test]
fn a_truncated_gzip_member_with_a_readable_header_is_a_counted_drop() {
    let dir = tempfile::tempdir().unwrap();
    let records = split_records(&cc_plain());
    let members: Vec<Vec<u8>> = records.iter().map(|r| gzip(r)).collect();
    let responses: Vec<usize> = (0..records.len()).filter(|i| is_response(&records[*i])).collect();
    let cut = responses[5];
    let member = &members[cut];
    // The file ends inside the member of the 6th response: halfway through its block, or inside its WARC
    // header block right after the `WARC-Type` line (the shortest cut that decodes that line).
    let decoded = |bytes: &[u8]| {
        let mut out = Vec::new();
        let _ = flate2::read::GzDecoder::new(bytes).read_to_end(&mut out);
        out
    };
    let in_header =
        (1..member.len()).find(|n| memchr_find(&decoded(&member[..*n]), b"WARC-Type: response\r\n").is_some()).unwrap();
    assert!(memchr_find(&decoded(&member[..in_header]), b"\r\n\r\n").is_none(), "the cut is in the header block");
    for (name, end) in [("cut-in-block.warc.gz", member.len() / 2), ("cut-in-header.warc.gz", in_header)] {
        let mut data: Vec<u8> = members[..cut].concat();
        data.extend_from_slice(&member[..end]);
        let (manifest, docs) = ingest(dir.path(), name, &data);
        let stats = &manifest["stats"];
        assert_eq!(stats["docs_in"], 6, "{name}: {manifest}");
        assert_eq!(stats["docs_out"], 5, "{name}: {manifest}");
        assert_eq!(map(&manifest, "drops"), BTreeMap::from([("gzip_truncated".to_string(), 1)]), "{name}: {manifest}");
        assert_eq!(stat(&manifest, "errors", "gzip_truncated"), 1, "{name}: {manifest}");
        assert_eq!(docs.len(), 5);
    }
}

#[test]
fn a_gzip_member_cut_short_mid_file_loses_only_its_own_record() {
    let dir = tempfile::tempdir().unwrap();
    let records = split_records(&cc_plain());
    let members: Vec<Vec<u8>> = records.iter().map(|r| gzip(r)).collect();
    let (clean, clean_docs) = ingest(dir.path(), "clean.warc.gz", &members.concat());
    // The decoder reads a cut member's successor as more deflate data before it fails; the successor must
    // still be read. Members 1..9: requests, responses and metadata, cut halfway and near their end.
    for k in 1..9 {
        for tenths in [5, 9] {
            let mut data: Vec<u8> = members[..k].concat();
            data.extend_from_slice(&members[k][..members[k].len() * tenths / 10]);
            data.extend(members[k + 1..].concat());
            let name = format!("cut-{k}-{tenths}.warc.gz");
            let (manifest, docs) = ingest(dir.path(), &name, &data);
            let record_type = if is_response(&records[k]) {
                "response"
            } else if memchr_find(&records[k][..300], b"WARC-Type: request").is_some() {
                "request"
            } else {
                "metadata"
            };
            // Every other record is read; the cut one is one counted error (and drop, if a response).
            let mut expected = record_counts(&clean);
            *expected.get_mut(&format!("records:{record_type}")).unwrap() -= 1;
            assert_eq!(record_counts(&manifest), expected, "{name}: {manifest}");
            let gzip_problems = |kind: &str| {
                let counts = map(&manifest, kind);
                counts.get("gzip_corrupt").unwrap_or(&0) + counts.get("gzip_truncated").unwrap_or(&0)
            };
            assert_eq!(gzip_problems("errors"), 1, "{name}: {manifest}");
            assert_eq!(manifest["stats"]["docs_in"], 16, "{name}: {manifest}");
            let mut expected_docs = clean_docs.clone();
            if record_type == "response" {
                let text = String::from_utf8_lossy(&records[k]).into_owned();
                let id = &text.split("WARC-Record-ID: ").nth(1).unwrap()[..47];
                assert!(expected_docs.remove(id).is_some(), "{id}");
                assert_eq!(gzip_problems("drops"), 1, "{name}: {manifest}");
            } else {
                assert_eq!(gzip_problems("drops"), 0, "{name}: {manifest}");
            }
            assert_eq!(docs, expected_docs, "{name}");
        }
    }
}

#[test]
fn arc_records_ahead_of_warc_records_are_counted_and_the_warc_records_read() {
    let dir = tempfile::tempdir().unwrap();
    let cc = std::fs::read(demo_warc().join("CC-MAIN-2020-34-excerpt.warc.gz")).unwrap();
    let (clean, clean_docs) = ingest(dir.path(), "clean.warc.gz", &cc);

    // warcio's example.arc.gz (a file header and one page), then the excerpt: gzip members back to back.
    let arc_gz = std::fs::read(edge_cases().join("example.arc.gz")).unwrap();
    let (manifest, docs) = ingest(dir.path(), "mixed.warc.gz", &[arc_gz.clone(), cc.clone()].concat());
    assert_eq!(docs, clean_docs);
    assert_eq!(manifest["stats"]["docs_in"], 17, "{manifest}");
    assert_eq!(map(&manifest, "drops"), plus(&map(&clean, "drops"), &[("unsupported_format_arc", 1)]));
    assert_eq!(map(&manifest, "errors"), plus(&map(&clean, "errors"), &[("unsupported_format_arc", 2)]));
    assert_eq!(record_counts(&manifest), plus(&record_counts(&clean), &[("records:arc", 2)]), "{manifest}");

    // Internet Archive's 2008 ARC (a file header and 8 captures), uncompressed, then the excerpt uncompressed.
    let arc = std::fs::read(edge_cases().join("IAH-20080430204825-00000-blackbook-truncated.arc")).unwrap();
    let (manifest, docs) = ingest(dir.path(), "mixed.warc", &[arc, gunzip(&cc)].concat());
    assert_eq!(docs, clean_docs);
    assert_eq!(manifest["stats"]["docs_in"], 24, "{manifest}");
    assert_eq!(map(&manifest, "drops"), plus(&map(&clean, "drops"), &[("unsupported_format_arc", 8)]));
    assert_eq!(map(&manifest, "errors"), plus(&map(&clean, "errors"), &[("unsupported_format_arc", 9)]));
    assert_eq!(record_counts(&manifest), plus(&record_counts(&clean), &[("records:arc", 9)]), "{manifest}");
}
