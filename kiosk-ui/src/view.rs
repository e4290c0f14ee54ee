//! Maps the core's view ([`kiosk_app::View`]) onto the screens' globals (`ui/api.slint`). The
//! core decides what is shown; this only converts its types into Slint's, and skips models that
//! did not change so a touch does not rebuild every list on screen.

use std::rc::Rc;

use kiosk_app::form::{FieldError, Keyboard};
use kiosk_app::view::{self as core, Page, PinMessage, PrintState, RowHealth, RowKey, SelfTest};
use kiosk_app::{Lang, Notice, Screen, View as CoreView};
use kiosk_catalogue::Kind;
use kiosk_escpos::PrintProblem;
use kiosk_idcard::CardKind;
use kiosk_scanner::{Rejection, ScanKind};
use slint::{ComponentHandle, Image, ModelRc, Rgb8Pixel, SharedPixelBuffer, SharedString, VecModel};

use crate::ui;
use crate::ui::{AppWindow, Application, Live, Maintenance, Navigation, Progress, Search, Theme};

/// Remembers what was shown, to set only what changed.
#[derive(Default)]
pub struct View {
    lang: Option<Lang>,
    home: Option<core::Home>,
    list: Option<core::List>,
    detail: Option<core::Detail>,
    form: Option<core::Form>,
    confirm: Option<core::Confirm>,
    maintenance: Option<core::Maintenance>,
    records: Option<core::RecordsPage>,
    progress: Option<core::ProgressPage>,
    /// The reference and whether the slip was ready, of the slip images shown.
    slip_of: Option<(String, bool)>,
}

impl std::fmt::Debug for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("View").field("lang", &self.lang).finish_non_exhaustive()
    }
}

fn model<T: Clone + 'static>(v: Vec<T>) -> ModelRc<T> {
    ModelRc::from(Rc::new(VecModel::from(v)))
}

fn strings(v: &[String]) -> ModelRc<SharedString> {
    model(v.iter().map(|s| SharedString::from(s.as_str())).collect())
}

fn int(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

/// Whether `new` differs from what was last shown; remembers a copy if so (a render that
/// changes nothing copies nothing).
fn changed<'a, T: PartialEq + Clone>(cache: &'a mut Option<T>, new: &T) -> Option<&'a T> {
    if cache.as_ref() == Some(new) {
        return None;
    }
    *cache = Some(new.clone());
    cache.as_ref()
}

fn screen_id(screen: Screen) -> ui::ScreenId {
    match screen {
        Screen::Attract => ui::ScreenId::Attract,
        Screen::Welcome => ui::ScreenId::Welcome,
        Screen::Identify => ui::ScreenId::Identify,
        Screen::Home => ui::ScreenId::Home,
        Screen::List => ui::ScreenId::List,
        Screen::Detail => ui::ScreenId::Detail,
        Screen::Form => ui::ScreenId::Form,
        Screen::Confirm => ui::ScreenId::Confirm,
        Screen::Records => ui::ScreenId::Records,
        Screen::Progress => ui::ScreenId::Progress,
        Screen::Submitting => ui::ScreenId::Submitting,
        Screen::Done => ui::ScreenId::Done,
        Screen::Evaluate => ui::ScreenId::Evaluate,
        Screen::ThankYou => ui::ScreenId::ThankYou,
        Screen::Pin => ui::ScreenId::Pin,
        Screen::Maintenance => ui::ScreenId::Maintenance,
    }
}

/// The language a screen's callback names.
pub fn lang(lang: ui::Lang) -> Lang {
    match lang {
        ui::Lang::Zh => Lang::Zh,
        ui::Lang::En => Lang::En,
    }
}

fn notice(notice: Option<Notice>) -> ui::Notice {
    match notice {
        None => ui::Notice::None,
        Some(Notice::LiftCard) => ui::Notice::LiftCard,
        Some(Notice::NotLoginCode) => ui::Notice::NotLoginCode,
        Some(Notice::ScanGarbled) => ui::Notice::ScanGarbled,
        Some(Notice::ItemUnavailable) => ui::Notice::ItemUnavailable,
        Some(Notice::SubmitFailed) => ui::Notice::SubmitFailed,
    }
}

fn item_kind(kind: Kind) -> ui::ItemKind {
    match kind {
        Kind::Online => ui::ItemKind::Online,
        Kind::PreApplication => ui::ItemKind::PreApplication,
        Kind::Info => ui::ItemKind::Info,
        Kind::Job => ui::ItemKind::Job,
        Kind::Query(_) => ui::ItemKind::Query,
    }
}

fn tiles(tiles: &[core::Tile]) -> ModelRc<ui::Tile> {
    model(
        tiles
            .iter()
            .map(|t| ui::Tile {
                code: t.code.as_str().into(),
                name: t.name.as_str().into(),
                count: int(t.count),
            })
            .collect(),
    )
}

fn time_limit(limit: Option<&core::TimeLimit>) -> ui::TimeLimit {
    let Some(l) = limit else { return ui::TimeLimit::default() };
    let (unit, unit_text) = match &l.unit {
        core::DayUnit::Working => (ui::DayUnit::Working, ""),
        core::DayUnit::Calendar => (ui::DayUnit::Calendar, ""),
        core::DayUnit::Other(words) => (ui::DayUnit::Other, words.as_str()),
    };
    ui::TimeLimit { known: true, days: int(l.days), unit, unit_text: unit_text.into() }
}

fn detail(d: &core::Detail) -> ui::Detail {
    ui::Detail {
        name: d.name.as_str().into(),
        code: d.code.as_str().into(),
        department: d.department.as_str().into(),
        kind: item_kind(d.kind),
        conditions: d.conditions.as_str().into(),
        steps: strings(&d.steps),
        materials: model(
            d.materials
                .iter()
                .map(|m| ui::Material {
                    name: m.name.as_str().into(),
                    form: m.form.as_str().into(),
                    copies: int(m.copies),
                    required: m.required,
                })
                .collect(),
        ),
        legal_limit: time_limit(d.legal_limit.as_ref()),
        promised_limit: time_limit(d.promised_limit.as_ref()),
        visits: int(d.visits),
        free: d.fees.is_empty(),
        fees: d.fees.join("；").into(),
        phone: d.phone.as_str().into(),
        address: d.address.as_str().into(),
        hours: d.hours.as_str().into(),
        can_apply: d.can_apply,
        can_query: d.can_query,
    }
}

fn field_error(error: Option<FieldError>) -> ui::FieldError {
    match error {
        None => ui::FieldError::None,
        Some(FieldError::Required) => ui::FieldError::Required,
        Some(FieldError::TooShort(_)) => ui::FieldError::TooShort,
        Some(FieldError::TooLong(_)) => ui::FieldError::TooLong,
        Some(FieldError::IdNumberFormat) => ui::FieldError::IdFormat,
        Some(FieldError::IdNumberCheck) => ui::FieldError::IdCheck,
        Some(FieldError::Phone) => ui::FieldError::Phone,
        Some(FieldError::Date) => ui::FieldError::Date,
        Some(FieldError::Digits) => ui::FieldError::Digits,
        Some(FieldError::Choice) => ui::FieldError::Choice,
    }
}

fn fields(fields: &[core::Field]) -> ModelRc<ui::Field> {
    model(
        fields
            .iter()
            .map(|f| ui::Field {
                label_zh: f.label_zh.as_str().into(),
                label_en: f.label_en.as_str().into(),
                value: f.value.as_str().into(),
                prefilled: f.prefilled,
                error: field_error(f.error),
                limit: int(f.error.map_or(0, FieldError::limit)),
                focused: f.focused,
                required: f.required,
                choices: strings(&f.choices),
            })
            .collect(),
    )
}

fn rows(rows: &[core::Row]) -> ModelRc<ui::Row> {
    model(
        rows.iter()
            .map(|r| ui::Row {
                label_zh: r.label_zh.as_str().into(),
                label_en: r.label_en.as_str().into(),
                value: r.value.as_str().into(),
            })
            .collect(),
    )
}

fn print_problem(problem: PrintProblem) -> ui::PrintProblem {
    match problem {
        PrintProblem::Paper => ui::PrintProblem::Paper,
        PrintProblem::Cover => ui::PrintProblem::Cover,
        PrintProblem::Offline => ui::PrintProblem::Offline,
        PrintProblem::Fault => ui::PrintProblem::Fault,
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

fn print_state(state: Option<PrintState>) -> (bool, ui::PrintState, ui::PrintProblem) {
    match state {
        None => (false, ui::PrintState::Waiting, ui::PrintProblem::None),
        Some(PrintState::Waiting) => (true, ui::PrintState::Waiting, ui::PrintProblem::None),
        Some(PrintState::Printing) => (true, ui::PrintState::Printing, ui::PrintProblem::None),
        Some(PrintState::Printed) => (true, ui::PrintState::Printed, ui::PrintProblem::None),
        Some(PrintState::Failed(p)) => (true, ui::PrintState::Failed, print_problem(p)),
    }
}

fn lookup_state(state: core::LookupView) -> ui::LookupState {
    use kiosk_app::lookup::LiveFailure;
    match state {
        core::LookupView::Waiting => ui::LookupState::Waiting,
        core::LookupView::Shown => ui::LookupState::Shown,
        core::LookupView::Failed(LiveFailure::NetworkUnavailable) => ui::LookupState::NetworkUnavailable,
        core::LookupView::Failed(LiveFailure::Timeout) => ui::LookupState::Timeout,
        core::LookupView::Failed(LiveFailure::NotFound) => ui::LookupState::NotFound,
        core::LookupView::Failed(LiveFailure::Unavailable) => ui::LookupState::Unavailable,
    }
}

fn step_kind(k: core::StepKind) -> ui::StepKind {
    match k {
        core::StepKind::Submitted => ui::StepKind::Submitted,
        core::StepKind::Accepted => ui::StepKind::Accepted,
        core::StepKind::Review => ui::StepKind::Review,
        core::StepKind::Supplement => ui::StepKind::Supplement,
        core::StepKind::Concluded => ui::StepKind::Concluded,
        core::StepKind::Other => ui::StepKind::Other,
    }
}

fn next_action(n: core::NextAction) -> ui::NextAction {
    match n {
        core::NextAction::Wait => ui::NextAction::Wait,
        core::NextAction::Supplement => ui::NextAction::Supplement,
        core::NextAction::Collect => ui::NextAction::Collect,
        core::NextAction::Nothing => ui::NextAction::Nothing,
        core::NextAction::Other => ui::NextAction::Other,
    }
}

/// The progress screen onto the `Progress` global.
fn progress(p: &core::ProgressPage, g: &Progress<'_>) {
    use kiosk_app::progress::{Entry, Mode};
    g.set_mode(match p.mode {
        Mode::Mine => ui::ProgressMode::Mine,
        Mode::Slip => ui::ProgressMode::Slip,
    });
    g.set_entering(p.state.is_none());
    g.set_state(p.state.map_or(ui::LookupState::Waiting, lookup_state));
    g.set_holder(p.holder.as_str().into());
    g.set_cases(model(
        p.cases
            .iter()
            .enumerate()
            .map(|(i, c)| ui::CaseRow {
                index: int(i),
                case_number: c.case_number.as_str().into(),
                item_name: c.item_name.as_str().into(),
                received_at: c.received_at.as_str().into(),
                step: step_kind(c.step),
                next: next_action(c.next),
            })
            .collect(),
    ));
    g.set_waiting(model(
        p.waiting_here
            .iter()
            .map(|w| ui::WaitingRow {
                item_name: w.item_name.as_str().into(),
                submitted_at: w.submitted_at.as_str().into(),
                submission_id: w.submission_id.as_str().into(),
            })
            .collect(),
    ));
    g.set_case_open(p.case.is_some());
    g.set_case(p.case.as_ref().map_or_else(ui::CaseDetail::default, |c| {
        ui::CaseDetail {
            case_number: c.case_number.as_str().into(),
            item_name: c.item_name.as_str().into(),
            department: c.department.as_str().into(),
            received_at: c.received_at.as_str().into(),
            steps: model(
                c.steps
                    .iter()
                    .map(|s| ui::StepLine {
                        kind: step_kind(s.kind),
                        at: s.at.as_str().into(),
                        done: s.done,
                        current: s.current,
                    })
                    .collect(),
            ),
            next: next_action(c.next),
            note: c.note.as_str().into(),
        }
    }));
    g.set_reference(p.reference.as_str().into());
    g.set_scanned(p.scanned);
    g.set_password_length(int(p.password_len));
    g.set_entry(match p.entry {
        Entry::Reference => ui::SlipEntry::Reference,
        Entry::Password => ui::SlipEntry::Password,
    });
    g.set_can_search(p.can_search);
}

/// The records screen onto the `Live` global.
fn records(r: &core::RecordsPage, live: &Live<'_>) {
    use kiosk_app::view::{FigureKey, RowKind};
    use kiosk_catalogue::model::Record;
    live.set_record(match r.record {
        Record::SocialInsurance => ui::RecordKind::SocialInsurance,
        Record::HousingFund => ui::RecordKind::HousingFund,
    });
    live.set_item_name(r.item_name.as_str().into());
    live.set_holder(r.holder.as_str().into());
    live.set_holder_number(r.holder_number.as_str().into());
    live.set_state(lookup_state(r.state));
    live.set_account(r.account.as_str().into());
    live.set_as_of(r.as_of.as_str().into());
    live.set_summary(model(
        r.summary
            .iter()
            .map(|f| ui::RecordFigure {
                key: match f.key {
                    FigureKey::Balance => ui::FigureKey::Balance,
                    FigureKey::MonthlyDeposit => ui::FigureKey::MonthlyDeposit,
                    FigureKey::MonthsPaid => ui::FigureKey::MonthsPaid,
                    FigureKey::TotalPersonal => ui::FigureKey::TotalPersonal,
                    FigureKey::TotalEmployer => ui::FigureKey::TotalEmployer,
                    FigureKey::Other => ui::FigureKey::Other,
                },
                value: f.value.as_str().into(),
            })
            .collect(),
    ));
    live.set_rows(model(
        r.rows
            .iter()
            .map(|l| ui::RecordLine {
                period: l.period.as_str().into(),
                kind: match l.kind {
                    RowKind::Pension => ui::RowKind::Pension,
                    RowKind::Medical => ui::RowKind::Medical,
                    RowKind::Unemployment => ui::RowKind::Unemployment,
                    RowKind::Injury => ui::RowKind::Injury,
                    RowKind::Deposit => ui::RowKind::Deposit,
                    RowKind::Withdrawal => ui::RowKind::Withdrawal,
                    RowKind::Interest => ui::RowKind::Interest,
                    RowKind::Other => ui::RowKind::Other,
                },
                amount: l.amount.as_str().into(),
                other: l.other.as_str().into(),
                base: l.base.as_str().into(),
            })
            .collect(),
    ));
    live.set_page(int(r.page));
    live.set_pages(int(r.pages));
    let (asked, state, problem) = print_state(r.print);
    live.set_print_asked(asked);
    live.set_print_state(state);
    live.set_print_problem(problem);
}

fn reason_ui(reason: core::Reason) -> ui::Reason {
    match reason {
        core::Reason::GuideInaccurate => ui::Reason::GuideInaccurate,
        core::Reason::TooManySteps => ui::Reason::TooManySteps,
        core::Reason::TooSlow => ui::Reason::TooSlow,
        core::Reason::DeviceFault => ui::Reason::DeviceFault,
        core::Reason::UnclearResult => ui::Reason::UnclearResult,
        core::Reason::Other => ui::Reason::Other,
    }
}

/// The reason a screen's callback names.
pub fn reason(reason: ui::Reason) -> core::Reason {
    core::Reason::ALL.into_iter().find(|r| reason_ui(*r) == reason).unwrap_or(core::Reason::Other)
}

fn row_key(key: RowKey) -> ui::DeviceKey {
    match key {
        RowKey::Reader => ui::DeviceKey::Reader,
        RowKey::Printer => ui::DeviceKey::Printer,
        RowKey::Scanner => ui::DeviceKey::Scanner,
        RowKey::Outbox => ui::DeviceKey::Outbox,
        RowKey::Uploads => ui::DeviceKey::Uploads,
        RowKey::Catalogue => ui::DeviceKey::Catalogue,
        RowKey::Clock => ui::DeviceKey::Clock,
        RowKey::CatalogueUpdate => ui::DeviceKey::CatalogueUpdate,
        RowKey::Kiosk => ui::DeviceKey::Kiosk,
        RowKey::Version => ui::DeviceKey::Version,
    }
}

fn row_health(health: RowHealth) -> ui::RowHealth {
    match health {
        RowHealth::Ok => ui::RowHealth::Ok,
        RowHealth::Warning => ui::RowHealth::Warning,
        RowHealth::Down => ui::RowHealth::Down,
        RowHealth::Unknown => ui::RowHealth::Unknown,
        RowHealth::Info => ui::RowHealth::Info,
    }
}

fn device_rows(rows: &[core::DeviceRow]) -> ModelRc<ui::DeviceRow> {
    model(
        rows.iter()
            .map(|r| ui::DeviceRow {
                key: row_key(r.key),
                health: row_health(r.health),
                detail: r.detail.as_str().into(),
                figures: model(r.figures.iter().map(|&n| int(n)).collect()),
                note: r.note.as_str().into(),
            })
            .collect(),
    )
}

/// The last self-test as the screen words it: codes and data, no words.
fn self_test(test: &SelfTest) -> ui::SelfTestResult {
    let mut r = ui::SelfTestResult::default();
    r.code = match test {
        SelfTest::None => ui::SelfTestCode::None,
        SelfTest::Printing => ui::SelfTestCode::Printing,
        SelfTest::NoPrinter => ui::SelfTestCode::NoPrinter,
        SelfTest::PlaceCard => ui::SelfTestCode::PlaceCard,
        SelfTest::ScanCode => ui::SelfTestCode::ScanCode,
        SelfTest::CardRead { kind, masked_name } => {
            r.card = match kind {
                CardKind::Resident => ui::CardKind::Resident,
                CardKind::HmtPermit => ui::CardKind::HmtPermit,
                CardKind::Foreigner2017 | CardKind::Foreigner2023 => ui::CardKind::Foreigner,
            };
            r.detail = masked_name.as_str().into();
            ui::SelfTestCode::CardRead
        }
        SelfTest::ScanRead { kind, chars } => {
            r.scan = match kind {
                ScanKind::Url => ui::ScanKind::Url,
                ScanKind::Digits => ui::ScanKind::Digits,
                ScanKind::LoginCode => ui::ScanKind::LoginCode,
                ScanKind::Text => ui::ScanKind::Text,
            };
            r.count = int(*chars);
            ui::SelfTestCode::ScanRead
        }
        SelfTest::ScanRefused(why) => {
            r.refusal = match why {
                Rejection::InvalidUtf8 => ui::ScanRefusal::InvalidUtf8,
                Rejection::Binary => ui::ScanRefusal::Binary,
                Rejection::TooLong => ui::ScanRefusal::TooLong,
                Rejection::Empty => ui::ScanRefusal::Empty,
            };
            ui::SelfTestCode::ScanRefused
        }
        SelfTest::SlipPrinted => ui::SelfTestCode::SlipPrinted,
        SelfTest::SlipFailed(words) => {
            r.detail = words.as_str().into();
            ui::SelfTestCode::SlipFailed
        }
    };
    r
}

impl View {
    pub fn render(&mut self, view: &CoreView, ui: &AppWindow) {
        let frame = &view.frame;
        let nav = ui.global::<Navigation>();
        if self.lang != Some(frame.lang) {
            self.lang = Some(frame.lang);
            if let Err(e) = slint::select_bundled_translation(frame.lang.code()) {
                tracing::warn!(error = %e, "translation not available");
            }
        }
        nav.set_lang(match frame.lang {
            Lang::Zh => ui::Lang::Zh,
            Lang::En => ui::Lang::En,
        });
        ui.global::<Theme>().set_elder(frame.elder);
        nav.set_screen(screen_id(frame.screen));
        nav.set_notice(notice(frame.notice));
        nav.set_idle_seconds_left(frame.idle_seconds_left.map_or(0, int));
        nav.set_finish_asked(frame.finish_asked);
        nav.set_sample_catalogue(frame.sample_catalogue);
        nav.set_catalogue_version(frame.catalogue_version.as_str().into());
        nav.set_kiosk_id(frame.kiosk_id.as_str().into());
        nav.set_offline(frame.offline);
        nav.set_pending(int(frame.pending));
        nav.set_reader_ok(frame.reader_ok);
        nav.set_printer_ok(frame.printer_ok);

        let search = ui.global::<Search>();
        let app = ui.global::<Application>();
        match &view.page {
            Page::Home(home) => {
                if let Some(home) = changed(&mut self.home, home) {
                    search.set_topics(tiles(&home.topics));
                    search.set_departments(tiles(&home.departments));
                    ui.global::<Progress>().set_follow_mine(home.follow_mine);
                }
            }
            Page::List(list) => {
                if let Some(list) = changed(&mut self.list, list) {
                    search.set_list_kind(match list.kind {
                        core::ListKind::Topic => ui::ListKind::Topic,
                        core::ListKind::Department => ui::ListKind::Department,
                        core::ListKind::Search => ui::ListKind::Search,
                    });
                    search.set_list_title(list.title.as_str().into());
                    search.set_query(list.query.as_str().into());
                    search.set_page(int(list.page));
                    search.set_pages(int(list.pages));
                    search.set_hit_count(int(list.hits));
                    search.set_items(model(
                        list.rows
                            .iter()
                            .map(|r| ui::ItemRow {
                                index: int(r.index),
                                name: r.name.as_str().into(),
                                department: r.department.as_str().into(),
                                kind: item_kind(r.kind),
                            })
                            .collect(),
                    ));
                }
            }
            Page::Detail(d) => {
                if let Some(d) = changed(&mut self.detail, &**d) {
                    search.set_detail(detail(d));
                }
            }
            Page::Form(form) => {
                if let Some(form) = changed(&mut self.form, form) {
                    app.set_item_name(form.item_name.as_str().into());
                    app.set_fields(fields(&form.fields));
                    app.set_keyboard(match form.keyboard {
                        Keyboard::Chinese => ui::KeyboardMode::Chinese,
                        Keyboard::Digits => ui::KeyboardMode::Digits,
                        Keyboard::Choices => ui::KeyboardMode::Choices,
                    });
                    app.set_composing(form.composing.as_str().into());
                    app.set_candidates(model(
                        form.candidates.iter().map(|c| SharedString::from(c.to_string())).collect(),
                    ));
                    app.set_more_candidates(form.more_candidates);
                }
            }
            Page::Confirm(confirm) => {
                if let Some(confirm) = changed(&mut self.confirm, confirm) {
                    app.set_item_name(confirm.item_name.as_str().into());
                    app.set_confirm_rows(rows(&confirm.rows));
                }
            }
            Page::Receipt(receipt) => self.receipt(receipt, &app),
            Page::Evaluate(e) => {
                app.set_rating(e.level.map_or(0, i32::from));
                app.set_reasons(model(
                    e.reasons
                        .iter()
                        .map(|&(reason, ticked)| ui::ReasonChoice { reason: reason_ui(reason), ticked })
                        .collect(),
                ));
            }
            Page::Records(r) => {
                if let Some(r) = changed(&mut self.records, &**r) {
                    records(r, &ui.global::<Live>());
                }
            }
            Page::Progress(p) => {
                if let Some(p) = changed(&mut self.progress, &**p) {
                    progress(p, &ui.global::<Progress>());
                }
            }
            Page::Pin(pin) => {
                let m = ui.global::<Maintenance>();
                m.set_pin_length(int(pin.digits));
                let (message, left, minutes) = match pin.message {
                    PinMessage::None => (ui::PinMessage::None, 0, 0),
                    PinMessage::Wrong { tries_left } => (ui::PinMessage::Wrong, int(tries_left), 0),
                    PinMessage::Locked { minutes } => (ui::PinMessage::Locked, 0, int(minutes)),
                };
                m.set_pin_message(message);
                m.set_pin_tries_left(left);
                m.set_pin_locked_minutes(minutes);
            }
            Page::Maintenance(maintenance) => {
                if let Some(maintenance) = changed(&mut self.maintenance, maintenance) {
                    let m = ui.global::<Maintenance>();
                    m.set_device_rows(device_rows(&maintenance.rows));
                    m.set_log_lines(strings(&maintenance.log));
                    m.set_self_test_result(self_test(&maintenance.self_test));
                }
            }
            Page::Plain => {}
        }
        self.forget_left_behind(view, ui);
    }

    fn receipt(&mut self, receipt: &core::Receipt, app: &Application<'_>) {
        app.set_reference(receipt.reference.as_str().into());
        app.set_filed(receipt.filed);
        app.set_pre_application(receipt.pre_application);
        app.set_visit_address(receipt.visit_address.as_str().into());
        let (_, state, problem) = print_state(Some(receipt.print));
        app.set_print_state(state);
        app.set_print_problem(problem);
        let key = (receipt.reference.clone(), receipt.slip.is_some());
        if self.slip_of.as_ref() != Some(&key) {
            self.slip_of = Some(key);
            app.set_tracking_qr(qr_image(&receipt.tracking_url, 8));
            app.set_slip_preview(receipt.slip.as_ref().map(slip_image).unwrap_or_default());
        }
    }

    /// Nothing of a finished form or slip stays in the screens' models once the session moved
    /// past it.
    fn forget_left_behind(&mut self, view: &CoreView, ui: &AppWindow) {
        let app = ui.global::<Application>();
        let in_application = matches!(view.page, Page::Form(_) | Page::Confirm(_) | Page::Receipt(_));
        if !matches!(view.page, Page::Form(_)) && self.form.take().is_some() {
            app.set_fields(ModelRc::default());
            app.set_composing(SharedString::new());
            app.set_candidates(ModelRc::default());
        }
        if !matches!(view.page, Page::Confirm(_)) && self.confirm.take().is_some() {
            app.set_confirm_rows(ModelRc::default());
        }
        if !matches!(view.page, Page::Receipt(_)) && self.slip_of.take().is_some() {
            app.set_reference(SharedString::new());
            app.set_tracking_qr(Image::default());
            app.set_slip_preview(Image::default());
        }
        if !in_application {
            app.set_item_name(SharedString::new());
        }
        // The list and details are no personal data, but a new catalogue or a new session
        // must show fresh ones: forget what was shown when the page is gone.
        if !matches!(view.page, Page::Home(_)) {
            self.home = None;
        }
        if !matches!(view.page, Page::List(_)) {
            self.list = None;
        }
        if !matches!(view.page, Page::Detail(_)) {
            self.detail = None;
        }
        if !matches!(view.page, Page::Records(_)) && self.records.take().is_some() {
            // The resident's record leaves the screens' models with the screen.
            let live = ui.global::<Live>();
            live.set_rows(ModelRc::default());
            live.set_summary(ModelRc::default());
            live.set_holder(SharedString::new());
            live.set_holder_number(SharedString::new());
            live.set_account(SharedString::new());
        }
        if !matches!(view.page, Page::Progress(_)) && self.progress.take().is_some() {
            // The resident's cases leave the screens' models with the screen.
            let p = ui.global::<Progress>();
            p.set_cases(ModelRc::default());
            p.set_waiting(ModelRc::default());
            p.set_case(ui::CaseDetail::default());
            p.set_holder(SharedString::new());
            p.set_reference(SharedString::new());
            p.set_password_length(0);
        }
        if !matches!(view.page, Page::Maintenance(_)) && self.maintenance.take().is_some() {
            let m = ui.global::<Maintenance>();
            m.set_log_lines(ModelRc::default());
            m.set_self_test_result(ui::SelfTestResult::default());
        }
    }
}
