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
    let config = rig.config(None);
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiosk-sync"))
        .args(["--config", config.to_str().unwrap()])
        .env("RUST_LOG", "info")
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
    let mut logs = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut logs).unwrap();
    assert!(logs.contains("stopping"), "{logs}");
}
