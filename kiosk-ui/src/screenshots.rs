//! `kiosk-ui --screenshots DIR`: every screen, in both languages and in elder mode, rendered by
//! the software renderer to PNG without a display. The walk drives the real app core (a sample
//! card, a real outbox file, the sample catalogue); only the devices are left out, their
//! outcomes (a printed slip, an empty paper roll) are told to the session directly.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use kiosk_app::lookup::{LiveFailure, Question, Reply};
use kiosk_app::view::Queue;
use kiosk_app::{Config, Device, Health, Lang, Library, Session};
use kiosk_catalogue::Kind;
use kiosk_catalogue::model::{FieldKind, Record};
use kiosk_outbox::{Options, Outbox};
use slint::ComponentHandle;

use crate::app::App;
use crate::controller::Kiosk;
use crate::devices::{Devices, PrintProblem};
use crate::headless::Screen;
use kiosk_config::DeviceConfig;

/// The time the screenshots' live answers are made for (2026-12-01 10:00 in Foshan), so every
/// run shows the same.
const SHOT_TIME_MS: i64 = 1_796_090_400_000;

/// Portrait full HD, the panel the kiosks have.
pub const WIDTH: u32 = 1080;
pub const HEIGHT: u32 = 1920;

#[derive(Debug, Clone, Copy)]
pub struct Variant {
    pub name: &'static str,
    pub lang: Lang,
    pub elder: bool,
}

pub const VARIANTS: [Variant; 4] = [
    Variant { name: "zh", lang: Lang::Zh, elder: false },
    Variant { name: "en", lang: Lang::En, elder: false },
    Variant { name: "zh-elder", lang: Lang::Zh, elder: true },
    Variant { name: "en-elder", lang: Lang::En, elder: true },
];

/// A value each kind of field accepts, for walking the form.
fn sample_value(field: &kiosk_catalogue::model::Field) -> String {
    let value = match field.kind {
        FieldKind::Text => "南海区桂城街道示例路 1 号".to_owned(),
        FieldKind::Digits => "123456".to_owned(),
        FieldKind::IdNumber => "11010519491231002X".to_owned(),
        FieldKind::Phone => "13800138000".to_owned(),
        FieldKind::Date => "2026-12-01".to_owned(),
        FieldKind::Choice => field.choices.first().cloned().unwrap_or_default(),
    };
    let max = field.max_len.unwrap_or(200) as usize;
    value.chars().take(max).collect()
}

/// The item the walk applies for: fully online, with a free-text field the resident types.
fn walk_item(library: &Library) -> Result<usize> {
    (0..library.len())
        .find(|&i| {
            library.item(i).is_ok_and(|it| {
                it.kind == kiosk_catalogue::Kind::Online
                    && it.form.as_ref().is_some_and(|f| {
                        f.fields.iter().any(|x| x.kind == FieldKind::Text && x.prefill.is_none())
                    })
            })
        })
        .context("the sample catalogue has no online item with a free-text field")
}

pub fn sample_library() -> Arc<Library> {
    let bundle = kiosk_catalogue::to_bundle(&kiosk_catalogue::sample());
    Arc::new(Library::new(kiosk_catalogue::Bundle::open(&bundle).expect("the sample bundle opens")))
}

/// Renders every screen of every variant into `dir`; returns the files written.
pub fn run(dir: &Path, font_dir: Option<&Path>, log: crate::logbuf::LogBuffer) -> Result<Vec<PathBuf>> {
    let screen = Screen::install(WIDTH, HEIGHT)?;
    crate::font::register(&crate::font::find(font_dir)?)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let work = tempdir(dir)?;
    let outbox =
        Outbox::open_with_key_file(&work.join("kiosk.db"), &work.join("payload.key"), Options::default())?;
    let mut config = Config::new("NH-GC-0007");
    config.pin_hash = Some(crate::pin::hash_new(crate::demo::DEMO_PIN)?);
    let library = sample_library();
    let item = walk_item(&library)?;
    let session = Session::new(config, library, Instant::now());
    let devices = Devices::start(&DeviceConfig::default(), crate::controller::wake)?;
    let kiosk = Kiosk::new(App::new(session, outbox, devices, None).with_log(log), None)?;
    kiosk.stop();
    kiosk.ui.show()?;
    let mut written = Vec::new();
    let total = VARIANTS.len();
    for (n, variant) in VARIANTS.iter().enumerate() {
        eprintln!("[{}/{total}] {} …", n + 1, variant.name);
        let mut shot = |name: &str, change: &dyn Fn(&mut App, Instant)| -> Result<()> {
            change(&mut kiosk.app.borrow_mut(), Instant::now());
            kiosk.render();
            let path = dir.join(format!("{}-{name}.png", variant.name));
            screen
                .png(&screen.render())
                .save(&path)
                .with_context(|| format!("writing {}", path.display()))?;
            written.push(path);
            Ok(())
        };
        let in_variant = |a: &mut App, now: Instant| {
            a.session.set_language(variant.lang, now);
            a.session.set_elder(variant.elder, now);
        };
        let card = kiosk_idcard::sim::sample_cards().remove(0).1;
        shot("01-attract", &|a, now| a.session.wipe(now))?;
        shot("02-welcome", &|a, now| {
            a.session.start(now);
            in_variant(a, now);
        })?;
        shot("03-identify", &|a, now| a.session.proceed(now))?;
        shot("04-identify-lift-card", &|a, now| a.session.lift_and_replace(now))?;
        shot("05-identify-no-reader", &|a, now| {
            // Back to the welcome screen and on again: the notice is gone.
            a.session.back(now);
            a.session.proceed(now);
            a.session.device_changed(Device::Reader, Health::Down, String::new());
        })?;
        shot("06-home", &|a, now| {
            a.session.device_changed(Device::Reader, Health::Ok, String::new());
            a.session.card_read(&card, now);
        })?;
        shot("07-topic", &|a, now| {
            let topic = a.session.library().topics()[0].code.clone();
            a.session.open_topic(&topic, now);
        })?;
        shot("08-search", &|a, now| {
            a.session.open_search(now);
            a.session.search_type("sbcx", now);
        })?;
        shot("09-detail", &|a, now| a.session.open_item(item, now))?;
        shot("10-form", &|a, now| a.session.begin_form(now))?;
        shot("11-form-errors", &|a, now| a.session.review(now))?;
        shot("12-form-pinyin", &|a, now| {
            let text = a.session.form().and_then(|f| {
                f.fields().iter().position(|x| x.kind == FieldKind::Text && x.prefill.is_none())
            });
            if let Some(i) = text {
                a.session.focus_field(i, now);
                a.session.form_key("zhang", now);
            }
        })?;
        shot("13-confirm", &|a, now| {
            let fields = a.session.form().map(|f| f.fields().to_vec()).unwrap_or_default();
            for (i, f) in fields.iter().enumerate() {
                if a.session.form().is_some_and(|form| form.is_prefilled(i)) {
                    continue;
                }
                a.session.focus_field(i, now);
                if f.kind == FieldKind::Choice {
                    a.session.choose(i, &sample_value(f), now);
                } else {
                    while a.session.form().is_some_and(|form| !form.value(i).is_empty()) {
                        a.session.form_backspace(now);
                    }
                    // Typed through the form engine, as the keyboard would (no pinyin here).
                    if let Some(form) = a.session.form_mut() {
                        form.type_text(&sample_value(f));
                    }
                }
            }
            a.session.review(now);
        })?;
        shot("14-submitting", &|a, now| a.submit(now).expect("the outbox takes the submission"))?;
        shot("15-done", &|a, now| {
            let _slip = a.session.receipt_ready(Some("NH20261127000123".to_owned()));
            a.session.printed(Ok(()), now);
        })?;
        // Offline: the oldest submission has waited two minutes.
        let waited = |a: &mut App, ms: Option<i64>| {
            let queue = Queue { oldest_pending_ms: ms, ..a.session.queue().clone() };
            a.session.queue_read(queue);
        };
        shot("16-done-no-paper-offline", &|a, now| {
            waited(a, Some(120_000));
            a.session.printed(Err(PrintProblem::Paper), now);
        })?;
        shot("36-evaluation", &|a, now| {
            waited(a, None);
            a.session.finish(now);
            a.session.rate(4, now);
            a.session.toggle_reason("too_slow", now);
        })?;
        shot("17-thank-you", &|a, now| a.send_rating(now))?;
        shot("18-idle-warning", &|a, now| {
            a.session.wipe(now);
            a.session.start(now);
            in_variant(a, now);
            a.session.proceed(now);
            let quiet = a.session.idle_limit() + Duration::from_secs(8);
            a.session.tick(now + quiet);
        })?;
        shot("19-pin", &|a, now| {
            a.session.wipe(now);
            a.session.open_pin(now);
            in_variant(a, now);
            a.session.pin_key("2", now);
            a.session.pin_key("4", now);
        })?;
        shot("20-maintenance", &|a, now| a.session.pin_result(true, now))?;
        kiosk.app.borrow_mut().session.close_maintenance(Instant::now());
        // My records: the answer the reference gateway gives this card, without a network.
        shot("30-records", &|a, now| {
            a.session.start(now);
            in_variant(a, now);
            a.session.card_read(&card, now);
            let fund = (0..a.session.library().len())
                .find(|&i| a.session.library().summary(i).kind == Kind::Query(Record::HousingFund));
            a.session.open_item(fund.expect("the sample catalogue has a provident fund query"), now);
            let Some(ask) = a.session.open_records(now) else { return };
            let Question::Records(query) = &ask.question else { return };
            let answer = kiosk_gateway::live::records(query, time::macros::date!(2026 - 11 - 30));
            a.session.live_answer(ask.id, Ok(Reply::Records(answer)), now);
        })?;
        shot("31-records-offline", &|a, now| {
            if let Some(ask) = a.session.records_page(true, now) {
                a.session.live_answer(ask.id, Err(LiveFailure::NetworkUnavailable), now);
            }
        })?;
        // Progress: the reference gateway's cases for this card, and one application of the
        // resident's still waiting in the kiosk's outbox.
        shot("32-progress", &|a, now| {
            a.session.home(now);
            let Some(ask) = a.session.open_progress(now) else { return };
            let mut waiting = kiosk_sync_proto::Submission::default();
            waiting.item_name = "个人参保证明打印".into();
            waiting.submitted_at = "2026-12-01 09:12:40".into();
            waiting
                .form
                .0
                .push(kiosk_sync_proto::FormValue { key: "id_number".into(), value: card.id_number.clone() });
            a.session.progress_waiting(vec![kiosk_app::progress::Unsent {
                submission_id: "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b".into(),
                submission: waiting,
            }]);
            let Question::Progress(q) = &ask.question else { return };
            let person = q.person.as_ref().map(|p| p.id_number.clone()).unwrap_or_default();
            let cases = kiosk_gateway::live::earlier_cases(&person, SHOT_TIME_MS);
            a.session.live_answer(
                ask.id,
                Ok(Reply::Progress(kiosk_sync_proto::live::Progress { cases })),
                now,
            );
        })?;
        shot("33-progress-case", &|a, now| a.session.open_case(0, now))?;
        shot("34-progress-slip", &|a, now| {
            a.session.wipe(now);
            a.session.start(now);
            in_variant(a, now);
            a.session.proceed(now);
            a.session.open_progress_by_slip(now);
            a.session.progress_key("20261201000042", now);
            a.session.progress_key("1234", now);
        })?;
        shot("35-progress-slip-not-found", &|a, now| {
            a.session.progress_key("56", now);
            if let Some(ask) = a.session.progress_search(now) {
                a.session.live_answer(ask.id, Err(LiveFailure::NotFound), now);
            }
        })?;
        kiosk.app.borrow_mut().session.wipe(Instant::now());
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(written)
}

fn tempdir(dir: &Path) -> Result<PathBuf> {
    let work = dir.join(format!(".work-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    Ok(work)
}
