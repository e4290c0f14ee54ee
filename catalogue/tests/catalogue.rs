//! The sample catalogue, the audit rules (each broken on purpose), and search as residents type.

use kiosk_catalogue::model::{Kind, ProjectType, TimeLimit};
use kiosk_catalogue::{Catalogue, Index, load, sample, validate};
use proptest::prelude::*;

fn names(cat: &Catalogue, query: &str) -> Vec<String> {
    Index::build(cat).search(query, 5).iter().map(|h| cat.items[h.item].task_name.clone()).collect()
}

#[test]
fn the_sample_is_valid_invented_and_covers_every_way_of_serving() {
    let cat = sample();
    let report = validate(&cat);
    assert!(report.is_ok(), "{:#?}", report.errors);
    assert!(report.warnings.is_empty(), "{:#?}", report.warnings);
    assert!(cat.items.len() >= 40);
    assert!(cat.sample && cat.items.iter().all(|i| i.sample), "marked as invented");
    assert!(cat.notice.as_deref().unwrap().contains("虚构"));
    for kind in [Kind::Online, Kind::PreApplication, Kind::Info, Kind::Job] {
        assert!(cat.items.iter().any(|i| i.kind == kind), "{kind:?}");
    }
    for topic in ["005", "010", "030", "075", "085", "145"] {
        assert!(cat.items.iter().any(|i| i.user_topic_type.iter().any(|t| t == topic)), "topic {topic}");
    }
    assert!(cat.items.iter().any(|i| i.corp_topic_type.iter().any(|t| t == "005")), "企业开办");
    assert!(cat.items.iter().filter(|i| i.no_visit()).count() > 25, "mostly 不见面");
    assert!(cat.items.iter().any(|i| i.limit_scene_num == 1), "some 最多跑一次");
    let (loaded, _) = load(include_bytes!("../data/sample.json")).unwrap();
    assert_eq!(loaded, cat);
}

/// Breaks one item with `f` and returns the problem the validator names.
fn broken(f: impl FnOnce(&mut kiosk_catalogue::Item)) -> String {
    let mut cat = sample();
    f(&mut cat.items[0]);
    let report = validate(&cat);
    assert_eq!(report.errors.len(), 1, "{:#?}", report.errors);
    let p = &report.errors[0];
    assert!(p.item.starts_with("ZZ0000000101 个人参保证明打印"), "names the item: {p}");
    format!("{}: {}", p.field, p.message)
}

#[test]
fn every_audit_rule_catches_its_mistake() {
    assert!(broken(|i| i.project_type = ProjectType::Promised).starts_with("project_type"));
    assert!(broken(|i| i.limit_scene_explain = Some("需到窗口".into())).starts_with("limit_scene_explain"));
    assert!(
        broken(|i| {
            i.online_handle_depth = "III".into();
            i.handle_type = vec!["网上办理".into()];
        })
        .starts_with("handle_type")
    );
    assert!(
        broken(|i| {
            i.limit_scene_num = 1;
            i.limit_scene_explain = Some("需核验".into());
            i.lists.bujianmian = false;
        })
        .starts_with("limit_scene_num")
    );
    assert!(broken(|i| i.is_fee = true).starts_with("fees"));
    assert!(broken(|i| i.is_pay_online = true).starts_with("is_pay_online"));
    assert!(broken(|i| i.supervise_way = i.link_way.clone()).starts_with("link_way"));
    assert!(broken(|i| i.user_topic_type.clear()).starts_with("user_topic_type"));
    assert!(
        broken(|i| i.result_name = Some("参保批复".into())).starts_with("result_type"),
        "a 批复 is 审批办结, not 出证办结"
    );
    assert!(
        broken(|i| {
            i.project_type = ProjectType::Promised;
            i.promise = Some(TimeLimit { day: 10, unit: "工作日".into() });
            i.anticipate = Some(TimeLimit { day: 5, unit: "工作日".into() });
        })
        .starts_with("promise")
    );
    assert!(
        broken(|i| {
            i.dept_code = "ZZ440605XX0000099Z".into();
            i.task_code = format!("{}4{}", i.dept_code, i.catalog_code);
        })
        .starts_with("dept_code")
    );
    assert!(
        broken(|i| {
            let form = i.form.as_mut().unwrap();
            form.fields.push(form.fields[0].clone());
        })
        .contains("appears twice")
    );
    assert!(broken(|i| i.form = None).starts_with("form"));
}

#[test]
fn list_membership_that_disagrees_is_a_warning() {
    let mut cat = sample();
    cat.items[0].lists.bujianmian = false;
    let report = validate(&cat);
    assert!(report.is_ok());
    assert_eq!(report.warnings[0].field, "lists");
}

#[test]
fn a_broken_catalogue_is_refused_whole() {
    let mut cat = sample();
    cat.items[3].link_way = "12345".into();
    let err = load(&serde_json::to_vec(&cat).unwrap()).unwrap_err().to_string();
    assert!(err.contains("link_way") && err.contains("住房公积金提取"), "{err}");
    assert!(load(b"{ not json").unwrap_err().to_string().contains("not valid JSON"));
}

#[test]
fn residents_find_items_by_chinese_pinyin_and_initials() {
    let cat = sample();
    assert_eq!(names(&cat, "个人参保证明打印")[0], "个人参保证明打印", "exact name first");
    assert_eq!(names(&cat, "sbcx")[0], "个人参保证明打印", "initials of a synonym (社保查询)");
    assert_eq!(names(&cat, "gjj")[0], "住房公积金缴存证明打印");
    assert!(names(&cat, "gjj").iter().all(|n| n.contains("公积金")));
    assert_eq!(names(&cat, "shiyejin")[0], "失业保险金申领", "full pinyin of a synonym");
    assert_eq!(names(&cat, "jiehundengji")[0], "内地居民结婚登记（预约）");
    let shbk = names(&cat, "shbk");
    assert!(
        shbk[..2].iter().all(|n| n.starts_with("社会保障卡")),
        "initials with sh as two letters: {shbk:?}"
    );
    assert_eq!(names(&cat, "wufanzui")[0], "无犯罪记录证明开具", "a prefix of the name");
    assert_eq!(names(&cat, "gongjijn")[0], "住房公积金缴存证明打印", "a missed letter");
    assert!(names(&cat, "户口").iter().any(|n| n.contains("户籍")), "户口 finds 户籍");
    assert!(names(&cat, "社保").iter().any(|n| n.contains("社会保险") || n.contains("参保")));
    assert!(names(&cat, "zzzzqqq").is_empty());
    assert!(names(&cat, "   ").is_empty());
}

#[test]
fn ranking_puts_names_before_synonyms_before_descriptions() {
    let cat = sample();
    let index = Index::build(&cat);
    let hits = index.search("公积金", 20);
    let first = &cat.items[hits[0].item];
    assert!(first.task_name.contains("公积金"));
    // 租房 appears in a synonym (租房提取公积金) and in a description only elsewhere.
    let hits = index.search("租房", 10);
    assert_eq!(cat.items[hits[0].item].task_name, "住房公积金提取（租赁住房）");
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_query_is_answered_with_real_items(q in "\\PC{0,40}") {
        let cat = sample();
        let index = Index::build(&cat);
        for hit in index.search(&q, 10) {
            prop_assert!(hit.item < cat.items.len() && hit.score > 0);
        }
    }
}

#[test]
fn the_kiosk_bundle_round_trips_and_a_damaged_one_is_refused() {
    let cat = sample();
    let bundle = kiosk_catalogue::to_bundle(&cat);
    assert!(bundle.len() < serde_json::to_vec(&cat).unwrap().len() / 2, "compact");
    let (back, _) = kiosk_catalogue::verify_bundle(&bundle).unwrap();
    assert_eq!(back, cat);
    // The kiosk's start-up path: summaries now, an item's details when it is opened.
    let opened = kiosk_catalogue::Bundle::open(&bundle).unwrap();
    assert_eq!(opened.summaries.len(), cat.items.len());
    assert_eq!(opened.item(7).unwrap(), cat.items[7]);
    assert_eq!(opened.meta.catalogue_version, cat.catalogue_version);
    for cut in [3, 100, bundle.len() / 2] {
        let err = kiosk_catalogue::verify_bundle(&bundle[..cut]).unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
    }
    // A bundle whose summaries were tampered with does not pass verification.
    let mut other = cat.clone();
    other.items[0].synonyms.push("改过".into());
    let forged = kiosk_catalogue::to_bundle(&other);
    let head_len = u32::from_le_bytes(forged[..4].try_into().unwrap()) as usize;
    let mut mixed = forged[..4 + head_len].to_vec();
    let real_head = u32::from_le_bytes(bundle[..4].try_into().unwrap()) as usize;
    mixed.extend(&bundle[4 + real_head..]);
    assert!(kiosk_catalogue::verify_bundle(&mixed).is_err(), "summaries must agree with the items");
    let synthetic = kiosk_catalogue::synthetic::catalogue(500);
    assert_eq!(synthetic.items.len(), 500);
    assert!(validate(&synthetic).is_ok(), "synthetic catalogues are valid too");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// A damaged bundle (a bad download, a bad sector) is an error, never a panic; whatever still
    /// verifies is a valid catalogue.
    #[test]
    fn damaged_bundles_are_errors_not_panics(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = kiosk_catalogue::to_bundle(&sample());
        for (at, x) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= x;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        if let Ok((cat, report)) = kiosk_catalogue::verify_bundle(&bytes) {
            prop_assert!(report.is_ok() && kiosk_catalogue::validate(&cat).is_ok());
        }
        if let Ok(bundle) = kiosk_catalogue::Bundle::open(&bytes) {
            for i in 0..bundle.len() {
                let _ = bundle.item(i);
            }
        }
    }
}
