//! The outbox on real SQLite files: life of a submission, crash recovery, ordering, two
//! processes sharing the file, a full disk, a corrupt file, a swapped key, a locked database, and
//! no plaintext personal data on disk.

use std::time::Duration;

use kiosk_outbox::{
    Answer, NewSubmission, Options, Outbox, OutboxError, Part, PartState, PayloadKey, Selection, State,
    now_ms,
};

mod common;

use common::TempDb;

const LEASE: Duration = Duration::from_secs(60);

fn open(db: &TempDb, key: &PayloadKey) -> Outbox {
    Outbox::open(&db.path(), key.clone(), Options::default()).unwrap()
}

fn sub<'a>(payload: &'a [u8], stream: &'a str) -> NewSubmission<'a> {
    NewSubmission { item_code: "440605-JZZ-001", stream_key: stream, payload }
}

#[test]
fn a_submission_from_queue_to_receipt() {
    let db = TempDb::new("life");
    let key = PayloadKey::generate();
    let mut ob = open(&db, &key);
    let t0 = now_ms();
    let e = ob.enqueue(&sub(b"{\"name\":\"x\"}", ""), t0).unwrap();
    assert_eq!(e.idempotency_key.len(), 36, "a UUIDv7");
    let claimed = ob.claim_due("agent", t0, 10, LEASE).unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(&*claimed[0].payload, b"{\"name\":\"x\"}");
    assert_eq!(claimed[0].idempotency_key, e.idempotency_key);
    assert!(ob.claim_due("agent", t0, 10, LEASE).unwrap().is_empty(), "leased rows are not handed out twice");
    ob.ack(e.id, "NH2026112700001", t0 + 5).unwrap();
    let row = ob.row(e.id).unwrap().unwrap();
    assert_eq!(
        (row.state, row.case_number.as_deref(), row.acked_at),
        (Some(State::Acked), Some("NH2026112700001"), Some(t0 + 5))
    );
    let stats = ob.stats(t0 + 10).unwrap();
    assert_eq!((stats.pending, stats.acked, stats.oldest_pending_ms), (0, 1, None));
    assert!(matches!(ob.ack(e.id, "again", t0), Err(OutboxError::WrongState { state: State::Acked, .. })));
    assert!(matches!(ob.ack(999, "x", t0), Err(OutboxError::NotFound(999))));
}

#[test]
fn applications_still_waiting_are_read_back_for_the_screens() {
    let db = TempDb::new("waiting");
    let key = PayloadKey::generate();
    let mut ob = open(&db, &key);
    let t0 = now_ms();
    let first = ob.enqueue(&sub(b"first", ""), t0).unwrap();
    let second = ob.enqueue(&sub(b"second", ""), t0 + 1).unwrap();
    let rating = NewSubmission { item_code: "440605-JZZ-001", stream_key: "", payload: b"rating" };
    ob.enqueue_kind(&rating, kiosk_outbox::Kind::Evaluation, t0 + 2).unwrap();
    let waiting = ob.waiting(10).unwrap();
    let seen: Vec<(&str, &[u8])> =
        waiting.iter().map(|w| (w.idempotency_key.as_str(), w.payload.as_slice())).collect();
    assert_eq!(
        seen,
        [(second.idempotency_key.as_str(), &b"second"[..]), (first.idempotency_key.as_str(), &b"first"[..])],
        "applications only, newest first, payloads opened"
    );
    ob.ack(first.id, "NH2026120100001", t0 + 5).unwrap();
    assert_eq!(ob.waiting(10).unwrap().len(), 1, "an acknowledged one is no longer waiting");
    assert_eq!(ob.waiting(0).unwrap().len(), 0);
}

#[test]
fn a_restart_keeps_the_queue_and_voids_old_leases() {
    let db = TempDb::new("restart");
    let key = PayloadKey::generate();
    let t0 = now_ms();
    let ids: Vec<i64> = {
        let mut ob = open(&db, &key);
        let ids = (0..3).map(|i| ob.enqueue(&sub(format!("p{i}").as_bytes(), ""), t0).unwrap().id).collect();
        assert_eq!(ob.claim_due("agent-1", t0, 2, LEASE).unwrap().len(), 2);
        ids
        // dropped here as a killed agent would be: two rows in flight
    };
    let mut ob = open(&db, &key);
    assert_eq!(ob.stats(t0).unwrap().in_flight, 2);
    let lock = kiosk_outbox::AgentLock::acquire(&db.path()).unwrap();
    assert_eq!(ob.recover_in_flight(&lock).unwrap(), 2);
    let claimed = ob.claim_due("agent-2", t0, 10, LEASE).unwrap();
    assert_eq!(claimed.iter().map(|c| c.id).collect::<Vec<_>>(), ids);
}

#[test]
fn retries_wait_their_turn_however_long_unless_the_clock_jumped_back() {
    let db = TempDb::new("retry");
    let key = PayloadKey::generate();
    let mut ob = open(&db, &key);
    let t0 = 1_800_000_000_000;
    let id = ob.enqueue(&sub(b"p", ""), t0).unwrap().id;
    ob.claim_due("a", t0, 1, LEASE).unwrap();
    ob.retry_at(id, t0 + 60_000, Some(503), "gateway 503", t0).unwrap();
    assert!(ob.claim_due("a", t0 + 59_000, 1, LEASE).unwrap().is_empty());
    let row = ob.row(id).unwrap().unwrap();
    assert_eq!(
        (row.attempts, row.last_status, row.last_error.as_deref(), row.last_attempt_at),
        (1, Some(503), Some("gateway 503"), Some(t0))
    );
    assert_eq!(ob.claim_due("a", t0 + 60_000, 1, LEASE).unwrap().len(), 1);

    // Retry-After: 3600, and a day: a wait far longer than any backoff is still a wait (the
    // 30-minute rule took these for a clock jump and handed them out at once, in a loop).
    for wait in [3_600_000, 86_400_000] {
        let t = t0 + 60_000;
        ob.retry_at(id, t + wait, Some(429), "slow down", t).unwrap();
        for later in [t, t + 1, t + 31 * 60_000, t + wait - 1] {
            assert!(
                ob.claim_due("a", later, 1, LEASE).unwrap().is_empty(),
                "due {} ms early",
                t + wait - later
            );
        }
        assert_eq!(ob.claim_due("a", t + wait, 1, LEASE).unwrap().len(), 1, "due at its time");
    }
    // The clock is set back a day after the wait was decided: the row is due now, not in a day.
    let t = t0 + 120_000;
    ob.retry_at(id, t + 120_000, None, "timeout", t).unwrap();
    assert_eq!(ob.claim_due("a", t - 86_400_000, 1, LEASE).unwrap().len(), 1);
    // Once retried at the new time, its next wait is honoured again.
    let t = t - 86_400_000;
    ob.retry_at(id, t + 3_600_000, Some(429), "slow down", t).unwrap();
    assert!(ob.claim_due("a", t + 1_000, 1, LEASE).unwrap().is_empty());
}

#[test]
fn a_pause_the_gateway_asked_for_holds_until_its_time_or_a_clock_jump() {
    let db = TempDb::new("pause");
    let mut ob = open(&db, &PayloadKey::generate());
    let t = 1_800_000_000_000;
    assert_eq!(ob.paused_until(t).unwrap(), None);
    ob.pause_uploads(t + 3_600_000, t).unwrap();
    assert_eq!(ob.paused_until(t + 1_000).unwrap(), Some(t + 3_600_000));
    assert_eq!(ob.paused_until(t + 3_599_999).unwrap(), Some(t + 3_600_000));
    assert_eq!(ob.paused_until(t + 3_600_000).unwrap(), None);
    assert_eq!(ob.paused_until(t - 86_400_000).unwrap(), None, "the clock went back a day");
    drop(ob);
    assert_eq!(
        open(&db, &PayloadKey::generate()).paused_until(t + 10).unwrap(),
        Some(t + 3_600_000),
        "kept across restarts"
    );
}

#[test]
fn streams_keep_order_and_a_dead_row_blocks_nothing() {
    let db = TempDb::new("order");
    let key = PayloadKey::generate();
    let mut ob = open(&db, &key);
    let t = now_ms();
    let a1 = ob.enqueue(&sub(b"a1", "applicant-a"), t).unwrap().id;
    let a2 = ob.enqueue(&sub(b"a2", "applicant-a"), t).unwrap().id;
    let b1 = ob.enqueue(&sub(b"b1", "applicant-b"), t).unwrap().id;
    let free = ob.enqueue(&sub(b"free", ""), t).unwrap().id;
    let ids = |c: Vec<kiosk_outbox::Claimed>| c.iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(ob.claim_due("x", t, 10, LEASE).unwrap()), [a1, b1, free], "a2 waits for a1");
    ob.dead_letter(a1, Some(422), "rejected by the office", t).unwrap();
    assert_eq!(ids(ob.claim_due("x", t, 10, LEASE).unwrap()), [a2], "a dead a1 does not hold a2 up");
    assert_eq!(ob.stats(t).unwrap().dead, 1);
    let just = |id| Selection { ids: vec![id], ..Selection::default() };
    assert_eq!(ob.requeue(&just(a1), t).unwrap(), 1);
    assert_eq!(ob.row(a1).unwrap().unwrap().state, Some(State::Pending));
    assert!(matches!(ob.requeue(&just(a1), t), Err(OutboxError::WrongState { .. })));
    ob.claim_due("x", t, 10, LEASE).unwrap();
    ob.dead_letter(a1, Some(422), "again", t).unwrap();
    assert_eq!(ob.purge_dead().unwrap(), 1);
    assert!(ob.row(a1).unwrap().is_none());
    let stats = ob.stats(t).unwrap();
    assert_eq!(ob.unsent().unwrap(), stats.pending + stats.in_flight, "the trigger-kept count agrees");
    assert_eq!(ob.list(Some(State::InFlight), 10).unwrap().len(), 3);
}

#[test]
fn the_ui_and_the_agent_share_the_file() {
    let db = TempDb::new("shared");
    let key = PayloadKey::generate();
    open(&db, &key);
    let (path, k1, k2) = (db.path(), key.clone(), key.clone());
    let ui = std::thread::spawn({
        let path = path.clone();
        move || {
            let mut ob = Outbox::open(&path, k1, Options::default()).unwrap();
            for i in 0..200 {
                ob.enqueue(&sub(format!("form {i}").as_bytes(), ""), now_ms()).unwrap();
            }
        }
    });
    let agent = std::thread::spawn(move || {
        let mut ob = Outbox::open(&path, k2, Options::default()).unwrap();
        let mut acked = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while acked.len() < 200 && std::time::Instant::now() < deadline {
            for c in ob.claim_due("agent", now_ms(), 16, LEASE).unwrap() {
                ob.ack(c.id, &format!("case-{}", c.id), now_ms()).unwrap();
                acked.push(String::from_utf8(c.payload.to_vec()).unwrap());
            }
        }
        acked
    });
    ui.join().unwrap();
    let mut acked = agent.join().unwrap();
    assert_eq!(open(&db, &key).unsent().unwrap(), 0);
    acked.sort();
    acked.dedup();
    assert_eq!(acked.len(), 200, "every form uploaded exactly once");
}

#[test]
fn a_full_disk_refuses_new_work_and_loses_nothing() {
    let db = TempDb::new("full");
    let key = PayloadKey::generate();
    let mut ob =
        Outbox::open(&db.path(), key.clone(), Options { max_pages: Some(200), ..Options::default() })
            .unwrap();
    // Forms of 5 KB: their sealed payloads live on overflow pages, freed when acknowledged.
    let payload = vec![b'x'; 5000];
    let mut queued = 0;
    let err = loop {
        match ob.enqueue(&sub(&payload, ""), now_ms()) {
            Ok(_) => queued += 1,
            Err(e) => break e,
        }
        assert!(queued < 1000, "the cap never bit");
    };
    assert!(matches!(err, OutboxError::StorageLow { .. }), "refused before SQLite's own cap: {err}");
    assert!(err.to_string().contains("nothing already queued was lost"));
    // At the cap the agent's work goes on: lease, acknowledge, and then there is room again.
    let claimed = ob.claim_due("agent", now_ms(), 1000, LEASE).unwrap();
    assert_eq!(claimed.len() as u64, queued);
    let answers: Vec<(i64, Answer)> =
        claimed.iter().map(|c| (c.id, Answer::Accepted { case_number: format!("NH{}", c.id) })).collect();
    assert!(ob.record(&answers, now_ms()).unwrap().iter().all(Result::is_ok));
    ob.enqueue(&sub(&payload, ""), now_ms()).expect("acknowledged payloads freed their pages");
    drop(ob);
    let ob = open(&db, &key);
    let stats = ob.stats(now_ms()).unwrap();
    assert_eq!((stats.acked, stats.pending), (queued, 1));
}

#[test]
fn back_pressure_before_the_disk_fills() {
    let db = TempDb::new("limit");
    let mut ob =
        Outbox::open(&db.path(), PayloadKey::generate(), Options { max_pending: 3, ..Options::default() })
            .unwrap();
    for _ in 0..3 {
        ob.enqueue(&sub(b"p", ""), now_ms()).unwrap();
    }
    let err = ob.enqueue(&sub(b"p", ""), now_ms()).unwrap_err();
    assert!(matches!(err, OutboxError::QueueFull { pending: 3 }), "{err}");
}

#[test]
fn a_corrupt_file_or_a_swapped_key_is_named_not_guessed() {
    let db = TempDb::new("corrupt");
    std::fs::write(db.path(), b"this is not an SQLite database, just some bytes on a bad sector....")
        .unwrap();
    let err = Outbox::open(&db.path(), PayloadKey::generate(), Options::default()).unwrap_err();
    assert!(matches!(err, OutboxError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("do not delete its -wal file"), "{err}");

    let db = TempDb::new("swapped");
    let mut ob = open(&db, &PayloadKey::generate());
    ob.enqueue(&sub(b"p", ""), now_ms()).unwrap();
    drop(ob);
    let err = Outbox::open(&db.path(), PayloadKey::generate(), Options::default()).unwrap_err();
    assert!(matches!(err, OutboxError::KeyMismatch { sealed: 1, .. }), "{err}");
}

#[test]
fn a_locked_database_is_a_clear_error_and_keeps_the_queue() {
    let db = TempDb::new("locked");
    let key = PayloadKey::generate();
    let mut ob = Outbox::open(
        &db.path(),
        key.clone(),
        Options { busy_timeout: Duration::from_millis(200), ..Options::default() },
    )
    .unwrap();
    ob.enqueue(&sub(b"before", ""), now_ms()).unwrap();
    let blocker = rusqlite::Connection::open(db.path()).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = ob.enqueue(&sub(b"during", ""), now_ms()).unwrap_err();
    assert!(matches!(err, OutboxError::Busy { .. }), "{err}");
    blocker.execute_batch("ROLLBACK").unwrap();
    ob.enqueue(&sub(b"after", ""), now_ms()).unwrap();
    assert_eq!(ob.stats(now_ms()).unwrap().pending, 2);
}

#[test]
fn no_plaintext_personal_data_on_disk() {
    let db = TempDb::new("pii");
    let key = PayloadKey::generate();
    let mut ob = open(&db, &key);
    let form = r#"{"name":"陈喆","id_number":"440605199005171237","address":"广东省佛山市南海区桂城街道南海大道北88号","phone":"13800138000"}"#;
    let secrets = ["陈喆", "440605199005171237", "南海大道北88号", "13800138000"];
    let ids: Vec<i64> =
        (0..20).map(|_| ob.enqueue(&sub(form.as_bytes(), ""), now_ms()).unwrap().id).collect();
    let raw = db.raw_bytes();
    assert!(raw.len() > 10_000, "the capture holds the database");
    for s in secrets {
        assert!(!raw.windows(s.len()).any(|w| w == s.as_bytes()), "{s} is on disk in plaintext");
    }
    // Uploaded and acknowledged: the ciphertext goes too, only receipts remain.
    for c in ob.claim_due("a", now_ms(), 100, LEASE).unwrap() {
        ob.ack(c.id, "NH1", now_ms()).unwrap();
    }
    drop(ob);
    let conn = rusqlite::Connection::open(db.path()).unwrap();
    let left: i64 = conn
        .query_row("SELECT count(*) FROM submission WHERE payload IS NOT NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
    assert_eq!(ids.len(), 20);
}

#[test]
fn device_states_and_the_next_due_time() {
    let db = TempDb::new("devices");
    let mut ob = open(&db, &PayloadKey::generate());
    ob.set_part_state(Part::Printer, &PartState::ok(""), 1).unwrap();
    ob.set_part_state(Part::Printer, &PartState::warning("paper_near_end"), 2).unwrap();
    ob.set_part_state(Part::Idcard, &PartState::fault("disconnected"), 2).unwrap();
    assert_eq!(
        ob.part_states().unwrap(),
        [
            (Part::Idcard, PartState::fault("disconnected")),
            (Part::Printer, PartState::warning("paper_near_end"))
        ]
    );
    assert_eq!(PartState::warning("paper_near_end").to_string(), "warning: paper_near_end");
    assert_eq!(ob.next_due_at().unwrap(), None);
    let id = ob.enqueue(&sub(b"p", ""), 1000).unwrap().id;
    ob.claim_due("a", 1000, 1, LEASE).unwrap();
    ob.retry_at(id, 5000, None, "x", 1000).unwrap();
    assert_eq!(ob.next_due_at().unwrap(), Some(5000));
}

#[test]
fn inspection_needs_no_key_and_touches_no_payload() {
    let db = TempDb::new("inspect");
    let mut ob = open(&db, &PayloadKey::generate());
    let id = ob.enqueue(&sub(b"p", ""), now_ms()).unwrap().id;
    drop(ob);
    let mut look = Outbox::open_for_inspection(&db.path(), Options::default()).unwrap();
    assert_eq!(look.stats(now_ms()).unwrap().pending, 1);
    assert_eq!(look.row(id).unwrap().unwrap().payload_bytes, 1);
    assert!(matches!(look.claim_due("x", now_ms(), 1, LEASE), Err(OutboxError::Key(_))));
    assert!(matches!(look.enqueue(&sub(b"p", ""), now_ms()), Err(OutboxError::Key(_))));
    assert_eq!(look.stats(now_ms()).unwrap().in_flight, 0, "nothing was leased without the key");
    let gone = db.0.join("nothing-here.db");
    assert!(Outbox::open_for_inspection(&gone, Options::default()).is_err());
    assert!(!gone.exists(), "inspection never creates an outbox");
}
