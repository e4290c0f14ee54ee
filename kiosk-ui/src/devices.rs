//! The kiosk's devices seen from the UI: each driver runs on its own thread or task and reports
//! on one channel that the UI drains on its timer, so the UI thread never waits on a device.

use std::sync::mpsc;
use std::time::Duration;

use kiosk_app::Health;
use kiosk_config::DeviceConfig;
use kiosk_escpos::{Device as PrinterDevice, Paper, Printer, PrinterError, PrinterStatus, Slip};
use kiosk_idcard::{ReaderEvent, ReaderService, ServiceConfig};
use kiosk_scanner::{ScannerEvent, ScannerService};

/// Why a slip did not print, as the resident's screen names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintProblem {
    Paper,
    Cover,
    Offline,
    Fault,
}

impl PrintProblem {
    pub fn code(self) -> &'static str {
        match self {
            Self::Paper => "paper",
            Self::Cover => "cover",
            Self::Offline => "offline",
            Self::Fault => "fault",
        }
    }

    fn of_status(status: &PrinterStatus) -> Self {
        if status.paper == Paper::End {
            Self::Paper
        } else if status.cover_open {
            Self::Cover
        } else {
            Self::Fault
        }
    }

    fn of_error(e: &PrinterError) -> Self {
        match e {
            PrinterError::NotReady(s) | PrinterError::Interrupted { status: s, .. } => Self::of_status(s),
            PrinterError::Link(_) | PrinterError::NoAnswer { .. } => Self::Offline,
            PrinterError::Layout(_) => Self::Fault,
        }
    }
}

#[derive(Debug)]
pub enum Event {
    Reader(ReaderEvent),
    Scanner(ScannerEvent),
    /// A slip was printed, or why not.
    Printed(Result<(), PrintProblem>),
    /// The printer's state, polled while idle; the text is for the technician.
    Printer(Health, String),
    /// A technician's test slip.
    TestSlip(Result<(), String>),
}

enum Job {
    Print(Box<Slip>),
    TestSlip,
}

/// Handles to the running device services; dropping it stops them.
#[derive(Debug)]
pub struct Devices {
    pub events: mpsc::Receiver<Event>,
    printer: Option<mpsc::Sender<Job>>,
}

impl Devices {
    /// Starts the services on `runtime` (reader and scanner) and a printer thread.
    pub fn start(runtime: &tokio::runtime::Handle, config: &DeviceConfig) -> std::io::Result<Self> {
        let (tx, events) = mpsc::channel();
        if let Some(port) = &config.reader {
            let mut service = {
                let _guard = runtime.enter();
                ReaderService::spawn(ServiceConfig::new(port.clone()))?
            };
            let tx = tx.clone();
            runtime.spawn(async move {
                while let Some(e) = service.next_event().await {
                    if tx.send(Event::Reader(e)).is_err() {
                        break;
                    }
                }
            });
        }
        if let Some((device, mode, scan)) = &config.scanner {
            let mut service = {
                let _guard = runtime.enter();
                ScannerService::spawn(device.clone(), *mode, scan.clone())?
            };
            let tx = tx.clone();
            runtime.spawn(async move {
                while let Some(e) = service.next_event().await {
                    if tx.send(Event::Scanner(e)).is_err() {
                        break;
                    }
                }
            });
        }
        let printer = match &config.printer {
            Some(device) => {
                let (jobs, rx) = mpsc::channel();
                let device = device.clone();
                let tx = tx.clone();
                std::thread::Builder::new()
                    .name("printer".into())
                    .spawn(move || printer_thread(&device, &rx, &tx))?;
                Some(jobs)
            }
            None => None,
        };
        Ok(Self { events, printer })
    }

    /// Queues a slip; the outcome comes back as [`Event::Printed`].
    pub fn print(&self, slip: Slip) -> bool {
        self.printer.as_ref().is_some_and(|p| p.send(Job::Print(Box::new(slip))).is_ok())
    }

    pub fn print_test_slip(&self) -> bool {
        self.printer.as_ref().is_some_and(|p| p.send(Job::TestSlip).is_ok())
    }

    pub fn has_printer(&self) -> bool {
        self.printer.is_some()
    }
}

const STATUS_EVERY: Duration = Duration::from_secs(5);

fn printer_thread(device: &PrinterDevice, jobs: &mpsc::Receiver<Job>, events: &mpsc::Sender<Event>) {
    let mut printer: Option<Printer> = None;
    loop {
        let job = match jobs.recv_timeout(STATUS_EVERY) {
            Ok(job) => Some(job),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        if printer.is_none() {
            match Printer::open(device, None) {
                Ok(p) => printer = Some(p),
                Err(e) => {
                    tracing::warn!(error = %e, "receipt printer unavailable");
                    let answer = match job {
                        Some(Job::Print(_)) => Event::Printed(Err(PrintProblem::Offline)),
                        Some(Job::TestSlip) => Event::TestSlip(Err(e.to_string())),
                        None => Event::Printer(Health::Down, e.to_string()),
                    };
                    if events.send(answer).is_err() {
                        return;
                    }
                    continue;
                }
            }
        }
        let p = printer.as_mut().expect("opened above");
        let answer = match job {
            Some(Job::Print(slip)) => match p.print(&slip) {
                Ok(_) => Event::Printed(Ok(())),
                Err(e) => {
                    tracing::warn!(error = %e, "slip not printed");
                    Event::Printed(Err(PrintProblem::of_error(&e)))
                }
            },
            Some(Job::TestSlip) => {
                let slip = kiosk_escpos::test_slip(p.profile(), &p.describe());
                Event::TestSlip(p.print(&slip).map(|_| ()).map_err(|e| e.to_string()))
            }
            None => match p.status() {
                Ok(s) if s.ready() && s.paper == Paper::NearEnd => {
                    Event::Printer(Health::Warning, s.problems().join("; "))
                }
                Ok(s) if s.ready() => Event::Printer(Health::Ok, p.describe()),
                Ok(s) => Event::Printer(Health::Down, s.problems().join("; ")),
                Err(e) => Event::Printer(Health::Down, e.to_string()),
            },
        };
        if matches!(answer, Event::Printer(Health::Down, _) | Event::Printed(Err(PrintProblem::Offline))) {
            // Reconnect next time: the printer may have been unplugged or power-cycled.
            printer = None;
        }
        if events.send(answer).is_err() {
            return;
        }
    }
}
