//! `sync/openapi.json` describes the API the code implements: same paths, same headers, and
//! every answer the classification knows.

use kiosk_sync_proto as proto;

fn spec() -> serde_json::Value {
    serde_json::from_str(include_str!("../../openapi.json")).expect("openapi.json is valid JSON")
}

#[test]
fn paths_and_headers_match_the_code() {
    let spec = spec();
    assert_eq!(spec["openapi"], "3.1.0");
    for path in [proto::PATH_SUBMISSIONS, proto::PATH_HEARTBEATS] {
        assert!(spec["paths"][path]["post"].is_object(), "{path} missing");
    }
    let headers: Vec<String> = spec["components"]["parameters"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p["name"].as_str().unwrap().to_ascii_lowercase())
        .collect();
    for h in [
        proto::HEADER_IDEMPOTENCY_KEY,
        proto::HEADER_KIOSK_ID,
        proto::HEADER_APP_KEY,
        proto::HEADER_TIMESTAMP,
        proto::HEADER_NONCE,
        proto::HEADER_SIGNATURE,
        proto::HEADER_SIGNATURE_ALG,
    ] {
        assert!(headers.contains(&h.to_owned()), "header {h} undocumented");
    }
}

#[test]
fn documented_answers_agree_with_the_classification() {
    let spec = spec();
    let responses = spec["paths"][proto::PATH_SUBMISSIONS]["post"]["responses"].as_object().unwrap();
    let problem = |code: &str| proto::Problem { code: code.into(), message: String::new() };
    for (code, problem_code, verdict) in [
        ("201", None, proto::Verdict::Accepted),
        ("200", None, proto::Verdict::Accepted),
        ("401", Some(proto::CLOCK_SKEW), proto::Verdict::Reauthenticate),
        ("403", Some("kiosk_mismatch"), proto::Verdict::Reauthenticate),
        ("409", Some("idempotency_key_reused"), proto::Verdict::DeadLetter),
        ("422", Some("invalid_body"), proto::Verdict::DeadLetter),
        ("429", None, proto::Verdict::Retry),
        ("503", None, proto::Verdict::Retry),
    ] {
        assert!(responses.contains_key(code), "{code} undocumented");
        let p = problem_code.map(problem);
        assert_eq!(proto::classify(code.parse().unwrap(), p.as_ref()), verdict, "{code}");
        if let Some(c) = problem_code {
            assert!(responses[code]["description"].as_str().unwrap().contains(c), "{code}: {c} undocumented");
        }
    }
    let described =
        spec["components"]["schemas"]["Problem"]["properties"]["code"]["description"].as_str().unwrap();
    for code in proto::REFUSAL_CODES {
        assert!(described.contains(code), "refusal code {code} undocumented");
    }
    let overview = spec["info"]["description"].as_str().unwrap();
    assert!(
        overview.contains("METHOD\\nPATH\\nKIOSK-ID\\nAPP-KEY\\nTIMESTAMP"),
        "the canonical request is documented as signed"
    );
    let accepted = &spec["components"]["schemas"]["Accepted"]["properties"];
    let sample =
        serde_json::to_value(proto::Accepted { case_number: "x".into(), received_at: 1, duplicate: false })
            .unwrap();
    for key in sample.as_object().unwrap().keys() {
        assert!(accepted.get(key).is_some(), "Accepted.{key} undocumented");
    }
    let hb = serde_json::to_value(proto::Heartbeat::default()).unwrap();
    for key in hb.as_object().unwrap().keys() {
        assert!(
            spec["components"]["schemas"]["Heartbeat"]["properties"].get(key).is_some(),
            "Heartbeat.{key} undocumented"
        );
    }
}

#[test]
fn the_submission_is_documented_field_by_field() {
    let spec = spec();
    let schema = &spec["components"]["schemas"]["Submission"];
    let documented: std::collections::BTreeSet<&String> =
        schema["properties"].as_object().unwrap().keys().collect();
    let mut submission = proto::Submission::default();
    submission.item_code = "440605-JZZ-001".into();
    let json = serde_json::to_value(&submission).unwrap();
    let written: std::collections::BTreeSet<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(documented, written);
    assert_eq!(schema["required"], serde_json::json!(["item_code"]));
}

/// The keys a value serialises to.
fn keys(value: &impl serde::Serialize) -> std::collections::BTreeSet<String> {
    serde_json::to_value(value).unwrap().as_object().unwrap().keys().cloned().collect()
}

fn documented(spec: &serde_json::Value, schema: &str) -> std::collections::BTreeSet<String> {
    spec["components"]["schemas"][schema]["properties"].as_object().unwrap().keys().cloned().collect()
}

#[test]
fn the_live_services_are_documented_at_both_hops() {
    use proto::live::{
        self, Case, Figure, LocalStatus, Person, Progress, ProgressQuery, RecordRow, Records, RecordsQuery,
        Service, Step,
    };
    let gateway = spec();
    let local: serde_json::Value =
        serde_json::from_str(include_str!("../../local-api.json")).expect("local-api.json is valid JSON");
    assert_eq!(local["openapi"], "3.1.0");
    for service in Service::ALL {
        assert!(
            gateway["paths"][service.gateway_path()]["post"].is_object(),
            "{} undocumented",
            service.gateway_path()
        );
        assert!(
            local["paths"][service.local_path()]["post"].is_object(),
            "{} undocumented",
            service.local_path()
        );
    }
    assert!(local["paths"][live::LOCAL_STATUS]["get"].is_object());

    assert_eq!(documented(&gateway, "Person"), keys(&Person::default()));
    assert_eq!(documented(&gateway, "RecordsQuery"), keys(&RecordsQuery::default()));
    assert_eq!(documented(&gateway, "Records"), keys(&Records::default()));
    assert_eq!(documented(&gateway, "Figure"), keys(&Figure::default()));
    assert_eq!(documented(&gateway, "RecordRow"), keys(&RecordRow::default()));
    assert_eq!(documented(&gateway, "ProgressQuery"), keys(&ProgressQuery::default()));
    assert_eq!(documented(&gateway, "Progress"), keys(&Progress::default()));
    assert_eq!(documented(&gateway, "Case"), keys(&Case::default()));
    assert_eq!(documented(&gateway, "Step"), keys(&Step::default()));
    let listed = |schema: &str, field: &str| -> Vec<String> {
        gateway["components"]["schemas"][schema]["properties"][field]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(listed("Step", "step"), live::step::ALL);
    assert_eq!(listed("Case", "next"), live::next::ALL);
    assert_eq!(documented(&local, "LocalStatus"), keys(&LocalStatus::default()));
    let records: Vec<&str> = gateway["components"]["schemas"]["RecordsQuery"]["properties"]["record"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(records, live::record::ALL);
    let codes: Vec<&str> = local["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(codes, live::problem::ALL, "every problem code of the local API is documented");
}

#[test]
fn the_evaluation_is_documented_field_by_field() {
    let spec = spec();
    assert!(spec["paths"][proto::PATH_EVALUATIONS]["post"].is_object());
    assert_eq!(documented(&spec, "Evaluation"), keys(&proto::Evaluation::default()));
    let reasons: Vec<&str> =
        spec["components"]["schemas"]["Evaluation"]["properties"]["reasons"]["items"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
    assert_eq!(reasons, proto::evaluation::REASONS);
}
