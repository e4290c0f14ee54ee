//! Ratings (好差评) travel like applications: queued in the outbox, sent by `kiosk-sync --drain`
//! to the gateway's own endpoint, filed exactly once though the gateway drops the connection
//! after filing half of the time, and counted per item and per kiosk.

mod common;

use std::process::Command;

use common::Rig;
use kiosk_gateway::Faults;
use kiosk_outbox::{Kind, NewSubmission, now_ms};
use kiosk_sync_proto::Evaluation;

#[test]
fn ratings_are_filed_once_and_counted_per_item_and_kiosk() {
    let rig = Rig::start("evaluation", Faults { drop: 0.5, ..Faults::default() });
    let mut outbox = rig.outbox();
    for level in [1u8, 1, 2, 5, 5] {
        let mut e = Evaluation::default();
        e.item_code = "440605-JZZ-001".into();
        e.kiosk_id = common::KIOSK.into();
        e.level = level;
        if level == 5 {
            e.reasons.push("too_slow".into());
            e.comment = "陈喆 等了很久".into();
        }
        let payload = serde_json::to_vec(&e).unwrap();
        let new = NewSubmission { item_code: &e.item_code, stream_key: "", payload: &payload };
        outbox.enqueue_kind(&new, Kind::Evaluation, now_ms()).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_kiosk-sync"))
        .args(["--config", rig.config(None).to_str().unwrap(), "--drain", "--patience", "60"])
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stats = outbox.stats(now_ms()).unwrap();
    assert_eq!((stats.pending, stats.acked), (0, 5), "all five acknowledged");
    let ratings = rig.gateway.store().ratings().unwrap();
    assert_eq!(
        ratings.by_item["440605-JZZ-001"],
        [2, 1, 0, 0, 2],
        "each filed once, though answers were lost"
    );
    assert_eq!(ratings.by_kiosk[common::KIOSK], [2, 1, 0, 0, 2]);
    let counts = rig.gateway.store().counts().unwrap();
    assert_eq!(counts.evaluations, 5);
    assert!(counts.faults_injected > 0, "some answers were dropped on the way");
    assert!(rig.filed().is_empty(), "no rating was filed as an application");
    assert!(rig.admin_page("/fleet").contains("好差评"));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!log.contains("陈喆"), "the comment never reaches the log");
}
