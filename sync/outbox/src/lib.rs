//! The durable outbox (`reference/sync-ota.md` §1): the UI process enqueues a resident's
//! submission in one SQLite transaction, the sync agent (another process) leases due rows,
//! uploads them and records the answer. Delivery is at-least-once with an idempotency key fixed
//! at enqueue, so the gateway files each submission exactly once.
//!
//! Both processes open the same file: WAL, `synchronous=FULL` (a commit survives power loss),
//! `busy_timeout`, and `secure_delete` so purged payloads are overwritten. Payloads (personal
//! data) are encrypted with the kiosk's key ([`key`]) and deleted when the gateway acknowledges;
//! what stays is a receipt (item, case number, times).

pub mod key;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use serde::Serialize;
use zeroize::Zeroizing;

pub use key::PayloadKey;

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(
        "outbox {path}: SQLite {found} is older than 3.51.3 and has the WAL-reset corruption bug; rebuild with a current rusqlite"
    )]
    OldSqlite { path: PathBuf, found: String },
    #[error(
        "outbox {path} is corrupt ({detail}): keep the file and its -wal for the vendor and restore from backup; do not delete the -wal file"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "disk full: the outbox {path} cannot grow; free space on the data partition (nothing already queued was lost)"
    )]
    DiskFull { path: PathBuf },
    #[error("the outbox {path} stayed locked by another process for more than {} ms", .waited.as_millis())]
    Busy { path: PathBuf, waited: Duration },
    #[error(
        "the outbox holds {pending} unsent submissions, its limit: new submissions wait until the network is back"
    )]
    QueueFull { pending: u64 },
    #[error("payload key: {0}")]
    Key(String),
    #[error("a queued payload failed authentication: the database or the key file was altered or swapped")]
    Tampered,
    #[error("no submission {0} in the outbox")]
    NotFound(i64),
    #[error("submission {id} is {state:?}, not {wanted}")]
    WrongState { id: i64, state: State, wanted: &'static str },
    #[error("outbox {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

/// Where a submission is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Pending,
    InFlight,
    Acked,
    Dead,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::InFlight => "in_flight",
            State::Acked => "acked",
            State::Dead => "dead",
        }
    }

    fn parse(s: &str) -> State {
        match s {
            "pending" => State::Pending,
            "in_flight" => State::InFlight,
            "acked" => State::Acked,
            _ => State::Dead,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub busy_timeout: Duration,
    /// Unsent submissions above which enqueue is refused (back-pressure instead of a full disk).
    pub max_pending: u64,
    /// Hard cap on the database size in pages of 4 KiB (`max_page_count`); `None` = SQLite's.
    pub max_pages: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Self { busy_timeout: Duration::from_secs(5), max_pending: 50_000, max_pages: None }
    }
}

/// A submission as the UI hands it over.
#[derive(Debug, Clone, Copy)]
pub struct NewSubmission<'a> {
    /// The catalogue item code.
    pub item_code: &'a str,
    /// Submissions with the same non-empty stream key are uploaded in order (one applicant's
    /// forms that build on each other); others in any order.
    pub stream_key: &'a str,
    /// The form as the gateway expects it; contains personal data, stored encrypted.
    pub payload: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    pub id: i64,
    pub idempotency_key: String,
}

/// A leased submission, ready to upload. The payload is wiped when this is dropped.
pub struct Claimed {
    pub id: i64,
    pub idempotency_key: String,
    pub item_code: String,
    pub attempts: u32,
    pub payload: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Claimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claimed")
            .field("id", &self.id)
            .field("item_code", &self.item_code)
            .finish_non_exhaustive()
    }
}

/// What a technician may see of a submission: no payload, no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub id: i64,
    pub idempotency_key: String,
    pub item_code: String,
    pub state: State,
    pub attempts: u32,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub case_number: Option<String>,
    pub acked_at: Option<i64>,
    pub payload_bytes: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Stats {
    pub pending: u64,
    pub in_flight: u64,
    pub acked: u64,
    pub dead: u64,
    /// Age of the oldest unsent submission, in milliseconds.
    pub oldest_pending_ms: Option<i64>,
}

/// Milliseconds since the Unix epoch, the unit of every time in the outbox.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Longest a submission ever waits between attempts; also how far in the future a retry time
/// may lie before it is taken as the product of a clock that jumped backwards.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30 * 60);

const MIGRATIONS: &[&str] = &[
    // 1: submissions and their receipts.
    "CREATE TABLE submission (
        id INTEGER PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        stream_key TEXT NOT NULL DEFAULT '',
        item_code TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'acked', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_owner TEXT,
        lease_until INTEGER,
        last_status INTEGER,
        last_error TEXT,
        payload BLOB,
        payload_bytes INTEGER NOT NULL,
        acked_at INTEGER,
        case_number TEXT
    );
    CREATE INDEX submission_due ON submission (state, next_attempt_at);
    CREATE INDEX submission_stream ON submission (stream_key, id) WHERE stream_key != '';",
    // 2: device states the UI reports, for the agent's heartbeat (no personal data).
    "CREATE TABLE device_state (device TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at INTEGER NOT NULL);",
    // 3: the number of unsent submissions, kept by triggers, so the back-pressure check on every
    // enqueue costs the same with a backlog of 100,000 as with an empty queue.
    "CREATE TABLE queue_count (id INTEGER PRIMARY KEY CHECK (id = 1), unsent INTEGER NOT NULL);
    INSERT INTO queue_count VALUES (1, (SELECT count(*) FROM submission WHERE state IN ('pending', 'in_flight')));
    CREATE TRIGGER queue_count_insert AFTER INSERT ON submission WHEN NEW.state IN ('pending', 'in_flight')
        BEGIN UPDATE queue_count SET unsent = unsent + 1; END;
    CREATE TRIGGER queue_count_delete AFTER DELETE ON submission WHEN OLD.state IN ('pending', 'in_flight')
        BEGIN UPDATE queue_count SET unsent = unsent - 1; END;
    CREATE TRIGGER queue_count_update AFTER UPDATE OF state ON submission
        WHEN (OLD.state IN ('pending', 'in_flight')) != (NEW.state IN ('pending', 'in_flight'))
        BEGIN UPDATE queue_count SET unsent = unsent + (CASE WHEN NEW.state IN ('pending', 'in_flight') THEN 1 ELSE -1 END); END;",
];

/// The outbox on one SQLite file. Open one per process (or thread); they share the file safely.
pub struct Outbox {
    conn: Connection,
    /// `None` when opened for inspection only (technicians need no key to see the queue).
    key: Option<PayloadKey>,
    path: PathBuf,
    options: Options,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").field("path", &self.path).finish_non_exhaustive()
    }
}

fn sqlite_at_least(version: &str, min: (u32, u32, u32)) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let v = (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    v >= min
}

impl Outbox {
    /// Opens (creating or migrating) the outbox and checks it.
    pub fn open(path: &Path, key: PayloadKey, options: Options) -> Result<Self, OutboxError> {
        Self::open_with(path, Some(key), options)
    }

    /// Opens without the payload key: states, counts and receipts can be read and changed, but
    /// no payload can be sealed or read.
    pub fn open_for_inspection(path: &Path, options: Options) -> Result<Self, OutboxError> {
        Self::open_with(path, None, options)
    }

    fn open_with(path: &Path, key: Option<PayloadKey>, options: Options) -> Result<Self, OutboxError> {
        let conn = Connection::open(path).map_err(|source| map_err(path, source, options.busy_timeout))?;
        let mut outbox = Self { conn, key, path: path.to_owned(), options };
        outbox.prepare()?;
        Ok(outbox)
    }

    fn key(&self) -> Result<&PayloadKey, OutboxError> {
        self.key.as_ref().ok_or_else(|| OutboxError::Key("opened for inspection only: no payload key".into()))
    }

    fn err(&self, source: rusqlite::Error) -> OutboxError {
        map_err(&self.path, source, self.options.busy_timeout)
    }

    fn prepare(&mut self) -> Result<(), OutboxError> {
        let found = rusqlite::version().to_owned();
        if !sqlite_at_least(&found, (3, 51, 3)) {
            return Err(OutboxError::OldSqlite { path: self.path.clone(), found });
        }
        self.conn.busy_timeout(self.options.busy_timeout).map_err(|e| self.err(e))?;
        let check: String =
            self.conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(|e| self.err(e))?;
        if check != "ok" {
            return Err(OutboxError::Corrupt { path: self.path.clone(), detail: check });
        }
        let mode: String =
            self.conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(|e| self.err(e))?;
        if mode != "wal" {
            return Err(OutboxError::Corrupt {
                path: self.path.clone(),
                detail: format!("journal mode {mode}, not wal"),
            });
        }
        self.conn
            .execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;")
            .map_err(|e| self.err(e))?;
        if let Some(pages) = self.options.max_pages {
            self.conn
                .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
                .map_err(|e| self.err(e))?;
        }
        self.migrate()
    }

    /// Applies the migrations this file has not seen, each in its own transaction.
    fn migrate(&mut self) -> Result<(), OutboxError> {
        let path = self.path.clone();
        let timeout = self.options.busy_timeout;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| map_err(&path, e, timeout))?;
        let version: i64 =
            tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| map_err(&path, e, timeout))?;
        let version = usize::try_from(version).unwrap_or(usize::MAX);
        if version > MIGRATIONS.len() {
            return Err(OutboxError::Corrupt {
                path,
                detail: format!(
                    "schema version {version} is newer than this software ({})",
                    MIGRATIONS.len()
                ),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.execute_batch(sql).map_err(|e| map_err(&path, e, timeout))?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                .map_err(|e| map_err(&path, e, timeout))?;
            tracing::info!(version = i + 1, "outbox schema migrated");
        }
        tx.commit().map_err(|e| map_err(&path, e, timeout))
    }

    /// Queues a submission durably: when this returns, the submission survives a crash or a
    /// power cut, and the slip may be printed.
    pub fn enqueue(&mut self, sub: &NewSubmission<'_>, now: i64) -> Result<Enqueued, OutboxError> {
        let key = uuid::Uuid::now_v7().to_string();
        let sealed = self.key()?.seal(sub.payload, key.as_bytes());
        let (path, timeout, max) = (self.path.clone(), self.options.busy_timeout, self.options.max_pending);
        let e = |source| map_err(&path, source, timeout);
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(e)?;
        let pending: i64 = tx.query_row("SELECT unsent FROM queue_count", [], |r| r.get(0)).map_err(e)?;
        let pending = pending as u64;
        if pending >= max {
            return Err(OutboxError::QueueFull { pending });
        }
        tx.execute(
            "INSERT INTO submission (idempotency_key, stream_key, item_code, created_at, state, next_attempt_at, payload, payload_bytes)
             VALUES (?1, ?2, ?3, ?4, 'pending', ?4, ?5, ?6)",
            params![key, sub.stream_key, sub.item_code, now, sealed, sub.payload.len() as i64],
        )
        .map_err(e)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(e)?;
        tracing::debug!(id, item = sub.item_code, "submission queued");
        Ok(Enqueued { id, idempotency_key: key })
    }

    /// At agent start: leases held by a previous run (killed mid-upload) are void. Safe to send
    /// those again because the gateway deduplicates on the idempotency key.
    pub fn recover_in_flight(&mut self) -> Result<usize, OutboxError> {
        self.conn
            .execute("UPDATE submission SET state = 'pending', lease_owner = NULL, lease_until = NULL WHERE state = 'in_flight'", [])
            .map_err(|e| self.err(e))
    }

    /// Leases up to `limit` due submissions for `owner`, oldest first. Within a stream only the
    /// oldest unsent submission is due; dead-lettered ones never hold a stream up. A retry time
    /// further ahead than [`MAX_BACKOFF`] means the clock went backwards: such rows are due.
    pub fn claim_due(
        &mut self,
        owner: &str,
        now: i64,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Claimed>, OutboxError> {
        self.key()?; // before leasing anything: a lease without the key would strand the rows
        let (path, timeout) = (self.path.clone(), self.options.busy_timeout);
        let e = |source| map_err(&path, source, timeout);
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(e)?;
        let rows: Vec<(i64, String, String, u32, Vec<u8>)> = {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT id, idempotency_key, item_code, attempts, payload FROM submission s
                     WHERE state = 'pending' AND (next_attempt_at <= ?1 OR next_attempt_at > ?1 + ?2)
                       AND (stream_key = '' OR NOT EXISTS (
                            SELECT 1 FROM submission o WHERE o.stream_key = s.stream_key AND o.id < s.id
                              AND o.state IN ('pending', 'in_flight')))
                     ORDER BY id LIMIT ?3",
                )
                .map_err(e)?;
            stmt.query_map(params![now, MAX_BACKOFF.as_millis() as i64, limit as i64], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get::<_, Option<Vec<u8>>>(4)?.unwrap_or_default(),
                ))
            })
            .map_err(e)?
            .collect::<Result<_, _>>()
            .map_err(e)?
        };
        let until = now + lease.as_millis() as i64;
        {
            let mut lease_stmt = tx
                .prepare_cached("UPDATE submission SET state = 'in_flight', lease_owner = ?2, lease_until = ?3 WHERE id = ?1")
                .map_err(e)?;
            for row in &rows {
                lease_stmt.execute(params![row.0, owner, until]).map_err(e)?;
            }
        }
        tx.commit().map_err(e)?;
        rows.into_iter()
            .map(|(id, key, item_code, attempts, sealed)| {
                let payload = self.key()?.open(&sealed, key.as_bytes())?;
                Ok(Claimed { id, idempotency_key: key, item_code, attempts, payload })
            })
            .collect()
    }

    fn update_leased(
        &mut self,
        id: i64,
        sql: &str,
        extra: &[&dyn rusqlite::ToSql],
    ) -> Result<(), OutboxError> {
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&id];
        values.extend_from_slice(extra);
        let n = self.conn.execute(sql, values.as_slice()).map_err(|e| self.err(e))?;
        if n == 1 {
            return Ok(());
        }
        match self.row(id)? {
            Some(row) => Err(OutboxError::WrongState { id, state: row.state, wanted: "in flight" }),
            None => Err(OutboxError::NotFound(id)),
        }
    }

    /// The gateway accepted the submission: keep the receipt, delete the personal data.
    pub fn ack(&mut self, id: i64, case_number: &str, now: i64) -> Result<(), OutboxError> {
        self.update_leased(
            id,
            "UPDATE submission SET state = 'acked', payload = NULL, case_number = ?2, acked_at = ?3,
                    lease_owner = NULL, lease_until = NULL, last_status = 200, last_error = NULL
             WHERE id = ?1 AND state = 'in_flight'",
            &[&case_number, &now],
        )
    }

    /// Try again at `retry_at` (the backoff, persisted so a restart keeps the schedule).
    pub fn retry_at(
        &mut self,
        id: i64,
        retry_at: i64,
        status: Option<u16>,
        error: &str,
    ) -> Result<(), OutboxError> {
        self.update_leased(
            id,
            "UPDATE submission SET state = 'pending', attempts = attempts + 1, next_attempt_at = ?2,
                    last_status = ?3, last_error = ?4, lease_owner = NULL, lease_until = NULL
             WHERE id = ?1 AND state = 'in_flight'",
            &[&retry_at, &status, &error],
        )
    }

    /// The gateway refused the submission for good: set it aside for a technician (the payload is
    /// kept, encrypted, so it can be re-queued after the cause is fixed).
    pub fn dead_letter(&mut self, id: i64, status: Option<u16>, error: &str) -> Result<(), OutboxError> {
        self.update_leased(
            id,
            "UPDATE submission SET state = 'dead', attempts = attempts + 1, last_status = ?2, last_error = ?3,
                    lease_owner = NULL, lease_until = NULL
             WHERE id = ?1 AND state = 'in_flight'",
            &[&status, &error],
        )
    }

    /// A technician re-queues a dead-lettered submission.
    pub fn requeue(&mut self, id: i64, now: i64) -> Result<(), OutboxError> {
        let n = self
            .conn
            .execute("UPDATE submission SET state = 'pending', next_attempt_at = ?2 WHERE id = ?1 AND state = 'dead'", params![id, now])
            .map_err(|e| self.err(e))?;
        match (n, self.row(id)?) {
            (1, _) => Ok(()),
            (_, Some(row)) => Err(OutboxError::WrongState { id, state: row.state, wanted: "dead" }),
            (_, None) => Err(OutboxError::NotFound(id)),
        }
    }

    /// Deletes dead-lettered submissions, payloads included (after the office has handled them).
    pub fn purge_dead(&mut self) -> Result<usize, OutboxError> {
        let n =
            self.conn.execute("DELETE FROM submission WHERE state = 'dead'", []).map_err(|e| self.err(e))?;
        self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(|e| self.err(e))?;
        Ok(n)
    }

    /// When the earliest waiting submission falls due, if any is waiting.
    pub fn next_due_at(&self) -> Result<Option<i64>, OutboxError> {
        self.conn
            .query_row("SELECT min(next_attempt_at) FROM submission WHERE state = 'pending'", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))
    }

    /// The UI records a device's state (`ok`, `paper_near_end`, `disconnected`…) for heartbeats.
    pub fn set_device_state(&mut self, device: &str, state: &str, now: i64) -> Result<(), OutboxError> {
        self.conn
            .execute(
                "INSERT INTO device_state (device, state, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                params![device, state, now],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    pub fn device_states(&self) -> Result<Vec<(String, String)>, OutboxError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT device, state FROM device_state ORDER BY device")
            .map_err(|e| self.err(e))?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// Unsent submissions (pending or in flight), from the trigger-kept counter.
    pub fn unsent(&self) -> Result<u64, OutboxError> {
        self.conn
            .query_row("SELECT unsent FROM queue_count", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    pub fn stats(&self, now: i64) -> Result<Stats, OutboxError> {
        let mut stats = Stats::default();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT state, count(*), min(created_at) FROM submission GROUP BY state")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64, r.get::<_, Option<i64>>(2)?))
            })
            .map_err(|e| self.err(e))?;
        let mut oldest: Option<i64> = None;
        for row in rows {
            let (state, count, min_created) = row.map_err(|e| self.err(e))?;
            match State::parse(&state) {
                State::Pending => stats.pending = count,
                State::InFlight => stats.in_flight = count,
                State::Acked => stats.acked = count,
                State::Dead => stats.dead = count,
            }
            if matches!(State::parse(&state), State::Pending | State::InFlight) {
                oldest = oldest.min(min_created).or(min_created);
            }
        }
        stats.oldest_pending_ms = oldest.map(|t| (now - t).max(0));
        Ok(stats)
    }

    const ROW_COLUMNS: &str = "id, idempotency_key, item_code, state, attempts, created_at, next_attempt_at,
         last_status, last_error, case_number, acked_at, payload_bytes";

    fn to_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
        Ok(Row {
            id: r.get(0)?,
            idempotency_key: r.get(1)?,
            item_code: r.get(2)?,
            state: State::parse(&r.get::<_, String>(3)?),
            attempts: r.get(4)?,
            created_at: r.get(5)?,
            next_attempt_at: r.get(6)?,
            last_status: r.get(7)?,
            last_error: r.get(8)?,
            case_number: r.get(9)?,
            acked_at: r.get(10)?,
            payload_bytes: r.get(11)?,
        })
    }

    pub fn row(&self, id: i64) -> Result<Option<Row>, OutboxError> {
        self.conn
            .query_row(
                &format!("SELECT {} FROM submission WHERE id = ?1", Self::ROW_COLUMNS),
                [id],
                Self::to_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Submissions in one state (or all), newest first.
    pub fn list(&self, state: Option<State>, limit: usize) -> Result<Vec<Row>, OutboxError> {
        let sql = format!(
            "SELECT {} FROM submission WHERE ?1 IS NULL OR state = ?1 ORDER BY id DESC LIMIT ?2",
            Self::ROW_COLUMNS
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        stmt.query_map(params![state.map(State::as_str), limit as i64], Self::to_row)
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))
    }
}

fn map_err(path: &Path, source: rusqlite::Error, waited: Duration) -> OutboxError {
    let path = path.to_owned();
    match source.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => OutboxError::DiskFull { path },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => OutboxError::Busy { path, waited },
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            OutboxError::Corrupt { path, detail: source.to_string() }
        }
        _ => OutboxError::Sqlite { path, source },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_floor() {
        assert!(sqlite_at_least("3.54.1", (3, 51, 3)));
        assert!(sqlite_at_least("3.51.3", (3, 51, 3)));
        assert!(!sqlite_at_least("3.50.2", (3, 51, 3)));
        assert!(sqlite_at_least(rusqlite::version(), (3, 51, 3)), "the bundled SQLite has the WAL-reset fix");
    }
}
