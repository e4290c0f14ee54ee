//! A database folder of its own per test, removed afterwards.
#![allow(dead_code)] // each test binary uses a different part of this helper

use std::path::PathBuf;

use kiosk_outbox::{Options, Outbox, OutboxError};

pub struct TempDb(pub PathBuf);

impl TempDb {
    pub fn new(name: &str) -> Self {
        let dir =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("outbox-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> PathBuf {
        self.0.join("kiosk.db")
    }

    pub fn key(&self) -> PathBuf {
        self.0.join("payload.key")
    }

    /// Opened as the UI and the agent open it: with the key file beside it.
    pub fn open(&self) -> Result<Outbox, OutboxError> {
        Outbox::open_with_key_file(&self.path(), &self.key(), Options::default())
    }

    /// A plain SQLite connection, to damage the file as the world does.
    pub fn raw(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.path()).unwrap()
    }

    /// Every byte SQLite keeps for this database: the file, its WAL and shared memory.
    pub fn raw_bytes(&self) -> Vec<u8> {
        ["kiosk.db", "kiosk.db-wal", "kiosk.db-shm"]
            .iter()
            .filter_map(|f| std::fs::read(self.0.join(f)).ok())
            .flatten()
            .collect()
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
