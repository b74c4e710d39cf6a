//! The `filter` stage end to end: a recipe chaining ingest and DCLM's text steps on the bundled real
//! WARCs, `sluice filter` over real dolma JSONL documents, and documents a step cannot decide.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use serde_json::{json, Value};

/// The documents of one output shard.
fn read_docs(path: &Path) -> Vec<sluice_core::Document> {
    sluice_core::format::read_all(&sluice_core::store::Location::parse(path.to_str().unwrap()).unwrap()).unwrap()
}

#[test]
fn a_recipe_ingests_then_filters_keeping_exactly_the_expected_pages() {
    let out = tempfile::tempdir().unwrap();
    let recipe = repo().join("tests/data/recipes/dclm-text-steps.yaml");
    let summary = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["run", recipe.to_str().unwrap(), "--output", out.path().to_str().unwrap(), "--quiet"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(summary.status.success(), "{}", String::from_utf8_lossy(&summary.stderr));
    let filtered = manifests(&out.path().join("2-filter"));
    // Drop reasons are step names: the same whatever the step's position in the chain.
    let expected_drops: BTreeMap<&str, Value> = [
        (
            "CC-MAIN-2020-34-excerpt.parquet",
            json!({"alphabetic_word_ratio_filter": 2, "page_length_filter": 9, "stop_word_filter": 2, "word_length_filter": 1}),
        ),
        ("clueweb09-ja-quirk.parquet", json!({"stop_word_filter": 29})),
        ("realhtml-part0.parquet", json!({"alphabetic_word_ratio_filter": 3, "page_length_filter": 2, "stop_word_filter": 39})),
        ("realhtml-part1.parquet", json!({"page_length_filter": 3, "stop_word_filter": 33, "word_removal_ratio_filter": 1})),
        ("realhtml-part2.parquet", json!({"alphabetic_word_ratio_filter": 1, "stop_word_filter": 50})),
        ("realhtml-part3.parquet", json!({"alphabetic_word_ratio_filter": 1, "stop_word_filter": 42})),
        ("whirlwind-7c371a3f.parquet", json!({"stop_word_filter": 1})),
        ("whirlwind-84efff86.parquet", json!({"stop_word_filter": 1})),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        filtered.keys().map(String::as_str).collect::<Vec<_>>(),
        expected_drops.keys().copied().collect::<Vec<_>>()
    );
    for (shard, manifest) in &filtered {
        assert_accounted(manifest);
        assert_eq!(manifest["stats"]["drops"], expected_drops[shard.as_str()], "drops of {shard}");
        assert!(manifest["stats"]["errors"].as_object().is_none_or(|e| e.is_empty()), "{manifest}");
        // The chain order is in the counters: every document reached the first step.
        assert_eq!(
            stat(manifest, "counters", "chain:01:move_url_modifier"),
            manifest["stats"]["docs_in"].as_u64().unwrap()
        );
    }
    // Exactly these pages survive (English article pages, and German ones with enough English stop words):
    // the short pages, the Japanese ClueWeb pages and the navigation pages do not.
    let expected_kept: BTreeMap<&str, Vec<&str>> = [
        ("CC-MAIN-2020-34-excerpt.parquet", vec![
            "http://037426.cn/",
            "http://0900-hovenier.nl/gelderland/oosterbeek/",
        ]),
        ("clueweb09-ja-quirk.parquet", vec![
        ]),
        ("realhtml-part0.parquet", vec![
            "http://www.echte-demokratie-jetzt.de/blog/",
            "http://www.steinhau.com/steinhau/wordpress/einmal-zahlen-alles-lesen/",
            "https://beyssonmanagement.com/2014/07/15/was-ist-innovation/",
            "https://github.blog/2019-03-29-leader-spotlight-erin-spiceland/",
            "https://happyface313.com/2018/03/07/im-test-plantur-39-color-braun-phyto-coffein-shampoo-und-pflege-spulung/",
            "https://mixed.de/vrodo-deals-vr-taugliches-notebook-fuer-83215-euro-99-cent-leihfilme-bei-amazon-psvr/",
            "https://murdeltas.wordpress.com/2015/04/05/barcamp-graz-2015-politcamp-call-for-action/",
            "https://prof-pc.de/",
            "https://skateboardmsm.de/news/the-captains-quest-2017-contest-auf-schwimmender-miniramp-am-19-august-in-dormagen.html",
            "https://together.ch/de/karriere/events-messen/119-sprungbrett-event-schaffhausen",
            "https://www.luxuryhaven.co/2019/05/nam-nghi-phu-quoc-unbound-collection-by-hyatt-officially-opens.html",
            "https://www.parallels.com/products/desktop/",
            "https://www.reddit.com/r/Python/comments/1bbbwk/whats_your_opinion_on_what_to_include_in_init_py/",
            "https://www.schneems.com/2018/10/09/pair-with-me-rubocop-cop-that-detects-duplicate-array-allocations/",
            "https://www.spektrum.de/wissen/laesst-sich-die-coronavirus-ausbreitung-in-deutschland-kontrollieren/1700384",
        ]),
        ("realhtml-part1.parquet", vec![
            "http://thenervousbreakdown.com/tanderson/2011/07/the-loneliest-woman-in-the-world-an-appreciation-of-hearts-alone/",
            "https://businessjargons.com/leadership-styles.html",
            "https://californiaglobe.com/section-2/amazon-liable-for-defective-third-party-products-rules-ca-appelate-court/",
            "https://emacspeak.blogspot.com/2019/10/meta-programming-in-emacs-using.html",
            "https://flawlessfood.co.uk/olive-herb-focaccia-bread/",
            "https://kleinegruenemonster.wordpress.com/2016/01/01/ein-entspannter-start-ins-neue-jahr-2016-be-happy/",
            "https://netzpolitik.org/2016/die-cider-connection-abmahnungen-gegen-nutzer-von-creative-commons-bildern/",
            "https://newrepublic.com/article/155970/collapse-neoliberalism",
            "https://pawszilla.com/pop-culture/celebrities/fans-expressed-fears-celine-dions-appearance-savagely-responded/21/",
            "https://phys.org/news/2019-10-flint-flake-tool-partially-birch.html",
            "https://stackoverflow.blog/2020/01/20/what-is-rust-and-why-is-it-so-popular/",
            "https://stardewvalleywiki.com/Penny",
            "https://surfguard.wordpress.com/2016/11/01/ich-las-sah-hoerte-medien-im-oktober-2016/",
            "https://thepostpartumparty.com/how-to-set-up-a-baby-nursery-in-a-small-space",
            "https://uk.trustpilot.com/reviews/581cf1892ae760087cadbf17",
            "https://web.archive.org/web/20171008220355/http://juergenheitmann.com/essays/2017/01/aggression-fotografie/",
            "https://www.mdavis.xyz/supermarket/",
            "https://www.nationalgeographic.co.uk/environment-and-conservation/2020/01/ravenous-wild-goats-ruled-island-over-century-now-its-being",
            "https://www.nationalrail.co.uk/service_disruptions/245738.aspx",
            "https://www.oekonomenstimme.org/artikel/2015/01/eine-realistische-interpretation-des-keynes-hicks-multiplikators/",
            "https://www.pcgamer.com/through-the-darkest-of-times-review/",
            "https://www.pcmag.com/news/next-gen-hamr-platters-promise-80tb-hard-drives",
            "https://www.royalroad.com/fiction/34798/melas/chapter/535107/chapter-1-prologue-murdered",
        ]),
        ("realhtml-part2.parquet", vec![
            "http://www.jobsnhire.com/articles/35030/20160214/need-know-cvs-health.htm",
            "https://publica.pl/teksty/rafalska-finowie-odkrywaja-wino-68379.html",
            "https://redtri.com/best-jokes-for-kids/slide/1",
            "https://wiadomosci.gazeta.pl/wiadomosci/7,114883,27025667,ziemniaki-na-szostej-surowka-na-dziesiatej-jak-pomoc-zeby.html#s=BoxMMt2",
            "https://www.aclu.org/blog/juvenile-justice/school-prison-pipeline/county-criminalized-students-bad-grades-until-now",
            "https://www.houzz.de/magazin/best-of-houzz-2022-das-sind-die-beliebtesten-projekte-auf-houzz-stsetivw-vs~157401545",
            "https://www.msn.com/en-gb/news/uknews/uk-university-student-halls-too-full-to-be-safe-experts-warn/ar-BB19DUqK",
            "https://www.osw.waw.pl/pl/publikacje/analizy/2021-04-20/rosyjskie-zamachy-w-czechach-kontekst-krajowy-implikacje-perspektywy",
            "https://www.standard.co.uk/news/uk/turkey-poland-caribbean-islands-added-to-uk-quarantine-list-a4561256.html",
        ]),
        ("realhtml-part3.parquet", vec![
            "https://docs.docker.com/engine/install/",
            "https://orsted.de/gruene-energie/gruener-wasserstoff/potenzial",
            "https://theintercept.com/2023/11/08/gaza-hospitals-babies-doctors-patients/",
            "https://viconsortium.com/vi-crime/virgin-islands-vessel-returning-to-puerto-rico-from-st-thomas-with-475-pounds-of-cocaine-intercepted-by-federal-agents-cbp-says",
            "https://www.ad-magazin.de/artikel/wellness-hotels",
            "https://www.amnesty.de/allgemein/pressemitteilung/autonome-waffensysteme-gefahr-menschenrechte",
            "https://www.brandeins.de/magazine/brand-eins-wirtschaftsmagazin/2023/keine-panik/unser-wahres-ich",
            "https://www.familie.de/kleinkind/montessori-spielzeug-13-paedagogisch-wertvolle-ideen-fuer-babys-und-kleinkinder/",
            "https://www.geeks3d.com/hacklab/20190110/python-3-simple-http-request-with-the-socket-module/",
            "https://www.iass-potsdam.de/de/forschungsbereich/energiewende-und-gesellschaftlicher-wandel",
            "https://www.laweekly.com/meet-cultural-cultivation-artist-alexandria-douziech/",
            "https://www.metrotimes.com/food-drink/detroits-mezcal-restaurant-goes-beyond-familiar-mexican-fare-34565910",
            "https://www.phillyvoice.com/sixers-76ers-score-record-news-analysis-celtics-joel-embiid-tyrese-maxey-jayson-tatum/",
            "https://www.strive-magazine.de/post/das-dating-dilemma-erfolgreicher-frauen",
        ]),
        ("whirlwind-7c371a3f.parquet", vec![
        ]),
        ("whirlwind-84efff86.parquet", vec![
        ]),
    ]
    .into_iter()
    .collect();
    for (shard, expected) in &expected_kept {
        let docs = read_docs(&out.path().join("2-filter").join(shard));
        let mut urls: Vec<&str> = docs.iter().map(|d| d.url.as_deref().unwrap()).collect();
        urls.sort();
        assert_eq!(&urls, expected, "pages kept in {shard}");
        // Every kept document carries the word count the chain computed.
        assert!(docs.iter().all(|d| d.attributes["previous_word_count"].as_u64().unwrap() >= 50));
    }
}

#[test]
fn sluice_filter_runs_a_recipe_chain_on_dolma_jsonl() {
    let Some(data) = shared_or_skip("sluice_filter_runs_a_recipe_chain_on_dolma_jsonl") else { return };
    let dir = tempfile::tempdir().unwrap();
    // dolma documents carry their URL in `id` and no WARC headers: give move_url_modifier nothing to do by
    // running the chain without it.
    let recipe = dir.path().join("r.yaml");
    let text = std::fs::read_to_string(repo().join("tests/data/recipes/dclm-text-steps.yaml"))
        .unwrap()
        .replace("        - move_url_modifier: {}\n", "");
    std::fs::write(&recipe, text).unwrap();
    let out = dir.path().join("out");
    let input = data.join("text/dolma_cc_samples");
    sluice_ok(&[
        "filter",
        recipe.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--format",
        "jsonl.gz",
    ]);
    let expected: [(&str, Value, &[&str]); 3] = [
        (
            "multiple_files__cc_en_head-0091.jsonl.gz",
            json!({}),
            &[
                "http://100kinvesting.com/2016/11/28/first-teleconference-calls-invoice-factoring/",
                "http://100women.ng/category/celebrating-female-entrepreneurs/",
                "http://2011.rubyworld-conf.org/en/program/A-9/",
                "http://911blogger.com/news/2006-11-02/pentagon-video-doubletree-be-released-within-week",
                "http://9crimes.org/charlesxavier/",
                "http://9pmstudios.com/9pm-studios-lends-support-to-city-dogs-rescue-city-kitties/",
                "http://activecities.com/blog/history-of-ice-sports/",
                "http://ajitucapoeira.com/history.php",
                "http://akindleinhongkong.blogspot.com/2012/02/walking-tour-stanley.html",
                "http://artsemersonblog.org/2018/09/04/from-russia-with-translation/",
            ],
        ),
        (
            "multiple_files__cc_en_head-0174.jsonl.gz",
            json!({"ellipsis_count_filter": 1, "page_length_filter": 1}),
            &[
                "http://archives2.getty.edu:8082/xtf/view?docId=ead/2002.M.13/2002.M.13.xml",
                "http://artseast.blogspot.com/2019/10/gillian-smith.html",
                "http://blog.captainthin.net/?tag=kjv-only",
                "http://blog.kevinmay.com/tag/santa-fe/",
                "http://blog.stevengriggs.com/2013/05/who-do-you-see-when-you-look-in-mirror.html",
                "http://bookmarktoday.info/page/97/",
                "http://busineserviceny.info/improve-your-leadership-skills-by-using-these-ideas/",
                "http://cempaka-tourist.blogspot.com/2012/01/",
            ],
        ),
        (
            "provided__documents__000.jsonl.gz",
            json!({"alphabetic_word_ratio_filter": 5}),
            &[
                "http://claihr.ca/2015/02/12/2014-year-review-canadas-top-court-rejects-torture-tort/",
                "http://clizbeats.com/warner-music-group-strengthens-global-technology-data-expertise-9821/",
                "http://cpdlab.eun.org/related-projects;jsessionid=2015C1DD1629DCBB65DCCDC2176D6850",
                "http://eattoyourmeter.org/cancerous-diseases/",
                "http://groovenotes.org/tag/duke-ellington/",
            ],
        ),
    ];
    let manifests = manifests(&out);
    assert_eq!(manifests.len(), 3);
    for (shard, drops, kept) in expected {
        let manifest = &manifests[shard];
        assert_accounted(manifest);
        assert_eq!(manifest["stats"]["docs_in"], 10, "{shard}");
        assert_eq!(manifest["stats"]["drops"], drops, "{shard}");
        let mut ids: Vec<String> = read_docs(&out.join(shard)).into_iter().map(|d| d.id).collect();
        ids.sort();
        assert_eq!(ids, kept, "documents kept in {shard}");
    }
}

#[test]
fn documents_a_step_cannot_decide_are_counted_as_that_steps_errors() {
    let dir = tempfile::tempdir().unwrap();
    let article = "The Danube is the second-longest river in Europe, after the Volga in Russia. It rises in the Black Forest of Germany and flows for some 2,850 kilometres to its mouth on the Black Sea, passing through or touching ten countries, more than any other river in the world, and four capital cities.";
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let lines = [
        json!({"id": "kept", "text": article, "metadata": {"WARC-Target-URI": "https://example.org/danube"}}),
        json!({"id": "short", "text": "Too short to keep.", "metadata": {"WARC-Target-URI": "https://example.org/short"}}),
        json!({"id": "headless-1", "text": article}),
        json!({"id": "headless-2", "text": "No WARC headers at all."}),
    ];
    std::fs::write(docs.join("d.jsonl"), lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let recipe = dir.path().join("r.yaml");
    std::fs::write(
        &recipe,
        "name: r\noutput: unused\nstages:\n  - filter:\n      steps:\n        - move_url_modifier: {}\n        - page_length_filter: {length_type: word, min_length: 20}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    sluice_ok(&[
        "filter",
        recipe.to_str().unwrap(),
        "--input",
        docs.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    let manifest = &manifests(&out)["d.jsonl"];
    assert_accounted(manifest);
    // Not a filter drop: a drop of its own, and the error kind under the step's name.
    assert_eq!(manifest["stats"]["drops"], json!({"move_url_modifier:error": 2, "page_length_filter": 1}));
    assert_eq!(manifest["stats"]["errors"], json!({"move_url_modifier:missing_warc_target_uri": 2}));
    let kept: Vec<String> = read_docs(&out.join("d.jsonl")).into_iter().map(|d| d.id).collect();
    assert_eq!(kept, ["kept"]);
}
