//! The gateway's own SQLite store: submissions keyed by idempotency key (a repeat gets the first
//! answer), seen nonces for the replay window, heartbeats, and counters.

use std::path::Path;
use std::sync::Mutex;

use kiosk_sync_proto::{Accepted, Heartbeat};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

#[derive(Debug)]
pub enum Outcome {
    New(Accepted),
    Duplicate(Accepted),
    /// The key was used before for a different body, or by another kiosk: nothing of the first
    /// submission is told (idempotency keys are scoped to the kiosk that made them).
    Conflict,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub accepted: i64,
    pub duplicates: i64,
    pub rejected: i64,
    pub faults_injected: i64,
    /// Ratings filed (a repeat of the same one is not counted again).
    pub evaluations: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FleetRow {
    pub kiosk_id: String,
    pub last_seen: i64,
    pub heartbeat: Heartbeat,
}

/// `NH` + the date in China Standard Time + a six-digit sequence: `NH20261127000042`.
fn case_number(now_ms: i64, seq: i64) -> String {
    let t = crate::cst(now_ms);
    format!("NH{:04}{:02}{:02}{:06}", t.year(), u8::from(t.month()), t.day(), seq % 1_000_000)
}

pub struct Store {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

const SCHEMA: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS submission (
        idempotency_key TEXT PRIMARY KEY,
        kiosk_id TEXT NOT NULL,
        item_code TEXT NOT NULL,
        body_sha256 TEXT NOT NULL,
        case_number TEXT NOT NULL UNIQUE,
        received_at INTEGER NOT NULL,
        item_name TEXT NOT NULL DEFAULT '',
        person_sha256 TEXT NOT NULL DEFAULT '',
        password_sha256 TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX IF NOT EXISTS submission_person ON submission (person_sha256);
    CREATE TABLE IF NOT EXISTS nonce (kiosk_id TEXT NOT NULL, nonce TEXT NOT NULL, seen_at INTEGER NOT NULL, PRIMARY KEY (kiosk_id, nonce));
    CREATE TABLE IF NOT EXISTS kiosk (kiosk_id TEXT PRIMARY KEY, last_seen INTEGER NOT NULL, heartbeat TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS evaluation (
        idempotency_key TEXT PRIMARY KEY,
        kiosk_id TEXT NOT NULL,
        item_code TEXT NOT NULL,
        level INTEGER NOT NULL,
        reasons TEXT NOT NULL,
        body_sha256 TEXT NOT NULL,
        case_number TEXT NOT NULL,
        received_at INTEGER NOT NULL
    );
";

/// Columns added after the first release of the store, for stores made before them.
const ADDED_COLUMNS: &[&str] = &[
    "ALTER TABLE submission ADD COLUMN item_name TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE submission ADD COLUMN person_sha256 TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE submission ADD COLUMN password_sha256 TEXT NOT NULL DEFAULT ''",
];

/// What the gateway keeps of a submission to follow it (办件进度): the item's name and, so that
/// neither is stored in the clear, digests of the applicant's ID number and of the query password.
#[derive(Debug, Clone, Default)]
pub struct Filing {
    pub item_code: String,
    pub item_name: String,
    pub person_sha256: String,
    pub password_sha256: String,
}

/// A filed submission as progress lookups see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    pub idempotency_key: String,
    pub case_number: String,
    pub item_code: String,
    pub item_name: String,
    pub received_at: i64,
}

/// The idempotency rule both tables follow: a key seen before from the same kiosk with the same
/// body gets the first answer again; from another kiosk or with another body it is a conflict;
/// a new key is filed by `file` at `now`, which returns the number it was filed under.
fn once(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    key: &str,
    kiosk: &str,
    body_sha256: &str,
    now: i64,
    file: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<String>,
) -> rusqlite::Result<Outcome> {
    let existing: Option<(String, String, String, i64)> = tx
        .query_row(
            &format!("SELECT kiosk_id, body_sha256, case_number, received_at FROM {table} WHERE idempotency_key = ?1"),
            [key],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    Ok(match existing {
        Some((owner, hash, _, _)) if owner != kiosk || hash != body_sha256 => Outcome::Conflict,
        Some((_, _, case_number, received_at)) => {
            Outcome::Duplicate(Accepted { case_number, received_at, duplicate: true })
        }
        None => Outcome::New(Accepted { case_number: file(tx)?, received_at: now, duplicate: false }),
    })
}

/// Ratings (好差评) counted by level, 非常满意 first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Ratings {
    /// Item code → counts of levels 1 to 5.
    pub by_item: std::collections::BTreeMap<String, [u64; 5]>,
    /// Kiosk → counts of levels 1 to 5.
    pub by_kiosk: std::collections::BTreeMap<String, [u64; 5]>,
}

impl Store {
    /// The reference gateway is not a system of record: `synchronous=NORMAL` trades the last
    /// commits on a power cut for throughput. Dedup is still exact while it runs.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        for add in ADDED_COLUMNS {
            // A store older than the column gains it; a current one already has it.
            match conn.execute(add, []) {
                Ok(_) => {}
                Err(e)
                    if e.to_string().contains("duplicate column")
                        || e.to_string().contains("no such table") => {}
                Err(e) => return Err(e),
            }
        }
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn bump(&self, counter: &str) -> rusqlite::Result<()> {
        self.conn().execute(
            "INSERT INTO counter (name, value) VALUES (?1, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1",
            [counter],
        )?;
        Ok(())
    }

    /// Files a submission once; a repeat of the key gets the first answer.
    pub fn submit(
        &self,
        key: &str,
        kiosk: &str,
        filing: &Filing,
        body_sha256: &str,
        now: i64,
    ) -> rusqlite::Result<Outcome> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let outcome = once(&tx, "submission", key, kiosk, body_sha256, now, |tx| {
            let seq: i64 = tx.query_row("SELECT count(*) + 1 FROM submission", [], |r| r.get(0))?;
            let case_number = case_number(now, seq);
            tx.execute(
                "INSERT INTO submission (idempotency_key, kiosk_id, item_code, body_sha256, case_number, received_at,
                                         item_name, person_sha256, password_sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    key,
                    kiosk,
                    filing.item_code,
                    body_sha256,
                    case_number,
                    now,
                    filing.item_name,
                    filing.person_sha256,
                    filing.password_sha256
                ],
            )?;
            Ok(case_number)
        })?;
        let counter = match outcome {
            Outcome::New(_) => "accepted",
            Outcome::Duplicate(_) => "duplicates",
            Outcome::Conflict => "rejected",
        };
        tx.execute(
            "INSERT INTO counter (name, value) VALUES (?1, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1",
            [counter],
        )?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Everything filed for the person with this digest, newest first.
    pub fn filed_for(&self, person_sha256: &str) -> rusqlite::Result<Vec<Filed>> {
        if person_sha256.is_empty() {
            return Ok(Vec::new());
        }
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT idempotency_key, case_number, item_code, item_name, received_at FROM submission
             WHERE person_sha256 = ?1 ORDER BY received_at DESC, case_number DESC LIMIT 50",
        )?;
        stmt.query_map([person_sha256], filed_row)?.collect()
    }

    /// The case filed under this case number or submission number, if the password's digest is
    /// the one filed with it.
    pub fn filed_by_reference(
        &self,
        reference: &str,
        password_sha256: &str,
    ) -> rusqlite::Result<Option<Filed>> {
        self.conn()
            .query_row(
                "SELECT idempotency_key, case_number, item_code, item_name, received_at FROM submission
                 WHERE (case_number = ?1 OR idempotency_key = ?1) AND password_sha256 = ?2 AND password_sha256 != ''",
                params![reference, password_sha256],
                filed_row,
            )
            .optional()
    }

    /// Records a nonce; false if this kiosk used it within the window already (a replay).
    pub fn fresh_nonce(&self, kiosk: &str, nonce: &str, now: i64, window_ms: i64) -> rusqlite::Result<bool> {
        let conn = self.conn();
        conn.execute("DELETE FROM nonce WHERE seen_at < ?1", [now - 2 * window_ms])?;
        let inserted = conn.execute(
            "INSERT OR IGNORE INTO nonce (kiosk_id, nonce, seen_at) VALUES (?1, ?2, ?3)",
            params![kiosk, nonce, now],
        )?;
        Ok(inserted == 1)
    }

    pub fn heartbeat(&self, hb: &Heartbeat, now: i64) -> rusqlite::Result<()> {
        let json = serde_json::to_string(hb).expect("heartbeats serialise");
        self.conn().execute(
            "INSERT INTO kiosk (kiosk_id, last_seen, heartbeat) VALUES (?1, ?2, ?3)
             ON CONFLICT (kiosk_id) DO UPDATE SET last_seen = excluded.last_seen, heartbeat = excluded.heartbeat",
            params![hb.kiosk_id, now, json],
        )?;
        Ok(())
    }

    pub fn fleet(&self) -> rusqlite::Result<Vec<FleetRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT kiosk_id, last_seen, heartbeat FROM kiosk ORDER BY kiosk_id")?;
        stmt.query_map([], |r| {
            let json: String = r.get(2)?;
            Ok(FleetRow {
                kiosk_id: r.get(0)?,
                last_seen: r.get(1)?,
                heartbeat: serde_json::from_str(&json).unwrap_or_default(),
            })
        })?
        .collect()
    }

    pub fn counts(&self) -> rusqlite::Result<Counts> {
        let conn = self.conn();
        let get = |name: &str| -> rusqlite::Result<i64> {
            Ok(conn
                .query_row("SELECT value FROM counter WHERE name = ?1", [name], |r| r.get(0))
                .optional()?
                .unwrap_or(0))
        };
        Ok(Counts {
            accepted: get("accepted")?,
            duplicates: get("duplicates")?,
            rejected: get("rejected")?,
            faults_injected: get("faults")?,
            evaluations: get("evaluations")?,
        })
    }

    /// Files a rating once: a repeat of the same idempotency key gets the same answer, another
    /// body under it is a conflict.
    pub fn evaluate(
        &self,
        key: &str,
        kiosk: &str,
        e: &kiosk_sync_proto::Evaluation,
        body_sha256: &str,
        now: i64,
    ) -> rusqlite::Result<Outcome> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let outcome = once(&tx, "evaluation", key, kiosk, body_sha256, now, |tx| {
            let seq: i64 = tx.query_row("SELECT count(*) + 1 FROM evaluation", [], |r| r.get(0))?;
            let number = format!("PJ{seq:010}");
            tx.execute(
                "INSERT INTO evaluation (idempotency_key, kiosk_id, item_code, level, reasons, body_sha256, case_number, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![key, kiosk, e.item_code, e.level, e.reasons.join(","), body_sha256, number, now],
            )?;
            tx.execute(
                "INSERT INTO counter (name, value) VALUES ('evaluations', 1) ON CONFLICT (name) DO UPDATE SET value = value + 1",
                [],
            )?;
            Ok(number)
        })?;
        tx.commit()?;
        Ok(outcome)
    }

    pub fn ratings(&self) -> rusqlite::Result<Ratings> {
        let conn = self.conn();
        let mut ratings = Ratings::default();
        let mut stmt = conn.prepare("SELECT item_code, kiosk_id, level FROM evaluation")?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, u8>(2)?)))?;
        for row in rows {
            let (item, kiosk, level) = row?;
            let at = usize::from(level.clamp(1, 5) - 1);
            ratings.by_item.entry(item).or_default()[at] += 1;
            ratings.by_kiosk.entry(kiosk).or_default()[at] += 1;
        }
        Ok(ratings)
    }
}

fn filed_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Filed> {
    Ok(Filed {
        idempotency_key: r.get(0)?,
        case_number: r.get(1)?,
        item_code: r.get(2)?,
        item_name: r.get(3)?,
        received_at: r.get(4)?,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn case_numbers_carry_the_date_in_china_standard_time() {
        // 2026-11-27 17:00 UTC is already the 28th in Foshan.
        assert_eq!(super::case_number(1_795_798_800_000, 42), "NH20261128000042");
        assert_eq!(super::case_number(1_795_752_000_000, 7), "NH20261127000007");
    }
}
