//! The resident's whole journey through the app core, with a real outbox file and the sample
//! catalogue, and no screen: every step, the masking, the wipe, the idle clock, a catalogue
//! switch between sessions, and the technician PIN.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kiosk_app::form::FieldError;
use kiosk_app::session::ListSource;
use kiosk_app::{Config, Idle, Lang, Library, Notice, Printing, Queued, Screen, Session, Stamp, SubmitError};
use kiosk_catalogue::model::FieldKind;
use kiosk_idcard::IdCard;
use kiosk_outbox::{NewSubmission, Options, Outbox, State};
use kiosk_scanner::{Scan, ScanKind};

/// Carries out the core's effect as kiosk-ui does: the application into the outbox, and the
/// outcome back to the core. The clock and the random bits are fixed.
fn submit(outbox: &mut Outbox, session: &mut Session, now: Instant) -> Result<(), SubmitError> {
    let stamp =
        Stamp { wall: time::OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap(), random: 4_123_456 };
    let enqueue = session.submit(stamp, now)?;
    let outcome = outbox
        .enqueue(
            &NewSubmission { item_code: &enqueue.item_code, stream_key: "", payload: &enqueue.payload },
            kiosk_outbox::now_ms(),
        )
        .map(|q| Queued { outbox_id: q.id, idempotency_key: q.idempotency_key })
        .map_err(|e| e.to_string());
    session.queued(outcome, now)
}

fn library(version: &str) -> Arc<Library> {
    let mut cat = kiosk_catalogue::sample();
    cat.catalogue_version = version.to_owned();
    let bytes = kiosk_catalogue::to_bundle(&cat);
    Arc::new(Library::new(kiosk_catalogue::Bundle::open(&bytes).unwrap()))
}

struct Fixture {
    _dir: tempdir::Dir,
    db: std::path::PathBuf,
    outbox: Outbox,
    session: Session,
    t: Instant,
}

mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    pub fn new(tag: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("kiosk-app-{tag}-{}-{}", std::process::id(), fastrand()));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
    fn fastrand() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    }
}

fn fixture(tag: &str) -> Fixture {
    let dir = tempdir::new(tag);
    let db = dir.0.join("kiosk.db");
    let outbox = Outbox::open_with_key_file(&db, &dir.0.join("payload.key"), Options::default()).unwrap();
    let mut config = Config::new("NH-GC-0007");
    // The core hands the stored hash and the digits to the shell, which checks them.
    config.pin_hash = Some("$argon2id$stored".into());
    let t = Instant::now();
    Fixture { _dir: dir, db, outbox, session: Session::new(config, library("v1"), t), t }
}

fn resident() -> IdCard {
    kiosk_idcard::sim::sample_cards().into_iter().find(|(n, _)| *n == "resident").unwrap().1
}

/// The item the journey applies for: fully online, with a phone field to type.
fn phone_item(lib: &Library) -> usize {
    (0..lib.len())
        .find(|&i| {
            let it = lib.item(i).unwrap();
            it.kind == kiosk_catalogue::Kind::Online
                && it.form.as_ref().is_some_and(|f| f.fields.iter().any(|x| x.kind == FieldKind::Phone))
        })
        .unwrap()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_resident_applies_gets_a_masked_slip_and_is_wiped() {
    let mut f = fixture("journey");
    let card = resident();
    let s = &mut f.session;
    let t = f.t;
    assert_eq!(s.screen(), Screen::Attract);
    s.start(t);
    assert_eq!(s.screen(), Screen::Welcome);
    s.set_language(Lang::En, t);
    s.set_elder(true, t);
    s.proceed(t);
    assert_eq!(s.screen(), Screen::Identify);
    s.lift_and_replace(t);
    assert_eq!(s.notice(), Some(Notice::LiftCard));
    s.card_read(&card, t);
    assert_eq!(s.screen(), Screen::Home);
    assert_eq!(s.identity().unwrap().name, card.name);

    // A second card cannot take over the session.
    let other = kiosk_idcard::sim::sample_cards().into_iter().find(|(n, _)| *n == "hmt_permit").unwrap().1;
    s.card_read(&other, t);
    assert_eq!(s.identity().unwrap().id_number, card.id_number);

    // Find by topic, then by search, with elder mode's shorter pages.
    let topic = s
        .library()
        .topics()
        .iter()
        .max_by_key(|tp| s.library().by_topic(&tp.code).len())
        .unwrap()
        .code
        .clone();
    s.open_topic(&topic, t);
    assert_eq!(s.list_source(), &ListSource::Topic(topic.clone()));
    assert!(s.page_hits().len() <= s.config().elder_page_size);
    s.open_search(t);
    s.search_type("sbcx", t);
    let first = s.hits()[0];
    assert_eq!(s.library().summary(first).task_name, "个人参保证明打印", "sbcx finds 社保查询's item first");

    let item = phone_item(s.library());
    s.open_item(item, t);
    assert_eq!(s.screen(), Screen::Detail);
    assert!(s.can_apply());
    s.begin_form(t);
    assert_eq!(s.screen(), Screen::Form);
    let form = s.form().unwrap();
    let name_field = form.fields().iter().position(|x| x.key == "name").unwrap();
    assert_eq!(form.value(name_field), card.name, "pre-filled from the card");
    assert!(!form.shown_value(name_field).contains(&card.name), "shown masked");

    // Nothing typed yet: review refuses and names the field.
    s.review(t);
    assert_eq!(s.screen(), Screen::Form);
    let phone = s.form().unwrap().fields().iter().position(|x| x.kind == FieldKind::Phone).unwrap();
    assert_eq!(s.form().unwrap().focused(), phone);
    assert_eq!(s.form().unwrap().error(phone), Some(FieldError::Required));
    s.focus_field(phone, t);
    s.form_key("1380013800", t);
    s.review(t);
    assert_eq!(s.form().unwrap().error(phone), Some(FieldError::Phone));
    s.form_key("0", t);
    // Fill whatever else the form requires.
    let fields = s.form().unwrap().fields().to_vec();
    for (i, field) in fields.iter().enumerate() {
        if !s.form().unwrap().value(i).is_empty() || !field.required {
            continue;
        }
        s.focus_field(i, t);
        match field.kind {
            FieldKind::Choice => s.choose(i, &field.choices[0], t),
            FieldKind::Text => {
                s.form_key("zhang", t);
                s.pick_candidate(0, t);
                s.form_key("1", t);
            }
            _ => s.form_key(&"1".repeat(field.min_len.unwrap_or(1) as usize), t),
        }
    }
    s.review(t);
    assert_eq!(s.screen(), Screen::Confirm, "{:?}", s.form());
    let rows = s.confirm_rows();
    let shown: String = rows.iter().map(|r| r.2.as_str()).collect();
    assert!(!shown.contains(&card.name) && !shown.contains(&card.id_number), "{rows:?}");
    assert!(shown.contains(&kiosk_pii::mask_id_number(&card.id_number)));
    assert!(shown.contains("138****8000"));

    submit(&mut f.outbox, s, t).unwrap();
    assert_eq!(s.screen(), Screen::Submitting);
    let sub = s.submission().unwrap();
    // The clock and the randomness came from the shell (`submit` above), not from the core.
    assert_eq!(sub.receipt.submitted_at, "2026-11-18 19:06:40");
    assert_eq!(sub.receipt.query_password.as_str(), "123456");
    let row = f.outbox.row(sub.outbox_id).unwrap().unwrap();
    assert_eq!(row.state, Some(State::Pending));
    assert_eq!(row.idempotency_key, sub.receipt.submission_id);
    let raw = std::fs::read(&f.db).unwrap();
    let wal = std::fs::read(f.db.with_extension("db-wal")).unwrap_or_default();
    for bytes in [&raw, &wal] {
        assert!(
            !contains(bytes, &card.name) && !contains(bytes, &card.id_number),
            "personal data in plaintext on disk"
        );
    }

    // Never times out while the slip is on its way.
    assert_eq!(s.tick(t + Duration::from_secs(3600)), Idle::Active);
    assert!(s.receipt_wait_over(t + s.config().receipt_wait));
    let slip = s.receipt_ready(None).unwrap();
    let text = format!("{slip:?}");
    assert!(
        text.contains("申请（收件）回执") && text.contains(&s.submission().unwrap().receipt.submission_id)
    );
    assert!(!text.contains(&card.name) && !text.contains(&card.id_number), "slip masked");
    assert!(text.contains(&kiosk_pii::mask_name(&card.name)));
    let password = s.submission().unwrap().receipt.query_password.to_string();
    assert!(text.contains(&password), "the query password is printed");
    assert!(!format!("{:?}", s.submission().unwrap().receipt.preview()).contains(&password), "but not shown");
    assert!(s.receipt_ready(None).is_none(), "one slip a submission");
    s.printed(Ok(()), t);
    assert_eq!(s.screen(), Screen::Done);
    assert_eq!(s.submission().unwrap().printing, Printing::Printed);

    // 好差评: the resident rates the business; a dissatisfied level takes reasons.
    s.finish(t);
    assert_eq!(s.screen(), Screen::Evaluate);
    assert!(s.identity().is_none() && s.form().is_none(), "wiped before the rating already");
    s.toggle_reason("too_slow", t);
    assert!(s.rating().unwrap().reasons.is_empty(), "no reasons before a dissatisfied level");
    s.rate(4, t);
    s.toggle_reason("too_slow", t);
    s.toggle_reason("no_such_reason", t);
    assert_eq!(s.rating().unwrap().reasons, ["too_slow"]);
    s.rate(2, t);
    assert!(s.rating().unwrap().reasons.is_empty(), "a satisfied level drops the reasons");
    let wall = time::OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
    let rating = s.send_rating(wall, t).unwrap();
    assert_eq!(rating.filing, kiosk_app::Filing::Rating);
    let e: kiosk_sync_proto::Evaluation = serde_json::from_slice(&rating.payload).unwrap();
    assert!(e.is_valid() && e.level == 2 && e.item_code == rating.item_code && !e.reference.is_empty());
    let text = String::from_utf8_lossy(&rating.payload).into_owned();
    assert!(!text.contains(&card.name) && !text.contains(&card.id_number), "no personal data in a rating");
    assert_eq!(s.screen(), Screen::ThankYou);
    assert_eq!(s.tick(t + s.config().thank_you), Idle::Wiped);
    assert_eq!(s.screen(), Screen::Attract);
    assert_eq!((s.lang(), s.elder()), (Lang::Zh, false), "elder mode and language last one session only");
    assert!(s.submission().is_none() && s.item().is_none() && s.query().is_empty());
}

#[test]
fn idle_warns_then_wipes_and_elder_mode_gets_twice_the_time() {
    let mut f = fixture("idle");
    let s = &mut f.session;
    let t = f.t;
    s.card_read(&resident(), t);
    assert_eq!(s.screen(), Screen::Home, "a card on the attract screen starts a session");
    let limit = s.config().idle_after;
    let countdown = s.config().countdown;
    assert_eq!(s.tick(t + limit - Duration::from_secs(1)), Idle::Active);
    assert_eq!(
        s.tick(t + limit + Duration::from_secs(5)),
        Idle::Warning((countdown - Duration::from_secs(5)).as_secs())
    );
    assert!(s.idle_warning().is_some());
    s.keep_going(t + limit + Duration::from_secs(6));
    assert_eq!(s.idle_warning(), None);
    let t2 = t + limit + Duration::from_secs(6);
    assert_eq!(s.tick(t2 + limit + countdown), Idle::Wiped);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(s.identity().is_none());

    s.start(t2);
    s.set_elder(true, t2);
    assert_eq!(
        s.tick(t2 + limit + Duration::from_secs(1)),
        Idle::Active,
        "elder mode doubles the quiet time"
    );
    assert!(matches!(s.tick(t2 + limit * 2 + Duration::from_secs(1)), Idle::Warning(_)));
}

#[test]
fn login_code_identifies_without_prefill_and_other_scans_are_explained() {
    let mut f = fixture("scan");
    let s = &mut f.session;
    let t = f.t;
    s.start(t);
    s.proceed(t);
    s.scan(&Scan { kind: ScanKind::Url, text: "https://example.invalid".into() }, t);
    assert_eq!((s.screen(), s.notice()), (Screen::Identify, Some(Notice::NotLoginCode)));
    s.scan_rejected(kiosk_scanner::Rejection::Binary, t);
    assert_eq!(s.notice(), Some(Notice::ScanGarbled));
    s.scan(&Scan { kind: ScanKind::LoginCode, text: "GDZWFW:token".into() }, t);
    assert_eq!(s.screen(), Screen::Home);
    let item = phone_item(s.library());
    s.open_item(item, t);
    s.begin_form(t);
    let form = s.form().unwrap();
    assert!(
        (0..form.fields().len()).all(|i| form.value(i).is_empty()),
        "nothing pre-filled from a login code"
    );
}

#[test]
fn a_new_catalogue_waits_for_the_session_to_end() {
    let mut f = fixture("library");
    let s = &mut f.session;
    let t = f.t;
    assert!(s.offer_library(library("v2")), "nobody at the kiosk: switched at once");
    assert_eq!(s.library().version(), "v2");
    s.start(t);
    s.proceed(t);
    s.card_read(&resident(), t);
    s.open_search(t);
    s.search_type("gjj", t);
    let hits = s.hits().to_vec();
    assert!(!s.offer_library(library("v3")), "a resident is mid-session");
    assert_eq!((s.library().version(), s.pending_version()), ("v2", Some("v3")));
    assert_eq!(s.hits(), hits, "the list does not change under the resident's finger");
    s.finish(t);
    assert_eq!(s.screen(), Screen::Attract);
    assert_eq!((s.library().version(), s.pending_version()), ("v3", None));
}

#[test]
fn back_and_home_navigate_and_back_from_the_start_ends_the_session() {
    let mut f = fixture("nav");
    let s = &mut f.session;
    let t = f.t;
    s.start(t);
    s.proceed(t);
    s.card_read(&resident(), t);
    let topic = s.library().topics()[0].code.clone();
    s.open_topic(&topic, t);
    let first = s.page_hits()[0];
    s.open_item(first, t);
    s.back(t);
    assert_eq!(s.screen(), Screen::List);
    s.home(t);
    assert_eq!(s.screen(), Screen::Home);
    s.back(t);
    assert_eq!(s.screen(), Screen::Welcome, "back from home goes to the language choice, not identification");
    s.back(t);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(s.identity().is_none());
}

#[test]
fn the_maintenance_screen_needs_the_pin_and_locks_out() {
    let mut f = fixture("pin");
    let s = &mut f.session;
    let t = f.t;
    s.start(t);
    s.open_pin(t);
    assert_eq!(s.screen(), Screen::Welcome, "not reachable while a resident uses the kiosk");
    s.wipe(t);
    s.open_pin(t);
    assert_eq!(s.screen(), Screen::Pin);
    for d in "482915".chars() {
        s.pin_key(&d.to_string(), t);
    }
    assert_eq!(s.pin_digits(), 6);
    let (stored, digits) = s.pin_submit(t).unwrap();
    assert_eq!(s.pin_digits(), 0, "the digits leave the screen");
    assert_eq!((stored.as_str(), digits.as_str()), ("$argon2id$stored", "482915"));
    s.pin_result(true, t);
    assert_eq!(s.screen(), Screen::Maintenance);
    s.close_maintenance(t);
    assert_eq!(s.screen(), Screen::Attract);

    s.open_pin(t);
    for _ in 0..kiosk_app::pin::ATTEMPTS {
        s.pin_key("1", t);
        let (_, digits) = s.pin_submit(t).unwrap();
        assert_eq!(digits.as_str(), "1");
        s.pin_result(false, t);
    }
    assert!(s.pin_locked().is_some());
    assert!(s.pin_submit(t).is_none(), "locked: nothing is even checked");
    assert_eq!(s.screen(), Screen::Pin);
}

/// To the confirmation of 个人参保证明打印 (name and number from the card, the year chosen).
fn reach_confirm(s: &mut Session, t: Instant) {
    reach_confirm_with(s, &resident(), t);
}

fn reach_confirm_with(s: &mut Session, card: &IdCard, t: Instant) {
    s.card_read(card, t);
    s.open_search(t);
    s.search_type("sbcx", t);
    let first = s.hits()[0];
    s.open_item(first, t);
    s.begin_form(t);
    let year = s.form().unwrap().fields().iter().position(|f| f.kind == FieldKind::Choice).unwrap();
    let choice = s.form().unwrap().fields()[year].choices[0].clone();
    s.choose(year, &choice, t);
    s.review(t);
    assert_eq!(s.screen(), Screen::Confirm);
}

#[test]
fn a_full_outbox_refuses_with_a_notice_and_keeps_what_it_holds() {
    let mut f = fixture("full");
    // Back-pressure: the outbox takes one unsent submission and refuses the next.
    f.outbox = Outbox::open_with_key_file(
        &f.db,
        &f.db.with_file_name("payload.key"),
        Options { max_pending: 1, ..Options::default() },
    )
    .unwrap();
    let t = f.t;
    reach_confirm(&mut f.session, t);
    submit(&mut f.outbox, &mut f.session, t).unwrap();
    let first = f.session.submission().unwrap().outbox_id;
    f.session.wipe(t);
    reach_confirm(&mut f.session, t);
    assert!(submit(&mut f.outbox, &mut f.session, t).is_err());
    assert_eq!(f.session.screen(), Screen::Confirm, "the resident stays on the confirmation");
    assert_eq!(f.session.notice(), Some(Notice::SubmitFailed));
    assert!(f.session.submission().is_none(), "no slip for what was not queued");
    assert_eq!(f.outbox.row(first).unwrap().unwrap().state, Some(State::Pending), "the queued one is kept");
}

/// Every kind of card the reader knows fills a form's name and ID number and passes its checks:
/// the 2017 foreigner card's 15-character number once blocked those residents at "next".
#[test]
fn every_kind_of_card_gets_through_a_form() {
    for (name, card) in kiosk_idcard::sim::sample_cards() {
        let (mut f, t) = {
            let f = fixture("cards");
            let t = f.t;
            (f, t)
        };
        reach_confirm_with(&mut f.session, &card, t);
        let form = f.session.form().unwrap();
        let id = form.fields().iter().position(|x| x.kind == FieldKind::IdNumber).unwrap();
        assert_eq!(form.value(id), card.id_number, "{name}: the number comes from the card");
        assert!(form.is_prefilled(id), "{name}");
    }
}

/// "Finish" on a form the resident typed into asks before wiping it; with nothing typed (only
/// what the card filled in) it ends at once.
#[test]
fn finish_asks_before_it_throws_typed_input_away() {
    let mut f = fixture("finish");
    let t = f.t;
    let s = &mut f.session;
    s.card_read(&resident(), t);
    let item = phone_item(s.library());
    s.open_item(item, t);
    s.begin_form(t);
    s.finish(t);
    assert_eq!(s.screen(), Screen::Attract, "nothing typed: nothing to lose");

    s.card_read(&resident(), t);
    s.open_item(item, t);
    s.begin_form(t);
    let phone = s.form().unwrap().fields().iter().position(|x| x.kind == FieldKind::Phone).unwrap();
    s.focus_field(phone, t);
    s.form_key("138", t);
    s.finish(t);
    assert!(s.finish_asked() && s.view(&[]).frame.finish_asked);
    assert_eq!((s.screen(), s.form().unwrap().value(phone)), (Screen::Form, "138"), "nothing wiped yet");
    s.keep_going(t);
    assert!(!s.finish_asked());
    assert_eq!(s.form().unwrap().value(phone), "138");
    s.finish(t);
    s.finish_confirmed(t);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(s.form().is_none() && s.identity().is_none() && !s.finish_asked());
}
