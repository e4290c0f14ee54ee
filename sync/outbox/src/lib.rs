//! The durable outbox (`reference/sync-ota.md` §1): the UI process enqueues a resident's
//! submission in one SQLite transaction, the sync agent (another process) leases due rows,
//! uploads them and records the answer. Delivery is at-least-once with an idempotency key fixed
//! at enqueue, so the gateway files each submission exactly once.
//!
//! Both processes open the same file: WAL, `synchronous=FULL` (a commit survives power loss),
//! `busy_timeout`, and `secure_delete` so purged payloads are overwritten. Payloads (personal
//! data) are encrypted with the kiosk's key ([`key`]) and deleted when the gateway acknowledges;
//! what stays is a receipt (item, case number, times), itself deleted after a retention period.
//!
//! What keeps the queue moving whatever happens (each has a test in `tests/`):
//! - a wait is honoured however long it is; a clock that jumped backwards is told apart from a
//!   long wait by the wall time at which the wait was decided (`decided_at`), not by its length;
//! - a payload that cannot be opened is quarantined on its own, the rest of the batch flows;
//! - the key that sealed the queue is recorded by its id, so a missing or swapped key file is a
//!   loud error and never a silently new key;
//! - leases expire and are reclaimed while the agent runs, and one agent at a time holds the queue
//!   ([`AgentLock`]);
//! - the WAL is bounded, the database has a size cap, the UI stops taking submissions before the
//!   disk is full, and a space reserve lets the agent upload and delete on a full disk;
//! - a damaged file is found before use (`integrity_check`), never written to, and [`salvage`]d.

pub mod key;
mod part;
pub mod salvage;
mod storage;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};
use serde::Serialize;
use zeroize::Zeroizing;

pub use key::PayloadKey;
pub use part::{Health, Part, PartState};
pub use salvage::{SalvageReport, salvage};
pub use storage::{AgentLock, Program, ProgramLock};

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(
        "outbox {path}: SQLite {found} is older than 3.51.3 and has the WAL-reset corruption bug; rebuild with a current rusqlite"
    )]
    OldSqlite { path: PathBuf, found: String },
    #[error(
        "outbox {path} is damaged ({detail}); nothing will be written to it. Stop kiosk-ui and kiosk-sync, \
         then `kioskctl outbox salvage --config /etc/kiosk/kiosk-sync.toml --yes` copies every readable \
         submission into a new outbox and keeps the damaged file beside it for the vendor (do not delete its -wal file)"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "disk full: the outbox {path} cannot grow; free space on the data partition (nothing already queued was lost)"
    )]
    DiskFull { path: PathBuf },
    #[error(
        "the outbox {path} is nearly full ({detail}): new submissions wait until uploads free space \
         (nothing already queued was lost)"
    )]
    StorageLow { path: PathBuf, detail: String },
    #[error("the outbox {path} stayed locked by another process for more than {} ms", .waited.as_millis())]
    Busy { path: PathBuf, waited: Duration },
    #[error(
        "the outbox holds {pending} unsent submissions, its limit: new submissions wait until the network is back"
    )]
    QueueFull { pending: u64 },
    #[error("payload key: {0}")]
    Key(String),
    #[error(
        "the payload key {} is missing{}. Restore the key file from the kiosk's provisioning backup \
         (mode 0600); a new key could not open what is queued",
        .key_file.display(),
        .outbox.as_ref().map(|o| format!(", but the outbox {} holds {sealed} submission(s) sealed with it", o.display())).unwrap_or_default()
    )]
    KeyMissing { key_file: PathBuf, outbox: Option<PathBuf>, sealed: u64 },
    #[error(
        "the payload key (id {found}) is not the key that sealed the outbox {outbox} (id {expected}), which \
         holds {sealed} sealed submission(s): put the kiosk's own key file back (provisioning backup); \
         nothing was changed"
    )]
    KeyMismatch { outbox: PathBuf, expected: String, found: String, sealed: u64 },
    #[error("a queued payload failed authentication: the database or the key file was altered or swapped")]
    Tampered,
    #[error("no submission {0} in the outbox")]
    NotFound(i64),
    #[error("submission {id} is {state:?}, not {wanted}")]
    WrongState { id: i64, state: State, wanted: &'static str },
    #[error(
        "another {program}{} is using the outbox {outbox}: stop it first (`systemctl stop {program}`)",
        .pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    Running { program: &'static str, outbox: PathBuf, pid: Option<u32> },
    #[error("outbox {path}: {detail}")]
    Io { path: PathBuf, detail: String },
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
    /// The service network refused it for good; kept (sealed) for a technician.
    Dead,
    /// Its payload cannot be opened with this kiosk's key (a damaged row, or another key); set
    /// aside so it cannot hold the queue up.
    Quarantined,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::InFlight => "in_flight",
            State::Acked => "acked",
            State::Dead => "dead",
            State::Quarantined => "quarantined",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        [State::Pending, State::InFlight, State::Acked, State::Dead, State::Quarantined]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub busy_timeout: Duration,
    /// Unsent submissions above which enqueue is refused (back-pressure instead of a full disk).
    pub max_pending: u64,
    /// Cap on the database size in pages of 4 KiB (`max_page_count`); new submissions are refused
    /// a little before it, so the agent's own writes always fit.
    pub max_pages: Option<u64>,
    /// Free bytes on the partition below which new submissions are refused.
    pub min_free_bytes: u64,
    /// Size of the space reserve the agent may give back on a full disk.
    pub reserve_bytes: u64,
}

/// 256 MiB: about 50,000 forms of 4 KiB with their receipts, far below the data partition.
pub const DEFAULT_MAX_PAGES: u64 = 65_536;

impl Default for Options {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(5),
            max_pending: 50_000,
            max_pages: Some(DEFAULT_MAX_PAGES),
            min_free_bytes: 16 << 20,
            reserve_bytes: 4 << 20,
        }
    }
}

/// Pages kept free under `max_pages` for the agent's leases, answers and receipts.
const PAGE_HEADROOM: u64 = 64;
/// The WAL is checkpointed every this many pages and truncated back to [`WAL_LIMIT_BYTES`].
const WAL_CHECKPOINT_PAGES: u32 = 256;
const WAL_LIMIT_BYTES: u64 = 2 << 20;

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

/// What a queued row is: the agent sends each kind to its own endpoint, exactly once alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A resident's application (`POST /v1/submissions`).
    Submission,
    /// A resident's rating of the service, 好差评 (`POST /v1/evaluations`).
    Evaluation,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Submission => "submission",
            Kind::Evaluation => "evaluation",
        }
    }

    /// A kind this program does not know (written by a newer one) is sent as a submission
    /// would be, and the gateway's answer decides.
    fn parse(s: &str) -> Self {
        if s == "evaluation" { Kind::Evaluation } else { Kind::Submission }
    }
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
    pub kind: Kind,
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

/// What the gateway said about one leased submission, to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Filed: keep the receipt, delete the personal data.
    Accepted { case_number: String },
    /// Try again at `at` (persisted, so a restart keeps the schedule).
    Retry { at: i64, status: Option<u16>, error: String },
    /// The service network refused it for good: set aside for a technician, payload kept sealed.
    Refused { status: Option<u16>, error: String },
}

/// An unsent application with its payload opened, for the kiosk's own screens (a resident's
/// applications still waiting here). The payload is wiped when this is dropped.
pub struct Waiting {
    pub idempotency_key: String,
    pub item_code: String,
    pub created_at: i64,
    pub payload: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Waiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiting").field("item_code", &self.item_code).finish_non_exhaustive()
    }
}

/// What a technician may see of a submission: no payload, no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub id: i64,
    pub idempotency_key: String,
    pub item_code: String,
    /// `None` when the stored state is not one this software knows (a damaged row).
    pub state: Option<State>,
    pub attempts: u32,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub last_attempt_at: Option<i64>,
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
    pub quarantined: u64,
    /// Age of the oldest unsent submission, in milliseconds.
    pub oldest_pending_ms: Option<i64>,
}

/// Which set-aside submissions (refused or quarantined) a technician queues again.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// These ids only (empty: all that match the rest).
    pub ids: Vec<i64>,
    /// Only those whose last error contains this text (the reason, e.g. `HTTP 404`).
    pub reason: Option<String>,
    /// Only those last tried at or after this time (ms).
    pub since: Option<i64>,
    /// Only those last tried before this time (ms).
    pub until: Option<i64>,
}

/// Milliseconds since the Unix epoch, the unit of every time in the outbox.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// How far the wall clock may lie before the moment a wait was decided before the wait is taken
/// as the product of a clock that jumped backwards (and so is due at once, once).
pub const CLOCK_JUMP_TOLERANCE: Duration = Duration::from_secs(60);

/// The submission table's indexes: made with the table (1) and again when it is rebuilt (4).
macro_rules! submission_indexes {
    () => {
        "
    CREATE INDEX submission_due ON submission (state, next_attempt_at);
    CREATE INDEX submission_stream ON submission (stream_key, id) WHERE stream_key != '';"
    };
}

/// The triggers that keep `queue_count` (3), made again when the table is rebuilt (4).
macro_rules! queue_count_triggers {
    () => {
        "
    CREATE TRIGGER queue_count_insert AFTER INSERT ON submission WHEN NEW.state IN ('pending', 'in_flight')
        BEGIN UPDATE queue_count SET unsent = unsent + 1; END;
    CREATE TRIGGER queue_count_delete AFTER DELETE ON submission WHEN OLD.state IN ('pending', 'in_flight')
        BEGIN UPDATE queue_count SET unsent = unsent - 1; END;
    CREATE TRIGGER queue_count_update AFTER UPDATE OF state ON submission
        WHEN (OLD.state IN ('pending', 'in_flight')) != (NEW.state IN ('pending', 'in_flight'))
        BEGIN UPDATE queue_count SET unsent = unsent + (CASE WHEN NEW.state IN ('pending', 'in_flight') THEN 1 ELSE -1 END); END;"
    };
}

const MIGRATIONS: &[&str] = &[
    // 1: submissions and their receipts.
    concat!(
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
    );",
    submission_indexes!()
),
    // 2: device states the UI reports, for the agent's heartbeat (no personal data).
    "CREATE TABLE device_state (device TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at INTEGER NOT NULL);",
    // 3: the number of unsent submissions, kept by triggers, so the back-pressure check on every
    // enqueue costs the same with a backlog of 100,000 as with an empty queue.
    concat!(
    "CREATE TABLE queue_count (id INTEGER PRIMARY KEY CHECK (id = 1), unsent INTEGER NOT NULL);
    INSERT INTO queue_count VALUES (1, (SELECT count(*) FROM submission WHERE state IN ('pending', 'in_flight')));",
    queue_count_triggers!()
),
    // 4: the quarantined state, the wall time at which each wait was decided (to tell a clock
    // jump from a long wait), the time of the last attempt, and the outbox's own facts (the id of
    // the key that sealed it, an upload pause the gateway asked for). SQLite cannot change a
    // CHECK constraint in place, so the table is rebuilt; its triggers go with it and come back.
    concat!(
    "CREATE TABLE submission_v4 (
        id INTEGER PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        stream_key TEXT NOT NULL DEFAULT '',
        item_code TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'acked', 'dead', 'quarantined')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        decided_at INTEGER,
        last_attempt_at INTEGER,
        lease_owner TEXT,
        lease_until INTEGER,
        last_status INTEGER,
        last_error TEXT,
        payload BLOB,
        payload_bytes INTEGER NOT NULL,
        acked_at INTEGER,
        case_number TEXT
    );
    INSERT INTO submission_v4 (id, idempotency_key, stream_key, item_code, created_at, state, attempts,
        next_attempt_at, lease_owner, lease_until, last_status, last_error, payload, payload_bytes, acked_at, case_number)
        SELECT id, idempotency_key, stream_key, item_code, created_at, state, attempts, next_attempt_at,
        lease_owner, lease_until, last_status, last_error, payload, payload_bytes, acked_at, case_number FROM submission;
    DROP TABLE submission;
    ALTER TABLE submission_v4 RENAME TO submission;",
    submission_indexes!(),
    "CREATE INDEX submission_lease ON submission (lease_until) WHERE state = 'in_flight';",
    queue_count_triggers!(),
    "CREATE TABLE outbox_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
),
    // 5: part states typed: a health column beside the words. The rows before it were free text
    // that only their writers understood; they are rewritten within a minute of the programs'
    // start, so they are dropped rather than guessed at.
    "DELETE FROM device_state; ALTER TABLE device_state ADD COLUMN health TEXT NOT NULL DEFAULT 'ok';",
    // 6: rows of more than one kind (applications and ratings), each sent to its own endpoint.
    "ALTER TABLE submission ADD COLUMN kind TEXT NOT NULL DEFAULT 'submission';",
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

/// id, idempotency key, item code, attempts, sealed payload.
type DueRow = (i64, String, String, u32, Option<Vec<u8>>, String);

/// The rows a claim may lease at `?1`: due, or whose wait was decided at a wall time later than
/// now (the clock went back), or leased by an agent whose lease ran out.
const DUE: &str =
    "(state = 'pending' AND (next_attempt_at <= ?1 OR coalesce(decided_at, created_at) > ?1 + ?2))
     OR (state = 'in_flight' AND (lease_until IS NULL OR lease_until <= ?1))";

impl Outbox {
    /// Opens (creating or migrating) the outbox with a key in hand and checks both: the file's
    /// integrity, and that this key is the one that sealed what is queued.
    pub fn open(path: &Path, key: PayloadKey, options: Options) -> Result<Self, OutboxError> {
        Self::open_keyed(path, key, options, None)
    }

    fn open_keyed(
        path: &Path,
        key: PayloadKey,
        options: Options,
        key_file: Option<&Path>,
    ) -> Result<Self, OutboxError> {
        let mut outbox = Self::open_with(path, Some(key), options, true)?;
        outbox.check_key(key_file)?;
        outbox.keep_reserve();
        Ok(outbox)
    }

    /// Opens the outbox with the kiosk's key file, as the UI and the agent do. A new key is made
    /// only while no sealed payload exists; a missing or different key beside sealed payloads is
    /// an error that names the fix.
    pub fn open_with_key_file(path: &Path, key_file: &Path, options: Options) -> Result<Self, OutboxError> {
        let key = match PayloadKey::load(key_file) {
            Ok(key) => key,
            Err(OutboxError::KeyMissing { .. }) => {
                if path.exists() {
                    let look = Self::open_with(path, None, options.clone(), false)?;
                    let sealed = look.sealed()?;
                    if sealed > 0 {
                        return Err(OutboxError::KeyMissing {
                            key_file: key_file.to_owned(),
                            outbox: Some(path.to_owned()),
                            sealed,
                        });
                    }
                }
                PayloadKey::create(key_file)?
            }
            Err(e) => return Err(e),
        };
        Self::open_keyed(path, key, options, Some(key_file))
    }

    /// Opens without the payload key: states, counts and receipts can be read and changed, but
    /// no payload can be sealed or read. Never creates an outbox.
    pub fn open_for_inspection(path: &Path, options: Options) -> Result<Self, OutboxError> {
        Self::open_with(path, None, options, false)
    }

    fn open_with(
        path: &Path,
        key: Option<PayloadKey>,
        options: Options,
        create: bool,
    ) -> Result<Self, OutboxError> {
        match std::fs::metadata(path) {
            Ok(meta) if meta.len() == 0 => {
                return Err(OutboxError::Corrupt {
                    path: path.to_owned(),
                    detail: "the file is empty (0 bytes): it was truncated, e.g. by a power cut; if a \
                             backup exists restore it, otherwise move the empty file aside and the \
                             kiosk starts a new outbox"
                        .into(),
                });
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                storage::create_atomically(path, |tmp| {
                    Self::connect(tmp, None, options.clone(), OpenFlags::SQLITE_OPEN_CREATE).map(drop)
                })?;
            }
            Err(e) => return Err(OutboxError::Io { path: path.to_owned(), detail: e.to_string() }),
        }
        match Self::connect(path, key.clone(), options.clone(), OpenFlags::empty()) {
            // SQLite needs a few blocks to open a WAL database (its -shm and -wal files): on a
            // full partition, the reserve gives them back.
            Err(e)
                if storage::free_bytes(path).is_some_and(|free| free < options.min_free_bytes)
                    && storage::release_reserve(path) =>
            {
                tracing::warn!(error = %e, "opening the outbox on a full partition");
                Self::connect(path, key, options, OpenFlags::empty())
            }
            other => other,
        }
    }

    fn connect(
        path: &Path,
        key: Option<PayloadKey>,
        options: Options,
        extra: OpenFlags,
    ) -> Result<Self, OutboxError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | extra;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|source| map_err(path, source, options.busy_timeout))?;
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

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn prepare(&mut self) -> Result<(), OutboxError> {
        let found = rusqlite::version().to_owned();
        if !sqlite_at_least(&found, (3, 51, 3)) {
            return Err(OutboxError::OldSqlite { path: self.path.clone(), found });
        }
        self.conn.busy_timeout(self.options.busy_timeout).map_err(|e| self.err(e))?;
        // The full check, not quick_check: a damaged index hands out wrong rows long before a
        // read fails. It reads the whole file once per process start (tens of ms at 50,000 rows).
        let problems: Vec<String> = {
            let mut stmt = self.conn.prepare("PRAGMA integrity_check(5)").map_err(|e| self.err(e))?;
            stmt.query_map([], |r| r.get(0))
                .and_then(|rows| rows.collect::<Result<_, _>>())
                .map_err(|e| self.err(e))?
        };
        if problems != ["ok"] {
            return Err(OutboxError::Corrupt { path: self.path.clone(), detail: problems.join("; ") });
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
            .execute_batch(&format!(
                "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;
                 PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES};"
            ))
            .map_err(|e| self.err(e))?;
        self.conn
            .query_row(&format!("PRAGMA journal_size_limit = {WAL_LIMIT_BYTES}"), [], |_| Ok(()))
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

    fn meta(&self, name: &str) -> Result<Option<String>, OutboxError> {
        self.conn
            .query_row("SELECT value FROM outbox_meta WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    fn set_meta(&mut self, name: &str, value: &str) -> Result<(), OutboxError> {
        self.write(|c| {
            c.execute(
                "INSERT INTO outbox_meta (name, value) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                params![name, value],
            )
            .map(drop)
        })
    }

    /// Payloads still sealed in the file (unsent, refused or quarantined).
    fn sealed(&self) -> Result<u64, OutboxError> {
        self.conn
            .query_row("SELECT count(*) FROM submission WHERE payload IS NOT NULL", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// The id of the key that sealed this outbox, if one was recorded.
    pub fn key_id(&self) -> Result<Option<String>, OutboxError> {
        self.meta("key_id")
    }

    /// What opening with this key file would say, without writing anything: for diagnostics.
    pub fn check_key_file(&self, key_file: &Path) -> Result<(), OutboxError> {
        let sealed = self.sealed()?;
        match PayloadKey::load(key_file) {
            Err(OutboxError::KeyMissing { .. }) if sealed > 0 => Err(OutboxError::KeyMissing {
                key_file: key_file.to_owned(),
                outbox: Some(self.path.clone()),
                sealed,
            }),
            Err(OutboxError::KeyMissing { .. }) => Ok(()),
            Err(e) => Err(e),
            Ok(key) => match self.key_id()? {
                Some(expected) if expected != key.id() && sealed > 0 => Err(OutboxError::KeyMismatch {
                    outbox: self.path.clone(),
                    expected,
                    found: key.id(),
                    sealed,
                }),
                _ => Ok(()),
            },
        }
    }

    /// Makes sure the key in hand is the one that sealed what is queued, and records it.
    fn check_key(&mut self, key_file: Option<&Path>) -> Result<(), OutboxError> {
        let found = self.key()?.id();
        let recorded = self.key_id()?;
        if recorded.as_deref() == Some(found.as_str()) {
            return Ok(());
        }
        let sealed = self.sealed()?;
        let mismatch = |expected: String| OutboxError::KeyMismatch {
            outbox: self.path.clone(),
            expected,
            found: found.clone(),
            sealed,
        };
        match recorded {
            Some(expected) if sealed > 0 => return Err(mismatch(expected)),
            None if sealed > 0 => {
                // An outbox from before key ids: the key must open one of its payloads.
                let samples: Vec<(String, Vec<u8>)> = {
                    let mut stmt = self
                        .conn
                        .prepare("SELECT idempotency_key, payload FROM submission WHERE payload IS NOT NULL ORDER BY id LIMIT 3")
                        .map_err(|e| self.err(e))?;
                    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                        .and_then(|rows| rows.collect::<Result<_, _>>())
                        .map_err(|e| self.err(e))?
                };
                let key = self.key()?;
                if !samples.iter().any(|(k, sealed)| key.open(sealed, k.as_bytes()).is_ok()) {
                    return Err(mismatch("not recorded".into()));
                }
            }
            _ => {}
        }
        self.set_meta("key_id", &found)?;
        if let Some(file) = key_file {
            tracing::info!(key_file = %file.display(), id = %found, "payload key recorded in the outbox");
        }
        Ok(())
    }

    /// Runs a write; when it finds the disk full, gives the space reserve back to the file system
    /// and tries once more. Everything but `enqueue` writes through here: the agent's leases,
    /// answers and deletions must go on when the partition is full.
    fn write<T>(
        &mut self,
        mut f: impl FnMut(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, OutboxError> {
        match f(&mut self.conn) {
            Err(e)
                if e.sqlite_error_code() == Some(ErrorCode::DiskFull)
                    && storage::release_reserve(&self.path) =>
            {
                f(&mut self.conn).map_err(|e| self.err(e))
            }
            other => other.map_err(|e| self.err(e)),
        }
    }

    /// Refuses new work before the disk or the size cap is reached, so the agent's writes fit.
    fn check_room(&self) -> Result<(), OutboxError> {
        let low = |detail: String| Err(OutboxError::StorageLow { path: self.path.clone(), detail });
        if let Some(free) = storage::free_bytes(&self.path)
            && free < self.options.min_free_bytes
        {
            return low(format!(
                "{} MiB free on the data partition, below the {} MiB kept for uploads",
                free >> 20,
                self.options.min_free_bytes >> 20
            ));
        }
        if let Some(max) = self.options.max_pages {
            let used: i64 = self
                .conn
                .query_row(
                    "SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count())",
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| self.err(e))?;
            if used as u64 + PAGE_HEADROOM >= max {
                return low(format!("{used} of its {max} pages in use"));
            }
        }
        Ok(())
    }

    /// Queues a submission durably: when this returns, the submission survives a crash or a
    /// power cut, and the slip may be printed.
    pub fn enqueue(&mut self, sub: &NewSubmission<'_>, now: i64) -> Result<Enqueued, OutboxError> {
        self.enqueue_kind(sub, Kind::Submission, now)
    }

    /// As [`Outbox::enqueue`], for a row of another kind (a rating).
    pub fn enqueue_kind(
        &mut self,
        sub: &NewSubmission<'_>,
        kind: Kind,
        now: i64,
    ) -> Result<Enqueued, OutboxError> {
        let key = uuid::Uuid::now_v7().to_string();
        let sealed = self.key()?.seal(sub.payload, key.as_bytes());
        self.check_room()?;
        let (path, timeout, max) = (self.path.clone(), self.options.busy_timeout, self.options.max_pending);
        let e = |source| map_err(&path, source, timeout);
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(e)?;
        let pending: i64 = tx.query_row("SELECT unsent FROM queue_count", [], |r| r.get(0)).map_err(e)?;
        let pending = pending as u64;
        if pending >= max {
            return Err(OutboxError::QueueFull { pending });
        }
        tx.execute(
            "INSERT INTO submission (idempotency_key, stream_key, item_code, created_at, state, next_attempt_at, payload, payload_bytes, kind)
             VALUES (?1, ?2, ?3, ?4, 'pending', ?4, ?5, ?6, ?7)",
            params![key, sub.stream_key, sub.item_code, now, sealed, sub.payload.len() as i64, kind.as_str()],
        )
        .map_err(e)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(e)?;
        tracing::debug!(id, item = sub.item_code, kind = kind.as_str(), "queued");
        Ok(Enqueued { id, idempotency_key: key })
    }

    /// At agent start, under the [`AgentLock`]: leases held by a previous run (killed
    /// mid-upload) are void. Safe to send those again because the gateway deduplicates on the
    /// idempotency key. Call it only while holding the lock: it ignores lease owners.
    pub fn recover_in_flight(&mut self, _lock: &AgentLock) -> Result<usize, OutboxError> {
        self.write(|c| {
            c.execute(
                "UPDATE submission SET state = 'pending', lease_owner = NULL, lease_until = NULL WHERE state = 'in_flight'",
                [],
            )
        })
    }

    /// Leases up to `limit` due submissions for `owner`, oldest first, and opens their payloads.
    /// Within a stream only the oldest unsent submission is due; set-aside ones never hold a
    /// stream up. Expired leases are taken over. A payload that cannot be opened is quarantined
    /// in the same transaction and the rest of the batch is handed out.
    pub fn claim_due(
        &mut self,
        owner: &str,
        now: i64,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Claimed>, OutboxError> {
        let key = self.key()?.clone(); // before leasing anything: a lease without the key would strand the rows
        let until = now + lease.as_millis() as i64;
        let jump = CLOCK_JUMP_TOLERANCE.as_millis() as i64;
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let rows: Vec<DueRow> = {
                let mut stmt = tx.prepare_cached(&format!(
                    "SELECT id, idempotency_key, item_code, attempts, payload, kind FROM submission s
                     WHERE ({DUE})
                       AND (stream_key = '' OR NOT EXISTS (
                            SELECT 1 FROM submission o WHERE o.stream_key = s.stream_key AND o.id < s.id
                              AND o.state IN ('pending', 'in_flight')))
                     ORDER BY id LIMIT ?3"
                ))?;
                stmt.query_map(params![now, jump, limit as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                })?
                .collect::<Result<_, _>>()?
            };
            let mut claimed = Vec::with_capacity(rows.len());
            {
                let mut lease_stmt = tx.prepare_cached(
                    "UPDATE submission SET state = 'in_flight', lease_owner = ?2, lease_until = ?3 WHERE id = ?1",
                )?;
                let mut quarantine = tx.prepare_cached(
                    "UPDATE submission SET state = 'quarantined', last_error = ?2, last_attempt_at = ?3,
                            lease_owner = NULL, lease_until = NULL WHERE id = ?1",
                )?;
                for (id, idem, item_code, attempts, sealed, kind) in rows {
                    match sealed.as_deref().map(|s| key.open(s, idem.as_bytes())) {
                        Some(Ok(payload)) => {
                            lease_stmt.execute(params![id, owner, until])?;
                            claimed.push(Claimed {
                                id,
                                idempotency_key: idem,
                                kind: Kind::parse(&kind),
                                item_code,
                                attempts,
                                payload,
                            });
                        }
                        failed => {
                            let why = if failed.is_none() {
                                "its payload is missing from the outbox (a damaged row)"
                            } else {
                                "its payload failed authentication with this kiosk's key (a damaged row, or sealed with another key)"
                            };
                            quarantine.execute(params![id, why, now])?;
                            tracing::error!(id, "submission quarantined: {why}; see `kioskctl outbox list --state quarantined`");
                        }
                    }
                }
            }
            tx.commit()?;
            Ok(claimed)
        })
    }

    /// Records the gateway's answers in one transaction. The outer error means nothing was
    /// written (the database was locked or full): keep the answers and record them again. An
    /// inner error concerns one row only (it was no longer leased); the others are recorded.
    pub fn record(
        &mut self,
        answers: &[(i64, Answer)],
        now: i64,
    ) -> Result<Vec<Result<(), OutboxError>>, OutboxError> {
        let changed: Vec<usize> = self.write(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut changed = Vec::with_capacity(answers.len());
            for (id, answer) in answers {
                let n = match answer {
                    // A filing is a fact whoever holds the lease: it ends the row's life.
                    Answer::Accepted { case_number } => tx.execute(
                        "UPDATE submission SET state = 'acked', payload = NULL, case_number = ?2, acked_at = ?3,
                                last_attempt_at = ?3, lease_owner = NULL, lease_until = NULL, last_status = 200, last_error = NULL
                         WHERE id = ?1 AND state IN ('in_flight', 'pending')",
                        params![id, case_number, now],
                    )?,
                    Answer::Retry { at, status, error } => tx.execute(
                        "UPDATE submission SET state = 'pending', attempts = attempts + 1, next_attempt_at = ?2,
                                decided_at = ?5, last_attempt_at = ?5, last_status = ?3, last_error = ?4,
                                lease_owner = NULL, lease_until = NULL
                         WHERE id = ?1 AND state = 'in_flight'",
                        params![id, at, status, error, now],
                    )?,
                    Answer::Refused { status, error } => tx.execute(
                        "UPDATE submission SET state = 'dead', attempts = attempts + 1, last_status = ?2, last_error = ?3,
                                last_attempt_at = ?4, lease_owner = NULL, lease_until = NULL
                         WHERE id = ?1 AND state = 'in_flight'",
                        params![id, status, error, now],
                    )?,
                };
                changed.push(n);
            }
            tx.commit()?;
            Ok(changed)
        })?;
        answers
            .iter()
            .zip(changed)
            .map(|((id, _), n)| {
                if n == 1 {
                    return Ok(Ok(()));
                }
                Ok(match self.row(*id)? {
                    Some(row) => Err(OutboxError::WrongState {
                        id: *id,
                        state: row.state.unwrap_or(State::Dead),
                        wanted: "in flight",
                    }),
                    None => Err(OutboxError::NotFound(*id)),
                })
            })
            .collect()
    }

    fn record_one(&mut self, id: i64, answer: Answer, now: i64) -> Result<(), OutboxError> {
        self.record(&[(id, answer)], now)?.pop().expect("one answer, one result")
    }

    /// The gateway accepted the submission: keep the receipt, delete the personal data.
    pub fn ack(&mut self, id: i64, case_number: &str, now: i64) -> Result<(), OutboxError> {
        self.record_one(id, Answer::Accepted { case_number: case_number.to_owned() }, now)
    }

    /// Try again at `retry_at`, decided now.
    pub fn retry_at(
        &mut self,
        id: i64,
        retry_at: i64,
        status: Option<u16>,
        error: &str,
        now: i64,
    ) -> Result<(), OutboxError> {
        self.record_one(id, Answer::Retry { at: retry_at, status, error: error.to_owned() }, now)
    }

    /// The gateway refused the submission for good: set it aside for a technician (the payload is
    /// kept, encrypted, so it can be re-queued after the cause is fixed).
    pub fn dead_letter(
        &mut self,
        id: i64,
        status: Option<u16>,
        error: &str,
        now: i64,
    ) -> Result<(), OutboxError> {
        self.record_one(id, Answer::Refused { status, error: error.to_owned() }, now)
    }

    /// A technician queues set-aside submissions (refused or quarantined) again; the count.
    pub fn requeue(&mut self, selection: &Selection, now: i64) -> Result<usize, OutboxError> {
        let ids = (!selection.ids.is_empty())
            .then(|| selection.ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
        let n = self.write(|c| {
            c.execute(
                "UPDATE submission SET state = 'pending', next_attempt_at = ?1, decided_at = ?1
                 WHERE state IN ('dead', 'quarantined')
                   AND (?2 IS NULL OR instr(',' || ?2 || ',', ',' || id || ',') > 0)
                   AND (?3 IS NULL OR instr(coalesce(last_error, ''), ?3) > 0)
                   AND (?4 IS NULL OR coalesce(last_attempt_at, created_at) >= ?4)
                   AND (?5 IS NULL OR coalesce(last_attempt_at, created_at) < ?5)",
                params![now, ids, selection.reason, selection.since, selection.until],
            )
        })?;
        if n == 0 && selection.ids.len() == 1 {
            let id = selection.ids[0];
            return match self.row(id)? {
                Some(row) => Err(OutboxError::WrongState {
                    id,
                    state: row.state.unwrap_or(State::Dead),
                    wanted: "refused or quarantined",
                }),
                None => Err(OutboxError::NotFound(id)),
            };
        }
        Ok(n)
    }

    /// Deletes refused submissions, payloads included (after the office has handled them).
    pub fn purge_dead(&mut self) -> Result<usize, OutboxError> {
        let n = self.write(|c| c.execute("DELETE FROM submission WHERE state = 'dead'", []))?;
        self.checkpoint();
        Ok(n)
    }

    /// Deletes receipts of submissions acknowledged before `before` (the retention period).
    pub fn purge_receipts(&mut self, before: i64) -> Result<usize, OutboxError> {
        let n = self.write(|c| {
            c.execute("DELETE FROM submission WHERE state = 'acked' AND acked_at < ?1", [before])
        })?;
        if n > 0 {
            self.checkpoint();
        }
        Ok(n)
    }

    /// Takes the space reserve again once the partition has room for it (after a full disk
    /// made the agent give it back).
    pub fn keep_reserve(&self) {
        storage::ensure_reserve(&self.path, self.options.reserve_bytes, self.options.min_free_bytes);
    }

    /// Copies the WAL back and truncates it to its limit, so deleted payloads leave the disk.
    fn checkpoint(&mut self) {
        if let Err(e) = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
            tracing::debug!(error = %e, "checkpoint postponed (a reader is active)");
        }
    }

    /// The gateway asked every upload to wait until `until` (Retry-After), decided at `now`.
    pub fn pause_uploads(&mut self, until: i64, now: i64) -> Result<(), OutboxError> {
        self.set_meta("paused_until", &until.to_string())?;
        self.set_meta("paused_at", &now.to_string())
    }

    /// When uploads may go on, if the gateway's pause is still in force at `now`. A pause
    /// decided at a wall time later than now (the clock went back) is over.
    pub fn paused_until(&self, now: i64) -> Result<Option<i64>, OutboxError> {
        let get =
            |name| -> Result<Option<i64>, OutboxError> { Ok(self.meta(name)?.and_then(|v| v.parse().ok())) };
        let (Some(until), Some(at)) = (get("paused_until")?, get("paused_at")?) else { return Ok(None) };
        let jumped_back = at > now + CLOCK_JUMP_TOLERANCE.as_millis() as i64;
        Ok((until > now && !jumped_back).then_some(until))
    }

    /// When the earliest waiting submission falls due, if any is waiting (a lease's end counts).
    pub fn next_due_at(&self) -> Result<Option<i64>, OutboxError> {
        self.conn
            .query_row(
                "SELECT min(CASE state WHEN 'pending' THEN next_attempt_at ELSE coalesce(lease_until, 0) END)
                 FROM submission WHERE state IN ('pending', 'in_flight')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// The UI records its devices' states and the agent its own (uploads, clock, updates), for
    /// the maintenance screen and the heartbeat.
    pub fn set_part_state(&mut self, part: Part, state: &PartState, now: i64) -> Result<(), OutboxError> {
        self.write(|c| {
            c.execute(
                "INSERT INTO device_state (device, health, state, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (device) DO UPDATE
                 SET health = excluded.health, state = excluded.state, updated_at = excluded.updated_at",
                params![part.as_str(), state.health.as_str(), state.detail, now],
            )
            .map(drop)
        })
    }

    /// Every part's last recorded state, in [`Part`] order; rows a newer version wrote about a
    /// part this one does not know are left out.
    pub fn part_states(&self) -> Result<Vec<(Part, PartState)>, OutboxError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT device, health, state FROM device_state")
            .map_err(|e| self.err(e))?;
        let rows: Vec<(String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        let mut states: Vec<(Part, PartState)> = rows
            .into_iter()
            .filter_map(|(part, health, detail)| {
                Some((Part::parse(&part)?, PartState { health: Health::parse(&health)?, detail }))
            })
            .collect();
        states.sort_by_key(|(part, _)| *part);
        Ok(states)
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
            let state = State::parse(&state).ok_or_else(|| OutboxError::Corrupt {
                path: self.path.clone(),
                detail: format!("{count} row(s) in an unknown state {state:?}"),
            })?;
            match state {
                State::Pending => stats.pending = count,
                State::InFlight => stats.in_flight = count,
                State::Acked => stats.acked = count,
                State::Dead => stats.dead = count,
                State::Quarantined => stats.quarantined = count,
            }
            if matches!(state, State::Pending | State::InFlight) {
                oldest = oldest.min(min_created).or(min_created);
            }
        }
        stats.oldest_pending_ms = oldest.map(|t| (now - t).max(0));
        Ok(stats)
    }

    const ROW_COLUMNS: &str = "id, idempotency_key, item_code, state, attempts, created_at, next_attempt_at,
         last_attempt_at, last_status, last_error, case_number, acked_at, payload_bytes";

    fn to_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
        Ok(Row {
            id: r.get(0)?,
            idempotency_key: r.get(1)?,
            item_code: r.get(2)?,
            state: State::parse(&r.get::<_, String>(3)?),
            attempts: r.get(4)?,
            created_at: r.get(5)?,
            next_attempt_at: r.get(6)?,
            last_attempt_at: r.get(7)?,
            last_status: r.get(8)?,
            last_error: r.get(9)?,
            case_number: r.get(10)?,
            acked_at: r.get(11)?,
            payload_bytes: r.get(12)?,
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

    /// Applications not yet acknowledged (pending or in flight), newest first, at most `limit`,
    /// with their payloads opened in memory. Rows whose payload does not open are left out: the
    /// agent quarantines them when it claims them.
    pub fn waiting(&self, limit: usize) -> Result<Vec<Waiting>, OutboxError> {
        let key = self.key()?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT idempotency_key, item_code, created_at, payload FROM submission
                 WHERE state IN ('pending', 'in_flight') AND kind = 'submission' ORDER BY id DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get::<_, Option<Vec<u8>>>(3)?))
            })
            .map_err(|e| self.err(e))?;
        let mut waiting = Vec::new();
        for row in rows {
            let (idempotency_key, item_code, created_at, sealed) = row.map_err(|e| self.err(e))?;
            let Some(Ok(payload)) = sealed.as_deref().map(|s| key.open(s, idempotency_key.as_bytes())) else {
                continue;
            };
            waiting.push(Waiting { idempotency_key, item_code, created_at, payload });
        }
        Ok(waiting)
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
    fn an_outbox_from_before_key_ids_and_quarantine_migrates_with_its_queue() {
        let dir = std::env::temp_dir().join(format!("outbox-migrate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kiosk.db");
        let key = PayloadKey::generate();
        {
            // Schema 3, as the kiosks in the field have it, with one row of each kind.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("PRAGMA journal_mode = WAL").unwrap();
            for sql in &MIGRATIONS[..3] {
                conn.execute_batch(sql).unwrap();
            }
            conn.execute_batch("PRAGMA user_version = 3").unwrap();
            for (i, state) in ["pending", "in_flight", "dead", "acked"].into_iter().enumerate() {
                let idem = format!("key-{i}");
                let sealed = (state != "acked").then(|| key.seal(b"{}", idem.as_bytes()));
                conn.execute(
                    "INSERT INTO submission (idempotency_key, item_code, created_at, state, next_attempt_at, payload, payload_bytes)
                     VALUES (?1, 'x', 1000, ?2, 1000, ?3, 2)",
                    params![idem, state, sealed],
                )
                .unwrap();
            }
        }
        assert!(
            matches!(
                Outbox::open(&path, PayloadKey::generate(), Options::default()),
                Err(OutboxError::KeyMismatch { .. })
            ),
            "an old outbox still tells a wrong key by its payloads"
        );
        let mut ob = Outbox::open(&path, key.clone(), Options::default()).unwrap();
        assert_eq!(ob.key_id().unwrap(), Some(key.id()));
        let stats = ob.stats(2000).unwrap();
        assert_eq!((stats.pending, stats.in_flight, stats.dead, stats.acked), (1, 1, 1, 1));
        assert_eq!(ob.unsent().unwrap(), 2, "the counter's triggers came back with the table");
        let claimed = ob.claim_due("agent", 2000, 10, Duration::from_secs(60)).unwrap();
        assert_eq!(claimed.len(), 2, "the pending row, and the in-flight one whose lease never ran");
        ob.ack(claimed[0].id, "NH1", 2000).unwrap();
        assert_eq!(ob.unsent().unwrap(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn receipts_are_deleted_after_the_retention_period() {
        let dir = std::env::temp_dir().join(format!("outbox-retention-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut ob = Outbox::open(&dir.join("kiosk.db"), PayloadKey::generate(), Options::default()).unwrap();
        for t in [1_000, 2_000, 3_000] {
            let id =
                ob.enqueue(&NewSubmission { item_code: "x", stream_key: "", payload: b"{}" }, t).unwrap().id;
            ob.claim_due("agent", t, 1, Duration::from_secs(60)).unwrap();
            ob.ack(id, "NH", t).unwrap();
        }
        ob.enqueue(&NewSubmission { item_code: "x", stream_key: "", payload: b"{}" }, 1_000).unwrap();
        assert_eq!(ob.purge_receipts(2_500).unwrap(), 2, "the two acknowledged before the cut");
        let stats = ob.stats(4_000).unwrap();
        assert_eq!((stats.acked, stats.pending), (1, 1), "unsent submissions are never purged");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn each_kind_is_claimed_as_itself() {
        let dir = std::env::temp_dir().join(format!("outbox-kinds-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut ob = Outbox::open(&dir.join("kiosk.db"), PayloadKey::generate(), Options::default()).unwrap();
        let new = NewSubmission { item_code: "x", stream_key: "", payload: b"{}" };
        ob.enqueue(&new, 1_000).unwrap();
        ob.enqueue_kind(&new, Kind::Evaluation, 1_000).unwrap();
        let kinds: Vec<Kind> = ob
            .claim_due("agent", 1_000, 10, Duration::from_secs(60))
            .unwrap()
            .iter()
            .map(|c| c.kind)
            .collect();
        assert_eq!(kinds, [Kind::Submission, Kind::Evaluation]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn version_floor() {
        assert!(sqlite_at_least("3.54.1", (3, 51, 3)));
        assert!(sqlite_at_least("3.51.3", (3, 51, 3)));
        assert!(!sqlite_at_least("3.50.2", (3, 51, 3)));
        assert!(sqlite_at_least(rusqlite::version(), (3, 51, 3)), "the bundled SQLite has the WAL-reset fix");
    }
}
