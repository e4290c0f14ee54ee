//! `kioskctl outbox …` on a real outbox file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use kiosk_outbox::{Options, Outbox, now_ms};

const BIN: &str = env!("CARGO_BIN_EXE_kioskctl");

fn ctl(db: &Path, args: &[&str]) -> Output {
    let key = db.with_file_name("payload.key");
    Command::new(BIN)
        .args(["outbox", "--db", db.to_str().unwrap(), "--key", key.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn technicians_see_and_repair_the_queue_without_personal_data() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("kioskctl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("kiosk.db");
    // The database must exist first (the UI creates it); a missing one is a clear error.
    let out = ctl(&db, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("no outbox at"));
    drop(Outbox::open_with_key_file(&db, &dir.join("payload.key"), Options::default()).unwrap());

    let out = ctl(&db, &["enqueue-sample", "5"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&ctl(&db, &["status", "--json"]).stdout).unwrap();
    assert_eq!(v["pending"], 5);

    // One is refused by the gateway, as the agent would record it.
    let mut ob = Outbox::open_with_key_file(&db, &dir.join("payload.key"), Options::default()).unwrap();
    let claimed = ob.claim_due("test", now_ms(), 1, Duration::from_secs(60)).unwrap();
    ob.dead_letter(claimed[0].id, Some(422), "HTTP 422 invalid_body: missing field", now_ms()).unwrap();
    let id = claimed[0].id.to_string();

    let out = ctl(&db, &["status"]);
    assert_eq!(out.status.code(), Some(4), "refused submissions make status exit 4");
    assert!(text(&out).contains("被拒绝 refused    1"), "{}", text(&out));
    let rows: serde_json::Value =
        serde_json::from_slice(&ctl(&db, &["list", "--state", "dead", "--json"]).stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    let shown = text(&ctl(&db, &["show", &id]));
    assert!(shown.contains("HTTP 422") && shown.contains("idempotency key"), "{shown}");
    for listing in [text(&ctl(&db, &["list"])), shown, text(&ctl(&db, &["list", "--json"]))] {
        assert!(!listing.contains("示例"), "payload content shown: {listing}");
    }

    assert!(ctl(&db, &["retry", &id]).status.success());
    assert_eq!(ctl(&db, &["retry", &id]).status.code(), Some(1), "only refused submissions can be retried");
    let claimed = ob.claim_due("test", now_ms(), 10, Duration::from_secs(60)).unwrap();
    ob.dead_letter(claimed[0].id, Some(422), "again", now_ms()).unwrap();
    let out = ctl(&db, &["purge-dead"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("--yes"));
    assert!(text(&ctl(&db, &["purge-dead", "--yes"])).contains("1 refused submission(s) deleted"));
    assert_eq!(ctl(&db, &["status"]).status.code(), Some(0));
    assert_eq!(ctl(&db, &["list", "--state", "sideways"]).status.code(), Some(2));
}
