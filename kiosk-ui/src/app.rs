//! The running kiosk outside the screens: the session, the outbox, the devices and the installed
//! catalogue, advanced by [`App::pump`] on the UI's timer. Everything here is synchronous and
//! quick (an outbox read is a fraction of a millisecond), so the UI thread never stalls on it.

use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use kiosk_app::view::{Queue, SelfTestKind};
use kiosk_app::{Device, Enqueue, Filing, Health, Library, Printing, Queued, Screen, Session, Stamp, View};
use kiosk_catalogue::BundleWatch;
use kiosk_idcard::{LiftReason, ReaderEvent};
use kiosk_outbox::{NewSubmission, Outbox, Part, PartState, State, now_ms};
use kiosk_scanner::ScannerEvent;

use crate::devices::{Devices, Event, PrintProblem};
use crate::live::Live;
use crate::logbuf::LogBuffer;
use kiosk_escpos::{PrinterEvent, PrinterState};

const STATS_EVERY: Duration = Duration::from_secs(2);
const WATCH_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct App {
    pub session: Session,
    pub outbox: Outbox,
    pub devices: Devices,
    watch: Option<BundleWatch>,
    pub catalogue_path: Option<PathBuf>,
    pub log: LogBuffer,
    /// Live questions to the sync agent.
    live: Live,
    pin_results: (mpsc::Sender<bool>, mpsc::Receiver<bool>),
    last_stats: Option<Instant>,
    last_watch: Option<Instant>,
}

/// The wall clock and random bits the core needs to file an application.
pub fn stamp() -> Stamp {
    let mut random = [0u8; 4];
    getrandom::fill(&mut random).expect("the OS random source is available");
    Stamp { wall: time::OffsetDateTime::now_utc(), random: u32::from_le_bytes(random) }
}

impl App {
    pub fn new(session: Session, outbox: Outbox, devices: Devices, catalogue_path: Option<PathBuf>) -> Self {
        let mut watch = catalogue_path.as_ref().map(BundleWatch::new);
        // The bundle the session started with is the one installed now: only later changes count.
        if let Some(w) = &mut watch {
            w.mark_current();
        }
        Self {
            session,
            outbox,
            devices,
            watch,
            catalogue_path,
            log: LogBuffer::default(),
            live: Live::new(None, crate::controller::wake),
            pin_results: mpsc::channel(),
            last_stats: None,
            last_watch: None,
        }
    }

    pub fn with_log(mut self, log: LogBuffer) -> Self {
        self.log = log;
        self
    }

    /// Live services through the sync agent's local API at `socket`.
    pub fn with_live(mut self, socket: Option<PathBuf>) -> Self {
        self.live = Live::new(socket, crate::controller::wake);
        self
    }

    /// Everything that happened since the last call: device events, timers, the submission's
    /// progress, the outbox's health and a new catalogue release.
    pub fn pump(&mut self, now: Instant) {
        while let Ok(event) = self.devices.events.try_recv() {
            self.device_event(event, now);
        }
        for (id, answer) in self.live.answers() {
            self.session.live_answer(id, answer, now);
        }
        while let Ok(accepted) = self.pin_results.1.try_recv() {
            self.session.pin_result(accepted, now);
            // The maintenance screen opens with current figures, not those of 2 s ago.
            self.last_stats = None;
        }
        self.session.tick(now);
        self.follow_submission(now);
        if self.last_stats.is_none_or(|t| now - t >= STATS_EVERY) {
            self.last_stats = Some(now);
            self.refresh_stats();
        }
        if self.last_watch.is_none_or(|t| now - t >= WATCH_EVERY) {
            self.last_watch = Some(now);
            self.check_catalogue();
        }
    }

    /// What the screens show now.
    pub fn view(&self) -> View {
        let log = if self.session.screen() == Screen::Maintenance { self.log.tail(14) } else { Vec::new() };
        self.session.view(&log)
    }

    fn record_device(&mut self, part: Part, state: PartState) {
        if let Err(e) = self.outbox.set_part_state(part, &state, now_ms()) {
            tracing::warn!(part = part.as_str(), error = %e, "device state not recorded");
        }
    }

    fn device_event(&mut self, event: Event, now: Instant) {
        let session = &mut self.session;
        match event {
            Event::Reader(ReaderEvent::Ready(info)) => {
                session.device_changed(
                    Device::Reader,
                    Health::Ok,
                    format!("{} · SAM {}", info.device, info.sam_id),
                );
                self.record_device(Part::Idcard, PartState::ok(""));
            }
            Event::Reader(ReaderEvent::CardRead(card)) => session.card_read(&card, now),
            Event::Reader(ReaderEvent::LiftAndReplace(reason)) => {
                if let LiftReason::CardProblem(status) = reason {
                    tracing::info!(%status, "asking to re-place the card");
                }
                session.lift_and_replace(now);
            }
            Event::Reader(ReaderEvent::Fault(message)) => {
                session.device_changed(Device::Reader, Health::Down, message.clone());
                self.record_device(Part::Idcard, PartState::fault(message));
            }
            Event::Reader(ReaderEvent::Disconnected { device }) => {
                session.device_changed(Device::Reader, Health::Down, format!("{device}: not connected"));
                self.record_device(Part::Idcard, PartState::fault("disconnected"));
            }
            Event::Scanner(ScannerEvent::Connected { device }) => {
                session.device_changed(Device::Scanner, Health::Ok, device);
                self.record_device(Part::Scanner, PartState::ok(""));
            }
            Event::Scanner(ScannerEvent::Disconnected { device, reason }) => {
                session.device_changed(Device::Scanner, Health::Down, format!("{device}: {reason}"));
                self.record_device(Part::Scanner, PartState::fault("disconnected"));
            }
            Event::Scanner(ScannerEvent::Scan(scan)) => session.scan(&scan, now),
            Event::Scanner(ScannerEvent::Rejected(why)) => {
                tracing::info!(%why, "scan refused");
                session.scan_rejected(why, now);
            }
            Event::Printer(PrinterEvent::Printed(outcome)) => session.printed(outcome, now),
            Event::Printer(PrinterEvent::State(state, detail)) => {
                let (health, part) = match state {
                    PrinterState::Ready => (Health::Ok, PartState::ok("")),
                    PrinterState::PaperLow => (Health::Warning, PartState::warning("paper_near_end")),
                    PrinterState::Down => (Health::Down, PartState::fault(detail.clone())),
                };
                session.device_changed(Device::Printer, health, detail);
                self.record_device(Part::Printer, part);
            }
            Event::Printer(PrinterEvent::TestSlip(outcome)) => session.test_slip_printed(outcome),
        }
    }

    /// While the slip waits: print once the case number is in, or once the wait is over.
    fn follow_submission(&mut self, now: Instant) {
        let Some(sub) = self.session.submission() else { return };
        if sub.printing != Printing::Waiting {
            return;
        }
        let case = match self.outbox.row(sub.outbox_id) {
            Ok(Some(row)) if row.state == Some(State::Acked) => row.case_number,
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "outbox row not readable; printing without the case number");
                None
            }
        };
        if case.is_none() && !self.session.receipt_wait_over(now) {
            return;
        }
        let Some(slip) = self.session.receipt_ready(case) else { return };
        if !self.devices.print(slip) {
            self.session.printed(Err(PrintProblem::Offline), now);
        }
    }

    fn refresh_stats(&mut self) {
        let mut queue = Queue::default();
        match self.outbox.stats(now_ms()) {
            Ok(stats) => {
                queue.pending = stats.pending + stats.in_flight;
                queue.acknowledged = stats.acked;
                queue.refused = stats.dead;
                queue.quarantined = stats.quarantined;
                queue.oldest_pending_ms = stats.oldest_pending_ms;
            }
            Err(e) => {
                tracing::warn!(error = %e, "outbox statistics not readable");
                return;
            }
        }
        if self.session.screen() == Screen::Maintenance {
            let parts: std::collections::HashMap<Part, PartState> =
                self.outbox.part_states().unwrap_or_default().into_iter().collect();
            let part = |p: Part| {
                parts.get(&p).map(|state| kiosk_app::view::Part {
                    health: match state.health {
                        kiosk_outbox::Health::Ok => Health::Ok,
                        kiosk_outbox::Health::Warning => Health::Warning,
                        kiosk_outbox::Health::Fault => Health::Down,
                    },
                    detail: state.detail.clone(),
                })
            };
            queue.uploads = part(Part::Uploads);
            queue.clock = part(Part::Clock);
            queue.catalogue_update = part(Part::CatalogueUpdate);
            queue.last_upload_ms = self
                .outbox
                .list(Some(State::Acked), 1)
                .ok()
                .and_then(|rows| rows.first().and_then(|r| r.acked_at));
        }
        self.session.queue_read(queue);
    }

    /// A release the sync agent installed: switched in between sessions.
    pub fn check_catalogue(&mut self) {
        let Some(watch) = &mut self.watch else { return };
        match watch.poll_with(crate::mapped::bundle) {
            Ok(Some(bundle)) => {
                let library = Arc::new(Library::new(bundle));
                tracing::info!(
                    version = library.version(),
                    items = library.len(),
                    "new catalogue release found"
                );
                self.session.offer_library(library);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "installed catalogue not readable; keeping the current one"),
        }
    }

    /// The technician's PIN, checked off the UI thread (Argon2 is slow on purpose).
    pub fn submit_pin(&mut self, now: Instant) {
        if let Some((stored, digits)) = self.session.pin_submit(now) {
            let tx = self.pin_results.0.clone();
            std::thread::spawn(move || {
                let accepted = crate::pin::verify(&stored, &digits).unwrap_or_else(|e| {
                    tracing::error!(error = %e, "technician PIN hash unusable");
                    false
                });
                let _ = tx.send(accepted);
            });
        }
    }

    /// "Show my records" on a query item: the question goes to the agent.
    pub fn open_records(&mut self, now: Instant) {
        if let Some(ask) = self.session.open_records(now) {
            self.live.ask(ask);
        }
    }

    pub fn records_page(&mut self, forward: bool, now: Instant) {
        if let Some(ask) = self.session.records_page(forward, now) {
            self.live.ask(ask);
        }
    }

    pub fn retry_records(&mut self, now: Instant) {
        if let Some(ask) = self.session.retry_records(now) {
            self.live.ask(ask);
        }
    }

    /// "我的办件": the question goes to the agent, and this kiosk's own unsent applications are
    /// read for the core to pick the resident's from (payloads opened in memory only).
    pub fn open_progress(&mut self, now: Instant) {
        let Some(ask) = self.session.open_progress(now) else { return };
        self.live.ask(ask);
        self.read_unsent();
    }

    fn read_unsent(&mut self) {
        let unsent = match self.outbox.waiting(200) {
            Ok(rows) => rows
                .into_iter()
                .filter_map(|w| {
                    let submission = serde_json::from_slice(&w.payload).ok()?;
                    Some(kiosk_app::progress::Unsent { submission_id: w.idempotency_key, submission })
                })
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "unsent applications not readable for the progress screen");
                Vec::new()
            }
        };
        self.session.progress_waiting(unsent);
    }

    pub fn progress_search(&mut self, now: Instant) {
        if let Some(ask) = self.session.progress_search(now) {
            self.live.ask(ask);
        }
    }

    pub fn retry_progress(&mut self, now: Instant) {
        if let Some(ask) = self.session.retry_progress(now) {
            self.live.ask(ask);
            self.read_unsent();
        }
    }

    /// The masked summary slip of the records page shown.
    pub fn print_records(&mut self, now: Instant) {
        let Some(slip) = self.session.print_records(time::OffsetDateTime::now_utc(), now) else { return };
        if !self.devices.print(slip) {
            self.session.printed(Err(PrintProblem::Offline), now);
        }
    }

    /// A technician's self-test from the maintenance screen.
    pub fn self_test(&mut self, kind: SelfTestKind) {
        let printer = kind == SelfTestKind::Printer && self.devices.print_test_slip();
        self.session.self_test(kind, printer);
    }

    /// Puts what the core filed into the outbox (one SQLite transaction, no network).
    fn file(&mut self, e: &Enqueue) -> Result<Queued, String> {
        let kind = match e.filing {
            Filing::Application => kiosk_outbox::Kind::Submission,
            Filing::Rating => kiosk_outbox::Kind::Evaluation,
        };
        self.outbox
            .enqueue_kind(
                &NewSubmission { item_code: &e.item_code, stream_key: "", payload: &e.payload },
                kind,
                now_ms(),
            )
            .map(|q| Queued { outbox_id: q.id, idempotency_key: q.idempotency_key })
            .map_err(|e| e.to_string())
    }

    /// The resident submits: the core files the application, this queues it and tells the core
    /// how that went.
    pub fn submit(&mut self, now: Instant) -> Result<(), kiosk_app::SubmitError> {
        let enqueue = self.session.submit(stamp(), now)?;
        let outcome = self.file(&enqueue);
        self.session.queued(outcome, now)
    }

    /// The resident's rating (好差评): queued like an application, so it counts offline too. A
    /// full outbox loses the rating, never an application: the resident is thanked either way.
    pub fn send_rating(&mut self, now: Instant) {
        let Some(rating) = self.session.send_rating(time::OffsetDateTime::now_utc(), now) else { return };
        if let Err(e) = self.file(&rating) {
            tracing::warn!(error = %e, "rating not queued");
        }
    }
}
