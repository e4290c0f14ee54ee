//! The live services (`/v1/live/...`, `kiosk_sync_proto::live`), answered from invented but
//! realistic data: every person gets their own records, derived from their ID number, so the
//! same card always shows the same history and two cards never share one. Requests are signed
//! like uploads, and the gateway's fault injection applies to them too.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use kiosk_sync_proto as proto;
use proto::live::{self, Figure, RecordRow, Records, RecordsQuery, Service};
use sha2::{Digest, Sha256};
use time::{Date, Month, OffsetDateTime, UtcOffset};

use crate::{Conn, Fault, Gateway, injected_refusal, problem, verify};

/// Rows on one page of a record.
pub const PAGE_ROWS: usize = 12;

pub(crate) async fn answer(
    State(gw): State<Arc<Gateway>>,
    Extension(conn): Extension<Conn>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(service) = Service::from_name(&name) else {
        return problem(StatusCode::NOT_FOUND, live::problem::NOT_FOUND, "no such live service");
    };
    let fault = gw.draw();
    if let Some(refused) = injected_refusal(&gw, fault) {
        return refused;
    }
    match fault {
        Fault::Timeout | Fault::SlowBody => {
            tokio::time::sleep(Duration::from_secs(gw.faults.slow_secs)).await
        }
        Fault::Drop => {
            conn.abort.notify_one();
            std::future::pending::<()>().await;
        }
        Fault::None | Fault::ServerError | Fault::TooMany => {}
    }
    if let Err(r) = verify(&gw, &conn, &headers, &service.gateway_path(), "", &body) {
        let _ = gw.store.bump("rejected");
        return r.into_response();
    }
    if gw.faults.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(gw.faults.delay_ms)).await;
    }
    let _ = gw.store.bump(&format!("live_{}", service.name()));
    match service {
        Service::Records => match serde_json::from_slice::<RecordsQuery>(&body) {
            Ok(q) if live::record::ALL.contains(&q.record.as_str()) && !q.person.id_number.is_empty() => {
                Json(records(&q, today(gw.now_ms()))).into_response()
            }
            Ok(_) | Err(_) => problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                live::problem::BAD_REQUEST,
                "the body must be a records query: a known record, a person with an ID number, a page",
            ),
        },
    }
}

/// The gateway's date in China Standard Time.
fn today(now_ms: i64) -> Date {
    let cst = UtcOffset::from_hms(8, 0, 0).expect("a valid offset");
    OffsetDateTime::from_unix_timestamp(now_ms / 1000)
        .map_or(OffsetDateTime::UNIX_EPOCH, |t| t.to_offset(cst))
        .date()
}

/// A generator seeded by the person and the record: the same history every time.
fn rng_for(q: &RecordsQuery) -> fastrand::Rng {
    let digest = Sha256::digest(format!("{}|{}", q.person.id_number, q.record).as_bytes());
    fastrand::Rng::with_seed(u64::from_le_bytes(digest[..8].try_into().expect("8 bytes")))
}

/// The months from `first` up to and including `last`, newest first.
fn months_back(last: Date, count: u32) -> Vec<(i32, Month)> {
    let (mut y, mut m) = (last.year(), last.month());
    let mut out = Vec::new();
    for _ in 0..count {
        out.push((y, m));
        m = m.previous();
        if m == Month::December {
            y -= 1;
        }
    }
    out
}

/// Money in fen, rounded to the fen.
fn part(base: i64, per_mille: i64) -> i64 {
    (base * per_mille + 500) / 1000
}

pub fn records(q: &RecordsQuery, today: Date) -> Records {
    let mut rng = rng_for(q);
    // Contributions are posted for the previous month.
    let last_month =
        today.replace_day(1).expect("day 1 exists").previous_day().expect("not the first day ever");
    let months = rng.u32(30..96);
    let employer = ["佛山市南海区示例制造有限公司", "广东示例物流有限公司", "佛山示例科技有限公司"]
        [rng.usize(0..3)]
    .to_owned();
    let mut rows = Vec::new();
    let mut summary = Vec::new();
    let account;
    if q.record == live::record::SOCIAL_INSURANCE {
        account = format!("44060{}****", rng.u32(1000..9999));
        let mut base = i64::from(rng.u32(4_500..12_000)) * 100;
        let (mut personal, mut employer_total) = (0, 0);
        for (i, (y, m)) in months_back(last_month, months).into_iter().enumerate() {
            // The base is set each July; going back in time it was lower.
            if m == Month::June && i > 0 {
                base = base * 96 / 100;
            }
            // Pension 8 % + 14 %, medical 2 % + 5.5 %, unemployment 0.2 % + 0.32 %, injury employer 0.2 %.
            for (kind, own, theirs) in
                [("pension", 80, 140), ("medical", 20, 55), ("unemployment", 2, 3), ("injury", 0, 2)]
            {
                let row = RecordRow {
                    period: format!("{y}-{:02}", m as u8),
                    kind: kind.into(),
                    amount: part(base, own),
                    other: part(base, theirs),
                    base,
                    payer: employer.clone(),
                };
                personal += row.amount;
                employer_total += row.other;
                rows.push(row);
            }
        }
        summary.push(Figure { key: "months_paid".into(), value: i64::from(months) });
        summary.push(Figure { key: "total_personal".into(), value: personal });
        summary.push(Figure { key: "total_employer".into(), value: employer_total });
    } else {
        account = format!("GJJ{}****", rng.u32(100_000..999_999));
        let deposit = i64::from(rng.u32(300..2_400)) * 100;
        // Oldest first to carry the balance, then newest first for the screen.
        let mut history = Vec::new();
        let mut balance = 0i64;
        for (y, m) in months_back(last_month, months).into_iter().rev() {
            balance += deposit;
            history.push(RecordRow {
                period: format!("{y}-{:02}-15", m as u8),
                kind: "deposit".into(),
                amount: deposit,
                other: balance,
                base: 0,
                payer: employer.clone(),
            });
            if m == Month::June {
                let interest = balance * 15 / 1000;
                balance += interest;
                history.push(RecordRow {
                    period: format!("{y}-06-30"),
                    kind: "interest".into(),
                    amount: interest,
                    other: balance,
                    base: 0,
                    payer: "佛山市住房公积金管理中心".into(),
                });
            }
            if rng.u8(0..100) < 4 && balance > deposit * 6 {
                let taken = balance / 2;
                balance -= taken;
                history.push(RecordRow {
                    period: format!("{y}-{:02}-20", m as u8),
                    kind: "withdrawal".into(),
                    amount: -taken,
                    other: balance,
                    base: 0,
                    payer: "佛山市住房公积金管理中心".into(),
                });
            }
        }
        history.reverse();
        rows = history;
        summary.push(Figure { key: "balance".into(), value: balance });
        summary.push(Figure { key: "monthly_deposit".into(), value: deposit });
    }
    let pages = rows.len().div_ceil(PAGE_ROWS).max(1) as u32;
    let page = q.page.min(pages - 1);
    let start = page as usize * PAGE_ROWS;
    let rows = rows.into_iter().skip(start).take(PAGE_ROWS).collect();
    let as_of = today.previous_day().unwrap_or(today);
    Records {
        record: q.record.clone(),
        account,
        summary,
        rows,
        page,
        pages,
        as_of: format!("{}-{:02}-{:02}", as_of.year(), as_of.month() as u8, as_of.day()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::live::Person;

    fn query(record: &str, id: &str, page: u32) -> RecordsQuery {
        RecordsQuery {
            record: record.into(),
            person: Person { id_number: id.into(), name: "陈小明".into() },
            page,
        }
    }

    #[test]
    fn each_person_has_a_stable_history_of_their_own() {
        let day = Date::from_calendar_date(2026, Month::November, 30).unwrap();
        let a = records(&query(live::record::SOCIAL_INSURANCE, "440602199001011234", 0), day);
        let again = records(&query(live::record::SOCIAL_INSURANCE, "440602199001011234", 0), day);
        let b = records(&query(live::record::SOCIAL_INSURANCE, "44060219850202123X", 0), day);
        assert_eq!(a, again);
        assert_ne!(a.rows, b.rows);
        assert_eq!(a.rows.len(), PAGE_ROWS);
        assert_eq!(a.rows[0].period, "2026-10", "newest first, last month posted");
        assert_eq!(a.as_of, "2026-11-29");
        let pension = a.rows.iter().find(|r| r.kind == "pension").unwrap();
        assert_eq!(pension.amount, part(pension.base, 80), "8 % of the base");
        let last = records(&query(live::record::SOCIAL_INSURANCE, "440602199001011234", 9_999), day);
        assert_eq!(last.page, last.pages - 1, "a page past the end is the last page");
    }

    #[test]
    fn the_provident_fund_balance_adds_up() {
        let day = Date::from_calendar_date(2026, Month::November, 30).unwrap();
        let q = query(live::record::HOUSING_FUND, "440602199001011234", 0);
        let first = records(&q, day);
        let balance = first.summary.iter().find(|f| f.key == "balance").unwrap().value;
        assert_eq!(first.rows[0].other, balance, "the newest row's balance is the account's");
        for pair in first.rows.windows(2) {
            assert_eq!(pair[0].other - pair[0].amount, pair[1].other, "{pair:?}");
        }
    }
}
