//! The outbox under the faults that once stalled or lost the queue, each reproduced on real
//! SQLite files: a flipped bit in one payload, a deleted or swapped key file, leases that never
//! ran out, one answer that could not be written, a second agent, a WAL without bounds, a
//! truncated file, a damaged index and a damaged row.

use std::time::Duration;

use kiosk_outbox::{
    AgentLock, Answer, NewSubmission, Options, Outbox, OutboxError, PayloadKey, Program, ProgramLock,
    Selection, State, now_ms,
};

mod common;

use common::TempDb;

const LEASE: Duration = Duration::from_secs(60);

fn enqueue(ob: &mut Outbox, n: usize) -> Vec<i64> {
    (0..n)
        .map(|i| {
            let form = format!(r#"{{"item_code":"440605-JZZ-001","seq":{i}}}"#);
            let sub = NewSubmission { item_code: "440605-JZZ-001", stream_key: "", payload: form.as_bytes() };
            ob.enqueue(&sub, now_ms()).unwrap().id
        })
        .collect()
}

#[test]
fn one_unreadable_payload_is_quarantined_and_the_rest_flows() {
    let dir = TempDb::new("bitflip");
    let mut ob = dir.open().unwrap();
    let ids = enqueue(&mut ob, 8);
    // One bit flips in the oldest payload (a bad sector, a stray write).
    let raw = dir.raw();
    let mut sealed: Vec<u8> =
        raw.query_row("SELECT payload FROM submission WHERE id = ?1", [ids[0]], |r| r.get(0)).unwrap();
    sealed[30] ^= 1;
    raw.execute("UPDATE submission SET payload = ?2 WHERE id = ?1", rusqlite::params![ids[0], sealed])
        .unwrap();
    let claimed = ob.claim_due("agent", now_ms(), 8, LEASE).unwrap();
    assert_eq!(claimed.iter().map(|c| c.id).collect::<Vec<_>>(), ids[1..], "the seven good ones leave");
    let stats = ob.stats(now_ms()).unwrap();
    assert_eq!((stats.quarantined, stats.in_flight, stats.pending), (1, 7, 0));
    let row = ob.row(ids[0]).unwrap().unwrap();
    assert_eq!(row.state, Some(State::Quarantined));
    assert!(row.last_error.unwrap().contains("failed authentication"), "the reason is recorded");
    // It never comes back by itself, so it cannot block the batch after a restart either.
    drop(claimed);
    let lock = AgentLock::acquire(&dir.path()).unwrap();
    ob.recover_in_flight(&lock).unwrap();
    assert_eq!(ob.claim_due("agent", now_ms(), 8, LEASE).unwrap().len(), 7);
    assert_eq!(ob.list(Some(State::Quarantined), 10).unwrap().len(), 1, "listed for a technician");
}

#[test]
fn a_missing_key_beside_sealed_payloads_is_an_error_never_a_new_key() {
    let dir = TempDb::new("nokey");
    let mut ob = dir.open().unwrap();
    let key_id = ob.key_id().unwrap().expect("the key's id is recorded");
    enqueue(&mut ob, 200);
    drop(ob);
    std::fs::remove_file(dir.key()).unwrap();
    let err = dir.open().unwrap_err();
    assert!(matches!(err, OutboxError::KeyMissing { sealed: 200, .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("payload.key") && text.contains("Restore the key file"), "{text}");
    assert!(!dir.key().exists(), "no new key was made");

    // Another key put in its place is refused too, and the outbox keeps the original id.
    PayloadKey::create(&dir.key()).unwrap();
    let err = dir.open().unwrap_err();
    assert!(
        matches!(&err, OutboxError::KeyMismatch { expected, sealed: 200, .. } if *expected == key_id),
        "{err}"
    );
    let look = Outbox::open_for_inspection(&dir.path(), Options::default()).unwrap();
    assert!(
        matches!(look.check_key_file(&dir.key()), Err(OutboxError::KeyMismatch { .. })),
        "diagnostics see it too"
    );
    assert_eq!(look.key_id().unwrap().as_deref(), Some(key_id.as_str()));
}

#[test]
fn a_new_key_is_made_only_when_nothing_sealed_waits() {
    let dir = TempDb::new("newkey");
    let mut ob = dir.open().unwrap();
    enqueue(&mut ob, 3);
    for c in ob.claim_due("agent", now_ms(), 10, LEASE).unwrap() {
        ob.ack(c.id, "NH1", now_ms()).unwrap();
    }
    drop(ob);
    let old = ob_key_id(&dir);
    std::fs::remove_file(dir.key()).unwrap();
    let ob = dir.open().expect("every payload was acknowledged and deleted: a new key harms nothing");
    assert!(dir.key().exists());
    assert_ne!(ob.key_id().unwrap(), Some(old), "the new key is recorded");
}

fn ob_key_id(dir: &TempDb) -> String {
    Outbox::open_for_inspection(&dir.path(), Options::default()).unwrap().key_id().unwrap().unwrap()
}

#[test]
fn expired_leases_are_taken_over_while_running() {
    let dir = TempDb::new("lease");
    let mut ob = dir.open().unwrap();
    enqueue(&mut ob, 3);
    let t = now_ms();
    assert_eq!(ob.claim_due("agent", t, 10, Duration::from_secs(30)).unwrap().len(), 3);
    assert!(ob.claim_due("agent", t + 29_000, 10, LEASE).unwrap().is_empty(), "leases hold while they last");
    assert_eq!(ob.next_due_at().unwrap(), Some(t + 30_000), "the lease's end is when to look again");
    assert_eq!(ob.claim_due("agent", t + 30_000, 10, LEASE).unwrap().len(), 3, "then they are taken over");
}

#[test]
fn every_answer_is_recorded_even_when_one_cannot_be() {
    let dir = TempDb::new("answers");
    let mut ob = dir.open().unwrap();
    let ids = enqueue(&mut ob, 3);
    let t = now_ms();
    ob.claim_due("agent", t, 10, LEASE).unwrap();
    let answers = vec![
        (ids[0], Answer::Accepted { case_number: "NH1".into() }),
        (999, Answer::Retry { at: t + 1000, status: Some(503), error: "x".into() }),
        (ids[1], Answer::Retry { at: t + 1000, status: Some(503), error: "busy".into() }),
        (ids[2], Answer::Refused { status: Some(422), error: "invalid_body".into() }),
    ];
    let results = ob.record(&answers, t).unwrap();
    assert!(matches!(results[1], Err(OutboxError::NotFound(999))));
    assert!(results[0].is_ok() && results[2].is_ok() && results[3].is_ok());
    let states: Vec<_> = ids.iter().map(|id| ob.row(*id).unwrap().unwrap().state.unwrap()).collect();
    assert_eq!(states, [State::Acked, State::Pending, State::Dead]);

    // The whole batch waits while another process holds the write lock, and is then recorded.
    let ids = enqueue(&mut ob, 2);
    let mut ob = Outbox::open_with_key_file(
        &dir.path(),
        &dir.key(),
        Options { busy_timeout: Duration::from_millis(100), ..Options::default() },
    )
    .unwrap();
    ob.claim_due("agent", t, 10, LEASE).unwrap();
    let answers: Vec<_> =
        ids.iter().map(|id| (*id, Answer::Accepted { case_number: format!("NH{id}") })).collect();
    let blocker = dir.raw();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert!(matches!(ob.record(&answers, t), Err(OutboxError::Busy { .. })), "nothing half-written");
    blocker.execute_batch("ROLLBACK").unwrap();
    assert!(ob.record(&answers, t).unwrap().iter().all(Result::is_ok), "the same answers, recorded later");
    assert_eq!(ob.stats(t).unwrap().acked, 3);
}

#[test]
fn one_agent_holds_the_outbox_at_a_time() {
    let dir = TempDb::new("lock");
    dir.open().unwrap();
    let first = AgentLock::acquire(&dir.path()).unwrap();
    let err = AgentLock::acquire(&dir.path()).unwrap_err();
    assert!(
        matches!(err, OutboxError::Running { program: "kiosk-sync", pid: Some(p), .. } if p == std::process::id()),
        "{err}"
    );
    assert!(err.to_string().contains("systemctl stop kiosk-sync"), "{err}");
    assert_eq!(
        Program::Agent.holder(&dir.path()),
        Some(Some(std::process::id())),
        "a diagnostic sees the holder"
    );
    assert_eq!(Program::Ui.holder(&dir.path()), None, "no UI holds it");
    let ui = ProgramLock::acquire(&dir.path(), Program::Ui).unwrap();
    assert!(matches!(
        ProgramLock::acquire(&dir.path(), Program::Ui),
        Err(OutboxError::Running { program: "kiosk-ui", .. })
    ));
    drop((first, ui));
    assert_eq!(Program::Agent.holder(&dir.path()), None);
    AgentLock::acquire(&dir.path()).expect("released with its holder");
}

#[test]
fn the_wal_stays_bounded_and_deleted_payloads_leave_the_disk() {
    let dir = TempDb::new("wal");
    let mut ob = dir.open().unwrap();
    let payload = vec![b'x'; 4000];
    for _ in 0..3000 {
        let sub = NewSubmission { item_code: "440605-JZZ-001", stream_key: "", payload: &payload };
        ob.enqueue(&sub, now_ms()).unwrap();
    }
    let wal = std::fs::metadata(dir.0.join("kiosk.db-wal")).unwrap().len();
    println!("WAL after 3,000 submissions of 4 KB: {} KiB", wal >> 10);
    assert!(wal <= 3 << 20, "the WAL grew to {wal} bytes (12 MB were written)");
}

#[test]
fn a_truncated_file_is_refused_and_kept() {
    let dir = TempDb::new("empty");
    std::fs::write(dir.path(), b"").unwrap();
    let err = dir.open().unwrap_err();
    assert!(matches!(err, OutboxError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("0 bytes"), "{err}");
    assert_eq!(std::fs::metadata(dir.path()).unwrap().len(), 0, "not silently made into a new outbox");
    assert!(Outbox::open_for_inspection(&dir.path(), Options::default()).is_err());
}

/// Overwrites the header and cell pointers of the root page of `index` in the closed file.
fn damage_index(dir: &TempDb, index: &str) {
    let root: i64 = dir
        .raw()
        .query_row("SELECT rootpage FROM sqlite_master WHERE name = ?1", [index], |r| r.get(0))
        .unwrap();
    let mut bytes = std::fs::read(dir.path()).unwrap();
    let start = (root as usize - 1) * 4096;
    bytes[start..start + 64].fill(0x5a);
    std::fs::write(dir.path(), bytes).unwrap();
}

#[test]
fn a_damaged_index_is_found_before_use_never_written_and_salvaged() {
    let dir = TempDb::new("index");
    let mut ob = dir.open().unwrap();
    let ids = enqueue(&mut ob, 300);
    for c in ob.claim_due("agent", now_ms(), 50, LEASE).unwrap() {
        ob.ack(c.id, &format!("NH{}", c.id), now_ms()).unwrap();
    }
    drop(ob); // the last connection checkpoints the WAL into the file
    damage_index(&dir, "submission_due");
    let before = std::fs::read(dir.path()).unwrap();
    let err = dir.open().unwrap_err();
    assert!(matches!(err, OutboxError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("kioskctl outbox salvage"), "the error names the fix: {err}");
    assert!(Outbox::open_for_inspection(&dir.path(), Options::default()).is_err());
    assert_eq!(std::fs::read(dir.path()).unwrap(), before, "nothing was written to the damaged file");

    let salvaged = dir.0.join("salvaged.db");
    let report = kiosk_outbox::salvage(&dir.path(), &salvaged).unwrap();
    assert_eq!((report.unsent, report.acked, report.unreadable), (250, 50, 0), "{report:?}");
    let key = PayloadKey::load(&dir.key()).unwrap();
    let mut ob = Outbox::open(&salvaged, key, Options::default())
        .expect("the salvaged outbox opens with the kiosk's key");
    let claimed = ob.claim_due("agent", now_ms(), 1000, LEASE).unwrap();
    assert_eq!(
        claimed.iter().map(|c| c.id).collect::<Vec<_>>(),
        ids[50..],
        "every unsent one, payloads intact"
    );
    assert_eq!(
        ob.row(ids[0]).unwrap().unwrap().case_number.as_deref(),
        Some(format!("NH{}", ids[0]).as_str())
    );
}

#[test]
fn a_row_with_a_damaged_state_is_detected_and_salvaged_as_unsent() {
    let dir = TempDb::new("state");
    let mut ob = dir.open().unwrap();
    let ids = enqueue(&mut ob, 5);
    drop(ob);
    let raw = dir.raw();
    raw.execute_batch("PRAGMA ignore_check_constraints = ON").unwrap();
    raw.execute("UPDATE submission SET state = 'p\u{1}nding' WHERE id = ?1", [ids[2]]).unwrap();
    drop(raw);
    let err = dir.open().unwrap_err();
    assert!(matches!(err, OutboxError::Corrupt { .. }), "{err}");
    let salvaged = dir.0.join("salvaged.db");
    let report = kiosk_outbox::salvage(&dir.path(), &salvaged).unwrap();
    assert_eq!((report.unsent, report.requeued_damaged), (5, 1), "{report:?}");
    let mut ob = Outbox::open(&salvaged, PayloadKey::load(&dir.key()).unwrap(), Options::default()).unwrap();
    assert_eq!(
        ob.claim_due("agent", now_ms(), 10, LEASE).unwrap().len(),
        5,
        "the damaged one goes out again"
    );
    assert_eq!(ob.requeue(&Selection::default(), now_ms()).unwrap(), 0);
}
