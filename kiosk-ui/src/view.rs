//! Writes the session's state into the screens' `Api` global. The session decides; this only
//! translates its view into Slint's types, and skips models that did not change so a touch does
//! not rebuild every list on screen.

use std::rc::Rc;

use kiosk_app::form::Keyboard;
use kiosk_app::session::ListSource;
use kiosk_app::{Health, Printing, Screen, Session};
use kiosk_catalogue::{Item, Kind};
use kiosk_outbox::{Health as PartHealth, Part};
use slint::{ComponentHandle, Image, ModelRc, Rgb8Pixel, SharedPixelBuffer, SharedString, VecModel};

use crate::app::{App, SelfTest};
use crate::ui::{
    Api, AppWindow, DayUnit, Detail, DeviceRow, Field, ItemRow, Material, Row, ScreenId, SelfTestCode,
    SelfTestResult, Theme, Tile, TimeLimit,
};
use kiosk_scanner::{Rejection, ScanKind};

/// Remembers what was shown, to set only what changed.
#[derive(Default)]
pub struct View {
    lang: Option<kiosk_app::Lang>,
    topics: Vec<Tile>,
    departments: Vec<Tile>,
    items: Vec<ItemRow>,
    fields: Vec<Field>,
    candidates: Vec<SharedString>,
    confirm: Vec<Row>,
    devices: Vec<DeviceRow>,
    logs: Vec<SharedString>,
    library_version: String,
    detail_of: Option<String>,
    slip_of: Option<String>,
}

impl std::fmt::Debug for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("View").field("lang", &self.lang).finish_non_exhaustive()
    }
}

fn model<T: Clone + 'static>(v: &[T]) -> ModelRc<T> {
    ModelRc::from(Rc::new(VecModel::from(v.to_vec())))
}

/// Sets a model only when its rows changed.
fn update<T: Clone + PartialEq + 'static>(cache: &mut Vec<T>, new: Vec<T>, set: impl FnOnce(ModelRc<T>)) {
    if *cache != new {
        *cache = new;
        set(model(cache));
    }
}

fn screen_id(screen: Screen) -> ScreenId {
    match screen {
        Screen::Attract => ScreenId::Attract,
        Screen::Welcome => ScreenId::Welcome,
        Screen::Identify => ScreenId::Identify,
        Screen::Home => ScreenId::Home,
        Screen::List => ScreenId::List,
        Screen::Detail => ScreenId::Detail,
        Screen::Form => ScreenId::Form,
        Screen::Confirm => ScreenId::Confirm,
        Screen::Submitting => ScreenId::Submitting,
        Screen::Done => ScreenId::Done,
        Screen::ThankYou => ScreenId::ThankYou,
        Screen::Pin => ScreenId::Pin,
        Screen::Maintenance => ScreenId::Maintenance,
    }
}

pub fn kind_code(kind: Kind) -> &'static str {
    match kind {
        Kind::Online => "online",
        Kind::PreApplication => "pre_application",
        Kind::Info => "info",
        Kind::Job => "job",
    }
}

/// The catalogue writes units in Chinese (`工作日`); the screen words them in the resident's
/// language.
fn time_limit(limit: Option<&kiosk_catalogue::model::TimeLimit>) -> TimeLimit {
    let Some(l) = limit else { return TimeLimit::default() };
    let unit = match l.unit.as_str() {
        "工作日" => DayUnit::Working,
        "自然日" | "日" | "天" => DayUnit::Calendar,
        _ => DayUnit::Other,
    };
    TimeLimit { known: true, days: l.day as i32, unit, unit_text: l.unit.as_str().into() }
}

fn detail(session: &Session, item: &Item, can_apply: bool) -> Detail {
    let library = session.library();
    let fees = item.fees.iter().map(|f| format!("{}：{}", f.name, f.standard)).collect::<Vec<_>>().join("；");
    Detail {
        name: item.task_name.as_str().into(),
        code: item.task_code.as_str().into(),
        department: library.department_name(&item.dept_code).unwrap_or(&item.dept_code).into(),
        kind: kind_code(item.kind).into(),
        conditions: item.accept_condition.as_str().into(),
        steps: model(&item.handle_flow.iter().map(|s| SharedString::from(s.as_str())).collect::<Vec<_>>()),
        materials: model(
            &item
                .materials
                .iter()
                .map(|m| Material {
                    name: m.material_name.as_str().into(),
                    form: format!("{}{}", m.material_type, m.material_format).into(),
                    copies: m.page_num.max(1) as i32,
                    required: m.is_need == "必要",
                })
                .collect::<Vec<_>>(),
        ),
        legal_limit: time_limit(item.anticipate.as_ref()),
        promised_limit: time_limit(item.promise.as_ref()),
        visits: item.limit_scene_num as i32,
        free: !item.is_fee,
        fees: fees.into(),
        phone: item.link_way.as_str().into(),
        address: item.transact_addr.as_str().into(),
        hours: item.transact_time.as_str().into(),
        can_apply,
    }
}

fn health(h: Health) -> &'static str {
    match h {
        Health::Ok => "ok",
        Health::Warning => "warning",
        Health::Down => "down",
        Health::Unknown => "unknown",
    }
}

/// A QR code as a crisp image: `scale` pixels a module, with the standard quiet zone.
pub fn qr_image(data: &str, scale: u32) -> Image {
    let Ok(code) = qrcode::QrCode::new(data.as_bytes()) else { return Image::default() };
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let size = (modules + 8) * scale;
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(size, size);
    let pixels = buffer.make_mut_slice();
    for y in 0..size {
        for x in 0..size {
            let (mx, my) = ((x / scale) as i64 - 4, (y / scale) as i64 - 4);
            let dark = mx >= 0
                && my >= 0
                && (mx as u32) < modules
                && (my as u32) < modules
                && colors[(my as u32 * modules + mx as u32) as usize] == qrcode::Color::Dark;
            let v = if dark { 0 } else { 255 };
            pixels[(y * size + x) as usize] = Rgb8Pixel { r: v, g: v, b: v };
        }
    }
    Image::from_rgb8(buffer)
}

/// The slip as the printer will print it, from the same layout code.
pub fn slip_image(slip: &kiosk_escpos::Slip) -> Image {
    let Ok(canvas) = kiosk_escpos::preview::render(slip, &kiosk_escpos::profile::GB18030_80) else {
        return Image::default();
    };
    let gray = canvas.to_image();
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(gray.width(), gray.height());
    for (out, p) in buffer.make_mut_slice().iter_mut().zip(gray.pixels()) {
        *out = Rgb8Pixel { r: p.0[0], g: p.0[0], b: p.0[0] };
    }
    Image::from_rgb8(buffer)
}

impl View {
    pub fn render(&mut self, app: &App, ui: &AppWindow) {
        let s = &app.session;
        let api = ui.global::<Api>();
        if self.lang != Some(s.lang) {
            self.lang = Some(s.lang);
            if let Err(e) = slint::select_bundled_translation(s.lang.code()) {
                tracing::warn!(error = %e, "translation not available");
            }
        }
        api.set_lang(if s.lang == kiosk_app::Lang::En { "en".into() } else { "zh".into() });
        ui.global::<Theme>().set_elder(s.elder);
        api.set_screen(screen_id(s.screen));
        api.set_notice(s.notice.map(|n| n.code()).unwrap_or_default().into());
        api.set_idle_seconds_left(match s.idle_warning() {
            Some(left) => left as i32,
            None => 0,
        });
        let library = s.library();
        api.set_sample_catalogue(library.is_sample());
        api.set_catalogue_version(library.version().into());
        api.set_kiosk_id(s.config().kiosk_id.as_str().into());
        api.set_offline(s.devices.offline);
        api.set_pending(s.devices.pending as i32);
        api.set_reader_ok(s.devices.reader != Health::Down);
        api.set_printer_ok(s.devices.printer != Health::Down);

        if self.library_version != library.version() {
            self.library_version = library.version().to_owned();
            self.topics.clear();
            self.departments.clear();
        }
        if s.screen == Screen::Home {
            let topics = library
                .topics()
                .iter()
                .map(|t| Tile {
                    code: t.code.as_str().into(),
                    name: t.name.as_str().into(),
                    count: library.by_topic(&t.code).len() as i32,
                })
                .collect();
            update(&mut self.topics, topics, |m| api.set_topics(m));
            let departments = library
                .departments()
                .iter()
                .map(|d| Tile {
                    code: d.code.as_str().into(),
                    name: d.name.as_str().into(),
                    count: library.by_department(&d.code).len() as i32,
                })
                .collect();
            update(&mut self.departments, departments, |m| api.set_departments(m));
        }

        if s.screen == Screen::List {
            let (kind, title) = match &s.list_source {
                ListSource::Topic(code) => ("topic", library.topic_name(code).unwrap_or(code).to_owned()),
                ListSource::Department(code) => {
                    ("department", library.department_name(code).unwrap_or(code).to_owned())
                }
                ListSource::Search => ("search", String::new()),
            };
            api.set_list_kind(kind.into());
            api.set_list_title(title.into());
            api.set_query(s.query.as_str().into());
            api.set_page(s.page as i32);
            api.set_pages(s.pages() as i32);
            api.set_hit_count(s.hits().len() as i32);
            let rows = s
                .page_hits()
                .iter()
                .map(|&i| {
                    let summary = library.summary(i);
                    ItemRow {
                        index: i as i32,
                        name: summary.task_name.as_str().into(),
                        department: library
                            .department_name(&summary.dept_code)
                            .unwrap_or(&summary.dept_code)
                            .into(),
                        kind: kind_code(summary.kind).into(),
                    }
                })
                .collect();
            update(&mut self.items, rows, |m| api.set_items(m));
        }

        if let Some(item) = s.item() {
            api.set_item_name(item.task_name.as_str().into());
            if self.detail_of.as_deref() != Some(item.task_code.as_str()) {
                self.detail_of = Some(item.task_code.clone());
                api.set_detail(detail(s, item, s.can_apply()));
                api.set_pre_application(item.kind == Kind::PreApplication);
                api.set_visit_address(item.transact_addr.as_str().into());
            }
        } else {
            self.detail_of = None;
        }

        if let Some(form) = s.form() {
            let fields = form
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| Field {
                    label_zh: f.label_zh.as_str().into(),
                    label_en: f.label_en.as_str().into(),
                    value: form.shown_value(i).into(),
                    prefilled: form.is_prefilled(i),
                    error: form.error(i).map(|e| e.code()).unwrap_or_default().into(),
                    limit: form.error(i).map_or(0, |e| e.limit() as i32),
                    focused: i == form.focus,
                    required: f.required,
                    choices: model(
                        &f.choices.iter().map(|c| SharedString::from(c.as_str())).collect::<Vec<_>>(),
                    ),
                })
                .collect();
            update(&mut self.fields, fields, |m| api.set_fields(m));
            api.set_keyboard(
                match s.keyboard() {
                    Keyboard::Chinese => "chinese",
                    Keyboard::Digits => "digits",
                    Keyboard::Choices => "choices",
                }
                .into(),
            );
            api.set_composing(s.composer.letters().into());
            let candidates =
                s.composer.candidates().into_iter().map(|c| SharedString::from(c.to_string())).collect();
            update(&mut self.candidates, candidates, |m| api.set_candidates(m));
            api.set_more_candidates(s.composer.has_more());
            let confirm = s
                .confirm_rows()
                .into_iter()
                .map(|(zh, en, value)| Row { label_zh: zh.into(), label_en: en.into(), value: value.into() })
                .collect();
            update(&mut self.confirm, confirm, |m| api.set_confirm_rows(m));
        } else {
            // Nothing of a finished form stays in the UI's models.
            update(&mut self.fields, Vec::new(), |m| api.set_fields(m));
            update(&mut self.confirm, Vec::new(), |m| api.set_confirm_rows(m));
        }

        match s.submission() {
            Some(sub) => {
                api.set_print_state(
                    match &sub.printing {
                        Printing::Waiting => "waiting",
                        Printing::Printing => "printing",
                        Printing::Printed => "printed",
                        Printing::Failed(_) => "failed",
                    }
                    .into(),
                );
                api.set_print_problem(app.print_problem.map(|p| p.code()).unwrap_or_default().into());
                api.set_filed(sub.receipt.case_number.is_some());
                api.set_reference(sub.receipt.reference().into());
                let ready = sub.printing != Printing::Waiting;
                let key = format!("{}{ready}", sub.receipt.reference());
                if self.slip_of.as_deref() != Some(key.as_str()) {
                    self.slip_of = Some(key);
                    api.set_tracking_qr(qr_image(&sub.receipt.tracking_url(), 8));
                    api.set_slip_preview(if ready {
                        slip_image(&sub.receipt.preview())
                    } else {
                        Image::default()
                    });
                }
            }
            None if self.slip_of.is_some() => {
                self.slip_of = None;
                api.set_reference(SharedString::new());
                api.set_tracking_qr(Image::default());
                api.set_slip_preview(Image::default());
            }
            None => {}
        }

        api.set_pin_length(s.pin_digits() as i32);
        let (message, left, minutes) = match (s.pin_locked, s.pin_message) {
            (Some(d), _) => ("locked", 0, d.as_secs().div_ceil(60) as i32),
            (None, Some(kiosk_app::pin::Outcome::Wrong(left))) => ("wrong", left as i32, 0),
            _ => ("", 0, 0),
        };
        api.set_pin_message(message.into());
        api.set_pin_tries_left(left);
        api.set_pin_locked_minutes(minutes);

        if s.screen == Screen::Maintenance {
            update(&mut self.devices, maintenance_rows(app), |m| api.set_device_rows(m));
            let logs = app.log.tail(14).into_iter().map(SharedString::from).collect();
            update(&mut self.logs, logs, |m| api.set_log_lines(m));
            api.set_self_test_result(self_test(&app.self_test));
        }
    }
}

/// The last self-test as the screen words it: codes and data, no words.
fn self_test(test: &SelfTest) -> SelfTestResult {
    let (code, what, detail, count) = match test {
        SelfTest::None => (SelfTestCode::None, "", String::new(), 0),
        SelfTest::Printing => (SelfTestCode::Printing, "", String::new(), 0),
        SelfTest::NoPrinter => (SelfTestCode::NoPrinter, "", String::new(), 0),
        SelfTest::PlaceCard => (SelfTestCode::PlaceCard, "", String::new(), 0),
        SelfTest::ScanCode => (SelfTestCode::ScanCode, "", String::new(), 0),
        SelfTest::CardRead { kind, masked_name } => {
            (SelfTestCode::CardRead, kind.key(), masked_name.clone(), 0)
        }
        SelfTest::ScanRead { kind, chars } => {
            let kind = match kind {
                ScanKind::Url => "url",
                ScanKind::Digits => "digits",
                ScanKind::LoginCode => "login_code",
                ScanKind::Text => "text",
            };
            (SelfTestCode::ScanRead, kind, String::new(), i32::try_from(*chars).unwrap_or(i32::MAX))
        }
        SelfTest::ScanRefused(why) => {
            let why = match why {
                Rejection::InvalidUtf8 => "invalid_utf8",
                Rejection::Binary => "binary",
                Rejection::TooLong => "too_long",
                Rejection::Empty => "empty",
            };
            (SelfTestCode::ScanRefused, why, String::new(), 0)
        }
        SelfTest::SlipPrinted => (SelfTestCode::SlipPrinted, "", String::new(), 0),
        SelfTest::SlipFailed(words) => (SelfTestCode::SlipFailed, "", words.clone(), 0),
    };
    SelfTestResult { code, what: what.into(), detail: detail.into(), count }
}

/// The maintenance screen's rows: the words are the screen's (`Texts.device-detail`), the data
/// comes from here: the devices' and the agent's own words, figures and times.
fn maintenance_rows(app: &App) -> Vec<DeviceRow> {
    let s = &app.session;
    let d = &s.devices;
    let row = |key: &str, health: &str, detail: String| DeviceRow {
        key: key.into(),
        health: health.into(),
        detail: detail.into(),
        figures: ModelRc::default(),
        note: SharedString::default(),
    };
    let with = |row: DeviceRow, figures: &[i64], note: Option<String>| DeviceRow {
        figures: model(&figures.iter().map(|&n| i32::try_from(n).unwrap_or(i32::MAX)).collect::<Vec<_>>()),
        note: note.unwrap_or_default().into(),
        ..row
    };
    let (stats, states) = (&app.queue.stats, &app.queue.parts);
    // The agent's words for why uploads do not get through (a wrong address, refused
    // credentials), for the technician in front of the kiosk.
    let upload_problem =
        states.get(&Part::Uploads).filter(|s| s.health != PartHealth::Ok).map(|s| s.detail.clone());
    let last_upload = app.queue.last_upload_ms.map(kiosk_app::receipt::cst_ms);
    let mut rows = vec![
        row("reader", health(d.reader), d.reader_detail.clone()),
        row("printer", health(d.printer), d.printer_detail.clone()),
        row("scanner", health(d.scanner), d.scanner_detail.clone()),
        with(
            row("outbox", if stats.dead + stats.quarantined > 0 { "warning" } else { "ok" }, String::new()),
            &[
                (stats.pending + stats.in_flight) as i64,
                stats.acked as i64,
                stats.dead as i64,
                stats.quarantined as i64,
                stats.oldest_pending_ms.map_or(-1, |ms| ms / 1000),
            ],
            None,
        ),
        with(
            row(
                "uploads",
                match (d.offline, &upload_problem) {
                    (true, _) => "down",
                    (false, Some(_)) => "warning",
                    (false, None) => "ok",
                },
                upload_problem.clone().unwrap_or_default(),
            ),
            &[i64::from(d.offline)],
            last_upload,
        ),
        with(
            row("catalogue", "info", s.library().version().to_owned()),
            &[s.library().len() as i64],
            s.pending_version().map(str::to_owned),
        ),
    ];
    for part in [Part::Clock, Part::CatalogueUpdate] {
        if let Some(state) = states.get(&part) {
            let health = match state.health {
                PartHealth::Ok => "ok",
                PartHealth::Warning => "warning",
                PartHealth::Fault => "down",
            };
            rows.push(row(part.as_str(), health, state.detail.clone()));
        }
    }
    rows.push(row("kiosk", "info", s.config().kiosk_id.clone()));
    rows.push(with(row("version", "info", app.software_version.to_string()), &[s.sessions as i64], None));
    rows
}
