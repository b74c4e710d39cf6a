//! Bad input is counted, reported and skipped — never a crash, never a silent drop. Inputs are real files
//! (the Common Crawl excerpt, warcio's and IA's fixtures) damaged in the ways crawls get damaged, plus a few
//! records built around real page bytes.

mod common;

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

fn response_record(id: u32, http_headers: &str, payload: &[u8]) -> Vec<u8> {
    let mut block = format!("HTTP/1.1 200 OK\r\n{http_headers}\r\n").into_bytes();
    block.extend_from_slice(payload);
    let mut record = format!(
        "WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://example.org/{id}\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{id:012}>\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: {}\r\n\r\n",
        block.len()
    )
    .into_bytes();
    record.extend_from_slice(&block);
    record.extend_from_slice(b"\r\n\r\n");
    record
}

/// Ingests one file; returns its manifest.
fn ingest_file(dir: &Path, name: &str, bytes: &[u8]) -> serde_json::Value {
    let input = dir.join("in").join(name);
    std::fs::create_dir_all(input.parent().unwrap()).unwrap();
    std::fs::write(&input, bytes).unwrap();
    let output = dir.join(format!("out-{name}"));
    sluice_ok(&["ingest", input.to_str().unwrap(), "--output", output.to_str().unwrap()]);
    let manifest = manifests(&output).into_values().next().unwrap();
    assert_accounted(&manifest);
    manifest
}

fn cc_excerpt() -> Vec<u8> {
    std::fs::read(demo_warc().join("CC-MAIN-2020-34-excerpt.warc.gz")).unwrap()
}

#[test]
fn a_truncated_gzip_member_is_reported_and_earlier_records_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = cc_excerpt();
    data.truncate(data.len() * 6 / 10);
    let manifest = ingest_file(dir.path(), "truncated.warc.gz", &data);
    assert!(stat(&manifest, "errors", "gzip_truncated") + stat(&manifest, "errors", "gzip_corrupt") == 1, "{manifest}");
    let out = manifest["stats"]["docs_out"].as_u64().unwrap();
    assert!((5..16).contains(&out), "{manifest}");
}

#[test]
fn a_corrupt_member_is_skipped_and_reading_resumes_at_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = cc_excerpt();
    let middle = data.len() / 2;
    for byte in &mut data[middle..middle + 64] {
        *byte ^= 0x5a;
    }
    let manifest = ingest_file(dir.path(), "corrupt.warc.gz", &data);
    assert_eq!(
        stat(&manifest, "errors", "gzip_corrupt") + stat(&manifest, "errors", "gzip_truncated"),
        1,
        "{manifest}"
    );
    // At most the one damaged record is lost; everything after it is read.
    assert!(stat(&manifest, "counters", "records:response") >= 15, "{manifest}");
    assert!(stat(&manifest, "counters", "records:metadata") >= 15, "{manifest}");
}

#[test]
fn lying_content_lengths_are_reframed_without_losing_records() {
    let dir = tempfile::tempdir().unwrap();
    let plain = String::from_utf8_lossy(&gunzip(&cc_excerpt())).into_owned();
    // Make the 3rd and 9th Content-Length headers of WARC records lie, one too large and one too small.
    let mut seen = 0;
    let lied: Vec<String> = plain
        .split("\r\n")
        .map(|line| match line.strip_prefix("Content-Length: ") {
            Some(n) if line.len() < 40 => {
                seen += 1;
                let n: i64 = n.parse().unwrap_or(0);
                match seen {
                    3 => format!("Content-Length: {}", n + 300),
                    9 => format!("Content-Length: {}", (n - 300).max(0)),
                    _ => line.to_string(),
                }
            }
            _ => line.to_string(),
        })
        .collect();
    let manifest = ingest_file(dir.path(), "lying.warc", lied.join("\r\n").as_bytes());
    assert!(stat(&manifest, "errors", "content_length_mismatch") >= 1, "{manifest}");
    assert_eq!(stat(&manifest, "counters", "records:response"), 16, "{manifest}");
    assert_eq!(stat(&manifest, "counters", "records:request"), 17, "{manifest}");
}

#[test]
fn odd_payloads_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let page = std::fs::read_to_string(repo().join("tests/data/pages/rivers.html")).unwrap();
    let mut data = Vec::new();
    // 1. a binary payload
    data.extend(gzip(&response_record(1, "Content-Type: application/pdf\r\n", &[0u8, 159, 146, 150, 255, 0, 1])));
    // 2. invalid UTF-8 in a page labelled UTF-8
    let mut invalid = page.clone().into_bytes();
    invalid.extend_from_slice(b"<p>caf\xe9 cr\xe8me \xff\xfe</p>");
    data.extend(gzip(&response_record(2, "Content-Type: text/html; charset=utf-8\r\n", &invalid)));
    // 3. an unknown charset label
    data.extend(gzip(&response_record(3, "Content-Type: text/html; charset=x-no-such-charset\r\n", page.as_bytes())));
    // 4. a 50 MB page
    let mut huge = page.clone().into_bytes();
    huge.extend(std::iter::repeat_n(b"<p>filler text</p>".iter().copied(), 50 << 20 >> 4).flatten().take(50 << 20));
    data.extend(gzip(&response_record(4, "Content-Type: text/html\r\n", &huge)));
    // 5. not an HTTP response at all
    data.extend(gzip(
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:5>\r\nContent-Length: 5\r\n\r\nhello\r\n\r\n",
    ));
    let manifest = ingest_file(dir.path(), "odd.warc.gz", &data);
    let stats = &manifest["stats"];
    assert_eq!(stats["docs_in"], 5, "{manifest}");
    assert_eq!(stat(&manifest, "drops", "not_html"), 1, "{manifest}");
    assert_eq!(stat(&manifest, "drops", "html_too_large"), 1, "{manifest}");
    assert_eq!(stat(&manifest, "drops", "not_http"), 1, "{manifest}");
    assert_eq!(stat(&manifest, "errors", "unknown_charset_label"), 1, "{manifest}");
    assert_eq!(stats["docs_out"], 2, "{manifest}");
}

#[test]
fn records_over_the_record_limit_are_skipped_and_the_next_one_read() {
    let dir = tempfile::tempdir().unwrap();
    let page = std::fs::read(repo().join("tests/data/pages/rivers.html")).unwrap();
    let mut data = Vec::new();
    let mut big = page.clone();
    big.resize(70 << 20, b' ');
    data.extend(response_record(1, "Content-Type: text/html\r\n", &big));
    data.extend(response_record(2, "Content-Type: text/html\r\n", &page));
    let manifest = ingest_file(dir.path(), "big.warc", &data);
    assert_eq!(stat(&manifest, "errors", "record_too_large"), 1, "{manifest}");
    assert_eq!(stat(&manifest, "drops", "record_too_large"), 1, "{manifest}");
    assert_eq!(manifest["stats"]["docs_out"], 1, "{manifest}");
}

#[test]
fn arc_empty_and_garbage_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let arc = std::fs::read(edge_cases().join("IAH-20080430204825-00000-blackbook-truncated.arc")).unwrap();
    let manifest = ingest_file(dir.path(), "old.arc", &arc);
    assert_eq!(stat(&manifest, "errors", "unsupported_format_arc"), 1, "{manifest}");
    let manifest =
        ingest_file(dir.path(), "example.arc.gz", &std::fs::read(edge_cases().join("example.arc.gz")).unwrap());
    assert_eq!(stat(&manifest, "errors", "unsupported_format_arc"), 1, "{manifest}");

    let manifest = ingest_file(dir.path(), "empty.warc.gz", b"");
    assert_eq!(manifest["stats"]["docs_in"], 0);
    assert!(manifest["stats"]["errors"].as_object().unwrap().is_empty());

    let manifest = ingest_file(dir.path(), "garbage.warc", &b"\x00\x01binary junk\nmore junk\n".repeat(100));
    assert_eq!(stat(&manifest, "errors", "garbage_skipped"), 1, "{manifest}");
}

#[test]
fn warcio_edge_cases_all_read() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out");
    sluice_ok(&["ingest", edge_cases().to_str().unwrap(), "--output", output.to_str().unwrap()]);
    let manifests = manifests(&output);
    for manifest in manifests.values() {
        assert_accounted(manifest);
    }
    let chunked = &manifests["example-iana.org-chunked.parquet"];
    assert_eq!(chunked["stats"]["docs_out"], 1);
    let wet = &manifests["cc_net-sample.parquet"];
    assert_eq!(wet["stats"]["docs_out"], 3, "{wet}");
    let truncated = &manifests["example-trunc.parquet"];
    assert_eq!(
        stat(truncated, "errors", "content_length_mismatch") + stat(truncated, "errors", "truncated_record"),
        1,
        "{truncated}"
    );
}

#[test]
fn a_broken_recipe_fails_with_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = dir.path().join("broken.yaml");
    std::fs::write(&recipe, "name: broken\noutput: out\nstages:\n  - ingest:\n      input: [x]\n      treshold: 3\n")
        .unwrap();
    let out = sluice(&["run", recipe.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.yaml:6:") && stderr.contains("treshold"), "{stderr}");
    assert_eq!(stderr.lines().next().unwrap().matches("sluice: error").count(), 1, "{stderr}");
}

#[test]
fn missing_inputs_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = sluice(&["ingest", "/no/such/folder", "--output", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no input found under /no/such/folder"), "{stderr}");
}
