//! Catalogue updates through the agent: served by the gateway over mutual TLS, or from a USB
//! stick; a refused update keeps the current catalogue and shows up in the heartbeat.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::Rig;
use kiosk_gateway::Faults;
use kiosk_sync::{Agent, Config};
use kiosk_update::client::{Outcome, UpdateError};
use kiosk_update::repo::{self, InitOptions, Lifetimes};

async fn publish(repo_dir: &Path, keys: &Path, version: &str) {
    let mut cat = kiosk_catalogue::sample();
    cat.catalogue_version = version.into();
    repo::publish(&cat, keys, repo_dir, Lifetimes::default(), |_| {}).await.unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// A gateway serving a fresh repository with one release, and the kiosk trusting its root.
fn serving(name: &str, version: &str) -> (Rig, PathBuf, PathBuf, tokio::runtime::Runtime) {
    let rig = Rig::start(name, Faults::default());
    let (keys, served) = (rig.dir.join("keys"), rig.dir.join("catalogue-repo"));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let init = repo::init_repo(&keys, &served, &InitOptions::default()).await.unwrap();
        fs::copy(&init.root, rig.dir.join("kiosk-root.json")).unwrap();
        publish(&served, &keys, version).await;
    });
    (rig, keys, served, runtime)
}

#[test]
fn updates_arrive_over_https_refusals_are_reported_and_usb_sticks_work() {
    let (rig, keys, served, runtime) = serving("catalogue", "v1");
    let config = rig.config_with_catalogue();
    let mut agent = Agent::new(Config::load(&config).unwrap()).unwrap();

    let sync = agent.updater.as_mut().unwrap();
    assert!(matches!(runtime.block_on(sync.check()), Ok(Outcome::Applied(r)) if r.catalogue_version == "v1"));
    let hb = agent.heartbeat_document().unwrap();
    assert_eq!((hb.catalogue_version.as_deref(), hb.catalogue_refused), (Some("v1"), None));

    // The server's copy of the next release is damaged on the way.
    runtime.block_on(publish(&served, &keys, "v2"));
    for entry in fs::read_dir(served.join("targets")).unwrap() {
        let path = entry.unwrap().path();
        let mut bytes = fs::read(&path).unwrap();
        if kiosk_catalogue::Bundle::open(&bytes).unwrap().meta.catalogue_version == "v2" {
            let last = bytes.len() - 1;
            bytes[last] ^= 0x55;
            fs::write(&path, bytes).unwrap();
        }
    }
    let sync = agent.updater.as_mut().unwrap();
    assert!(matches!(runtime.block_on(sync.check()), Err(UpdateError::Refused(_))));
    let hb = agent.heartbeat_document().unwrap();
    assert_eq!(hb.catalogue_version.as_deref(), Some("v1"), "the current catalogue stays");
    assert!(hb.catalogue_refused.as_deref().unwrap().to_lowercase().contains("hash"), "{hb:?}");
    runtime.block_on(agent.send_heartbeat()).unwrap();
    let fleet = rig.gateway.store().fleet().unwrap();
    assert!(fleet[0].heartbeat.catalogue_refused.is_some(), "the fleet view shows the refusal");
    assert!(rig.admin_page("/fleet").contains("update refused"));

    // The command a technician runs says the same, with its own exit code.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_kiosk-sync"))
        .args(["--config", config.to_str().unwrap(), "--update-catalogue"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));

    // A technician brings the fixed release on a USB stick: same signatures, same checks.
    let usb = rig.dir.join("usb");
    copy_dir(&served, &usb);
    runtime.block_on(publish(&usb, &keys, "v3"));
    let sync = agent.updater.as_mut().unwrap();
    assert!(matches!(runtime.block_on(sync.check()), Ok(Outcome::Applied(r)) if r.catalogue_version == "v3"));
    let hb = agent.heartbeat_document().unwrap();
    assert_eq!((hb.catalogue_version.as_deref(), hb.catalogue_refused), (Some("v3"), None));
}

#[test]
fn the_daemon_installs_updates_alongside_uploads_and_reports_them() {
    let (rig, _, _, _) = serving("catalogue-daemon", "daemon-v1");
    rig.enqueue(5);
    let config = rig.config_with_catalogue();
    let mut daemon = std::process::Command::new(env!("CARGO_BIN_EXE_kiosk-sync"))
        .args(["--config", config.to_str().unwrap()])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let reported = loop {
        let fleet = rig.gateway.store().fleet().unwrap();
        let hb = fleet.first().map(|r| r.heartbeat.clone());
        if hb
            .as_ref()
            .is_some_and(|h| h.catalogue_version.as_deref() == Some("daemon-v1") && h.queue_pending == 0)
            || std::time::Instant::now() > deadline
        {
            break hb;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let hb = reported.expect("a heartbeat arrived");
    assert_eq!((hb.catalogue_version.as_deref(), hb.queue_pending), (Some("daemon-v1"), 0), "{hb:?}");
    assert_eq!(rig.filed().len(), 5);
    assert!(rig.dir.join("catalogue/catalogue.bundle").exists());
}
