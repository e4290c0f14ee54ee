//! The faults that once stalled, stormed or lost the queue, reproduced on the real `kiosk-sync`
//! binary against the reference gateway: a Retry-After of an hour, a wrong path prefix, a deleted
//! payload key, an outbox locked while answers arrive, a second agent beside the daemon, a clock
//! ten minutes off, a wrong secret, and configuration that would hang the agent.

mod common;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::Rig;
use kiosk_gateway::Faults;
use kiosk_outbox::{Health, Options, Outbox, Part, State};

fn agent(config: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiosk-sync"));
    cmd.arg("--config").arg(config).args(args).env("RUST_LOG", "info");
    cmd
}

/// The daemon, killed when the test ends however it ends (a failed assertion included), so no
/// agent outlives its test.
struct Daemon(Child);

impl Daemon {
    fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn daemon(config: &std::path::Path) -> Daemon {
    Daemon(agent(config, &[]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap())
}

/// Stops the daemon as systemd does (SIGTERM), then waits for it.
fn stop(mut daemon: Daemon) {
    let _ = Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while daemon.0.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn inspect(rig: &Rig) -> Outbox {
    Outbox::open_for_inspection(&rig.dir.join("kiosk.db"), Options::default()).unwrap()
}

/// Requests the gateway answered with an injected fault (here: every request).
fn requests_seen(rig: &Rig) -> i64 {
    rig.gateway.store().counts().unwrap().faults_injected
}

#[test]
fn a_retry_after_of_an_hour_pauses_every_upload_for_an_hour() {
    let rig =
        Rig::start("retry-after", Faults { too_many: 1.0, retry_after_secs: 3600, ..Faults::default() });
    rig.enqueue(50);
    let config = rig.config(None);
    let started = kiosk_outbox::now_ms();
    let child = daemon(&config);
    wait_for("the first answers", 20, || requests_seen(&rig) >= 1);
    std::thread::sleep(Duration::from_secs(3));
    stop(child);
    let seen = requests_seen(&rig);
    // Before: 15,200 requests in 10 s from one kiosk. Now one round of `concurrency`, then silence.
    assert!((1..=8).contains(&seen), "the gateway saw {seen} requests while it asked for an hour's pause");
    let ob = inspect(&rig);
    let paused = ob.paused_until(kiosk_outbox::now_ms()).unwrap().expect("the pause is recorded");
    assert!(paused >= started + 3_590_000, "paused for the hour, not less");
    assert_eq!(ob.stats(kiosk_outbox::now_ms()).unwrap().dead, 0);

    // A restart honours it too, and --drain says how long the wait is instead of hammering.
    let out = agent(&config, &["--drain"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("50 submission(s) still queued"), "{}", stderr(&out));
    assert_eq!(requests_seen(&rig), seen, "nothing more was sent");
}

#[test]
fn a_wrong_path_prefix_dead_letters_nothing_and_is_reported() {
    let rig = Rig::start("wrong-path", Faults::default());
    rig.enqueue(50);
    let good = rig.config(None);
    let text = std::fs::read_to_string(&good).unwrap();
    let fixed = text.clone();
    std::fs::write(
        &good,
        text.replacen(&format!(":{}\"", rig.api.port()), &format!(":{}/api/v2\"", rig.api.port()), 1),
    )
    .unwrap();
    let out = agent(&good, &["--drain", "--patience", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "still queued, not refused: {}", stderr(&out));
    let ob = inspect(&rig);
    let stats = ob.stats(kiosk_outbox::now_ms()).unwrap();
    assert_eq!((stats.dead, stats.pending), (0, 50), "a proxy's or a wrong path's 404 refuses nothing");
    let row = ob.list(Some(State::Pending), 1).unwrap().remove(0);
    assert_eq!(row.last_status, Some(404));
    assert!(row.last_error.unwrap().contains("wrong `gateway` address"), "the fault is named");

    // The daemon names it where the maintenance screen and the heartbeat read it (the heartbeat
    // itself goes to the same wrong address, so the screen is where a technician sees it).
    let child = daemon(&good);
    wait_for("the upload problem recorded", 20, || {
        inspect(&rig)
            .part_states()
            .unwrap()
            .iter()
            .any(|(p, s)| *p == Part::Uploads && s.health == Health::Warning && s.detail.contains("HTTP 404"))
    });
    stop(child);
    assert!(rig.filed().is_empty());
    assert_eq!(inspect(&rig).stats(kiosk_outbox::now_ms()).unwrap().dead, 0);

    // Fixed: everything goes out, nothing had to be re-queued by hand.
    std::fs::write(&good, fixed).unwrap();
    let out = agent(&good, &["--drain"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(rig.filed().len(), 50);
}

#[test]
fn a_deleted_payload_key_is_a_loud_error_never_a_new_key() {
    let rig = Rig::start("no-key", Faults::default());
    rig.enqueue(200);
    let config = rig.config(None);
    std::fs::remove_file(rig.dir.join("payload.key")).unwrap();
    let out = agent(&config, &["--drain"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("payload.key is missing") && err.contains("200 submission(s)"), "{err}");
    assert!(err.contains("Restore the key file"), "the fix is named: {err}");
    assert!(!rig.dir.join("payload.key").exists(), "no new key was made");
    assert!(rig.filed().is_empty());
    assert_eq!(inspect(&rig).stats(kiosk_outbox::now_ms()).unwrap().pending, 200, "nothing was touched");
}

#[test]
fn answers_that_arrive_while_the_outbox_is_locked_are_recorded_afterwards() {
    let rig = Rig::start("locked", Faults { delay_ms: 1_000, ..Faults::default() });
    let config = rig.config(None);
    rig.enqueue(8);
    let child = daemon(&config);
    // The gateway files first and answers a second later: lock the outbox in between, longer
    // than the agent's busy timeout (5 s), as a technician's long query might.
    wait_for("eight filed", 20, || rig.filed().len() == 8);
    let blocker = rusqlite::Connection::open(rig.dir.join("kiosk.db")).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    std::thread::sleep(Duration::from_secs(7));
    blocker.execute_batch("ROLLBACK").unwrap();
    let released = Instant::now();
    wait_for("the kept answers recorded without a restart", 30, || {
        inspect(&rig).stats(kiosk_outbox::now_ms()).unwrap().acked == 8
    });
    println!("recorded {} ms after the lock was released", released.elapsed().as_millis());
    stop(child);
    assert_eq!(rig.gateway.store().counts().unwrap().duplicates, 0, "nothing was sent twice");
}

#[test]
fn a_second_agent_is_refused_and_leaves_the_daemon_alone() {
    let rig = Rig::start("second", Faults { delay_ms: 800, ..Faults::default() });
    let config = rig.config(None);
    rig.enqueue(8);
    let child = daemon(&config);
    wait_for("uploads in flight", 20, || inspect(&rig).stats(kiosk_outbox::now_ms()).unwrap().in_flight > 0);
    let out = agent(&config, &["--drain"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(&format!("another kiosk-sync (pid {})", child.id())), "{err}");
    assert!(inspect(&rig).stats(kiosk_outbox::now_ms()).unwrap().in_flight > 0, "its leases are untouched");
    wait_for("the daemon's uploads", 20, || inspect(&rig).stats(kiosk_outbox::now_ms()).unwrap().acked == 8);
    stop(child);
    let counts = rig.gateway.store().counts().unwrap();
    assert_eq!((counts.accepted, counts.duplicates), (8, 0), "nothing sent twice");
}

#[test]
fn a_clock_ten_minutes_off_keeps_uploading_and_is_reported() {
    // The gateway's clock runs ten minutes ahead: to it, this kiosk is ten minutes behind.
    let rig = Rig::start("skew", Faults { clock_skew_secs: 600, ..Faults::default() });
    rig.enqueue(5);
    let config = rig.config(None);
    let out = agent(&config, &["--drain"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(rig.filed().len(), 5, "signed with the gateway's time after its first answer");
    let child = daemon(&config);
    wait_for("a heartbeat with the offset", 20, || {
        rig.gateway.store().fleet().unwrap().first().and_then(|k| k.heartbeat.clock_offset_secs).is_some()
    });
    wait_for("the maintenance screen's clock state", 20, || {
        // The Date header has one-second resolution.
        inspect(&rig).part_states().unwrap().iter().any(|(p, s)| {
            *p == Part::Clock
                && s.health == Health::Warning
                && (s.detail.contains("off by 600 s") || s.detail.contains("off by 599 s"))
        })
    });
    stop(child);
    let offset = rig.gateway.store().fleet().unwrap()[0].heartbeat.clock_offset_secs.unwrap();
    assert!((-602..=-598).contains(&offset), "the kiosk is {offset} s off");
}

#[test]
fn drain_ends_with_exit_4_when_the_credentials_are_refused() {
    let rig = Rig::start("auth", Faults::default());
    rig.enqueue(2);
    let wrong = rig.dir.join("wrong-secret");
    kiosk_gateway::certs::write_private(&wrong, "not-the-secret").unwrap();
    let started = Instant::now();
    let out = agent(&rig.config(Some(&wrong)), &["--drain"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad_signature"), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(20), "it ended instead of retrying forever");
    assert_eq!(inspect(&rig).stats(kiosk_outbox::now_ms()).unwrap().pending, 2, "kept for after the fix");
}

#[test]
fn configuration_that_would_hang_or_leak_is_refused_by_name() {
    let rig = Rig::start("config", Faults::default());
    let config = rig.config(None);
    let text = std::fs::read_to_string(&config).unwrap();
    for (from, to, named) in [
        ("concurrency = 8", "concurrency = 0", "upload.concurrency"),
        ("timeout_ms = 1500", "timeout_ms = 0", "upload.timeout_ms"),
        ("backoff_cap_ms = 300", "backoff_cap_ms = 10", "upload.backoff_cap_ms"),
    ] {
        std::fs::write(&config, text.replace(from, to)).unwrap();
        let out = agent(&config, &["--drain"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{to}");
        assert!(stderr(&out).contains(named), "{to}: {}", stderr(&out));
    }
    std::fs::write(&config, &text).unwrap();
    let secret = rig.dir.join("app-secret");
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let out = agent(&config, &["--drain"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));
}

#[test]
fn quarantined_payloads_are_counted_in_the_heartbeat_and_the_rest_flows() {
    let rig = Rig::start("quarantine", Faults::default());
    rig.enqueue(8);
    let raw = rusqlite::Connection::open(rig.dir.join("kiosk.db")).unwrap();
    let mut sealed: Vec<u8> =
        raw.query_row("SELECT payload FROM submission ORDER BY id LIMIT 1", [], |r| r.get(0)).unwrap();
    sealed[40] ^= 0x10;
    raw.execute("UPDATE submission SET payload = ?1 WHERE id = (SELECT min(id) FROM submission)", [sealed])
        .unwrap();
    drop(raw);
    let config = rig.config(None);
    let out = agent(&config, &["--drain"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "this run set one aside: {}", stderr(&out));
    assert_eq!(rig.filed().len(), 7, "the seven others went out");
    let child = daemon(&config);
    wait_for("the heartbeat", 20, || {
        rig.gateway.store().fleet().unwrap().first().is_some_and(|k| k.heartbeat.queue_quarantined == 1)
    });
    stop(child);
}

/// A client holding another kiosk's certificate, as an attacker at a second kiosk would.
fn client_as(rig: &Rig, kiosk: &str) -> reqwest::blocking::Client {
    let certs = rig.dir.join("certs");
    let (cert, key) = kiosk_gateway::certs::kiosk_files(&certs, kiosk);
    let mut pem = std::fs::read(cert).unwrap();
    pem.extend(std::fs::read(key).unwrap());
    reqwest::blocking::Client::builder()
        .tls_certs_only([
            reqwest::Certificate::from_pem(&std::fs::read(certs.join("ca.pem")).unwrap()).unwrap()
        ])
        .identity(reqwest::Identity::from_pem(&pem).unwrap())
        .build()
        .unwrap()
}

#[test]
fn a_request_replayed_over_another_kiosks_certificate_learns_nothing() {
    use kiosk_sync_proto as proto;
    let rig = Rig::start("replay", Faults::default());
    let key = rig.enqueue(1).remove(0);
    let out = agent(&rig.config(None), &["--drain"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let case = rig.filed()[0].1.clone();

    let body = br#"{"item_code":"440605-JZZ-001","form":{}}"#;
    let url = format!("https://127.0.0.1:{}{}", rig.api.port(), proto::PATH_SUBMISSIONS);
    let post = |as_kiosk: &str, header_kiosk: &str, signed_kiosk: &str| {
        let (timestamp, nonce) = (kiosk_outbox::now_ms() / 1000, format!("n{}", fastrand::u64(..)));
        let signature = proto::Signed {
            method: "POST",
            path: proto::PATH_SUBMISSIONS,
            kiosk_id: signed_kiosk,
            app_key: "kiosk-dev",
            timestamp,
            nonce: &nonce,
            idempotency_key: &key,
            body,
        }
        .sign(proto::Algorithm::HmacSha256, common::SECRET.as_bytes());
        let r = client_as(&rig, as_kiosk)
            .post(&url)
            .header(proto::HEADER_KIOSK_ID, header_kiosk)
            .header(proto::HEADER_APP_KEY, "kiosk-dev")
            .header(proto::HEADER_TIMESTAMP, timestamp.to_string())
            .header(proto::HEADER_NONCE, nonce)
            .header(proto::HEADER_SIGNATURE, signature)
            .header(proto::HEADER_IDEMPOTENCY_KEY, &key)
            .body(body.to_vec())
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    let observer = common::OBSERVER;
    // The first kiosk's request as it was, over the second kiosk's certificate.
    assert_eq!(post(observer, common::KIOSK, common::KIOSK).0, 403);
    // Its signature under the second kiosk's id: the kiosk id is signed, so it does not verify.
    let (status, text) = post(observer, observer, common::KIOSK);
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("bad_signature"), "{text}");
    // Even signed afresh with the shared app secret, the key belongs to the first kiosk.
    let (status, text) = post(observer, observer, observer);
    assert_eq!(status, 409, "{text}");
    assert!(!text.contains(&case), "the first kiosk's case number leaked: {text}");
    assert_eq!(rig.gateway.store().counts().unwrap().accepted, 1);
}
