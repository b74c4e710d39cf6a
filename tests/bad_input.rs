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
    ingest_documents(dir, name, bytes).0
}

/// Ingests one file; returns its manifest and its documents.
fn ingest_documents(dir: &Path, name: &str, bytes: &[u8]) -> (serde_json::Value, Vec<sluice_core::Document>) {
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
    let docs =
        sluice_core::format::read_all(&sluice_core::store::Location::parse(data.to_str().unwrap()).unwrap()).unwrap();
    (manifest, docs)
}

/// Ingests one file that must fail as a whole; returns sluice's stderr.
fn ingest_fails(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let input = dir.join("in").join(name);
    std::fs::create_dir_all(input.parent().unwrap()).unwrap();
    std::fs::write(&input, bytes).unwrap();
    let output = dir.join(format!("out-{name}"));
    let out = sluice(&["ingest", input.to_str().unwrap(), "--output", output.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{name} should fail:\n{stderr}");
    stderr
}

/// The payload of the `response` record for `url` in a bundled real WARC.
fn real_payload(warc: &str, url: &str) -> Vec<u8> {
    use sluice_ingest::warc::{read_warc, Limits, WarcEvent};
    let file = std::fs::File::open(demo_warc().join(warc)).unwrap();
    let mut payload = None;
    read_warc(file, &Limits::default(), &mut |event| -> Result<(), ()> {
        if let WarcEvent::Record(record) = event {
            if record.target_uri() == Some(url) {
                payload = Some(sluice_ingest::http::parse_response(&record.block, 1 << 30).unwrap().payload);
            }
        }
        Ok(())
    })
    .unwrap();
    payload.unwrap_or_else(|| panic!("{url} in {warc}"))
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
fn compressed_payloads_are_decoded_or_dropped_never_read_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let page = std::fs::read(repo().join("tests/data/pages/rivers.html")).unwrap();
    let gzipped = gzip(&page);
    let html = "Content-Type: text/html\r\n";
    let mut data = Vec::new();
    // Decoded: gzip, deflate (zlib), stored decoded under a gzip header, and gzip bytes without a header.
    data.extend(gzip(&response_record(1, &format!("{html}Content-Encoding: gzip\r\n"), &gzipped)));
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zlib.write_all(&page).unwrap();
    data.extend(gzip(&response_record(2, &format!("{html}Content-Encoding: deflate\r\n"), &zlib.finish().unwrap())));
    data.extend(gzip(&response_record(3, &format!("{html}Content-Encoding: gzip\r\n"), &page)));
    data.extend(gzip(&response_record(4, html, &gzipped)));
    // Dropped: over the 8 MiB HTML limit once decompressed, cut short, corrupt (a wrong CRC), and Unix
    // `compress` (LZW, which sluice does not decode) over bytes that are not text.
    let mut huge = page.clone();
    huge.resize(9 << 20, b' ');
    data.extend(gzip(&response_record(5, &format!("{html}Content-Encoding: gzip\r\n"), &gzip(&huge))));
    let cut = &gzipped[..gzipped.len() / 2];
    data.extend(gzip(&response_record(6, &format!("{html}Content-Encoding: gzip\r\n"), cut)));
    let mut corrupt = gzipped.clone();
    let crc = corrupt.len() - 8;
    corrupt[crc] ^= 0xff;
    data.extend(gzip(&response_record(7, &format!("{html}Content-Encoding: gzip\r\n"), &corrupt)));
    data.extend(gzip(&response_record(8, &format!("{html}Content-Encoding: compress\r\n"), &gzipped[10..])));

    let (manifest, docs) = ingest_documents(dir.path(), "encoded.warc.gz", &data);
    assert_eq!(manifest["stats"]["docs_in"], 8, "{manifest}");
    let drops = manifest["stats"]["drops"].as_object().unwrap();
    assert_eq!(
        drops.iter().map(|(k, v)| (k.as_str(), v.as_u64().unwrap())).collect::<Vec<_>>(),
        [
            ("content_encoding_corrupt", 1),
            ("content_encoding_too_large", 1),
            ("content_encoding_truncated", 1),
            ("content_encoding_unsupported", 1)
        ],
        "{manifest}"
    );
    assert_eq!(stat(&manifest, "errors", "content_encoding_corrupt"), 1, "{manifest}");
    assert_eq!(stat(&manifest, "errors", "content_encoding_truncated"), 1, "{manifest}");
    // The four documents are the page's text, identical whatever the encoding.
    let ids: Vec<_> = docs.iter().map(|d| d.url.as_deref().unwrap()).collect();
    assert_eq!(ids, ["http://example.org/1", "http://example.org/2", "http://example.org/3", "http://example.org/4"]);
    assert!(docs[0].text.contains("river"), "{}", docs[0].text);
    for doc in &docs {
        assert_eq!(doc.text, docs[0].text);
    }
}

#[test]
fn a_page_declared_utf8_with_stray_latin1_bytes_stays_utf8() {
    let dir = tempfile::tempdir().unwrap();
    // A real German page (UTF-8, declared by <meta charset=UTF-8> only), with a stray Latin-1 "é" as a
    // broken template or a pasted snippet leaves it.
    let url = "https://die-partei.net/luebeck/2012/05/31/das-ministerium-fur-club-kultur-informiert/";
    let page = real_payload("realhtml-part0.warc.gz", url);
    assert!(std::str::from_utf8(&page).is_ok());
    let at = page.windows(7).position(|w| w == "völlig".as_bytes()).unwrap();
    let mut damaged = page[..at].to_vec();
    damaged.extend_from_slice(b"Caf\xe9 ");
    damaged.extend_from_slice(&page[at..]);

    let mut data = Vec::new();
    data.extend(gzip(&response_record(1, "Content-Type: text/html\r\n", &page)));
    data.extend(gzip(&response_record(2, "Content-Type: text/html\r\n", &damaged)));
    data.extend(gzip(&response_record(3, "Content-Type: text/html; charset=utf-8\r\n", &damaged)));
    let (manifest, docs) = ingest_documents(dir.path(), "latin1-in-utf8.warc.gz", &data);
    assert_eq!(manifest["stats"]["docs_out"], 3, "{manifest}");
    assert_eq!(stat(&manifest, "errors", "invalid_bytes_replaced"), 2, "{manifest}");
    assert_eq!(stat(&manifest, "counters", "charset:utf-8"), 3, "{manifest}");
    assert_eq!(stat(&manifest, "counters", "charset_from:meta_tag"), 2, "{manifest}");
    assert_eq!(stat(&manifest, "counters", "charset_from:http_header"), 1, "{manifest}");
    let clean = &docs[0].text;
    assert!(clean.contains("Die GEMA dreht völlig am Zeiger!"), "{clean}");
    for doc in &docs[1..] {
        // Only the stray byte is replaced; every umlaut of the page is intact (no "vÃ¶llig" mojibake).
        assert_eq!(doc.attributes["charset"], "UTF-8");
        assert!(doc.text.contains("Die GEMA dreht Caf\u{FFFD} völlig am Zeiger!"), "{}", doc.text);
        assert!(doc.text.contains("Tariferhöhungen") && doc.text.contains("Straßenraub"), "{}", doc.text);
        assert!(!doc.text.contains('Ã'), "{}", doc.text);
        assert_eq!(doc.text.replace("Caf\u{FFFD} ", ""), *clean);
    }
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
fn arc_files_are_counted_record_by_record() {
    let dir = tempfile::tempdir().unwrap();
    // Internet Archive's 2008 ARC: a file header and 8 captures, each a counted drop.
    let arc = std::fs::read(edge_cases().join("IAH-20080430204825-00000-blackbook-truncated.arc")).unwrap();
    let manifest = ingest_file(dir.path(), "old.arc", &arc);
    assert_eq!(manifest["stats"]["docs_in"], 8, "{manifest}");
    assert_eq!(stat(&manifest, "drops", "unsupported_format_arc"), 8, "{manifest}");
    assert_eq!(stat(&manifest, "errors", "unsupported_format_arc"), 9, "{manifest}");
    // warcio's example.arc.gz: a file header and one capture, one gzip member each.
    let manifest =
        ingest_file(dir.path(), "example.arc.gz", &std::fs::read(edge_cases().join("example.arc.gz")).unwrap());
    assert_eq!(manifest["stats"]["docs_in"], 1, "{manifest}");
    assert_eq!(stat(&manifest, "drops", "unsupported_format_arc"), 1, "{manifest}");
    assert_eq!(stat(&manifest, "errors", "unsupported_format_arc"), 2, "{manifest}");
}

/// A PNG image, from a real capture of archive.org in Internet Archive's 2008 ARC.
fn real_png() -> Vec<u8> {
    let arc = std::fs::read(edge_cases().join("IAH-20080430204825-00000-blackbook-truncated.arc")).unwrap();
    let header = b"http://www.archive.org/images/star.png ";
    let at = arc.windows(header.len()).position(|w| w == header).unwrap();
    let line_end = at + arc[at..].iter().position(|b| *b == b'\n').unwrap();
    let length: usize = String::from_utf8_lossy(&arc[at..line_end]).rsplit(' ').next().unwrap().parse().unwrap();
    let response = &arc[line_end + 1..line_end + 1 + length];
    let body = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(response[body..].starts_with(b"\x89PNG\r\n"));
    response[body..].to_vec()
}

/// A tar archive (ustar) holding one file.
fn tar(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..108].copy_from_slice(b"0000644\0");
    header[108..116].copy_from_slice(b"0001750\0");
    header[116..124].copy_from_slice(b"0001750\0");
    header[124..136].copy_from_slice(format!("{:011o}\0", content.len()).as_bytes());
    header[136..148].copy_from_slice(b"14712345670\0");
    header[156] = b'0';
    header[257..265].copy_from_slice(b"ustar\x0000");
    header[148..156].copy_from_slice(b"        ");
    let checksum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    header[148..156].copy_from_slice(format!("{checksum:06o}\0 ").as_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(content);
    out.resize(out.len().div_ceil(512) * 512 + 1024, 0);
    out
}

#[test]
fn files_without_any_record_fail_and_empty_files_pass() {
    let dir = tempfile::tempdir().unwrap();
    let page = std::fs::read(repo().join("tests/data/pages/rivers.html")).unwrap();
    let png = real_png();
    for (name, bytes) in [
        ("image.warc", png.clone()),
        ("archive.warc", tar("rivers.html", &page)),
        ("archive.warc.gz", gzip(&tar("rivers.html", &page))),
        ("garbage.warc", b"\x00\x01binary junk\nmore junk\n".repeat(100)),
    ] {
        let stderr = ingest_fails(dir.path(), name, &bytes);
        assert!(
            stderr.contains(&format!("no WARC record found in {}", dir.path().join("in").join(name).display()))
                && stderr.contains("is this a WARC file?"),
            "{name}: {stderr}"
        );
    }

    // An empty file is an empty WARC: no records, no error.
    let manifest = ingest_file(dir.path(), "empty.warc.gz", b"");
    assert_eq!(manifest["stats"]["docs_in"], 0);
    assert!(manifest["stats"]["errors"].as_object().unwrap().is_empty());

    // Garbage (not ending in a line break), then a record: the record is read, the garbage counted.
    let mut data = png.clone();
    data.extend(response_record(1, "Content-Type: text/html\r\n", &page));
    let manifest = ingest_file(dir.path(), "garbage-and-record.warc", &data);
    assert_eq!(manifest["stats"]["docs_out"], 1, "{manifest}");
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
    // Its response's Content-Length is 2 bytes short of its gzip payload: re-framed, every byte kept, the
    // payload decompresses and the page is a document.
    let truncated = &manifests["example-trunc.parquet"];
    assert_eq!(stat(truncated, "errors", "content_length_mismatch"), 1, "{truncated}");
    assert_eq!(truncated["stats"]["docs_out"], 1, "{truncated}");
    assert_eq!(stat(truncated, "counters", "content_encoding:decoded"), 1, "{truncated}");
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
