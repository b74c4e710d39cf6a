//! Ingest real WARC/WET files and check record counts against the counts warcio reports for them
//! (`shared/data/warc_real/ORIGIN.md`).

mod common;

use common::*;

/// Records by type, as warcio counts them.
type RecordCounts = &'static [(&'static str, u64)];

/// (input file, records by type as warcio counts them, documents written).
const EXPECTED: &[(&str, RecordCounts, u64)] = &[
    (
        "resiliparse/CC-MAIN-2020-34-excerpt.warc.gz",
        &[("warcinfo", 1), ("request", 17), ("response", 16), ("metadata", 16)],
        16,
    ),
    ("resiliparse/clueweb09-ja-quirk.warc.gz", &[("warcinfo", 1), ("response", 29)], 29),
    ("jwarc/cc.warc.gz", &[("response", 1)], 1),
    ("dolma/sample-0000.warc.gz", &[("response", 22)], 22),
    ("dolma/sample-0001.warc.gz", &[("response", 15)], 15),
    ("ia-web-commons/IAH-urls-wget.warc.gz", &[("response", 16), ("request", 16), ("resource", 3)], 9),
    ("pywb/iana.warc.gz", &[("warcinfo", 1), ("response", 48), ("request", 171), ("revisit", 123)], 18),
    ("pywb/dupes.warc.gz", &[("response", 3), ("request", 12), ("revisit", 9)], 1),
    ("whirlwind/whirlwind.warc.gz", &[("warcinfo", 1), ("request", 1), ("response", 1), ("metadata", 1)], 1),
    ("whirlwind/whirlwind.warc.wet.gz", &[("warcinfo", 1), ("conversion", 1)], 1),
    ("whirlwind/whirlwind.warc.wat.gz", &[("warcinfo", 1), ("metadata", 1)], 0),
    ("cc_net/sample.warc.wet.txt", &[("warcinfo", 1), ("conversion", 3)], 3),
];

#[test]
fn every_real_warc_file_is_read_with_the_expected_record_counts() {
    let Some(data) = shared_or_skip("every_real_warc_file_is_read_with_the_expected_record_counts") else { return };
    let out = tempfile::tempdir().unwrap();
    for (file, records, docs) in EXPECTED {
        let input = data.join("warc_real").join(file);
        let output = out.path().join(file.replace('/', "_"));
        sluice_ok(&["ingest", input.to_str().unwrap(), "--output", output.to_str().unwrap()]);
        let manifests = manifests(&output);
        assert_eq!(manifests.len(), 1, "{file}");
        let manifest = manifests.values().next().unwrap();
        for (record_type, count) in *records {
            assert_eq!(
                stat(manifest, "counters", &format!("records:{record_type}")),
                *count,
                "{file}: {record_type} records"
            );
        }
        assert_eq!(manifest["stats"]["docs_out"].as_u64().unwrap(), *docs, "{file}: documents");
        assert_accounted(manifest);
    }
}

#[test]
fn the_whole_real_folder_ingests_without_losing_anything() {
    let Some(data) = shared_or_skip("the_whole_real_folder_ingests_without_losing_anything") else { return };
    let out = tempfile::tempdir().unwrap();
    let summary =
        sluice_ok(&["ingest", data.join("warc_real").to_str().unwrap(), "--output", out.path().to_str().unwrap()]);
    assert!(summary.contains("22 shards"), "{summary}");
    let manifests = manifests(out.path());
    for manifest in manifests.values() {
        assert_accounted(manifest);
    }
    // The two ARC files are read record by record, each capture a counted drop: IA's 2008 ARC holds a file
    // header and 8 captures, warcio's example.arc.gz a file header and 1 capture.
    let arc_errors: u64 = manifests.values().map(|m| stat(m, "errors", "unsupported_format_arc")).sum();
    let arc_drops: u64 = manifests.values().map(|m| stat(m, "drops", "unsupported_format_arc")).sum();
    assert_eq!((arc_errors, arc_drops), (11, 9));
}

#[test]
fn the_realhtml_warc_ingests_every_page() {
    let Some(data) = shared_or_skip("the_realhtml_warc_ingests_every_page") else { return };
    let out = tempfile::tempdir().unwrap();
    let input = data.join("warc_realhtml/realhtml-trafilatura-aeb.warc.gz");
    sluice_ok(&["ingest", input.to_str().unwrap(), "--output", out.path().to_str().unwrap()]);
    let manifest = manifests(out.path()).into_values().next().unwrap();
    assert_eq!(stat(&manifest, "counters", "records:response"), 1171);
    assert_accounted(&manifest);
    // Real pages: nearly all yield text (a handful are empty shells).
    assert!(manifest["stats"]["docs_out"].as_u64().unwrap() >= 1150, "{manifest}");
}

#[test]
fn demo_warcs_ingest_with_real_text_and_metadata() {
    let out = tempfile::tempdir().unwrap();
    sluice_ok(&["ingest", demo_warc().to_str().unwrap(), "--output", out.path().to_str().unwrap()]);
    let manifests = manifests(out.path());
    let cc = &manifests["CC-MAIN-2020-34-excerpt.parquet"];
    assert_eq!(stat(cc, "counters", "records:response"), 16);
    assert_eq!(cc["stats"]["docs_out"], 16);
    let docs = sluice_core::format::read_all(
        &sluice_core::store::Location::parse(out.path().join("CC-MAIN-2020-34-excerpt.parquet").to_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let spb = docs.iter().find(|d| d.url.as_deref() == Some("http://01spb.ru/company/")).expect("the 01spb.ru page");
    assert!(spb.text.contains("пожарной безопасности"), "{}", spb.text);
    assert_eq!(spb.metadata["WARC-Type"], "response");
    assert_eq!(spb.warc_date.as_deref(), Some("2020-08-08T18:31:12Z"));
    assert!(spb.warcinfo.as_deref().unwrap().contains("isPartOf: CC-MAIN-2020-34"));
    assert_eq!(spb.id, "e9e41f63-d478-42d0-bca8-1af2be3245a3");
    // ClueWeb09's EUC-JP pages decode to Japanese.
    let clueweb = sluice_core::format::read_all(
        &sluice_core::store::Location::parse(out.path().join("clueweb09-ja-quirk.parquet").to_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(clueweb.len(), 29);
    assert!(clueweb.iter().all(|d| d.attributes["charset"] == "EUC-JP"), "charsets");
    assert!(clueweb[0].title.as_deref().unwrap().contains("ブリーフケース"));
    for manifest in manifests.values() {
        assert_accounted(manifest);
    }
}
