//! Copying what can still be read out of a damaged outbox into a new one.
//!
//! The damaged file is opened read-only and never changed; rows are read one at a time by rowid
//! (the table's own b-tree, not an index that may be the damaged part), so one unreadable page
//! costs the rows on it and nothing else. Payloads are copied still sealed (no key is needed and
//! none is exposed), with the key id, so the agent opens them as before. A row whose state cannot
//! be trusted is queued again: the gateway files a repeat of the same idempotency key once.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;

use crate::{Options, Outbox, OutboxError, State};

/// What a salvage copied and what it could not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SalvageReport {
    /// Rows copied, by the state they have in the new outbox.
    pub unsent: u64,
    pub acked: u64,
    pub set_aside: u64,
    /// Rows whose state was unreadable or unknown, queued again.
    pub requeued_damaged: u64,
    /// Rowids that could not be read at all.
    pub unreadable: u64,
}

/// Consecutive unreadable rowids after which the rest of the table is taken as lost.
const GIVE_UP_AFTER: i64 = 100_000;

type Salvaged = (
    String,
    String,
    String,
    i64,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<Vec<u8>>,
    i64,
    Option<i64>,
    Option<String>,
);

/// Reads every readable submission of the damaged outbox `from` into a new outbox at `to`
/// (which must not exist yet).
pub fn salvage(from: &Path, to: &Path) -> Result<SalvageReport, OutboxError> {
    let err = |e: rusqlite::Error| OutboxError::Sqlite { path: from.to_owned(), source: e };
    if to.exists() {
        return Err(OutboxError::Io {
            path: to.to_owned(),
            detail: "already exists; salvage writes a new file".into(),
        });
    }
    let src =
        Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(err)?;
    let key_id: Option<String> = src
        .query_row("SELECT value FROM outbox_meta WHERE name = 'key_id'", [], |r| r.get(0))
        .optional()
        .unwrap_or(None);
    let mut dst = Outbox::open_for_new(to)?;
    if let Some(id) = &key_id {
        dst.set_meta("key_id", id)?;
    }
    let mut report = SalvageReport::default();
    let mut next = i64::MIN;
    let mut misses = 0;
    let mut rows = Vec::new();
    loop {
        let read = src.query_row(
            "SELECT id, idempotency_key, stream_key, item_code, created_at, state, attempts, next_attempt_at,
                    last_status, last_error, payload, payload_bytes, acked_at, case_number
             FROM submission WHERE id >= ?1 ORDER BY id LIMIT 1",
            [next],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    (
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                        r.get(11)?,
                        r.get(12)?,
                        r.get(13)?,
                    ),
                ))
            },
        );
        match read {
            Ok((id, row)) => {
                misses = 0;
                rows.push((id, row));
                next = id.saturating_add(1);
            }
            Err(rusqlite::Error::QueryReturnedNoRows) => break,
            Err(e) => {
                tracing::warn!(rowid = next, error = %e, "outbox row unreadable");
                report.unreadable += 1;
                misses += 1;
                if misses > GIVE_UP_AFTER || next == i64::MIN || next == i64::MAX {
                    break;
                }
                next += 1;
            }
        }
    }
    let tx = dst.conn.transaction().map_err(|e| dst_err(to, e))?;
    for (id, row) in rows {
        let (
            idem,
            stream,
            item,
            created,
            state,
            attempts,
            next_at,
            status,
            error,
            payload,
            bytes,
            acked_at,
            case,
        ): Salvaged = row;
        let state = match (State::parse(&state), &payload, &case) {
            (Some(State::InFlight), ..) => State::Pending,
            (Some(s), ..) => s,
            (None, _, Some(_)) => State::Acked,
            (None, Some(_), None) => {
                report.requeued_damaged += 1;
                State::Pending
            }
            (None, None, None) => State::Quarantined,
        };
        match state {
            State::Pending | State::InFlight => report.unsent += 1,
            State::Acked => report.acked += 1,
            State::Dead | State::Quarantined => report.set_aside += 1,
        }
        tx.execute(
            "INSERT OR IGNORE INTO submission (id, idempotency_key, stream_key, item_code, created_at, state, attempts,
                 next_attempt_at, last_status, last_error, payload, payload_bytes, acked_at, case_number)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![id, idem, stream, item, created, state.as_str(), attempts, next_at, status, error, payload, bytes, acked_at, case],
        )
        .map_err(|e| dst_err(to, e))?;
    }
    tx.commit().map_err(|e| dst_err(to, e))?;
    Ok(report)
}

fn dst_err(path: &Path, e: rusqlite::Error) -> OutboxError {
    OutboxError::Sqlite { path: path.to_owned(), source: e }
}

impl Outbox {
    /// A new, empty outbox for a salvage: created like any other, opened without a key.
    fn open_for_new(path: &Path) -> Result<Self, OutboxError> {
        Self::open_with(path, None, Options::default(), true)
    }
}
