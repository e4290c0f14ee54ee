//! The outbox's files on the data partition: atomic creation, the space reserve that lets the
//! agent go on uploading on a full disk, and the lock that keeps a second agent off the queue.
//!
//! Why a reserve file: in WAL mode every write, an acknowledgement or a lease included, appends
//! to the `-wal` file first. On a partition filled by something else, the agent could then not
//! record what the gateway filed, nor even start, and the queue would stop exactly when it most
//! needs to shrink. The outbox keeps a few MiB of real blocks in `<db>.reserve`; the agent gives
//! them back to the file system when a write finds the disk full, and takes them again once space
//! is free. The UI never touches the reserve: it refuses new submissions earlier (`min_free`).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::OutboxError;

pub(crate) fn reserve_path(db: &Path) -> PathBuf {
    sibling(db, "reserve")
}

fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{suffix}"));
    db.with_file_name(name)
}

fn dir_of(db: &Path) -> &Path {
    db.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Bytes free for an unprivileged writer on the partition that holds `db`.
pub(crate) fn free_bytes(db: &Path) -> Option<u64> {
    rustix::fs::statvfs(dir_of(db)).ok().map(|st| st.f_bavail.saturating_mul(st.f_frsize))
}

/// Makes sure the reserve exists, when the partition has room for it beside `keep_free`.
pub(crate) fn ensure_reserve(db: &Path, bytes: u64, keep_free: u64) {
    let path = reserve_path(db);
    if bytes == 0 || std::fs::metadata(&path).is_ok_and(|m| m.len() >= bytes) {
        return;
    }
    if free_bytes(db).is_none_or(|free| free < bytes.saturating_add(keep_free)) {
        return;
    }
    let tmp = sibling(db, &format!("reserve.tmp-{}", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        // Real zeros, not a sparse hole: the blocks must be allocated to be given back later.
        let block = vec![0u8; 64 * 1024];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            f.write_all(&block[..n])?;
            left -= n as u64;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        tracing::debug!(error = %e, "outbox space reserve not made");
    } else {
        tracing::debug!(path = %path.display(), bytes, "outbox space reserve in place");
    }
}

/// Gives the reserve back to the file system; true if there was one.
pub(crate) fn release_reserve(db: &Path) -> bool {
    let released = std::fs::remove_file(reserve_path(db)).is_ok();
    if released {
        tracing::warn!(
            "the data partition is full: released the outbox's space reserve so uploads and acknowledgements go on"
        );
    }
    released
}

/// Creates a new, empty database file at `db` atomically: prepared under a temporary name, then
/// linked into place. A file that is there but empty is therefore never one we are making, but
/// the trace of a truncation (a power cut on a file system without data journaling).
pub(crate) fn create_atomically(
    db: &Path,
    init: impl FnOnce(&Path) -> Result<(), OutboxError>,
) -> Result<(), OutboxError> {
    let tmp = sibling(db, &format!("new-{}", std::process::id()));
    let io = |e: std::io::Error| OutboxError::Io { path: db.to_owned(), detail: e.to_string() };
    let _ = std::fs::remove_file(&tmp);
    let made = init(&tmp).and_then(|()| match std::fs::hard_link(&tmp, db) {
        Ok(()) => Ok(()),
        // Another process (the UI beside the agent) made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io(e)),
    });
    for leftover in [tmp.clone(), sibling(&tmp, "wal"), sibling(&tmp, "shm")] {
        let _ = std::fs::remove_file(leftover);
    }
    made?;
    std::fs::File::open(dir_of(db)).and_then(|d| d.sync_all()).map_err(io)
}

/// The kiosk's two programs that open the outbox for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    /// `kiosk-sync`, the only one that leases and uploads.
    Agent,
    /// `kiosk-ui`, which enqueues.
    Ui,
}

impl Program {
    pub fn name(self) -> &'static str {
        match self {
            Program::Agent => "kiosk-sync",
            Program::Ui => "kiosk-ui",
        }
    }

    fn lock_path(self, db: &Path) -> PathBuf {
        sibling(db, if self == Program::Agent { "agent-lock" } else { "ui-lock" })
    }

    /// Whether a process of this program holds the outbox now, and its pid when it said.
    /// What the kiosk itself knows, so a diagnostic never mistakes another machine's process of
    /// the same name (a developer's, a test's) for the kiosk's. The look takes a shared lock for
    /// an instant when nobody holds it.
    pub fn holder(self, db: &Path) -> Option<Option<u32>> {
        let path = self.lock_path(db);
        let file = std::fs::File::open(&path).ok()?;
        match file.try_lock_shared() {
            Ok(()) => None,
            Err(std::fs::TryLockError::WouldBlock) => {
                Some(std::fs::read_to_string(&path).unwrap_or_default().trim().parse().ok())
            }
            Err(std::fs::TryLockError::Error(_)) => None,
        }
    }
}

/// A program's hold on the outbox, for its whole life: one agent and one UI per outbox.
/// Released by the kernel when the process exits or is killed, so a crash never leaves a stale
/// lock behind.
#[derive(Debug)]
pub struct ProgramLock {
    _file: std::fs::File,
    path: PathBuf,
}

impl ProgramLock {
    /// Takes the lock beside `db`, or says which process holds it.
    pub fn acquire(db: &Path, program: Program) -> Result<Self, OutboxError> {
        let path = program.lock_path(db);
        let io = |e: std::io::Error| OutboxError::Io { path: path.clone(), detail: e.to_string() };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {
                // The holder's pid is for the message a second one prints; on a full partition
                // it may not fit, and the lock holds all the same.
                let _ = file.set_len(0).and_then(|()| write!(file, "{}", std::process::id()));
                Ok(Self { _file: file, path })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default().trim().parse().ok();
                Err(OutboxError::Running { program: program.name(), outbox: db.to_owned(), pid: holder })
            }
            Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// One sync agent per outbox: the agent's [`ProgramLock`], held for its life.
#[derive(Debug)]
pub struct AgentLock {
    _held: ProgramLock,
}

impl AgentLock {
    pub fn acquire(db: &Path) -> Result<Self, OutboxError> {
        ProgramLock::acquire(db, Program::Agent).map(|held| Self { _held: held })
    }
}
