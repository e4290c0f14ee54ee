//! Every screen's view model comes from the core: what each page shows, with personal data
//! masked, codes instead of words, and the maintenance rows from the queue's figures. No screen,
//! no outbox: the shell's part is only to map these types onto Slint's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kiosk_app::form::FieldError;
use kiosk_app::view::{
    DayUnit, ListKind, Page, Part, PinMessage, PrintState, Queue, RowHealth, RowKey, SelfTest, SelfTestKind,
};
use kiosk_app::{Config, Device, Health, Library, Queued, Screen, Session, Stamp};
use kiosk_catalogue::model::FieldKind;
use kiosk_escpos::PrintProblem;
use kiosk_idcard::{CardKind, IdCard};

fn session() -> (Session, Instant) {
    let bytes = kiosk_catalogue::to_bundle(&kiosk_catalogue::sample());
    let library = Arc::new(Library::new(kiosk_catalogue::Bundle::open(&bytes).unwrap()));
    let mut config = Config::new("NH-GC-0007");
    // The core hands the stored hash and the digits to the shell, which checks them.
    config.pin_hash = Some("$argon2id$stored".into());
    let t = Instant::now();
    (Session::new(config, library, t), t)
}

fn resident() -> IdCard {
    kiosk_idcard::sim::sample_cards().into_iter().find(|(n, _)| *n == "resident").unwrap().1
}

fn page(s: &Session) -> Page {
    s.view(&[]).page
}

#[test]
fn each_screen_has_its_view_model_with_personal_data_masked() {
    let (mut s, t) = session();
    let card = resident();
    assert_eq!(page(&s), Page::Plain);
    s.card_read(&card, t);
    let view = s.view(&[]);
    assert_eq!(view.frame.screen, Screen::Home);
    assert!(view.frame.sample_catalogue && view.frame.kiosk_id == "NH-GC-0007");
    let Page::Home(home) = view.page else { panic!("{:?}", view.page) };
    let topic = &home.topics[0];
    assert_eq!(topic.count, s.library().by_topic(&topic.code).len());

    s.open_topic(&topic.code, t);
    let Page::List(list) = page(&s) else { panic!() };
    assert_eq!(
        (list.kind, list.title.as_str(), list.hits),
        (ListKind::Topic, topic.name.as_str(), topic.count)
    );
    assert_eq!(list.rows.len(), topic.count.min(s.page_size()));

    s.open_search(t);
    s.search_type("sbcx", t);
    let Page::List(list) = page(&s) else { panic!() };
    assert_eq!((list.kind, list.query.as_str()), (ListKind::Search, "sbcx"));
    assert!(list.rows.iter().any(|r| r.name.contains("参保")), "{list:?}");

    // An item with a form and a phone field: the details, then the form pre-filled from the card.
    let lib = s.library();
    let index = (0..lib.len())
        .find(|&i| {
            lib.item(i)
                .unwrap()
                .form
                .as_ref()
                .is_some_and(|f| f.fields.iter().any(|x| x.kind == FieldKind::Phone))
        })
        .unwrap();
    s.open_item(index, t);
    let Page::Detail(detail) = page(&s) else { panic!() };
    assert!(detail.can_apply);
    let item = s.item().unwrap();
    assert_eq!(detail.fees.is_empty(), !item.is_fee);
    if let Some(limit) = &detail.legal_limit {
        assert_eq!(limit.days, item.anticipate.as_ref().unwrap().day);
        assert!(matches!(limit.unit, DayUnit::Working | DayUnit::Calendar | DayUnit::Other(_)));
    }

    s.begin_form(t);
    let Page::Form(form) = page(&s) else { panic!() };
    let shown: Vec<&str> = form.fields.iter().map(|f| f.value.as_str()).collect();
    assert!(!shown.iter().any(|v| v.contains(&card.name) || v.contains(&card.id_number)), "{shown:?}");
    assert!(form.fields.iter().any(|f| f.prefilled && f.value == kiosk_pii::mask_name(&card.name)));
    assert_eq!(form.fields.iter().filter(|f| f.focused).count(), 1);
    s.review(t);
    let Page::Form(form) = page(&s) else { panic!() };
    assert!(form.fields.iter().any(|f| f.error == Some(FieldError::Required)), "{form:?}");

    // Filled in: the confirmation shows the values masked.
    let fields = s.form().unwrap().fields().to_vec();
    for (i, f) in fields.iter().enumerate() {
        if s.form().unwrap().is_prefilled(i) {
            continue;
        }
        s.focus_field(i, t);
        match f.kind {
            FieldKind::Choice => s.choose(i, &f.choices[0], t),
            FieldKind::Phone => s.form_key("13800138000", t),
            FieldKind::Date => s.form_key("2026-03-08", t),
            FieldKind::IdNumber => s.form_key(&card.id_number, t),
            FieldKind::Digits => s.form_key("6222020200112233", t),
            FieldKind::Text => s.form_key("ok", t),
        }
    }
    s.review(t);
    let Page::Confirm(confirm) = page(&s) else { panic!("{:?}", s.form()) };
    assert!(confirm.rows.iter().all(|r| {
        !r.value.contains(&card.id_number)
            && !r.value.contains("13800138000")
            && !r.value.contains("6222020200112233")
    }));

    // Queued: the receipt page, then a failed print with its reason.
    let stamp = Stamp { wall: time::OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap(), random: 7 };
    let _enqueue = s.submit(stamp, t).unwrap();
    s.queued(Ok(Queued { outbox_id: 1, idempotency_key: "k-1".into() }), t).unwrap();
    let Page::Receipt(receipt) = page(&s) else { panic!() };
    assert_eq!((receipt.print, receipt.slip.is_none(), receipt.filed), (PrintState::Waiting, true, false));
    let _slip = s.receipt_ready(Some("NH20261127000123".into())).unwrap();
    s.printed(Err(PrintProblem::Paper), t);
    let Page::Receipt(receipt) = page(&s) else { panic!() };
    assert_eq!(receipt.print, PrintState::Failed(PrintProblem::Paper));
    assert!(receipt.filed && receipt.reference == "NH20261127000123" && receipt.slip.is_some());
    assert!(receipt.tracking_url.ends_with("NH20261127000123"), "{}", receipt.tracking_url);

    // The rating: reasons offered only once dissatisfied.
    s.finish(t);
    assert_eq!(page(&s), Page::Evaluate(kiosk_app::view::Evaluate { level: None, reasons: Vec::new() }));
    s.rate(5, t);
    s.toggle_reason("device_fault", t);
    let Page::Evaluate(e) = page(&s) else { panic!() };
    assert_eq!(e.level, Some(5));
    assert_eq!(e.reasons.len(), 6);
    assert_eq!(e.reasons.iter().filter(|(_, ticked)| *ticked).count(), 1);
    s.skip_rating(t);
    assert_eq!(page(&s), Page::Plain, "the thank-you page holds nothing");
}

#[test]
fn the_maintenance_view_comes_from_the_queue_the_devices_and_the_self_tests() {
    let (mut s, t) = session();
    s.device_changed(Device::Reader, Health::Ok, "/dev/ttyUSB0 · SAM 05.01".into());
    s.device_changed(Device::Printer, Health::Down, "usb:0fe6:811e: no answer".into());
    s.queue_read(Queue {
        pending: 3,
        acknowledged: 10,
        refused: 1,
        quarantined: 0,
        oldest_pending_ms: Some(90_000),
        last_upload_ms: Some(1_795_000_000_000),
        uploads: Some(Part { health: Health::Warning, detail: "certificate refused".into() }),
        clock: Some(Part { health: Health::Ok, detail: String::new() }),
        catalogue_update: None,
    });
    let frame = s.view(&[]).frame;
    assert!(frame.offline && frame.pending == 3 && frame.reader_ok && !frame.printer_ok);

    s.open_pin(t);
    s.pin_key("1", t);
    let _check = s.pin_submit(t).unwrap();
    s.pin_result(false, t);
    let Page::Pin(pin) = page(&s) else { panic!() };
    assert_eq!((pin.digits, pin.message), (0, PinMessage::Wrong { tries_left: 4 }));
    s.pin_result(true, t);
    assert_eq!(s.screen(), Screen::Maintenance);

    let log = vec!["INFO kiosk-ui started".to_owned()];
    let Page::Maintenance(m) = s.view(&log).page else { panic!() };
    assert_eq!(m.log, log);
    let row = |key| m.rows.iter().find(|r| r.key == key).unwrap_or_else(|| panic!("no {key:?} row"));
    assert_eq!((row(RowKey::Reader).health, row(RowKey::Printer).health), (RowHealth::Ok, RowHealth::Down));
    assert_eq!(row(RowKey::Outbox).health, RowHealth::Warning, "a refused submission wants a technician");
    assert_eq!(row(RowKey::Outbox).figures, vec![3, 10, 1, 0, 90]);
    let uploads = row(RowKey::Uploads);
    assert_eq!((uploads.health, uploads.figures.as_slice()), (RowHealth::Down, &[1][..]));
    assert_eq!(uploads.detail, "certificate refused");
    assert!(uploads.note.starts_with("2026-"), "the last upload's time: {}", uploads.note);
    assert_eq!(row(RowKey::Clock).health, RowHealth::Ok);
    assert!(!m.rows.iter().any(|r| r.key == RowKey::CatalogueUpdate), "no report, no row");
    assert_eq!(row(RowKey::Kiosk).detail, "NH-GC-0007");

    // Self-tests: a card read here tests the reader and never starts a session.
    s.self_test(SelfTestKind::Reader, false);
    let card = resident();
    s.card_read(&card, t + Duration::from_secs(1));
    assert_eq!(s.screen(), Screen::Maintenance);
    let Page::Maintenance(m) = page(&s) else { panic!() };
    assert_eq!(
        m.self_test,
        SelfTest::CardRead { kind: CardKind::Resident, masked_name: kiosk_pii::mask_name(&card.name) }
    );
    s.self_test(SelfTestKind::Printer, false);
    assert_eq!(*s.self_test_result(), SelfTest::NoPrinter);
    s.close_maintenance(t);
    assert_eq!((s.screen(), s.self_test_result()), (Screen::Attract, &SelfTest::None));
}

fn records_answer(page: u32) -> kiosk_sync_proto::live::Records {
    use kiosk_sync_proto::live::{Figure, RecordRow, Records};
    let mut r = Records::default();
    r.record = "social_insurance".into();
    r.account = "440601234****".into();
    r.page = page;
    r.pages = 3;
    r.as_of = "2026-11-29".into();
    r.summary.push(Figure { key: "months_paid".into(), value: 41 });
    r.summary.push(Figure { key: "total_personal".into(), value: 3_456_789 });
    r.rows.push(RecordRow {
        period: "2026-10".into(),
        kind: "pension".into(),
        amount: 64_000,
        other: 112_000,
        base: 800_000,
        payer: "佛山示例科技有限公司".into(),
    });
    r
}

#[test]
fn a_resident_looks_up_their_records_page_by_page_and_prints_a_masked_slip() {
    use kiosk_app::lookup::{LiveFailure, Question, Reply};
    use kiosk_app::view::{LookupView, PrintState};
    let (mut s, t) = session();
    let card = resident();
    s.card_read(&card, t);
    let lib = s.library();
    let item = (0..lib.len())
        .find(|&i| {
            lib.summary(i).kind
                == kiosk_catalogue::Kind::Query(kiosk_catalogue::model::Record::SocialInsurance)
        })
        .expect("the sample catalogue has a social insurance query");
    s.open_item(item, t);
    let Page::Detail(detail) = page(&s) else { panic!() };
    assert!(detail.can_query && !detail.can_apply);

    let ask = s.open_records(t).unwrap();
    let Question::Records(q) = &ask.question else { panic!() };
    assert_eq!(
        (q.record.as_str(), q.page, q.person.id_number.as_str()),
        ("social_insurance", 0, card.id_number.as_str())
    );
    let Page::Records(p) = page(&s) else { panic!() };
    assert_eq!(p.state, LookupView::Waiting);
    assert_eq!(p.holder, kiosk_pii::mask_name(&card.name));
    assert!(!p.holder_number.contains(&card.id_number));

    s.live_answer(ask.id, Ok(Reply::Records(records_answer(0))), t);
    let Page::Records(p) = page(&s) else { panic!() };
    assert_eq!(p.state, LookupView::Shown);
    assert_eq!((p.rows[0].amount.as_str(), p.rows[0].base.as_str()), ("640.00", "8,000.00"));
    assert_eq!(p.summary[1].value, "34,567.89");
    assert_eq!(p.summary[0].value, "41", "a count, not money");

    // Paging on: an answer to the old question that arrives late is dropped.
    let next = s.records_page(true, t).unwrap();
    assert!(next.id > ask.id);
    s.live_answer(ask.id, Ok(Reply::Records(records_answer(0))), t);
    assert_eq!(s.view(&[]).page, page(&s));
    let Page::Records(p) = page(&s) else { panic!() };
    assert_eq!(p.state, LookupView::Waiting, "the late answer to page 1 is not shown as page 2");
    s.live_answer(next.id, Err(LiveFailure::NetworkUnavailable), t);
    let Page::Records(p) = page(&s) else { panic!() };
    assert_eq!(p.state, LookupView::Failed(LiveFailure::NetworkUnavailable));
    let retry = s.retry_records(t).unwrap();
    s.live_answer(retry.id, Ok(Reply::Records(records_answer(1))), t);
    let Page::Records(p) = page(&s) else { panic!() };
    assert_eq!((p.state, p.page), (LookupView::Shown, 1));

    // The slip: masked holder, the account as the service network masked it.
    let wall = time::OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
    let slip = s.print_records(wall, t).unwrap();
    let text = format!("{slip:?}");
    assert!(text.contains(&kiosk_pii::mask_name(&card.name)) && text.contains("440601234****"), "{text}");
    assert!(!text.contains(&card.id_number) && !text.contains(&card.name));
    s.printed(Err(PrintProblem::Paper), t);
    let Page::Records(p) = page(&s) else { panic!() };
    assert_eq!(p.print, Some(PrintState::Failed(PrintProblem::Paper)));

    // Back to the details: the records are gone.
    s.back(t);
    assert!(s.lookup().is_none() && s.screen() == Screen::Detail);

    // A login code carries no ID number: no lookup.
    let (mut s, t) = session();
    let scan = kiosk_scanner::Scan { kind: kiosk_scanner::ScanKind::LoginCode, text: "GDZWFW:token".into() };
    s.scan(&scan, t);
    s.open_item(item, t);
    assert!(s.open_records(t).is_none());
}

fn case(number: &str, submission_id: &str, current: u32, next: &str) -> kiosk_sync_proto::live::Case {
    use kiosk_sync_proto::live::{Case, Step, step};
    let steps = [step::SUBMITTED, step::ACCEPTED, step::REVIEW, step::CONCLUDED]
        .iter()
        .enumerate()
        .map(|(i, s)| Step {
            step: (*s).into(),
            at: if i as u32 <= current { "2026-12-01 10:00".into() } else { String::new() },
        })
        .collect();
    Case {
        case_number: number.into(),
        submission_id: submission_id.into(),
        item_name: "个人参保证明打印".into(),
        steps,
        current,
        next: next.into(),
        ..Case::default()
    }
}

#[test]
fn a_resident_follows_their_applications_by_card_and_by_slip() {
    use kiosk_app::lookup::{LiveFailure, Question, Reply};
    use kiosk_app::progress::{Mode, Unsent};
    use kiosk_app::view::{LookupView, NextAction, StepKind};
    use kiosk_sync_proto::live::Progress;
    let (mut s, t) = session();
    let card = resident();
    s.card_read(&card, t);
    let Page::Home(home) = page(&s) else { panic!() };
    assert!(home.follow_mine, "identified by card");

    // By card: the question names the person; this kiosk's unsent applications of theirs are
    // shown as waiting here, another resident's are not.
    let ask = s.open_progress(t).unwrap();
    let Question::Progress(q) = &ask.question else { panic!() };
    assert_eq!(q.person.as_ref().map(|p| p.id_number.as_str()), Some(card.id_number.as_str()));
    let unsent = |id: &str, number: &str| {
        let mut sub = kiosk_sync_proto::Submission::default();
        sub.item_name = "高龄老人津贴申领".into();
        sub.form.0.push(kiosk_sync_proto::FormValue { key: "id_number".into(), value: number.into() });
        Unsent { submission_id: id.into(), submission: sub }
    };
    s.progress_waiting(vec![unsent("mine", &card.id_number), unsent("theirs", "11010519491231002X")]);
    let Page::Progress(p) = page(&s) else { panic!() };
    assert_eq!((p.mode, p.state), (Mode::Mine, Some(LookupView::Waiting)));
    assert_eq!(p.holder, kiosk_pii::mask_name(&card.name));
    assert_eq!(p.waiting_here.len(), 1, "only this resident's");
    // Offline, the waiting application is still shown.
    s.live_answer(ask.id, Err(LiveFailure::NetworkUnavailable), t);
    let Page::Progress(p) = page(&s) else { panic!() };
    assert_eq!(p.state, Some(LookupView::Failed(LiveFailure::NetworkUnavailable)));
    assert_eq!(p.waiting_here.len(), 1);
    let retry = s.retry_progress(t).unwrap();
    // The agent uploaded it meanwhile: shown once, as filed.
    let answer = Progress {
        cases: vec![case("NH20261201000002", "mine", 0, "wait"), case("NH20261101900001", "", 3, "collect")],
    };
    s.live_answer(ask.id, Ok(Reply::Progress(Progress::default())), t);
    let Page::Progress(p) = page(&s) else { panic!() };
    assert_eq!(p.state, Some(LookupView::Waiting), "an answer to the first question is dropped");
    s.live_answer(retry.id, Ok(Reply::Progress(answer)), t);
    let Page::Progress(p) = page(&s) else { panic!() };
    assert_eq!(p.cases.len(), 2);
    assert!(p.waiting_here.is_empty(), "the uploaded one is not shown twice");
    assert_eq!((p.cases[1].step, p.cases[1].next), (StepKind::Concluded, NextAction::Collect));
    s.open_case(1, t);
    let Page::Progress(p) = page(&s) else { panic!() };
    let detail = p.case.unwrap();
    assert_eq!(detail.steps.iter().filter(|l| l.current).count(), 1);
    assert!(detail.steps[3].current && detail.steps[2].done && !detail.steps[3].done);
    s.back(t);
    let Page::Progress(p) = page(&s) else { panic!() };
    assert!(p.case.is_none(), "back closes the case first");
    s.back(t);
    assert!(s.progress().is_none() && s.screen() == Screen::Home, "then leaves, the answer dropped");

    // By slip, without a card: its QR code at the start screen fills the number.
    let (mut s, t) = session();
    let slip = kiosk_scanner::Scan {
        kind: kiosk_scanner::ScanKind::Url,
        text: format!("{}NH20261201000002", kiosk_app::receipt::TRACKING_BASE),
    };
    s.scan(&slip, t);
    assert_eq!(s.screen(), Screen::Progress);
    let Page::Progress(p) = page(&s) else { panic!() };
    assert_eq!(
        (p.mode, p.state, p.scanned, p.reference.as_str()),
        (Mode::Slip, None, true, "NH20261201000002")
    );
    assert!(!p.can_search && s.progress_search(t).is_none(), "no password yet");
    s.progress_key("246810", t);
    let ask = s.progress_search(t).unwrap();
    let Question::Progress(q) = &ask.question else { panic!() };
    assert_eq!(
        (q.reference.as_str(), q.password.as_str(), q.person.is_none()),
        ("NH20261201000002", "246810", true)
    );
    let Page::Progress(p) = page(&s) else { panic!() };
    assert_eq!(p.password_len, 6);
    assert!(!format!("{p:?}").contains("246810"), "the password never reaches the screen");
    s.live_answer(ask.id, Err(LiveFailure::NotFound), t);
    s.back(t);
    let Page::Progress(p) = page(&s) else { panic!() };
    assert_eq!(p.state, None, "back from a failed lookup: the numbers to check");
    s.finish(t);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(s.progress().is_none());
}
