//! `kiosk-sync` as the service runs it: uploads what the UI queues, sends heartbeats, and stops
//! cleanly on SIGTERM (systemd's stop).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Rig;
use kiosk_gateway::Faults;

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_daemon_uploads_reports_and_stops_on_sigterm() {
    let rig = Rig::start("daemon", Faults::default());
    let started = Instant::now();
    let config = rig.config(None);
    // systemd's notification socket, as a Type=notify service with WatchdogSec=2 gets it; like
    // systemd, a reader drains it all the time.
    let socket_path = rig.dir.join("notify.sock");
    let notify = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    let told = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    std::thread::spawn({
        let told = told.clone();
        move || {
            let mut buf = [0u8; 512];
            while let Ok(n) = notify.recv(&mut buf) {
                told.lock().unwrap().push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
    });
    // systemd names the main process in WATCHDOG_PID; `exec` keeps the shell's PID for the agent.
    let mut child = Command::new("sh")
        .args([
            "-c",
            "WATCHDOG_PID=$$ exec \"$0\" --config \"$1\"",
            env!("CARGO_BIN_EXE_kiosk-sync"),
            config.to_str().unwrap(),
        ])
        .env("RUST_LOG", "info")
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "2000000")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the first heartbeat", || !rig.gateway.store().fleet().unwrap().is_empty());
    // The UI queues while the agent runs.
    rig.enqueue(3);
    assert!(
        rig.gateway.store().fleet().unwrap()[0].heartbeat.queue_pending == 0,
        "the first heartbeat came before anything was queued"
    );
    wait_for("three filed submissions", || rig.filed().len() == 3);
    let first_seen = rig.gateway.store().fleet().unwrap()[0].last_seen;
    wait_for("a later heartbeat reporting the emptied queue", || {
        rig.gateway
            .store()
            .fleet()
            .unwrap()
            .first()
            .is_some_and(|f| f.last_seen > first_seen && f.heartbeat.queue_pending == 0)
    });

    let stopped = Instant::now();
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(stopped.elapsed() < Duration::from_secs(5), "the agent did not stop within 5 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(out.success(), "clean exit on SIGTERM: {out:?}");
    std::thread::sleep(Duration::from_millis(100));
    let told = told.lock().unwrap().clone();
    for state in ["READY=1", "WATCHDOG=1", "STOPPING=1"] {
        assert!(told.iter().any(|m| m.contains(state)), "systemd was not told {state}: {told:?}");
    }
    let pets = told.iter().filter(|m| m.contains("WATCHDOG=1")).count();
    assert!(
        pets <= 2 + stopped.duration_since(started).as_secs() as usize,
        "{pets} watchdog messages: far more than one a second"
    );
    let mut logs = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut logs).unwrap();
    assert!(logs.contains("stopping"), "{logs}");
}

#[test]
fn drain_exits_2_when_a_submission_was_refused() {
    let rig = Rig::start("drain-exit", Faults::default());
    rig.enqueue(2);
    let config = rig.config(None);
    let drain = || {
        Command::new(env!("CARGO_BIN_EXE_kiosk-sync"))
            .args(["--config", config.to_str().unwrap(), "--drain"])
            .output()
            .unwrap()
    };
    assert_eq!(drain().status.code(), Some(0), "everything accepted");
    let mut ob = rig.outbox();
    ob.enqueue(
        &kiosk_outbox::NewSubmission { item_code: "x", stream_key: "", payload: b"{}" },
        kiosk_outbox::now_ms(),
    )
    .unwrap();
    assert_eq!(drain().status.code(), Some(2), "this run refused a submission: a technician looks at it");
    rig.enqueue(1);
    assert_eq!(
        drain().status.code(),
        Some(0),
        "an old refusal is not this run's: exit for what this run did"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_kiosk-sync"))
        .args(["--config", "/nonexistent.toml", "--drain"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.toml"));
}
