//! The s3:// path against a real S3 API (moto on loopback, started by `tests/with-s3.sh`, which
//! `make test` uses): reading inputs, committing outputs, resuming and inspecting work as on local disk.

mod common;

use common::*;
use sluice_core::format::read_all;
use sluice_core::store::Location;

#[test]
fn ingest_reads_and_writes_s3_exactly_like_local_disk() {
    if std::env::var("SLUICE_TEST_S3").is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but no local S3 server: run through `make test`"
        );
        eprintln!(
            "SKIPPED ingest_reads_and_writes_s3_exactly_like_local_disk: no local S3 server (run through `make test`)"
        );
        return;
    }
    let run = format!(
        "s3://sluice-test/run-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    );
    let warc = demo_warc().join("CC-MAIN-2020-34-excerpt.warc.gz");
    Location::parse(&format!("{run}/in/CC-MAIN-2020-34-excerpt.warc.gz"))
        .unwrap()
        .put_bytes(std::fs::read(&warc).unwrap())
        .unwrap();

    let s3_out = format!("{run}/out");
    let summary = sluice_ok(&["ingest", &format!("{run}/in"), "--output", &s3_out]);
    assert!(summary.contains("1 processed"), "{summary}");
    let local = tempfile::tempdir().unwrap();
    sluice_ok(&["ingest", warc.to_str().unwrap(), "--output", local.path().to_str().unwrap()]);

    let remote = Location::parse(&format!("{s3_out}/CC-MAIN-2020-34-excerpt.parquet")).unwrap();
    assert_eq!(
        &remote.read_bytes().unwrap()[..],
        &std::fs::read(local.path().join("CC-MAIN-2020-34-excerpt.parquet")).unwrap()[..]
    );
    assert_eq!(read_all(&remote).unwrap().len(), 16);
    assert!(Location::parse(&format!("{s3_out}/_manifests/CC-MAIN-2020-34-excerpt.json")).unwrap().exists().unwrap());
    // Nothing is left under _tmp after the commit (rename = copy + delete on S3).
    assert!(Location::parse(&format!("{s3_out}/_tmp")).unwrap().list_objects().unwrap().is_empty());

    let again = sluice_ok(&["ingest", &format!("{run}/in"), "--output", &s3_out]);
    assert!(again.contains("1 resumed"), "{again}");
    let count = sluice_ok(&["inspect", &s3_out, "--count"]);
    assert_eq!(count.trim(), "16");

    // JSONL.zst to S3 reads back to the same documents.
    let jsonl_out = format!("{run}/jsonl");
    sluice_ok(&["ingest", &format!("{run}/in"), "--output", &jsonl_out, "--format", "jsonl.zst"]);
    let from_jsonl =
        read_all(&Location::parse(&format!("{jsonl_out}/CC-MAIN-2020-34-excerpt.jsonl.zst")).unwrap()).unwrap();
    assert_eq!(from_jsonl, read_all(&remote).unwrap());
}
