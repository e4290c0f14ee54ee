//! The sync agent killed with SIGKILL at random moments while it drains a queue against a faulty
//! gateway, many times over: at the end every submission is filed exactly once, the outbox holds
//! the gateway's case numbers, and neither the raw database nor the agent's logs hold personal
//! data in plaintext.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{PERSONAL, Rig};
use kiosk_gateway::Faults;
use kiosk_outbox::State;

const SUBMISSIONS: usize = 300;
const KILLS: usize = 20;

fn agent(config: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiosk-sync"));
    cmd.args(["--config", config.to_str().unwrap(), "--drain"])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn sigkill_at_random_moments_loses_and_duplicates_nothing() {
    let faults = Faults {
        server_error: 0.1,
        too_many: 0.05,
        retry_after_secs: 0,
        drop: 0.15,
        slow_body: 0.05,
        ..Faults::default()
    };
    kill_and_drain("crash", faults, SUBMISSIONS, 2026);
}

/// Every answer takes 300 ms, so nearly every kill lands while uploads are in flight: filed at
/// the gateway, not yet recorded at the kiosk.
#[test]
fn sigkill_mid_upload_through_a_slow_gateway_loses_and_duplicates_nothing() {
    let faults = Faults { delay_ms: 300, drop: 0.1, ..Faults::default() };
    let rig = kill_and_drain("crash-slow", faults, 120, 7);
    let counts = rig.gateway.store().counts().unwrap();
    assert!(counts.duplicates > 0, "kills landed mid-upload and those were sent again: {counts:?}");
}

fn kill_and_drain(name: &str, faults: Faults, submissions: usize, seed: u64) -> Rig {
    let rig = Rig::start(name, faults);
    let mut keys = rig.enqueue(submissions);
    let config = rig.config(None);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut logs = Vec::new();
    let mut killed = 0;
    for _ in 0..KILLS {
        let mut child = agent(&config).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(rng.u64(30..400)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL: no chance to finish a write or an upload
            killed += 1;
        }
        let out = child.wait_with_output().unwrap();
        logs.extend(out.stderr);
    }
    assert!(killed >= KILLS / 2, "the agent was killed mid-work {killed} times");

    // A last run without interruption drains the rest.
    let started = Instant::now();
    let out = agent(&config).output().unwrap();
    logs.extend(&out.stderr);
    assert!(out.status.success(), "final drain: {}", String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(120));

    let filed = rig.filed();
    keys.sort();
    assert_eq!(filed.len(), submissions, "every submission filed, none twice");
    assert_eq!(filed.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(), keys);
    assert_eq!(rig.gateway.store().counts().unwrap().accepted, submissions as i64);

    let ob = rig.outbox();
    let rows = ob.list(None, 10_000).unwrap();
    assert_eq!(rows.len(), submissions);
    assert!(rows.iter().all(|r| r.state == Some(State::Acked) && r.case_number.is_some()));
    let mut receipts: Vec<(String, String)> =
        rows.into_iter().map(|r| (r.idempotency_key, r.case_number.unwrap())).collect();
    receipts.sort();
    assert_eq!(receipts, filed, "the kiosk's receipts are the gateway's cases");

    // No personal data in plaintext: not in the outbox file, its WAL, the gateway's store, or
    // anything the agent logged at debug level across all those runs.
    let logs = String::from_utf8_lossy(&logs).into_owned();
    assert!(logs.contains("submission accepted"), "the logs were captured");
    let mut raw = Vec::new();
    for f in ["kiosk.db", "kiosk.db-wal", "gateway.db", "gateway.db-wal"] {
        raw.extend(std::fs::read(rig.dir.join(f)).unwrap_or_default());
    }
    for p in PERSONAL {
        assert!(!logs.contains(p), "{p} in the agent's logs");
        assert!(!raw.windows(p.len()).any(|w| w == p.as_bytes()), "{p} on disk in plaintext");
    }
    rig
}
