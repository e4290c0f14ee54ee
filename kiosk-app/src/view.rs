//! What each screen shows, as plain data: [`Session::view`] produces it and the Slint shell only
//! maps it onto the screens' globals. Words are not here: codes, figures and the catalogue's own
//! data are, and the screens word them in the resident's language.

use kiosk_catalogue::{Item, Kind};
use kiosk_escpos::{PrintProblem, Slip};
use kiosk_idcard::CardKind;
use kiosk_scanner::{Rejection, ScanKind};

use crate::form::{FieldError, Keyboard};
use crate::lookup::{LiveFailure, State as LookupState, yuan};
use crate::session::{Health, Lang, ListSource, Notice, Printing, Screen, Session};

/// Submissions waiting longer than this (ms) mean the service network is not being reached.
const OFFLINE_AFTER_MS: i64 = 60_000;

/// What the outbox holds, as the shell last read it (on its own schedule: rendering reads no
/// file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queue {
    /// Waiting or being uploaded.
    pub pending: u64,
    pub acknowledged: u64,
    pub refused: u64,
    pub quarantined: u64,
    /// How long the oldest pending submission has waited.
    pub oldest_pending_ms: Option<i64>,
    /// When the last submission was acknowledged (ms since the epoch).
    pub last_upload_ms: Option<i64>,
    /// The sync agent's reports, read only while the maintenance screen is up.
    pub uploads: Option<Part>,
    pub clock: Option<Part>,
    pub catalogue_update: Option<Part>,
}

impl Queue {
    /// The service network is not being reached: submissions wait here.
    pub fn offline(&self) -> bool {
        self.oldest_pending_ms.is_some_and(|ms| ms > OFFLINE_AFTER_MS)
    }
}

/// A part of the kiosk as the sync agent reported it: its health and its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub health: Health,
    pub detail: String,
}

/// Which technician self-test was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelfTestKind {
    Printer,
    Reader,
    Scanner,
}

/// What the last technician self-test found; the screen words it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SelfTest {
    #[default]
    None,
    Printing,
    NoPrinter,
    PlaceCard,
    ScanCode,
    /// A card was read: its kind and the holder's masked name, nothing more.
    CardRead {
        kind: CardKind,
        masked_name: String,
    },
    ScanRead {
        kind: ScanKind,
        chars: usize,
    },
    ScanRefused(Rejection),
    SlipPrinted,
    /// The printer's own words for why (technical, no personal data).
    SlipFailed(String),
}

/// Everything on screen: the frame every screen shares and the page of the screen shown.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub frame: Frame,
    pub page: Page,
}

/// What every screen may show around its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub screen: Screen,
    pub lang: Lang,
    pub elder: bool,
    pub notice: Option<Notice>,
    /// Seconds left on the idle warning, while it is up.
    pub idle_seconds_left: Option<u64>,
    /// "Finish" asks whether the typed input may go.
    pub finish_asked: bool,
    pub sample_catalogue: bool,
    pub catalogue_version: String,
    pub kiosk_id: String,
    pub offline: bool,
    pub pending: u64,
    pub reader_ok: bool,
    pub printer_ok: bool,
}

/// The page of the screen shown; screens without data of their own have none.
#[derive(Debug, Clone, PartialEq)]
pub enum Page {
    Plain,
    Home(Home),
    List(List),
    Detail(Box<Detail>),
    Form(Form),
    Confirm(Confirm),
    /// Submitting and done: the application's slip and how printing it goes.
    Receipt(Receipt),
    Records(Box<RecordsPage>),
    Progress(Box<ProgressPage>),
    Evaluate(Evaluate),
    Pin(Pin),
    Maintenance(Maintenance),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    pub code: String,
    pub name: String,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    pub topics: Vec<Tile>,
    pub departments: Vec<Tile>,
    /// "My applications" can be asked (identified by a card).
    pub follow_mine: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Topic,
    Department,
    Search,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    /// The item's index in the catalogue, to open it.
    pub index: usize,
    pub name: String,
    pub department: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    pub kind: ListKind,
    /// The topic's or department's name; empty for a search.
    pub title: String,
    pub query: String,
    pub page: usize,
    pub pages: usize,
    pub hits: usize,
    pub rows: Vec<ItemRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Material {
    pub name: String,
    pub form: String,
    pub copies: u32,
    pub required: bool,
}

/// The unit of a time limit; the catalogue's own words where it is neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayUnit {
    Working,
    Calendar,
    Other(String),
}

/// A legal or promised time limit: 0 days is the same day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeLimit {
    pub days: u32,
    pub unit: DayUnit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    pub name: String,
    pub code: String,
    pub department: String,
    pub kind: Kind,
    pub conditions: String,
    pub steps: Vec<String>,
    pub materials: Vec<Material>,
    pub legal_limit: Option<TimeLimit>,
    pub promised_limit: Option<TimeLimit>,
    pub visits: u32,
    /// The fees in the catalogue's words; none means free.
    pub fees: Vec<String>,
    pub phone: String,
    pub address: String,
    pub hours: String,
    pub can_apply: bool,
    /// A query item the resident can run (identified by card).
    pub can_query: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label_zh: String,
    pub label_en: String,
    /// Masked where it came from the card.
    pub value: String,
    pub prefilled: bool,
    pub error: Option<FieldError>,
    pub focused: bool,
    pub required: bool,
    pub choices: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub item_name: String,
    pub fields: Vec<Field>,
    pub keyboard: Keyboard,
    /// Pinyin being composed, and the characters it may stand for.
    pub composing: String,
    pub candidates: Vec<char>,
    pub more_candidates: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub label_zh: String,
    pub label_en: String,
    /// As the screen may show it: masked.
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub item_name: String,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintState {
    Waiting,
    Printing,
    Printed,
    Failed(PrintProblem),
}

impl From<Printing> for PrintState {
    fn from(p: Printing) -> Self {
        match p {
            Printing::Waiting => PrintState::Waiting,
            Printing::Printing => PrintState::Printing,
            Printing::Printed => PrintState::Printed,
            Printing::Failed(problem) => PrintState::Failed(problem),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    /// The case number once the service network gave one, else the submission number.
    pub reference: String,
    pub filed: bool,
    pub tracking_url: String,
    pub print: PrintState,
    /// The slip as printed, once it went to the printer.
    pub slip: Option<Slip>,
    pub pre_application: bool,
    pub visit_address: String,
}

/// The evaluation screen (好差评): the level chosen, and while it is a dissatisfied one, every
/// reason with whether it is ticked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluate {
    /// 1 非常满意 … 5 非常不满意.
    pub level: Option<u8>,
    pub reasons: Vec<(Reason, bool)>,
}

/// Why a resident was dissatisfied (`kiosk_sync_proto::evaluation::REASONS`, in its order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    GuideInaccurate,
    TooManySteps,
    TooSlow,
    DeviceFault,
    UnclearResult,
    Other,
}

impl Reason {
    pub const ALL: [Reason; 6] = [
        Reason::GuideInaccurate,
        Reason::TooManySteps,
        Reason::TooSlow,
        Reason::DeviceFault,
        Reason::UnclearResult,
        Reason::Other,
    ];

    /// The protocol's code.
    pub fn code(self) -> &'static str {
        match self {
            Reason::GuideInaccurate => "guide_inaccurate",
            Reason::TooManySteps => "too_many_steps",
            Reason::TooSlow => "too_slow",
            Reason::DeviceFault => "device_fault",
            Reason::UnclearResult => "unclear_result",
            Reason::Other => "other",
        }
    }
}

/// Where a live lookup is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupView {
    Waiting,
    Shown,
    Failed(LiveFailure),
}

impl LookupView {
    fn of<T>(state: &LookupState<T>) -> Self {
        match state {
            LookupState::Waiting => Self::Waiting,
            LookupState::Shown(_) => Self::Shown,
            LookupState::Failed(why) => Self::Failed(*why),
        }
    }
}

/// What a line of a record is (`kiosk_sync_proto::live::RecordRow::kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Pension,
    Medical,
    Unemployment,
    Injury,
    Deposit,
    Withdrawal,
    Interest,
    /// A kind this kiosk does not know yet: shown without a name.
    Other,
}

impl RowKind {
    pub(crate) fn of(code: &str) -> Self {
        match code {
            "pension" => Self::Pension,
            "medical" => Self::Medical,
            "unemployment" => Self::Unemployment,
            "injury" => Self::Injury,
            "deposit" => Self::Deposit,
            "withdrawal" => Self::Withdrawal,
            "interest" => Self::Interest,
            _ => Self::Other,
        }
    }
}

/// What a summary figure is (`kiosk_sync_proto::live::Figure::key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureKey {
    Balance,
    MonthlyDeposit,
    MonthsPaid,
    TotalPersonal,
    TotalEmployer,
    Other,
}

impl FigureKey {
    fn of(code: &str) -> Self {
        match code {
            "balance" => Self::Balance,
            "monthly_deposit" => Self::MonthlyDeposit,
            "months_paid" => Self::MonthsPaid,
            "total_personal" => Self::TotalPersonal,
            "total_employer" => Self::TotalEmployer,
            _ => Self::Other,
        }
    }
}

/// One line of a record as shown: money already written out (`1,234.56`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLine {
    pub period: String,
    pub kind: RowKind,
    pub amount: String,
    /// The employer's part, or the balance after it.
    pub other: String,
    /// The contribution base; empty where there is none.
    pub base: String,
}

/// A summary figure: what it is and its value written out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFigure {
    pub key: FigureKey,
    pub value: String,
}

impl RecordFigure {
    /// The service network's figure, written out: a count of months as it is, money in yuan.
    pub(crate) fn of(f: &kiosk_sync_proto::live::Figure) -> Self {
        let key = FigureKey::of(&f.key);
        let value = if key == FigureKey::MonthsPaid { f.value.to_string() } else { yuan(f.value) };
        Self { key, value }
    }
}

/// The records screen: the resident's own record, masked where it names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordsPage {
    pub record: kiosk_catalogue::model::Record,
    pub item_name: String,
    pub holder: String,
    pub holder_number: String,
    pub state: LookupView,
    pub account: String,
    pub as_of: String,
    pub summary: Vec<RecordFigure>,
    pub rows: Vec<RecordLine>,
    pub page: u32,
    pub pages: u32,
    pub print: Option<PrintState>,
}

/// A step of a case (`kiosk_sync_proto::live::step`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Submitted,
    Accepted,
    Review,
    Supplement,
    Concluded,
    /// A step this kiosk does not know yet: shown without a name.
    Other,
}

impl StepKind {
    fn of(code: &str) -> Self {
        use kiosk_sync_proto::live::step;
        match code {
            step::SUBMITTED => Self::Submitted,
            step::ACCEPTED => Self::Accepted,
            step::REVIEW => Self::Review,
            step::SUPPLEMENT => Self::Supplement,
            step::CONCLUDED => Self::Concluded,
            _ => Self::Other,
        }
    }
}

/// What the resident must do next (`kiosk_sync_proto::live::next`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextAction {
    Wait,
    Supplement,
    Collect,
    Nothing,
    Other,
}

impl NextAction {
    fn of(code: &str) -> Self {
        use kiosk_sync_proto::live::next;
        match code {
            next::WAIT => Self::Wait,
            next::SUPPLEMENT => Self::Supplement,
            next::COLLECT => Self::Collect,
            next::NONE => Self::Nothing,
            _ => Self::Other,
        }
    }
}

/// A case in the list: what it is and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    pub case_number: String,
    pub item_name: String,
    pub received_at: String,
    pub step: StepKind,
    pub next: NextAction,
}

/// A step on a case's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepLine {
    pub kind: StepKind,
    /// When it happened; empty while it lies ahead.
    pub at: String,
    pub done: bool,
    pub current: bool,
}

/// One case in full: its timeline, the current step marked, and what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseDetail {
    pub case_number: String,
    pub item_name: String,
    pub department: String,
    pub received_at: String,
    pub steps: Vec<StepLine>,
    pub next: NextAction,
    /// The department's own words.
    pub note: String,
}

/// The progress screen (办件进度).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressPage {
    pub mode: crate::progress::Mode,
    /// `None` while the slip's numbers are typed.
    pub state: Option<LookupView>,
    /// Masked; by card only.
    pub holder: String,
    pub cases: Vec<CaseRow>,
    /// The resident's applications still in this kiosk's outbox.
    pub waiting_here: Vec<crate::progress::WaitingHere>,
    pub case: Option<CaseDetail>,
    /// By slip: the reference as typed or scanned, the password's length only.
    pub reference: String,
    pub scanned: bool,
    pub password_len: usize,
    pub entry: crate::progress::Entry,
    pub can_search: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinMessage {
    None,
    Wrong { tries_left: u32 },
    Locked { minutes: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub digits: usize,
    pub message: PinMessage,
}

/// A row of the maintenance screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKey {
    Reader,
    Printer,
    Scanner,
    Outbox,
    Uploads,
    Catalogue,
    Clock,
    CatalogueUpdate,
    Kiosk,
    Version,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowHealth {
    Ok,
    Warning,
    Down,
    Unknown,
    /// A fact, not a health.
    Info,
}

impl From<Health> for RowHealth {
    fn from(h: Health) -> Self {
        match h {
            Health::Ok => Self::Ok,
            Health::Warning => Self::Warning,
            Health::Down => Self::Down,
            Health::Unknown => Self::Unknown,
        }
    }
}

/// The words are the screen's; the data is here: the devices' and the agent's own words,
/// figures and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub key: RowKey,
    pub health: RowHealth,
    pub detail: String,
    /// By key. outbox: pending, acknowledged, refused, quarantined, oldest in s (-1: none);
    /// uploads: 1 when offline; catalogue: items; version: sessions.
    pub figures: Vec<i64>,
    /// uploads: the last upload's time; catalogue: the version waiting for the next session.
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    pub rows: Vec<DeviceRow>,
    pub log: Vec<String>,
    pub self_test: SelfTest,
}

/// The catalogue writes units in Chinese (`工作日`); the screen words them in the resident's
/// language.
fn time_limit(limit: Option<&kiosk_catalogue::model::TimeLimit>) -> Option<TimeLimit> {
    let l = limit?;
    let unit = match l.unit.as_str() {
        "工作日" => DayUnit::Working,
        "自然日" | "日" | "天" => DayUnit::Calendar,
        other => DayUnit::Other(other.to_owned()),
    };
    Some(TimeLimit { days: l.day, unit })
}

impl Session {
    /// The screen shown now. `log` is the tail of the kiosk's log, for the maintenance screen.
    pub fn view(&self, log: &[String]) -> View {
        View { frame: self.frame(), page: self.page_view(log) }
    }

    fn frame(&self) -> Frame {
        let library = self.library();
        let devices = self.devices();
        Frame {
            screen: self.screen(),
            lang: self.lang(),
            elder: self.elder(),
            notice: self.notice(),
            idle_seconds_left: self.idle_warning(),
            finish_asked: self.finish_asked(),
            sample_catalogue: library.is_sample(),
            catalogue_version: library.version().to_owned(),
            kiosk_id: self.config().kiosk_id.clone(),
            offline: self.queue().offline(),
            pending: self.queue().pending,
            reader_ok: devices.reader != Health::Down,
            printer_ok: devices.printer != Health::Down,
        }
    }

    fn page_view(&self, log: &[String]) -> Page {
        match self.screen() {
            Screen::Home => Page::Home(self.home_view()),
            Screen::List => Page::List(self.list_view()),
            Screen::Detail => {
                self.item().map_or(Page::Plain, |item| Page::Detail(Box::new(self.detail_view(item))))
            }
            Screen::Form => self.form_view().map_or(Page::Plain, Page::Form),
            Screen::Confirm => Page::Confirm(Confirm {
                item_name: self.item().map(|i| i.task_name.clone()).unwrap_or_default(),
                rows: self
                    .confirm_rows()
                    .into_iter()
                    .map(|(label_zh, label_en, value)| Row { label_zh, label_en, value })
                    .collect(),
            }),
            Screen::Submitting | Screen::Done => self.receipt_view().map_or(Page::Plain, Page::Receipt),
            Screen::Records => self.records_view().map_or(Page::Plain, |r| Page::Records(Box::new(r))),
            Screen::Progress => self.progress_view().map_or(Page::Plain, |p| Page::Progress(Box::new(p))),
            Screen::Pin => Page::Pin(Pin {
                digits: self.pin_digits(),
                message: match (self.pin_locked(), self.pin_message()) {
                    (Some(d), _) => PinMessage::Locked { minutes: d.as_secs().div_ceil(60) },
                    (None, Some(crate::pin::Outcome::Wrong(left))) => PinMessage::Wrong { tries_left: left },
                    _ => PinMessage::None,
                },
            }),
            Screen::Maintenance => Page::Maintenance(Maintenance {
                rows: self.maintenance_rows(),
                log: log.to_vec(),
                self_test: self.self_test_result().clone(),
            }),
            Screen::Evaluate => Page::Evaluate(self.evaluate_view()),
            Screen::Attract | Screen::Welcome | Screen::Identify | Screen::ThankYou => Page::Plain,
        }
    }

    fn home_view(&self) -> Home {
        let library = self.library();
        Home {
            topics: library
                .topics()
                .iter()
                .map(|t| Tile {
                    code: t.code.clone(),
                    name: t.name.clone(),
                    count: library.by_topic(&t.code).len(),
                })
                .collect(),
            departments: library
                .departments()
                .iter()
                .map(|d| Tile {
                    code: d.code.clone(),
                    name: d.name.clone(),
                    count: library.by_department(&d.code).len(),
                })
                .collect(),
            follow_mine: self.can_follow_mine(),
        }
    }

    fn progress_view(&self) -> Option<ProgressPage> {
        let p = self.progress()?;
        let answer = p.progress();
        let case = p.open.and_then(|i| answer?.cases.get(i)).map(|c| CaseDetail {
            case_number: c.case_number.clone(),
            item_name: c.item_name.clone(),
            department: c.department.clone(),
            received_at: c.received_at.clone(),
            steps: c
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| StepLine {
                    kind: StepKind::of(&s.step),
                    at: s.at.clone(),
                    done: (i as u32) < c.current,
                    current: i as u32 == c.current,
                })
                .collect(),
            next: NextAction::of(&c.next),
            note: c.note.clone(),
        });
        Some(ProgressPage {
            mode: p.mode,
            state: p.state.as_ref().map(LookupView::of),
            holder: p.holder.clone(),
            cases: answer
                .map(|a| {
                    a.cases
                        .iter()
                        .map(|c| CaseRow {
                            case_number: c.case_number.clone(),
                            item_name: c.item_name.clone(),
                            received_at: c.received_at.clone(),
                            step: c
                                .steps
                                .get(c.current as usize)
                                .map_or(StepKind::Other, |s| StepKind::of(&s.step)),
                            next: NextAction::of(&c.next),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            // One the agent uploaded while the question was out is shown once, as filed.
            waiting_here: p
                .waiting_here
                .iter()
                .filter(|w| answer.is_none_or(|a| a.cases.iter().all(|c| c.submission_id != w.submission_id)))
                .cloned()
                .collect(),
            case,
            reference: p.reference(),
            scanned: p.scanned(),
            password_len: p.password_len(),
            entry: p.entry,
            can_search: p.can_search(),
        })
    }

    fn list_view(&self) -> List {
        let library = self.library();
        let (kind, title) = match self.list_source() {
            ListSource::Topic(code) => (ListKind::Topic, library.topic_name(code).unwrap_or(code)),
            ListSource::Department(code) => {
                (ListKind::Department, library.department_name(code).unwrap_or(code))
            }
            ListSource::Search => (ListKind::Search, ""),
        };
        List {
            kind,
            title: title.to_owned(),
            query: self.query().to_owned(),
            page: self.page(),
            pages: self.pages(),
            hits: self.hits().len(),
            rows: self
                .page_hits()
                .iter()
                .map(|&index| {
                    let summary = library.summary(index);
                    ItemRow {
                        index,
                        name: summary.task_name.clone(),
                        department: library
                            .department_name(&summary.dept_code)
                            .unwrap_or(&summary.dept_code)
                            .to_owned(),
                        kind: summary.kind,
                    }
                })
                .collect(),
        }
    }

    fn detail_view(&self, item: &Item) -> Detail {
        Detail {
            name: item.task_name.clone(),
            code: item.task_code.clone(),
            department: self.library().department_name(&item.dept_code).unwrap_or(&item.dept_code).to_owned(),
            kind: item.kind,
            conditions: item.accept_condition.clone(),
            steps: item.handle_flow.clone(),
            materials: item
                .materials
                .iter()
                .map(|m| Material {
                    name: m.material_name.clone(),
                    form: format!("{}{}", m.material_type, m.material_format),
                    copies: m.page_num.max(1),
                    required: m.is_need == "必要",
                })
                .collect(),
            legal_limit: time_limit(item.anticipate.as_ref()),
            promised_limit: time_limit(item.promise.as_ref()),
            visits: item.limit_scene_num,
            fees: if item.is_fee {
                item.fees.iter().map(|f| format!("{}：{}", f.name, f.standard)).collect()
            } else {
                Vec::new()
            },
            phone: item.link_way.clone(),
            address: item.transact_addr.clone(),
            hours: item.transact_time.clone(),
            can_apply: self.can_apply(),
            can_query: self.can_query(),
        }
    }

    fn evaluate_view(&self) -> Evaluate {
        let rating = self.rating().cloned().unwrap_or_default();
        let dissatisfied = rating.level.is_some_and(|l| l >= kiosk_sync_proto::evaluation::DISSATISFIED_FROM);
        Evaluate {
            level: rating.level,
            reasons: if dissatisfied {
                Reason::ALL.iter().map(|r| (*r, rating.reasons.contains(&r.code()))).collect()
            } else {
                Vec::new()
            },
        }
    }

    fn records_view(&self) -> Option<RecordsPage> {
        let lookup = self.lookup()?;
        let records = lookup.records();
        Some(RecordsPage {
            record: lookup.record,
            item_name: self.item().map(|i| i.task_name.clone()).unwrap_or_default(),
            holder: lookup.holder.clone(),
            holder_number: lookup.holder_number.clone(),
            state: LookupView::of(&lookup.state),
            account: records.map(|r| r.account.clone()).unwrap_or_default(),
            as_of: records.map(|r| r.as_of.clone()).unwrap_or_default(),
            summary: records.map(|r| r.summary.iter().map(RecordFigure::of).collect()).unwrap_or_default(),
            rows: records
                .map(|r| {
                    r.rows
                        .iter()
                        .map(|row| RecordLine {
                            period: row.period.clone(),
                            kind: RowKind::of(&row.kind),
                            amount: yuan(row.amount),
                            other: yuan(row.other),
                            base: if row.base > 0 { yuan(row.base) } else { String::new() },
                        })
                        .collect()
                })
                .unwrap_or_default(),
            page: records.map_or(lookup.page, |r| r.page),
            pages: records.map_or(0, |r| r.pages),
            print: self.records_printing().map(PrintState::from),
        })
    }

    fn form_view(&self) -> Option<Form> {
        let form = self.form()?;
        let composer = self.composer();
        Some(Form {
            item_name: self.item().map(|i| i.task_name.clone()).unwrap_or_default(),
            fields: form
                .fields()
                .iter()
                .enumerate()
                .map(|(i, f)| Field {
                    label_zh: f.label_zh.clone(),
                    label_en: f.label_en.clone(),
                    value: form.shown_value(i),
                    prefilled: form.is_prefilled(i),
                    error: form.error(i),
                    focused: i == form.focused(),
                    required: f.required,
                    choices: f.choices.clone(),
                })
                .collect(),
            keyboard: self.keyboard(),
            composing: composer.letters().to_owned(),
            candidates: composer.candidates(),
            more_candidates: composer.has_more(),
        })
    }

    fn receipt_view(&self) -> Option<Receipt> {
        let sub = self.submission()?;
        let item = self.item();
        Some(Receipt {
            reference: sub.receipt.reference().to_owned(),
            filed: sub.receipt.case_number.is_some(),
            tracking_url: sub.receipt.tracking_url(),
            print: sub.printing.into(),
            slip: (sub.printing != Printing::Waiting).then(|| sub.receipt.preview()),
            pre_application: item.is_some_and(|i| i.kind == Kind::PreApplication),
            visit_address: item.map(|i| i.transact_addr.clone()).unwrap_or_default(),
        })
    }

    fn maintenance_rows(&self) -> Vec<DeviceRow> {
        let d = self.devices();
        let q = self.queue();
        let row = |key, health: RowHealth, detail: &str, figures: Vec<i64>, note: Option<&str>| DeviceRow {
            key,
            health,
            detail: detail.to_owned(),
            figures,
            note: note.unwrap_or_default().to_owned(),
        };
        let offline = q.offline();
        // The agent's words for why uploads do not get through (a wrong address, refused
        // credentials), for the technician in front of the kiosk.
        let upload_problem = q.uploads.as_ref().filter(|p| p.health != Health::Ok).map(|p| p.detail.as_str());
        let last_upload = q.last_upload_ms.map(crate::receipt::cst_ms);
        let library = self.library();
        let mut rows = vec![
            row(RowKey::Reader, d.reader.into(), &d.reader_detail, Vec::new(), None),
            row(RowKey::Printer, d.printer.into(), &d.printer_detail, Vec::new(), None),
            row(RowKey::Scanner, d.scanner.into(), &d.scanner_detail, Vec::new(), None),
            row(
                RowKey::Outbox,
                if q.refused + q.quarantined > 0 { RowHealth::Warning } else { RowHealth::Ok },
                "",
                vec![
                    q.pending as i64,
                    q.acknowledged as i64,
                    q.refused as i64,
                    q.quarantined as i64,
                    q.oldest_pending_ms.map_or(-1, |ms| ms / 1000),
                ],
                None,
            ),
            row(
                RowKey::Uploads,
                match (offline, upload_problem) {
                    (true, _) => RowHealth::Down,
                    (false, Some(_)) => RowHealth::Warning,
                    (false, None) => RowHealth::Ok,
                },
                upload_problem.unwrap_or_default(),
                vec![i64::from(offline)],
                last_upload.as_deref(),
            ),
            row(
                RowKey::Catalogue,
                RowHealth::Info,
                library.version(),
                vec![library.len() as i64],
                self.pending_version(),
            ),
        ];
        for (key, part) in [(RowKey::Clock, &q.clock), (RowKey::CatalogueUpdate, &q.catalogue_update)] {
            if let Some(part) = part {
                rows.push(row(key, part.health.into(), &part.detail, Vec::new(), None));
            }
        }
        rows.push(row(RowKey::Kiosk, RowHealth::Info, &self.config().kiosk_id, Vec::new(), None));
        rows.push(row(
            RowKey::Version,
            RowHealth::Info,
            env!("CARGO_PKG_VERSION"),
            vec![self.sessions() as i64],
            None,
        ));
        rows
    }
}
