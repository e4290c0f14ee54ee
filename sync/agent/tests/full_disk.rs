//! A full data partition, for real: a small tmpfs mounted in a private mount namespace (an
//! unprivileged user namespace: no root needed), filled to the last block by another file. The
//! agent must start there, upload and delete what is queued; the UI's enqueue must be refused
//! with the "nearly full" notice; nothing queued may be lost.
//!
//! The test re-runs its own binary inside `unshare --user --map-root-user --mount`; that inner
//! run mounts the tmpfs, copies the kiosk's files onto it, fills it, and does the kiosk's work.
//! The gateway stays in the outer run, reached over loopback.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Rig;
use kiosk_gateway::Faults;
use kiosk_outbox::{NewSubmission, Options, Outbox, OutboxError, now_ms};

const INNER: &str = "KIOSK_FULL_DISK_INNER";
const QUEUED: usize = 40;

#[test]
fn on_a_full_partition_uploads_go_on_and_new_submissions_are_refused() {
    if let Ok(dirs) = std::env::var(INNER) {
        let (seed, data) = dirs.split_once('\n').expect("seed and data directories");
        return inner(Path::new(seed), Path::new(data));
    }
    let rig = Rig::start("full-disk", Faults::default());
    rig.config(None);
    rig.enqueue(QUEUED);
    assert!(rig.dir.join("kiosk.db.reserve").exists(), "the outbox keeps a space reserve");
    let data = rig.dir.join("data-partition");
    std::fs::create_dir_all(&data).unwrap();
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount"])
        .arg(std::env::current_exe().unwrap())
        .args(["on_a_full_partition_uploads_go_on_and_new_submissions_are_refused", "--exact", "--nocapture"])
        .env(INNER, format!("{}\n{}", rig.dir.display(), data.display()))
        .output()
        .expect("unshare (util-linux) runs");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the run on the full partition failed:\n{log}");
    assert!(log.contains("1 passed"), "the inner run ran the test:\n{log}");
    assert_eq!(rig.filed().len(), QUEUED, "every queued submission reached the gateway from the full disk");
    assert_eq!(rig.gateway.store().counts().unwrap().accepted, QUEUED as i64);
}

fn inner(seed: &Path, data: &Path) {
    let mount = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=8m", "kiosk-data"])
        .arg(data)
        .status()
        .unwrap();
    assert!(mount.success(), "mounting the small partition");
    copy_dir(
        seed,
        data,
        &["kiosk-sync.toml", "app-secret", "payload.key", "kiosk.db", "kiosk.db.reserve", "certs"],
    );
    // Something else fills the partition (a log, a runaway download) to the last block.
    let filler = std::fs::File::create(data.join("filler")).unwrap();
    let block = vec![7u8; 64 * 1024];
    let mut writer = std::io::BufWriter::new(filler);
    while std::io::Write::write_all(&mut writer, &block).is_ok() {}
    drop(writer.into_inner());
    let free = rustix::fs::statvfs(data).map(|s| s.f_bavail * s.f_frsize).unwrap();
    println!("partition full: {free} bytes free");
    assert!(free < 64 * 1024, "the partition is full");

    // The agent starts, uploads and acknowledges on the full partition.
    let out = Command::new(env!("CARGO_BIN_EXE_kiosk-sync"))
        .arg("--config")
        .arg(data.join("kiosk-sync.toml"))
        .arg("--drain")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    println!("agent: {log}");
    assert_eq!(out.status.code(), Some(0), "the agent drained the queue on a full disk: {log}");
    assert!(log.contains("released the outbox's space reserve"), "{log}");
    let look = Outbox::open_for_inspection(&data.join("kiosk.db"), Options::default()).unwrap();
    let stats = look.stats(now_ms()).unwrap();
    assert_eq!((stats.acked, stats.pending + stats.in_flight), (QUEUED as u64, 0));
    drop(look);

    // The UI: a resident's new submission is refused with the notice; nothing is lost.
    let mut ui =
        Outbox::open_with_key_file(&data.join("kiosk.db"), &data.join("payload.key"), Options::default())
            .expect("the UI opens the outbox on a full disk");
    let err = ui
        .enqueue(&NewSubmission { item_code: "440605-JZZ-001", stream_key: "", payload: b"{}" }, now_ms())
        .unwrap_err();
    assert!(matches!(err, OutboxError::StorageLow { .. }), "{err}");
    assert!(err.to_string().contains("nothing already queued was lost"), "{err}");
    assert_eq!(ui.stats(now_ms()).unwrap().acked, QUEUED as u64);
}

fn copy_dir(from: &Path, to: &Path, names: &[&str]) {
    for name in names {
        let (src, dst): (PathBuf, PathBuf) = (from.join(name), to.join(name));
        if src.is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
            let entries: Vec<String> = std::fs::read_dir(&src)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            copy_dir(&src, &dst, &entries.iter().map(String::as_str).collect::<Vec<_>>());
        } else {
            std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("copying {}: {e}", src.display()));
        }
    }
}
