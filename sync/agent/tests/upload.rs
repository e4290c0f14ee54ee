//! The agent against the reference gateway over mutual TLS, in-process.

mod common;

use common::{KIOSK, Rig};
use kiosk_gateway::Faults;
use kiosk_outbox::{Part, PartState, State, now_ms};
use kiosk_sync::{Agent, Config, Drained};

const PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn every_submission_is_filed_exactly_once_through_faults() {
    let faults = Faults {
        server_error: 0.15,
        too_many: 0.1,
        retry_after_secs: 0,
        timeout: 0.05,
        slow_secs: 2,
        drop: 0.15,
        slow_body: 0.05,
        ..Faults::default()
    };
    let rig = Rig::start("faults", faults);
    let keys = rig.enqueue(120);
    let mut agent = Agent::new(Config::load(&rig.config(None)).unwrap()).unwrap();
    assert_eq!(
        runtime().block_on(agent.drain(PATIENCE)).unwrap(),
        Drained::Empty { set_aside: 0 },
        "nothing dead-lettered"
    );

    let filed = rig.filed();
    assert_eq!(filed.len(), 120, "each submission filed once");
    let mut expected = keys.clone();
    expected.sort();
    assert_eq!(filed.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(), expected);
    let counts = rig.gateway.store().counts().unwrap();
    assert_eq!(counts.accepted, 120);
    assert!(counts.faults_injected > 20, "faults were injected: {counts:?}");
    assert!(counts.duplicates > 0, "dropped connections made the agent send some again: {counts:?}");

    // The outbox holds receipts whose case numbers are the gateway's.
    let ob = rig.outbox();
    let rows = ob.list(None, 1000).unwrap();
    assert!(rows.iter().all(|r| r.state == Some(State::Acked)));
    let mut receipts: Vec<(String, String)> =
        rows.into_iter().map(|r| (r.idempotency_key, r.case_number.unwrap())).collect();
    receipts.sort();
    assert_eq!(receipts, filed);
}

#[test]
fn a_refused_submission_is_set_aside_and_blocks_nothing() {
    let rig = Rig::start("refused", Faults::default());
    rig.enqueue(3);
    let mut ob = rig.outbox();
    let bad = ob
        .enqueue(
            &kiosk_outbox::NewSubmission {
                item_code: "x",
                stream_key: "",
                payload: b"{\"no_item_code\":true}",
            },
            now_ms(),
        )
        .unwrap();
    rig.enqueue(2);
    let mut agent = Agent::new(Config::load(&rig.config(None)).unwrap()).unwrap();
    assert_eq!(
        runtime().block_on(agent.drain(PATIENCE)).unwrap(),
        Drained::Empty { set_aside: 1 },
        "drain reports the dead letter"
    );
    let row = ob.row(bad.id).unwrap().unwrap();
    assert_eq!((row.state, row.last_status), (Some(State::Dead), Some(422)));
    assert!(row.last_error.unwrap().contains("invalid_body"));
    assert_eq!(rig.filed().len(), 5);
}

#[test]
fn a_wrong_secret_is_retried_not_thrown_away() {
    let rig = Rig::start("secret", Faults::default());
    rig.enqueue(1);
    let wrong = rig.dir.join("wrong-secret");
    kiosk_gateway::certs::write_private(&wrong, "not-the-secret").unwrap();
    let mut agent = Agent::new(Config::load(&rig.config(Some(&wrong))).unwrap()).unwrap();
    let round = runtime().block_on(agent.round()).unwrap();
    assert_eq!((round.accepted, round.retried, round.refused), (0, 1, 0));
    assert!(round.auth_failed.is_some_and(|why| why.contains("app secret")));
    let row = rig.outbox().list(None, 1).unwrap().remove(0);
    assert_eq!((row.state, row.last_status), (Some(State::Pending), Some(401)));
    assert!(row.last_error.unwrap().contains("bad_signature"));
    assert!(rig.filed().is_empty());
}

#[test]
fn heartbeats_reach_the_fleet_view_without_personal_data() {
    let rig = Rig::start("heartbeat", Faults::default());
    rig.enqueue(2);
    let mut ob = rig.outbox();
    ob.set_part_state(Part::Printer, &PartState::warning("paper_near_end"), now_ms()).unwrap();
    let config = Config::load(&rig.config(None)).unwrap();
    let uploader = kiosk_sync::Uploader::new(&config).unwrap();
    assert!(!format!("{uploader:?}").contains(common::SECRET), "Debug never shows the app secret");
    let agent = Agent::new(config).unwrap();
    runtime().block_on(agent.send_heartbeat()).unwrap();
    let fleet = rig.gateway.store().fleet().unwrap();
    assert_eq!(fleet.len(), 1);
    assert_eq!(fleet[0].kiosk_id, KIOSK);
    assert_eq!(fleet[0].heartbeat.queue_pending, 2);
    assert_eq!(
        fleet[0].heartbeat.devices.get("printer").map(String::as_str),
        Some("warning: paper_near_end")
    );
    let json = serde_json::to_string(&fleet).unwrap();
    for p in common::PERSONAL {
        assert!(!json.contains(p));
    }
    // The admin port serves the same as HTML.
    let html = rig.admin_page("/fleet");
    assert!(html.contains("200 OK") && html.contains(KIOSK) && html.contains("paper_near_end"), "{html}");
}

#[test]
fn uploads_signed_with_sm3_are_accepted() {
    let rig = Rig::start("sm3", Faults::default());
    rig.enqueue(2);
    let path = rig.config(None);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("app_key = \"kiosk-dev\"", "app_key = \"kiosk-dev\"\nsignature = \"HMAC-SM3\"");
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap();
    assert_eq!(config.algorithm().unwrap(), kiosk_sync_proto::Algorithm::HmacSm3);
    let mut agent = Agent::new(config).unwrap();
    assert_eq!(runtime().block_on(agent.drain(PATIENCE)).unwrap(), Drained::Empty { set_aside: 0 });
    assert_eq!(rig.filed().len(), 2);
}
