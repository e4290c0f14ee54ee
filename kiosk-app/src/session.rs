//! The resident's session as a state machine. Every input (a touch, a card, a scan, a timer)
//! is a method call with the current time, so the whole journey, the idle wipe included, is
//! tested without a screen and without waiting.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kiosk_catalogue::model::FieldKind;
use kiosk_catalogue::{Item, Kind};
use kiosk_escpos::{PrintProblem, Slip};
use kiosk_idcard::IdCard;
use kiosk_scanner::{Rejection, Scan};
use kiosk_sync_proto as proto;
use zeroize::Zeroizing;

use crate::form::{FormState, Keyboard, keyboard_for};
use crate::identity::Identity;
use crate::ime::Composer;
use crate::library::Library;
use crate::lookup::{Ask, LiveFailure, Lookup, Reply, State as LookupState};
use crate::pin;
use crate::progress;
use crate::receipt::{self, Receipt};
use crate::view::{Queue, SelfTest, SelfTestKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Nobody is using the kiosk.
    Attract,
    /// Language, elder mode and the privacy notice.
    Welcome,
    Identify,
    Home,
    List,
    Detail,
    Form,
    Confirm,
    /// A resident's own record, asked live (a query item).
    Records,
    /// 办件进度: the resident's applications (by card) or one case (by the slip).
    Progress,
    /// Queued; waiting briefly for the case number, then printing.
    Submitting,
    Done,
    /// 好差评: the resident rates the business just finished (or skips).
    Evaluate,
    ThankYou,
    Pin,
    Maintenance,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// The name of the bundled translation.
    pub fn code(self) -> &'static str {
        match self {
            Self::Zh => "zh_CN",
            Self::En => "en",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub kiosk_id: String,
    /// Quiet time before the idle warning (doubled in elder mode, `reference/domain.md` §1.8).
    pub idle_after: Duration,
    /// The warning's countdown.
    pub countdown: Duration,
    /// How long the thank-you screen stays.
    pub thank_you: Duration,
    /// How long the slip waits for the case number before printing the submission number.
    pub receipt_wait: Duration,
    pub page_size: usize,
    pub elder_page_size: usize,
    /// Argon2 PHC string of the technician PIN; `None` keeps the maintenance screen closed.
    pub pin_hash: Option<String>,
}

impl Config {
    pub fn new(kiosk_id: &str) -> Self {
        Self {
            kiosk_id: kiosk_id.to_owned(),
            idle_after: Duration::from_secs(90),
            countdown: Duration::from_secs(30),
            thank_you: Duration::from_secs(15),
            receipt_wait: Duration::from_secs(8),
            page_size: 6,
            elder_page_size: 4,
            pin_hash: None,
        }
    }
}

/// A device's health as the screens need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Health {
    #[default]
    Unknown,
    Ok,
    /// Working, but a technician should look soon (paper running low).
    Warning,
    /// Not usable now; the screen offers another way.
    Down,
}

/// What the devices are doing, in their services' words; fed by the shell.
#[derive(Debug, Clone, Default)]
pub struct Devices {
    pub reader: Health,
    pub reader_detail: String,
    pub printer: Health,
    pub printer_detail: String,
    pub scanner: Health,
    pub scanner_detail: String,
}

/// One of the kiosk's devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Reader,
    Printer,
    Scanner,
}

/// Short-lived messages; the screens word them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Lift the card and place it again.
    LiftCard,
    /// The scanned code is not a login code.
    NotLoginCode,
    /// The scan could not be read.
    ScanGarbled,
    /// The item could not be opened (damaged catalogue entry).
    ItemUnavailable,
    /// The outbox did not take the submission; nothing was sent.
    SubmitFailed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListSource {
    Topic(String),
    Department(String),
    Search,
}

/// How printing the slip went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Printing {
    Waiting,
    Printing,
    Printed,
    /// Not printed: the screen shows the QR code and the number instead, and says why.
    Failed(PrintProblem),
}

#[derive(Debug)]
pub struct Submission {
    pub outbox_id: i64,
    pub receipt: Receipt,
    pub printing: Printing,
    started: Instant,
}

/// What a timer tick found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    Active,
    /// The warning is up; seconds left.
    Warning(u64),
    /// The session was wiped just now.
    Wiped,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("nothing to submit on this screen")]
    NotReady,
    #[error("the outbox did not take the submission: {0}")]
    NotQueued(String),
}

/// What the shell carries out when a resident submits: put `payload` into the outbox (one
/// transaction), then tell the core how it went with [`Session::queued`]. The core itself does
/// no I/O.
#[derive(Debug)]
pub struct Enqueue {
    pub item_code: String,
    /// The application (`kiosk_sync_proto::Submission` as JSON) or the rating
    /// (`kiosk_sync_proto::Evaluation`): personal data, wiped on drop.
    pub payload: Zeroizing<Vec<u8>>,
    pub filing: Filing,
}

/// What an [`Enqueue`] files: the outbox keeps both, the agent sends each to its endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filing {
    Application,
    Rating,
}

/// The rating being given on the evaluation screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rating {
    /// 1 非常满意 … 5 非常不满意; none chosen yet.
    pub level: Option<u8>,
    /// Ticked reasons (`kiosk_sync_proto::evaluation::REASONS`), only while dissatisfied.
    pub reasons: Vec<&'static str>,
}

/// The outbox took the submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub outbox_id: i64,
    pub idempotency_key: String,
}

/// What the core needs from the world to file an application, handed in so that it has no
/// clock or random source of its own.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    /// The wall-clock time, for the slip.
    pub wall: time::OffsetDateTime,
    /// Random bits for the query password.
    pub random: u32,
}

pub struct Session {
    config: Config,
    library: Arc<Library>,
    pending_library: Option<Arc<Library>>,
    screen: Screen,
    lang: Lang,
    elder: bool,
    identity: Option<Identity>,
    notice: Option<Notice>,
    list_source: ListSource,
    query: String,
    hits: Vec<usize>,
    page: usize,
    item: Option<(usize, Item)>,
    form: Option<FormState>,
    composer: Composer,
    submission: Option<Submission>,
    /// The slip of an application handed to the shell to queue, until it says how that went.
    filing: Option<Receipt>,
    devices: Devices,
    queue: Queue,
    self_test: SelfTest,
    last_activity: Instant,
    entered: Instant,
    back_stack: Vec<Screen>,
    pin_digits: Zeroizing<String>,
    pin_gate: pin::Gate,
    pin_message: Option<pin::Outcome>,
    pin_locked: Option<Duration>,
    /// Sessions ended since start, for the maintenance screen.
    sessions: u64,
    warning: Option<u64>,
    /// "Finish" was pressed with typed input on the form: the screen asks first.
    finish_asked: bool,
    /// The records screen's live lookup.
    lookup: Option<Lookup>,
    /// Numbers live questions, so that a late answer to an old one is dropped.
    asked: u64,
    /// Printing the records slip, while it is on its way.
    records_printing: Option<Printing>,
    /// The rating being given, on the evaluation screen.
    rating: Option<Rating>,
    /// The progress screen's lookup.
    progress: Option<progress::Lookup>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("screen", &self.screen)
            .field("lang", &self.lang)
            .field("elder", &self.elder)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl Session {
    pub fn new(config: Config, library: Arc<Library>, now: Instant) -> Self {
        Self {
            config,
            library,
            pending_library: None,
            screen: Screen::Attract,
            lang: Lang::Zh,
            elder: false,
            identity: None,
            notice: None,
            list_source: ListSource::Search,
            query: String::new(),
            hits: Vec::new(),
            page: 0,
            item: None,
            form: None,
            composer: Composer::default(),
            submission: None,
            filing: None,
            devices: Devices::default(),
            queue: Queue::default(),
            self_test: SelfTest::None,
            last_activity: now,
            entered: now,
            back_stack: Vec::new(),
            pin_digits: Zeroizing::new(String::new()),
            pin_gate: pin::Gate::default(),
            pin_message: None,
            pin_locked: None,
            sessions: 0,
            warning: None,
            finish_asked: false,
            lookup: None,
            asked: 0,
            records_printing: None,
            rating: None,
            progress: None,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn screen(&self) -> Screen {
        self.screen
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn elder(&self) -> bool {
        self.elder
    }

    pub fn notice(&self) -> Option<Notice> {
        self.notice
    }

    pub fn list_source(&self) -> &ListSource {
        &self.list_source
    }

    /// What the resident typed into the search.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The page of the list shown, from 0.
    pub fn page(&self) -> usize {
        self.page
    }

    pub fn composer(&self) -> &Composer {
        &self.composer
    }

    pub fn devices(&self) -> &Devices {
        &self.devices
    }

    /// A device service reported in: its health and its own words (paths, IDs, errors).
    pub fn device_changed(&mut self, device: Device, health: Health, detail: String) {
        let (h, d) = match device {
            Device::Reader => (&mut self.devices.reader, &mut self.devices.reader_detail),
            Device::Printer => (&mut self.devices.printer, &mut self.devices.printer_detail),
            Device::Scanner => (&mut self.devices.scanner, &mut self.devices.scanner_detail),
        };
        *h = health;
        *d = detail;
    }

    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// What the shell read from the outbox.
    pub fn queue_read(&mut self, queue: Queue) {
        self.queue = queue;
    }

    /// Sessions ended since start.
    pub fn sessions(&self) -> u64 {
        self.sessions
    }

    pub fn pin_message(&self) -> Option<pin::Outcome> {
        self.pin_message
    }

    /// How long the technician PIN stays locked, when it is.
    pub fn pin_locked(&self) -> Option<Duration> {
        self.pin_locked
    }

    pub fn self_test_result(&self) -> &SelfTest {
        &self.self_test
    }

    pub fn library(&self) -> &Library {
        &self.library
    }

    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }

    pub fn form(&self) -> Option<&FormState> {
        self.form.as_ref()
    }

    /// The form, for typing that does not come from the on-screen keyboard (a scanned code).
    pub fn form_mut(&mut self) -> Option<&mut FormState> {
        self.form.as_mut()
    }

    pub fn item(&self) -> Option<&Item> {
        self.item.as_ref().map(|(_, it)| it)
    }

    pub fn submission(&self) -> Option<&Submission> {
        self.submission.as_ref()
    }

    /// A resident is using the kiosk (personal data may be held).
    pub fn in_session(&self) -> bool {
        !matches!(self.screen, Screen::Attract | Screen::Pin | Screen::Maintenance)
    }

    fn go(&mut self, screen: Screen, now: Instant) {
        if screen != self.screen {
            self.back_stack.push(self.screen);
            self.screen = screen;
            self.entered = now;
        }
        self.notice = None;
    }

    /// Any touch: the resident is still there.
    pub fn touch(&mut self, now: Instant) {
        self.last_activity = now;
        self.warning = None;
    }

    /// Seconds left on the idle warning, while it is up.
    pub fn idle_warning(&self) -> Option<u64> {
        self.warning
    }

    // ---- starting a session ----

    pub fn start(&mut self, now: Instant) {
        self.touch(now);
        if self.screen == Screen::Attract {
            self.back_stack.clear();
            self.go(Screen::Welcome, now);
        }
    }

    pub fn set_language(&mut self, lang: Lang, now: Instant) {
        self.touch(now);
        self.lang = lang;
    }

    pub fn set_elder(&mut self, elder: bool, now: Instant) {
        self.touch(now);
        self.elder = elder;
        self.page = 0;
    }

    /// From the welcome screen to identification.
    pub fn proceed(&mut self, now: Instant) {
        self.touch(now);
        if self.screen == Screen::Welcome {
            self.go(Screen::Identify, now);
        }
    }

    fn identified(&mut self, identity: Identity, now: Instant) {
        self.touch(now);
        self.identity = Some(identity);
        if self.screen == Screen::Attract {
            self.back_stack.clear();
        }
        self.land_home(now);
    }

    /// Home, with only the welcome screen behind it: "back" never returns to identification.
    fn land_home(&mut self, now: Instant) {
        self.lookup = None;
        self.progress = None;
        self.records_printing = None;
        self.back_stack.retain(|s| *s == Screen::Welcome);
        self.screen = Screen::Home;
        self.entered = now;
        self.notice = None;
    }

    /// A card was read. Before identification it identifies the resident (also straight from
    /// the attract screen); later cards are ignored so that a second card cannot take over.
    pub fn card_read(&mut self, card: &IdCard, now: Instant) {
        if self.screen == Screen::Maintenance {
            let name = if card.name.is_empty() { "?" } else { &card.name };
            self.self_test = SelfTest::CardRead { kind: card.kind, masked_name: kiosk_pii::mask_name(name) };
        } else if matches!(self.screen, Screen::Attract | Screen::Welcome | Screen::Identify) {
            self.identified(Identity::from_card(card), now);
        } else {
            tracing::info!(screen = ?self.screen, "card read ignored: the session is identified already");
        }
    }

    pub fn lift_and_replace(&mut self, now: Instant) {
        if matches!(self.screen, Screen::Welcome | Screen::Identify) {
            self.touch(now);
            self.notice = Some(Notice::LiftCard);
        }
    }

    pub fn scan(&mut self, scan: &Scan, now: Instant) {
        if self.screen == Screen::Maintenance {
            self.self_test = SelfTest::ScanRead { kind: scan.kind, chars: scan.text.chars().count() };
            return;
        }
        if self.screen == Screen::Progress {
            if let Some(p) =
                self.progress.as_mut().filter(|p| p.mode == progress::Mode::Slip && p.state.is_none())
            {
                self.last_activity = now;
                p.scanned_code(&scan.text);
            }
            return;
        }
        if !matches!(self.screen, Screen::Attract | Screen::Welcome | Screen::Identify) {
            return;
        }
        // A slip's QR code: follow that application, no card needed.
        if let Some(reference) = progress::slip_reference(&scan.text) {
            self.start(now);
            self.progress = Some(progress::Lookup::slip(Some(reference)));
            self.go(Screen::Progress, now);
            return;
        }
        match Identity::from_scan(scan) {
            Some(identity) => self.identified(identity, now),
            None if self.screen == Screen::Identify => {
                self.touch(now);
                self.notice = Some(Notice::NotLoginCode);
            }
            None => {}
        }
    }

    pub fn scan_rejected(&mut self, why: Rejection, now: Instant) {
        if self.screen == Screen::Maintenance {
            self.self_test = SelfTest::ScanRefused(why);
        }
        if self.screen == Screen::Identify {
            self.touch(now);
            self.notice = Some(Notice::ScanGarbled);
        }
    }

    // ---- finding an item ----

    fn show_list(&mut self, source: ListSource, hits: Vec<usize>, now: Instant) {
        self.list_source = source;
        self.hits = hits;
        self.page = 0;
        self.go(Screen::List, now);
    }

    pub fn open_topic(&mut self, code: &str, now: Instant) {
        self.touch(now);
        let hits = self.library.by_topic(code);
        self.show_list(ListSource::Topic(code.to_owned()), hits, now);
    }

    pub fn open_department(&mut self, code: &str, now: Instant) {
        self.touch(now);
        let hits = self.library.by_department(code);
        self.show_list(ListSource::Department(code.to_owned()), hits, now);
    }

    pub fn open_search(&mut self, now: Instant) {
        self.touch(now);
        self.query.clear();
        self.show_list(ListSource::Search, Vec::new(), now);
    }

    /// A key of the search keyboard: letters for pinyin or initials, digits, or a candidate
    /// character; the list follows every keystroke.
    pub fn search_type(&mut self, text: &str, now: Instant) {
        self.touch(now);
        if self.query.chars().count() < 20 {
            self.query.push_str(&text.to_lowercase());
        }
        self.research();
    }

    pub fn search_backspace(&mut self, now: Instant) {
        self.touch(now);
        self.query.pop();
        self.research();
    }

    fn research(&mut self) {
        self.hits =
            if self.query.trim().is_empty() { Vec::new() } else { self.library.search(&self.query, 60) };
        self.page = 0;
    }

    pub fn page_size(&self) -> usize {
        if self.elder { self.config.elder_page_size } else { self.config.page_size }
    }

    pub fn pages(&self) -> usize {
        self.hits.len().div_ceil(self.page_size()).max(1)
    }

    pub fn hits(&self) -> &[usize] {
        &self.hits
    }

    /// The items on the page shown.
    pub fn page_hits(&self) -> &[usize] {
        let size = self.page_size();
        let start = (self.page * size).min(self.hits.len());
        &self.hits[start..(start + size).min(self.hits.len())]
    }

    pub fn next_page(&mut self, now: Instant) {
        self.touch(now);
        if self.page + 1 < self.pages() {
            self.page += 1;
        }
    }

    pub fn previous_page(&mut self, now: Instant) {
        self.touch(now);
        self.page = self.page.saturating_sub(1);
    }

    pub fn open_item(&mut self, index: usize, now: Instant) {
        self.touch(now);
        match self.library.item(index) {
            Ok(item) => {
                self.item = Some((index, item));
                self.go(Screen::Detail, now);
            }
            Err(e) => {
                tracing::warn!(index, error = %e, "catalogue item could not be opened");
                self.notice = Some(Notice::ItemUnavailable);
            }
        }
    }

    /// Whether the open item is a live query the resident can run: it needs the number from a
    /// card (a login code identifies without one).
    pub fn can_query(&self) -> bool {
        matches!(self.item().map(|it| it.kind), Some(Kind::Query(_))) && self.person().is_some()
    }

    pub fn lookup(&self) -> Option<&Lookup> {
        self.lookup.as_ref()
    }

    /// How printing the records slip goes, once asked.
    pub fn records_printing(&self) -> Option<Printing> {
        self.records_printing
    }

    /// "Show my records" on a query item: the records screen, waiting for the answer to the
    /// question returned.
    pub fn open_records(&mut self, now: Instant) -> Option<Ask> {
        self.touch(now);
        if !self.can_query() {
            return None;
        }
        let Some(Kind::Query(record)) = self.item().map(|it| it.kind) else { return None };
        let identity = self.identity.as_ref()?;
        self.lookup = Some(Lookup::new(record, &identity.name, &identity.id_number));
        self.records_printing = None;
        self.go(Screen::Records, now);
        self.ask_page(0)
    }

    /// Who asks a live question about themselves: the person on the card read (a login code
    /// carries no ID number, so it asks nothing).
    fn person(&self) -> Option<proto::live::Person> {
        let identity = self.identity.as_ref().filter(|i| !i.id_number.is_empty())?;
        Some(proto::live::Person { id_number: identity.id_number.clone(), name: identity.name.clone() })
    }

    fn ask_page(&mut self, page: u32) -> Option<Ask> {
        let person = self.person()?;
        self.asked += 1;
        Some(self.lookup.as_mut()?.ask(self.asked, page, person))
    }

    /// The next or the previous page of the record shown.
    pub fn records_page(&mut self, forward: bool, now: Instant) -> Option<Ask> {
        self.touch(now);
        let lookup = self.lookup.as_ref()?;
        let records = lookup.records()?;
        let page = if forward {
            (records.page + 1 < records.pages).then_some(records.page + 1)?
        } else {
            records.page.checked_sub(1)?
        };
        self.records_printing = None;
        self.ask_page(page)
    }

    /// "Try again" after a failed lookup.
    pub fn retry_records(&mut self, now: Instant) -> Option<Ask> {
        self.touch(now);
        let page = self.lookup.as_ref().filter(|l| matches!(l.state, LookupState::Failed(_)))?.page;
        self.ask_page(page)
    }

    /// The answer to live question `id`; answers to older questions, or of another service than
    /// the screen asked, are dropped (and wiped).
    pub fn live_answer(&mut self, id: u64, answer: Result<Reply, LiveFailure>, now: Instant) {
        let taken = match (self.screen, answer) {
            (Screen::Records, answer) => {
                let Some(lookup) = self.lookup.as_mut().filter(|l| l.asked == id) else { return };
                match answer {
                    Ok(Reply::Records(records)) => lookup.state = LookupState::Shown(Box::new(records)),
                    Err(why) => lookup.state = LookupState::Failed(why),
                    Ok(_) => return,
                }
                true
            }
            (Screen::Progress, answer) => {
                let Some(lookup) = self.progress.as_mut().filter(|l| l.asked == id) else { return };
                match answer {
                    Ok(Reply::Progress(p)) => lookup.state = Some(LookupState::Shown(Box::new(p))),
                    Err(why) => lookup.state = Some(LookupState::Failed(why)),
                    Ok(_) => return,
                }
                true
            }
            _ => false,
        };
        if taken {
            self.last_activity = now;
            self.warning = None;
        }
    }

    // ---- progress lookup (办件进度) ----

    pub fn progress(&self) -> Option<&progress::Lookup> {
        self.progress.as_ref()
    }

    /// Whether "my applications" can be asked: the resident was identified by a card.
    pub fn can_follow_mine(&self) -> bool {
        self.person().is_some()
    }

    /// "我的办件" from home: the question for the service network. The shell then reads this
    /// kiosk's unsent applications into [`Session::progress_waiting`].
    pub fn open_progress(&mut self, now: Instant) -> Option<Ask> {
        self.touch(now);
        if self.screen != Screen::Home {
            return None;
        }
        let person = self.person()?;
        let mut lookup = progress::Lookup::mine(&person.name);
        self.asked += 1;
        let ask = lookup.ask(self.asked, Some(person));
        self.progress = Some(lookup);
        self.go(Screen::Progress, now);
        ask
    }

    /// This kiosk's unsent applications: the resident's own are shown as waiting here.
    pub fn progress_waiting(&mut self, unsent: Vec<progress::Unsent>) {
        if let (Some(identity), Some(p)) =
            (self.identity.as_ref(), self.progress.as_mut().filter(|p| p.mode == progress::Mode::Mine))
        {
            p.waiting_read(unsent, &identity.id_number);
        }
    }

    /// "凭回执查询" from the identification screen or home: the slip's numbers to type.
    pub fn open_progress_by_slip(&mut self, now: Instant) {
        self.touch(now);
        if matches!(self.screen, Screen::Identify | Screen::Home) {
            self.progress = Some(progress::Lookup::slip(None));
            self.go(Screen::Progress, now);
        }
    }

    fn slip_entry(&mut self) -> Option<&mut progress::Lookup> {
        let on_screen = self.screen == Screen::Progress;
        self.progress.as_mut().filter(|p| on_screen && p.mode == progress::Mode::Slip && p.state.is_none())
    }

    pub fn progress_key(&mut self, key: &str, now: Instant) {
        self.touch(now);
        if let Some(p) = self.slip_entry() {
            key.chars().for_each(|c| p.key(c));
        }
    }

    pub fn progress_backspace(&mut self, now: Instant) {
        self.touch(now);
        if let Some(p) = self.slip_entry() {
            p.backspace();
        }
    }

    pub fn progress_focus(&mut self, entry: progress::Entry, now: Instant) {
        self.touch(now);
        if let Some(p) = self.slip_entry() {
            p.entry = entry;
        }
    }

    /// "查询" once the slip's numbers are typed.
    pub fn progress_search(&mut self, now: Instant) -> Option<Ask> {
        self.touch(now);
        let id = self.asked + 1;
        let ask = self.slip_entry()?.ask(id, None)?;
        self.asked = id;
        Some(ask)
    }

    /// "重试" after a failed progress lookup: the same question again.
    pub fn retry_progress(&mut self, now: Instant) -> Option<Ask> {
        self.touch(now);
        let person = self.person();
        let failed = self.progress.as_ref().is_some_and(|p| matches!(p.state, Some(LookupState::Failed(_))));
        if !failed || self.screen != Screen::Progress {
            return None;
        }
        let id = self.asked + 1;
        let ask = self.progress.as_mut()?.ask(id, person)?;
        self.asked = id;
        Some(ask)
    }

    /// A case of the answer, shown in full with its timeline.
    pub fn open_case(&mut self, index: usize, now: Instant) {
        self.touch(now);
        if let Some(p) = self.progress.as_mut()
            && p.progress().is_some_and(|a| index < a.cases.len())
        {
            p.open = Some(index);
        }
    }

    /// The masked summary slip of the page shown, to print.
    #[must_use = "the slip must go to the printer"]
    pub fn print_records(&mut self, wall: time::OffsetDateTime, now: Instant) -> Option<Slip> {
        self.touch(now);
        let lookup = self.lookup.as_ref()?;
        let records = lookup.records()?;
        let slip = crate::records_slip::slip(lookup, records, &self.config.kiosk_id, &receipt::cst(wall));
        self.records_printing = Some(Printing::Printing);
        Some(slip)
    }

    /// Whether the open item takes an application here (information items do not).
    pub fn can_apply(&self) -> bool {
        self.item()
            .is_some_and(|it| it.kind != Kind::Info && it.form.as_ref().is_some_and(|f| !f.fields.is_empty()))
    }

    // ---- the form ----

    pub fn begin_form(&mut self, now: Instant) {
        self.touch(now);
        if !self.can_apply() {
            return;
        }
        let form = self.item().and_then(|it| it.form.clone()).expect("checked by can_apply");
        self.form = Some(FormState::new(&form, self.identity.as_ref()));
        self.composer.clear();
        self.go(Screen::Form, now);
    }

    pub fn keyboard(&self) -> Keyboard {
        self.form
            .as_ref()
            .and_then(FormState::focused_field)
            .map_or(Keyboard::Digits, |f| keyboard_for(f.kind))
    }

    pub fn focus_field(&mut self, i: usize, now: Instant) {
        self.touch(now);
        self.composer.clear();
        if let Some(form) = &mut self.form {
            form.focus(i);
        }
    }

    /// A key of the form keyboard. On a Chinese field letters compose pinyin; elsewhere they
    /// are typed as they are.
    pub fn form_key(&mut self, key: &str, now: Instant) {
        self.touch(now);
        let chinese = self.keyboard() == Keyboard::Chinese;
        let Some(form) = &mut self.form else { return };
        for c in key.chars() {
            if chinese && self.composer.push(c) {
                continue;
            }
            form.type_text(c.encode_utf8(&mut [0; 4]));
        }
    }

    pub fn form_backspace(&mut self, now: Instant) {
        self.touch(now);
        if self.composer.backspace() {
            return;
        }
        if let Some(form) = &mut self.form {
            form.backspace();
        }
    }

    /// The next page of pinyin candidates.
    pub fn next_candidates(&mut self, now: Instant) {
        self.touch(now);
        self.composer.next_page();
    }

    pub fn pick_candidate(&mut self, i: usize, now: Instant) {
        self.touch(now);
        if let (Some(c), Some(form)) = (self.composer.pick(i), &mut self.form) {
            form.type_text(c.encode_utf8(&mut [0; 4]));
        }
    }

    pub fn choose(&mut self, field: usize, choice: &str, now: Instant) {
        self.touch(now);
        if let Some(form) = &mut self.form {
            form.choose(field, choice);
        }
    }

    /// "Next" on the form: to the confirmation when every field is right.
    pub fn review(&mut self, now: Instant) {
        self.touch(now);
        self.composer.clear();
        if let Some(form) = &mut self.form
            && form.check_all()
        {
            self.go(Screen::Confirm, now);
        }
    }

    /// The confirmation rows: label (zh, en) and the value as the screen may show it.
    pub fn confirm_rows(&self) -> Vec<(String, String, String)> {
        let Some(form) = &self.form else { return Vec::new() };
        form.fields()
            .iter()
            .enumerate()
            .map(|(i, f)| (f.label_zh.clone(), f.label_en.clone(), crate::form::masked(f, form.value(i))))
            .collect()
    }

    // ---- submitting ----

    /// The application to put into the outbox ([`Enqueue`]); the resident stays on the
    /// confirmation until [`Session::queued`] says how that went.
    pub fn submit(&mut self, stamp: Stamp, now: Instant) -> Result<Enqueue, SubmitError> {
        self.touch(now);
        if self.screen != Screen::Confirm {
            return Err(SubmitError::NotReady);
        }
        let (Some((_, item)), Some(form)) = (&self.item, &self.form) else {
            return Err(SubmitError::NotReady);
        };
        let department = self.library.department_name(&item.dept_code).unwrap_or(&item.dept_code).to_owned();
        let mut receipt = Receipt::from_item(item, &department, receipt::cst(stamp.wall));
        receipt.kiosk_id = self.config.kiosk_id.clone();
        receipt.query_password = receipt::query_password(stamp.random);
        let (name, number) = form.fields().iter().enumerate().fold(
            (String::new(), String::new()),
            |(name, number), (i, f)| match f.prefill {
                Some(kiosk_catalogue::model::CardField::Name) => (form.value(i).to_owned(), number),
                _ if f.kind == FieldKind::IdNumber => (name, form.value(i).to_owned()),
                _ => (name, number),
            },
        );
        let name = Zeroizing::new(name);
        let number = Zeroizing::new(number);
        receipt.applicant = kiosk_pii::mask_name(&name);
        receipt.id_number = kiosk_pii::mask_id_number(&number);
        let identity = self.identity.as_ref();
        let submission = proto::Submission {
            item_code: item.task_code.clone(),
            item_name: item.task_name.clone(),
            kiosk_id: self.config.kiosk_id.clone(),
            identified_by: identity.map_or("none", Identity::source_key).to_owned(),
            app_token: identity.map(|i| i.app_token.clone()).unwrap_or_default(),
            query_password: receipt.query_password.to_string(),
            submitted_at: receipt.submitted_at.clone(),
            form: form.values(),
        };
        let payload = Zeroizing::new(serde_json::to_vec(&submission).expect("a submission serialises"));
        let item_code = item.task_code.clone();
        self.filing = Some(receipt);
        Ok(Enqueue { item_code, payload, filing: Filing::Application })
    }

    /// How the outbox took the application of [`Session::submit`]. Queued, it is durable and
    /// the agent uploads it; refused, the resident stays on the confirmation with a notice.
    pub fn queued(&mut self, outcome: Result<Queued, String>, now: Instant) -> Result<(), SubmitError> {
        let Some(mut receipt) = self.filing.take() else { return Err(SubmitError::NotReady) };
        match outcome {
            Ok(queued) => {
                tracing::info!(item = %receipt.item_code, outbox_id = queued.outbox_id, "submission queued");
                receipt.submission_id = queued.idempotency_key;
                self.submission = Some(Submission {
                    outbox_id: queued.outbox_id,
                    receipt,
                    printing: Printing::Waiting,
                    started: now,
                });
                self.go(Screen::Submitting, now);
                Ok(())
            }
            Err(why) => {
                tracing::error!(item = %receipt.item_code, error = %why, "submission not queued");
                self.notice = Some(Notice::SubmitFailed);
                Err(SubmitError::NotQueued(why))
            }
        }
    }

    /// Whether the slip should stop waiting for the case number.
    pub fn receipt_wait_over(&self, now: Instant) -> bool {
        self.submission
            .as_ref()
            .is_some_and(|s| s.printing == Printing::Waiting && now - s.started >= self.config.receipt_wait)
    }

    /// The case number arrived (or the wait is over): the slip to print.
    #[must_use = "the slip must go to the printer"]
    pub fn receipt_ready(&mut self, case_number: Option<String>) -> Option<Slip> {
        let s = self.submission.as_mut().filter(|s| s.printing == Printing::Waiting)?;
        s.receipt.case_number = case_number;
        s.printing = Printing::Printing;
        Some(s.receipt.slip())
    }

    /// How printing went; the done screen follows either way (for a records slip, the records
    /// screen says it).
    pub fn printed(&mut self, outcome: Result<(), PrintProblem>, now: Instant) {
        if self.records_printing == Some(Printing::Printing) {
            self.records_printing = Some(match outcome {
                Ok(()) => Printing::Printed,
                Err(problem) => Printing::Failed(problem),
            });
            return;
        }
        if let Some(s) = &mut self.submission {
            s.printing = match outcome {
                Ok(()) => Printing::Printed,
                Err(problem) => Printing::Failed(problem),
            };
            self.touch(now);
            self.go(Screen::Done, now);
        }
    }

    /// The "finish" button, from anywhere in a session. With a form the resident has typed
    /// into, it asks first ([`Session::finish_asked`]); [`Session::finish_confirmed`] ends the
    /// session, [`Session::keep_going`] goes back to the form.
    pub fn finish(&mut self, now: Instant) {
        self.touch(now);
        if self.screen == Screen::Done {
            // Rate it first: what identifies the resident goes now, the item stays for the rating.
            self.rating = Some(Rating::default());
            self.go(Screen::Evaluate, now);
            self.wipe_personal_data();
        } else if self.screen == Screen::Evaluate {
            self.skip_rating(now);
        } else if self.in_session() && self.screen != Screen::Submitting {
            if self.form.as_ref().is_some_and(FormState::has_input) {
                self.finish_asked = true;
            } else {
                self.wipe(now);
            }
        }
    }

    pub fn rating(&self) -> Option<&Rating> {
        self.rating.as_ref()
    }

    /// A level on the evaluation screen; reasons stay only while it is a dissatisfied one.
    pub fn rate(&mut self, level: u8, now: Instant) {
        self.touch(now);
        if let Some(r) = self.rating.as_mut().filter(|_| proto::evaluation::LEVELS.contains(&level)) {
            r.level = Some(level);
            if level < proto::evaluation::DISSATISFIED_FROM {
                r.reasons.clear();
            }
        }
    }

    /// Ticks or unticks a reason (only with a dissatisfied level).
    pub fn toggle_reason(&mut self, reason: &str, now: Instant) {
        self.touch(now);
        let Some(r) = self.rating.as_mut() else { return };
        if r.level.is_none_or(|l| l < proto::evaluation::DISSATISFIED_FROM) {
            return;
        }
        let Some(&code) = proto::evaluation::REASONS.iter().find(|c| **c == reason) else { return };
        match r.reasons.iter().position(|c| *c == code) {
            Some(i) => {
                r.reasons.remove(i);
            }
            None => r.reasons.push(code),
        }
    }

    /// "Submit" on the evaluation screen: the rating to queue, then the thank-you screen. The
    /// rating carries no personal data but what the resident chose.
    pub fn send_rating(&mut self, wall: time::OffsetDateTime, now: Instant) -> Option<Enqueue> {
        self.touch(now);
        let level = self.rating.as_ref()?.level?;
        let rating = self.rating.take()?;
        let item_code = self.item().map(|i| i.task_code.clone()).unwrap_or_default();
        let mut e = proto::Evaluation::default();
        e.item_code = item_code.clone();
        e.kiosk_id = self.config.kiosk_id.clone();
        e.level = level;
        e.reasons = rating.reasons.iter().map(|r| (*r).to_owned()).collect();
        e.reference = self.submission.as_ref().map(|s| s.receipt.reference().to_owned()).unwrap_or_default();
        e.submitted_at = receipt::cst(wall);
        let payload = Zeroizing::new(serde_json::to_vec(&e).expect("a rating serialises"));
        self.go(Screen::ThankYou, now);
        Some(Enqueue { item_code, payload, filing: Filing::Rating })
    }

    /// "Skip" (or "finish") on the evaluation screen: no rating.
    pub fn skip_rating(&mut self, now: Instant) {
        if self.screen == Screen::Evaluate {
            self.rating = None;
            self.go(Screen::ThankYou, now);
        }
    }

    /// Whether "finish" is waiting for the resident to say the typed input may go.
    pub fn finish_asked(&self) -> bool {
        self.finish_asked
    }

    /// "结束办理" on the question: the session ends, the input is wiped.
    pub fn finish_confirmed(&mut self, now: Instant) {
        if self.finish_asked {
            self.wipe(now);
        }
    }

    pub fn back(&mut self, now: Instant) {
        self.touch(now);
        self.composer.clear();
        if matches!(
            self.screen,
            Screen::Submitting | Screen::Done | Screen::Evaluate | Screen::ThankYou | Screen::Attract
        ) {
            return;
        }
        if matches!(self.screen, Screen::Pin | Screen::Maintenance) {
            self.close_maintenance(now);
            return;
        }
        if self.screen == Screen::Records {
            // Leaving the records drops them: nothing personal outlives the screen.
            self.lookup = None;
            self.records_printing = None;
        }
        if self.screen == Screen::Progress {
            // From a case back to the list; from the list (or a failed lookup by slip, back to
            // its numbers) off the screen, the answer dropped.
            let Some(p) = self.progress.as_mut() else { return };
            if p.open.take().is_some() {
                return;
            }
            if p.mode == progress::Mode::Slip && p.state.is_some() && p.progress().is_none() {
                p.state = None;
                return;
            }
            self.progress = None;
        }
        match self.back_stack.pop() {
            Some(Screen::Attract) | None => self.wipe(now),
            Some(previous) => {
                self.screen = previous;
                self.entered = now;
                self.notice = None;
            }
        }
    }

    /// Home, keeping the identification.
    pub fn home(&mut self, now: Instant) {
        self.touch(now);
        if self.identity.is_some() && !matches!(self.screen, Screen::Submitting | Screen::Done) {
            self.land_home(now);
        }
    }

    // ---- time ----

    /// Quiet time before the idle warning: the configured time, doubled in elder mode.
    pub fn idle_limit(&self) -> Duration {
        if self.elder { self.config.idle_after * 2 } else { self.config.idle_after }
    }

    /// Called about once a second.
    pub fn tick(&mut self, now: Instant) -> Idle {
        match self.screen {
            // Never time out while submitting or printing; show progress instead.
            Screen::Attract | Screen::Submitting => {
                self.warning = None;
                return Idle::Active;
            }
            Screen::ThankYou if now - self.entered >= self.config.thank_you => {
                self.wipe(now);
                return Idle::Wiped;
            }
            _ => {}
        }
        let quiet = now.saturating_duration_since(self.last_activity);
        let limit = self.idle_limit();
        if quiet < limit {
            self.warning = None;
            return Idle::Active;
        }
        let over = quiet - limit;
        if over >= self.config.countdown {
            tracing::info!(screen = ?self.screen, "session ended after inactivity");
            self.wipe(now);
            return Idle::Wiped;
        }
        let left = (self.config.countdown - over).as_secs_f64().ceil() as u64;
        self.warning = Some(left.max(1));
        Idle::Warning(left.max(1))
    }

    /// "继续办理" on the idle warning or on the question before finishing.
    pub fn keep_going(&mut self, now: Instant) {
        self.touch(now);
        self.finish_asked = false;
    }

    fn wipe_personal_data(&mut self) {
        // Identity, form values and the query password zeroise themselves when dropped.
        self.identity = None;
        self.form = None;
        self.composer.clear();
        self.query.clear();
        self.pin_digits.clear();
    }

    /// Ends the session: personal data zeroised, the screen back to the start, and a waiting
    /// catalogue release switched in.
    pub fn wipe(&mut self, now: Instant) {
        self.wipe_personal_data();
        self.submission = None;
        self.filing = None;
        self.lookup = None;
        self.progress = None;
        self.records_printing = None;
        self.rating = None;
        self.item = None;
        self.hits.clear();
        self.page = 0;
        self.back_stack.clear();
        self.notice = None;
        self.lang = Lang::Zh;
        self.elder = false;
        self.screen = Screen::Attract;
        self.entered = now;
        self.last_activity = now;
        self.warning = None;
        self.finish_asked = false;
        self.sessions += 1;
        if let Some(library) = self.pending_library.take() {
            tracing::info!(version = library.version(), "catalogue release switched in between sessions");
            self.library = library;
        }
    }

    /// A new catalogue release: switched in now when nobody is using the kiosk, else when the
    /// session ends. Returns whether it is in use already.
    pub fn offer_library(&mut self, library: Arc<Library>) -> bool {
        if self.in_session() || matches!(self.screen, Screen::Pin | Screen::Maintenance) {
            self.pending_library = Some(library);
            false
        } else {
            tracing::info!(version = library.version(), "catalogue release switched in");
            self.library = library;
            true
        }
    }

    pub fn pending_version(&self) -> Option<&str> {
        self.pending_library.as_ref().map(|l| l.version())
    }

    // ---- technician ----

    /// The long-press in the corner; only when no resident is using the kiosk.
    pub fn open_pin(&mut self, now: Instant) {
        if self.screen == Screen::Attract && self.config.pin_hash.is_some() {
            self.pin_digits.clear();
            self.pin_message = None;
            self.pin_locked = match self.pin_gate.admit(now) {
                pin::Admission::Locked(left) => Some(left),
                pin::Admission::Open => None,
            };
            self.screen = Screen::Pin;
            self.entered = now;
            self.last_activity = now;
        }
    }

    pub fn pin_digits(&self) -> usize {
        self.pin_digits.len()
    }

    pub fn pin_key(&mut self, digit: &str, now: Instant) {
        self.touch(now);
        if self.pin_digits.len() < 12 && digit.len() == 1 && digit.bytes().all(|b| b.is_ascii_digit()) {
            self.pin_digits.push_str(digit);
        }
    }

    pub fn pin_clear(&mut self, now: Instant) {
        self.touch(now);
        self.pin_digits.clear();
    }

    /// The PIN to verify off the UI thread, with the stored hash; `None` while locked.
    pub fn pin_submit(&mut self, now: Instant) -> Option<(String, Zeroizing<String>)> {
        self.touch(now);
        if let pin::Admission::Locked(left) = self.pin_gate.admit(now) {
            self.pin_locked = Some(left);
            self.pin_digits.clear();
            return None;
        }
        let stored = self.config.pin_hash.clone()?;
        let digits = Zeroizing::new(std::mem::take(&mut *self.pin_digits));
        Some((stored, digits))
    }

    pub fn pin_result(&mut self, accepted: bool, now: Instant) {
        if self.screen != Screen::Pin {
            return;
        }
        let outcome = self.pin_gate.record(accepted, now);
        self.pin_message = Some(outcome);
        match outcome {
            pin::Outcome::Accepted => {
                tracing::info!("maintenance screen opened");
                self.screen = Screen::Maintenance;
                self.entered = now;
            }
            pin::Outcome::LockedOut(d) => self.pin_locked = Some(d),
            pin::Outcome::Wrong(_) => {}
        }
    }

    /// A technician's self-test: for the printer, `printer` says whether one took the test slip.
    pub fn self_test(&mut self, kind: SelfTestKind, printer: bool) {
        self.self_test = match kind {
            SelfTestKind::Printer if printer => SelfTest::Printing,
            SelfTestKind::Printer => SelfTest::NoPrinter,
            SelfTestKind::Reader => SelfTest::PlaceCard,
            SelfTestKind::Scanner => SelfTest::ScanCode,
        };
    }

    /// How the test slip printed; the printer's words when it did not.
    pub fn test_slip_printed(&mut self, outcome: Result<(), String>) {
        self.self_test = match outcome {
            Ok(()) => SelfTest::SlipPrinted,
            Err(words) => SelfTest::SlipFailed(words),
        };
    }

    pub fn close_maintenance(&mut self, now: Instant) {
        if matches!(self.screen, Screen::Pin | Screen::Maintenance) {
            self.pin_digits.clear();
            self.self_test = SelfTest::None;
            self.wipe(now);
            self.sessions -= 1;
        }
    }
}
