//! The running kiosk outside the screens: the session, the outbox, the devices and the installed
//! catalogue, advanced by [`App::pump`] on the UI's timer. Everything here is synchronous and
//! quick (an outbox read is a fraction of a millisecond), so the UI thread never stalls on it.

use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use kiosk_app::{Health, Idle, Library, Printing, Queued, Screen, Session, Stamp};
use kiosk_catalogue::BundleWatch;
use kiosk_idcard::{CardKind, LiftReason, ReaderEvent};
use kiosk_outbox::{NewSubmission, Outbox, Part, PartState, State, now_ms};
use kiosk_scanner::{Rejection, ScanKind, ScannerEvent};

use crate::devices::{Devices, Event, PrintProblem};
use crate::logbuf::LogBuffer;
use kiosk_escpos::{PrinterEvent, PrinterState};

/// Submissions waiting longer than this mean the service network is not being reached.
const OFFLINE_AFTER: Duration = Duration::from_secs(60);
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
    /// What the last technician self-test found.
    pub self_test: SelfTest,
    pub print_problem: Option<PrintProblem>,
    pin_results: (mpsc::Sender<bool>, mpsc::Receiver<bool>),
    last_stats: Option<Instant>,
    last_watch: Option<Instant>,
    pub software_version: &'static str,
    /// What the outbox says, read on the pump's schedule so that rendering reads no file.
    pub queue: QueueFacts,
}

/// The queue and the parts' states as the maintenance screen shows them.
#[derive(Debug, Clone, Default)]
pub struct QueueFacts {
    pub stats: kiosk_outbox::Stats,
    /// Read only while the maintenance screen is up.
    pub parts: std::collections::HashMap<Part, PartState>,
    /// When the last submission was acknowledged (ms since the epoch).
    pub last_upload_ms: Option<i64>,
}

/// The wall clock and random bits the core needs to file an application.
pub fn stamp() -> Stamp {
    let mut random = [0u8; 4];
    getrandom::fill(&mut random).expect("the OS random source is available");
    Stamp { wall: time::OffsetDateTime::now_utc(), random: u32::from_le_bytes(random) }
}

/// A new technician PIN's Argon2 hash, salted from the OS random source.
pub fn hash_pin(pin: &str) -> Result<String, kiosk_app::pin::PinError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| kiosk_app::pin::PinError::Hash(format!("no randomness for the salt: {e}")))?;
    kiosk_app::pin::hash(pin, salt)
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
            self_test: SelfTest::None,
            print_problem: None,
            pin_results: mpsc::channel(),
            last_stats: None,
            last_watch: None,
            software_version: env!("CARGO_PKG_VERSION"),
            queue: QueueFacts::default(),
        }
    }

    pub fn with_log(mut self, log: LogBuffer) -> Self {
        self.log = log;
        self
    }

    /// Everything that happened since the last call: device events, timers, the submission's
    /// progress, the outbox's health and a new catalogue release.
    pub fn pump(&mut self, now: Instant) {
        while let Ok(event) = self.devices.events.try_recv() {
            self.device_event(event, now);
        }
        while let Ok(accepted) = self.pin_results.1.try_recv() {
            self.session.pin_result(accepted, now);
            // The maintenance screen opens with current figures, not those of 2 s ago.
            self.last_stats = None;
        }
        if self.session.tick(now) == Idle::Wiped {
            self.forget_session();
        }
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

    fn forget_session(&mut self) {
        self.print_problem = None;
    }

    fn record_device(&mut self, part: Part, state: PartState) {
        if let Err(e) = self.outbox.set_part_state(part, &state, now_ms()) {
            tracing::warn!(part = part.as_str(), error = %e, "device state not recorded");
        }
    }

    fn device_event(&mut self, event: Event, now: Instant) {
        let devices = &mut self.session.devices;
        match event {
            Event::Reader(ReaderEvent::Ready(info)) => {
                devices.reader = Health::Ok;
                devices.reader_detail = format!("{} · SAM {}", info.device, info.sam_id);
                self.record_device(Part::Idcard, PartState::ok(""));
            }
            Event::Reader(ReaderEvent::CardRead(card)) => {
                if self.session.screen == Screen::Maintenance {
                    self.self_test = SelfTest::CardRead {
                        kind: card.kind,
                        masked_name: kiosk_pii::mask_name(if card.name.is_empty() {
                            "?"
                        } else {
                            &card.name
                        }),
                    };
                } else {
                    self.session.card_read(&card, now);
                }
            }
            Event::Reader(ReaderEvent::LiftAndReplace(reason)) => {
                if let LiftReason::CardProblem(status) = reason {
                    tracing::info!(%status, "asking to re-place the card");
                }
                self.session.lift_and_replace(now);
            }
            Event::Reader(ReaderEvent::Fault(message)) => {
                devices.reader = Health::Down;
                devices.reader_detail = message.clone();
                self.record_device(Part::Idcard, PartState::fault(message));
            }
            Event::Reader(ReaderEvent::Disconnected { device }) => {
                devices.reader = Health::Down;
                devices.reader_detail = format!("{device}: not connected");
                self.record_device(Part::Idcard, PartState::fault("disconnected"));
            }
            Event::Scanner(ScannerEvent::Connected { device }) => {
                devices.scanner = Health::Ok;
                devices.scanner_detail = device;
                self.record_device(Part::Scanner, PartState::ok(""));
            }
            Event::Scanner(ScannerEvent::Disconnected { device, reason }) => {
                devices.scanner = Health::Down;
                devices.scanner_detail = format!("{device}: {reason}");
                self.record_device(Part::Scanner, PartState::fault("disconnected"));
            }
            Event::Scanner(ScannerEvent::Scan(scan)) => {
                if self.session.screen == Screen::Maintenance {
                    self.self_test = SelfTest::ScanRead { kind: scan.kind, chars: scan.text.chars().count() };
                } else {
                    self.session.scan(&scan, now);
                }
            }
            Event::Scanner(ScannerEvent::Rejected(why)) => {
                tracing::info!(%why, "scan refused");
                if self.session.screen == Screen::Maintenance {
                    self.self_test = SelfTest::ScanRefused(why);
                }
                self.session.scan_rejected(now);
            }
            Event::Printer(PrinterEvent::Printed(outcome)) => {
                self.print_problem = outcome.err();
                self.session.printed(outcome.map_err(|p| p.code().to_owned()), now);
            }
            Event::Printer(PrinterEvent::State(state, detail)) => {
                let (health, part) = match state {
                    PrinterState::Ready => (Health::Ok, PartState::ok("")),
                    PrinterState::PaperLow => (Health::Warning, PartState::warning("paper_near_end")),
                    PrinterState::Down => (Health::Down, PartState::fault(detail.clone())),
                };
                let devices = &mut self.session.devices;
                devices.printer = health;
                devices.printer_detail = detail;
                self.record_device(Part::Printer, part);
            }
            Event::Printer(PrinterEvent::TestSlip(outcome)) => {
                self.self_test = match outcome {
                    Ok(()) => SelfTest::SlipPrinted,
                    Err(e) => SelfTest::SlipFailed(e),
                };
            }
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
            self.print_problem = Some(PrintProblem::Offline);
            self.session.printed(Err(PrintProblem::Offline.code().to_owned()), now);
        }
    }

    fn refresh_stats(&mut self) {
        match self.outbox.stats(now_ms()) {
            Ok(stats) => {
                let devices = &mut self.session.devices;
                devices.pending = stats.pending + stats.in_flight;
                devices.offline =
                    stats.oldest_pending_ms.is_some_and(|ms| ms > OFFLINE_AFTER.as_millis() as i64);
                self.queue.stats = stats;
            }
            Err(e) => tracing::warn!(error = %e, "outbox statistics not readable"),
        }
        if self.session.screen == Screen::Maintenance {
            self.queue.parts = self.outbox.part_states().unwrap_or_default().into_iter().collect();
            self.queue.last_upload_ms = self
                .outbox
                .list(Some(State::Acked), 1)
                .ok()
                .and_then(|rows| rows.first().and_then(|r| r.acked_at));
        }
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
                let accepted = kiosk_app::pin::verify(&stored, &digits).unwrap_or_else(|e| {
                    tracing::error!(error = %e, "technician PIN hash unusable");
                    false
                });
                let _ = tx.send(accepted);
            });
        }
    }

    pub fn self_test(&mut self, what: &str) {
        self.self_test = match what {
            "printer" if self.devices.print_test_slip() => SelfTest::Printing,
            "printer" => SelfTest::NoPrinter,
            "reader" => SelfTest::PlaceCard,
            "scanner" => SelfTest::ScanCode,
            _ => SelfTest::None,
        };
    }

    /// The resident submits: the core files the application, this puts it into the outbox
    /// (one SQLite transaction, no network) and tells the core how that went.
    pub fn submit(&mut self, now: Instant) -> Result<(), kiosk_app::SubmitError> {
        let enqueue = self.session.submit(stamp(), now)?;
        let outcome = self
            .outbox
            .enqueue(
                &NewSubmission { item_code: &enqueue.item_code, stream_key: "", payload: &enqueue.payload },
                now_ms(),
            )
            .map(|q| Queued { outbox_id: q.id, idempotency_key: q.idempotency_key })
            .map_err(|e| e.to_string());
        self.session.queued(outcome, now)
    }

    /// The finish button: also forgets the slip when the session ends.
    pub fn finish(&mut self, now: Instant) {
        self.session.finish(now);
        if !self.session.in_session() || self.session.screen == Screen::ThankYou {
            self.forget_session();
        }
    }
}
