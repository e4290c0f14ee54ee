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
    for (code, verdict) in [
        ("201", proto::Verdict::Accepted),
        ("200", proto::Verdict::Accepted),
        ("401", proto::Verdict::Reauthenticate),
        ("409", proto::Verdict::DeadLetter),
        ("422", proto::Verdict::DeadLetter),
        ("429", proto::Verdict::Retry),
        ("503", proto::Verdict::Retry),
    ] {
        assert!(responses.contains_key(code), "{code} undocumented");
        assert_eq!(proto::classify(code.parse().unwrap()), verdict, "{code}");
    }
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
