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
use proto::live::{
    self, Case, Figure, Progress, ProgressQuery, RecordRow, Records, RecordsQuery, Service, Step,
};
use sha2::{Digest, Sha256};
use time::{Date, Month};

use crate::store::{Filed, Filing};
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
        Service::Progress => match serde_json::from_slice::<ProgressQuery>(&body) {
            Ok(q) => progress_answer(&gw, &q),
            Err(_) => bad_progress(),
        },
    }
}

fn bad_progress() -> Response {
    problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        live::problem::BAD_REQUEST,
        "the body must be a progress query: a person with an ID number, or a reference and its password",
    )
}

/// Digests under which the store keeps who applied and the slip's password: the reference
/// gateway keeps neither in the clear.
fn person_digest(id_number: &str) -> String {
    hex::encode(Sha256::digest(format!("person|{}", id_number.trim().to_ascii_uppercase()).as_bytes()))
}

fn password_digest(password: &str) -> String {
    hex::encode(Sha256::digest(format!("query-password|{}", password.trim()).as_bytes()))
}

/// What the store keeps of a submission to follow it: the applicant is the form's `id_number`
/// (the catalogue's standard field for the applicant's number).
pub(crate) fn filing(s: &proto::Submission) -> Filing {
    let id_number = s.form.get("id_number").unwrap_or_default();
    Filing {
        item_code: s.item_code.clone(),
        item_name: s.item_name.clone(),
        person_sha256: if id_number.is_empty() { String::new() } else { person_digest(id_number) },
        password_sha256: if s.query_password.is_empty() {
            String::new()
        } else {
            password_digest(&s.query_password)
        },
    }
}

fn progress_answer(gw: &Gateway, q: &ProgressQuery) -> Response {
    let now = gw.now_ms();
    let store_failed =
        |e: rusqlite::Error| problem(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string());
    if let Some(person) = q.person.as_ref().filter(|p| !p.id_number.is_empty()) {
        let filed = match gw.store.filed_for(&person_digest(&person.id_number)) {
            Ok(f) => f,
            Err(e) => return store_failed(e),
        };
        let mut cases: Vec<Case> = filed.iter().map(|f| filed_case(f, now)).collect();
        cases.extend(earlier_cases(&person.id_number, now));
        return Json(Progress { cases }).into_response();
    }
    if q.reference.trim().is_empty() || q.password.trim().is_empty() {
        return bad_progress();
    }
    match gw.store.filed_by_reference(q.reference.trim(), &password_digest(&q.password)) {
        Ok(Some(f)) => Json(Progress { cases: vec![filed_case(&f, now)] }).into_response(),
        Ok(None) => problem(
            StatusCode::NOT_FOUND,
            live::problem::NOT_FOUND,
            "no case with this number and query password",
        ),
        Err(e) => store_failed(e),
    }
}

/// A time in China Standard Time, to the minute.
fn cst_minute(ms: i64) -> String {
    let t = crate::cst(ms);
    format!("{}-{:02}-{:02} {:02}:{:02}", t.year(), t.month() as u8, t.day(), t.hour(), t.minute())
}

/// The department takes a case filed at a kiosk on (受理) after this long, and starts its review
/// after [`REVIEW_AFTER_MS`]: quick enough to see in a demo.
pub const ACCEPT_AFTER_MS: i64 = 2 * 60_000;
pub const REVIEW_AFTER_MS: i64 = 10 * 60_000;

/// The steps of a case and the index of the one it is at: those with a time are done or
/// current (the last of them), the rest lie ahead.
fn timeline(names: &[&str], times: &[i64]) -> (Vec<Step>, u32) {
    let steps = names
        .iter()
        .enumerate()
        .map(|(i, name)| Step {
            step: (*name).to_owned(),
            at: times.get(i).map(|&t| cst_minute(t)).unwrap_or_default(),
        })
        .collect();
    (steps, times.len().saturating_sub(1) as u32)
}

/// A case this gateway filed, as far as it has come by `now`.
fn filed_case(f: &Filed, now: i64) -> Case {
    let age = now - f.received_at;
    let mut times = vec![f.received_at];
    if age >= ACCEPT_AFTER_MS {
        times.push(f.received_at + ACCEPT_AFTER_MS);
    }
    if age >= REVIEW_AFTER_MS {
        times.push(f.received_at + REVIEW_AFTER_MS);
    }
    let (steps, current) = timeline(
        &[live::step::SUBMITTED, live::step::ACCEPTED, live::step::REVIEW, live::step::CONCLUDED],
        &times,
    );
    Case {
        case_number: f.case_number.clone(),
        submission_id: f.idempotency_key.clone(),
        item_code: f.item_code.clone(),
        item_name: f.item_name.clone(),
        department: "佛山市南海区政务服务数据管理局".into(),
        received_at: cst_minute(f.received_at),
        steps,
        current,
        next: live::next::WAIT.into(),
        note: String::new(),
    }
}

/// A case the person filed earlier at a counter: when (days, and minutes, before now, drawn from
/// these ranges), the item, its steps and how long after filing each was reached.
struct Earlier {
    days_ago: std::ops::Range<u32>,
    minutes_ago: Option<std::ops::Range<u32>>,
    item_code: &'static str,
    item_name: &'static str,
    department: &'static str,
    steps: &'static [&'static str],
    reached_after: [i64; 4],
    next: &'static str,
    note: &'static str,
}

const DAY: i64 = 86_400_000;
const FOUR_STEPS: &[&str] =
    &[live::step::SUBMITTED, live::step::ACCEPTED, live::step::REVIEW, live::step::CONCLUDED];

const EARLIER: [Earlier; 3] = [
    Earlier {
        days_ago: 3..9,
        minutes_ago: Some(0..600),
        item_code: "ZZ440605GJJ0000001Z4ZZ0000000301",
        item_name: "住房公积金提取（租赁住房）",
        department: "佛山市住房公积金管理中心南海管理部",
        steps: &[
            live::step::SUBMITTED,
            live::step::ACCEPTED,
            live::step::REVIEW,
            live::step::SUPPLEMENT,
            live::step::CONCLUDED,
        ],
        reached_after: [0, DAY / 24, DAY, 2 * DAY],
        next: live::next::SUPPLEMENT,
        note: "请补充近三个月的租金发票，到桂城街道行政服务中心公积金窗口提交",
    },
    Earlier {
        days_ago: 20..60,
        minutes_ago: None,
        item_code: "ZZ440605SB0000001Z4ZZ0000000601",
        item_name: "社会保障卡申领",
        department: "佛山市南海区社会保险基金管理局",
        steps: FOUR_STEPS,
        reached_after: [0, DAY / 24, DAY, 5 * DAY],
        next: live::next::COLLECT,
        note: "请本人携带居民身份证到桂城街道行政服务中心社保窗口领取社会保障卡",
    },
    Earlier {
        days_ago: 200..700,
        minutes_ago: None,
        item_code: "ZZ440605SB0000001Z4ZZ0000000201",
        item_name: "灵活就业人员参保登记",
        department: "佛山市南海区社会保险基金管理局",
        steps: FOUR_STEPS,
        reached_after: [0, DAY / 48, DAY / 12, DAY / 6],
        next: live::next::NONE,
        note: "",
    },
];

/// Cases the person filed earlier at counters, invented from their ID number (the same every
/// time): one waiting for materials, one concluded with a result to collect, one long closed.
pub fn earlier_cases(id_number: &str, now: i64) -> Vec<Case> {
    let mut rng = seeded(&format!("{id_number}|cases"));
    EARLIER
        .iter()
        .map(|e| {
            let mut base = now - i64::from(rng.u32(e.days_ago.clone())) * DAY;
            if let Some(minutes) = &e.minutes_ago {
                base -= i64::from(rng.u32(minutes.clone())) * 60_000;
            }
            let day = crate::cst(base);
            let case_number = format!(
                "NH{:04}{:02}{:02}9{:05}",
                day.year(),
                day.month() as u8,
                day.day(),
                rng.u32(0..100_000)
            );
            let times: Vec<i64> = e.reached_after.iter().map(|after| base + after).collect();
            let (steps, current) = timeline(e.steps, &times);
            Case {
                case_number,
                submission_id: String::new(),
                item_code: e.item_code.into(),
                item_name: e.item_name.into(),
                department: e.department.into(),
                received_at: cst_minute(base),
                steps,
                current,
                next: e.next.into(),
                note: e.note.into(),
            }
        })
        .collect()
}

/// The gateway's date in China Standard Time.
fn today(now_ms: i64) -> Date {
    crate::cst(now_ms).date()
}

/// A generator seeded by `seed` (a person and what is invented for them): the same data every
/// time.
fn seeded(seed: &str) -> fastrand::Rng {
    let digest = Sha256::digest(seed.as_bytes());
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
    let mut rng = seeded(&format!("{}|{}", q.person.id_number, q.record));
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
    fn a_filed_case_moves_on_with_time_and_earlier_cases_are_stable() {
        let f = Filed {
            idempotency_key: "0190-key".into(),
            case_number: "NH20261201000001".into(),
            item_code: "X".into(),
            item_name: "个人参保证明打印".into(),
            received_at: 1_796_000_000_000,
        };
        let fresh = filed_case(&f, f.received_at + 1_000);
        assert_eq!((fresh.current, fresh.steps[0].step.as_str()), (0, live::step::SUBMITTED));
        assert!(fresh.steps[1].at.is_empty(), "受理 lies ahead");
        let accepted = filed_case(&f, f.received_at + ACCEPT_AFTER_MS);
        assert_eq!(accepted.steps[accepted.current as usize].step, live::step::ACCEPTED);
        let review = filed_case(&f, f.received_at + REVIEW_AFTER_MS + 1);
        assert_eq!(review.steps[review.current as usize].step, live::step::REVIEW);
        assert_eq!(review.next, live::next::WAIT);

        let now = 1_796_000_000_000;
        let a = earlier_cases("440602199001011234", now);
        assert_eq!(a, earlier_cases("440602199001011234", now), "the same every time");
        assert_ne!(a[0].case_number, earlier_cases("44060219850202123X", now)[0].case_number);
        assert!(a.iter().any(|c| c.next == live::next::SUPPLEMENT && !c.note.is_empty()));
        for case in &a {
            assert!(case.steps.iter().take(case.current as usize + 1).all(|s| !s.at.is_empty()), "{case:?}");
            assert!(live::step::ALL.contains(&case.steps[case.current as usize].step.as_str()));
        }
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
