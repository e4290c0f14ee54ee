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

fn fresh(name: &str) -> (PathBuf, Outbox) {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("kioskctl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("kiosk.db");
    let ob = Outbox::open_with_key_file(&db, &dir.join("payload.key"), Options::default()).unwrap();
    (db, ob)
}

#[test]
fn many_set_aside_submissions_are_requeued_by_reason_and_time() {
    let (db, mut ob) = fresh("retry-many");
    assert!(ctl(&db, &["enqueue-sample", "50"]).status.success());
    // A proxy's 404 set forty aside (before the fix the agent did that); a real refusal one more.
    let claimed = ob.claim_due("test", now_ms(), 50, Duration::from_secs(60)).unwrap();
    let t = now_ms();
    for (i, c) in claimed.iter().enumerate() {
        let (error, at) = match i {
            0..40 => {
                ("HTTP 404 from https://gw/v1/submissions is not the service network's answer", t - 3_600_000)
            }
            40 => ("HTTP 422 invalid_body: missing field", t),
            _ => continue,
        };
        ob.dead_letter(c.id, Some(404), error, at).unwrap();
    }
    assert_eq!(ctl(&db, &["retry"]).status.code(), Some(2), "say which: ids, --all, --reason or a time");
    // Only those last tried before half an hour ago with that reason.
    let before = jiff::Timestamp::from_millisecond(t - 1_800_000).unwrap().to_string();
    let out = ctl(&db, &["retry", "--reason", "HTTP 404", "--until", &before, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["requeued"], 40);
    let v: serde_json::Value = serde_json::from_slice(&ctl(&db, &["status", "--json"]).stdout).unwrap();
    assert_eq!((v["pending"].as_u64(), v["dead"].as_u64()), (Some(40), Some(1)));
    assert!(text(&ctl(&db, &["retry", "--all"])).contains("1 submission(s) queued again"));
}

#[test]
fn a_damaged_outbox_is_salvaged_into_place_and_kept_for_the_vendor() {
    let (db, mut ob) = fresh("salvage");
    assert!(ctl(&db, &["enqueue-sample", "30"]).status.success());
    drop(ob.claim_due("test", now_ms(), 10, Duration::from_secs(60)).unwrap());
    drop(ob);
    // A damaged row: its state is not one the software knows.
    let raw = rusqlite::Connection::open(&db).unwrap();
    raw.execute_batch("PRAGMA ignore_check_constraints = ON; UPDATE submission SET state = 'x' WHERE id = 3")
        .unwrap();
    drop(raw);
    let out = ctl(&db, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("kioskctl outbox salvage"), "the error names the fix: {}", text(&out));
    let out = ctl(&db, &["salvage", "--yes", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["report"]["unsent"], 30);
    assert_eq!(v["report"]["requeued_damaged"], 1);
    let kept = PathBuf::from(v["damaged_kept_at"].as_str().unwrap());
    assert!(kept.exists(), "the damaged file is kept");
    let v: serde_json::Value = serde_json::from_slice(&ctl(&db, &["status", "--json"]).stdout).unwrap();
    assert_eq!(v["pending"], 30, "the salvaged outbox is in place, every submission queued");
    let mut ob =
        Outbox::open_with_key_file(&db, &db.with_file_name("payload.key"), Options::default()).unwrap();
    assert_eq!(
        ob.claim_due("agent", now_ms(), 100, Duration::from_secs(60)).unwrap().len(),
        30,
        "payloads open"
    );
}
