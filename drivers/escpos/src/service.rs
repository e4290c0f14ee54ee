//! The printer as the rest of the kiosk sees it: a thread that opens it, prints what it is given,
//! asks its status every few seconds while idle, and delivers events to a callback; after the
//! printer was unplugged or powered off it opens it again. The reader's and the scanner's
//! services have the same shape.

use std::sync::mpsc;
use std::time::Duration;

use kiosk_transport::Deliver;

use crate::doc::Slip;
use crate::printer::{Device, Printer, PrinterError};
use crate::status::{Paper, PrinterStatus};

/// How often an idle printer's status is asked.
const STATUS_EVERY: Duration = Duration::from_secs(5);

/// Why a slip did not print, as the resident's screen names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintProblem {
    Paper,
    Cover,
    Offline,
    Fault,
}

impl PrintProblem {
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

/// How an idle printer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrinterState {
    Ready,
    /// Prints, but the paper runs low.
    PaperLow,
    /// Cannot print (the text says why).
    Down,
}

/// What the printer service reports.
#[derive(Debug)]
pub enum PrinterEvent {
    /// A slip was printed, or why not.
    Printed(Result<(), PrintProblem>),
    /// The printer's state, asked while idle; the text is for the technician.
    State(PrinterState, String),
    /// A technician's test slip.
    TestSlip(Result<(), String>),
}

enum Job {
    Print(Box<Slip>),
    TestSlip,
}

/// Handle to the printer thread; dropping it stops the thread.
#[derive(Debug)]
pub struct PrinterService {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Job::Print(_) => "Print",
            Job::TestSlip => "TestSlip",
        })
    }
}

impl PrinterService {
    /// A service that hands every event to `deliver` on its own thread.
    pub fn spawn_delivering(device: Device, mut deliver: Deliver<PrinterEvent>) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::channel();
        std::thread::Builder::new().name("printer".into()).spawn(move || run(&device, &rx, &mut deliver))?;
        Ok(Self { jobs })
    }

    /// Queues a slip; the outcome comes back as [`PrinterEvent::Printed`].
    pub fn print(&self, slip: Slip) -> bool {
        self.jobs.send(Job::Print(Box::new(slip))).is_ok()
    }

    /// Queues the technician's test slip; the outcome comes back as [`PrinterEvent::TestSlip`].
    pub fn print_test_slip(&self) -> bool {
        self.jobs.send(Job::TestSlip).is_ok()
    }
}

fn run(device: &Device, jobs: &mpsc::Receiver<Job>, deliver: &mut Deliver<PrinterEvent>) {
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
                        Some(Job::Print(_)) => PrinterEvent::Printed(Err(PrintProblem::Offline)),
                        Some(Job::TestSlip) => PrinterEvent::TestSlip(Err(e.to_string())),
                        None => PrinterEvent::State(PrinterState::Down, e.to_string()),
                    };
                    if !deliver(answer) {
                        return;
                    }
                    continue;
                }
            }
        }
        let p = printer.as_mut().expect("opened above");
        let answer = match job {
            Some(Job::Print(slip)) => match p.print(&slip) {
                Ok(_) => PrinterEvent::Printed(Ok(())),
                Err(e) => {
                    tracing::warn!(error = %e, "slip not printed");
                    PrinterEvent::Printed(Err(PrintProblem::of_error(&e)))
                }
            },
            Some(Job::TestSlip) => {
                let slip = crate::printer::test_slip(p.profile(), &p.describe());
                PrinterEvent::TestSlip(p.print(&slip).map(|_| ()).map_err(|e| e.to_string()))
            }
            None => match p.status() {
                Ok(s) if s.ready() && s.paper == Paper::NearEnd => {
                    PrinterEvent::State(PrinterState::PaperLow, s.problems().join("; "))
                }
                Ok(s) if s.ready() => PrinterEvent::State(PrinterState::Ready, p.describe()),
                Ok(s) => PrinterEvent::State(PrinterState::Down, s.problems().join("; ")),
                Err(e) => PrinterEvent::State(PrinterState::Down, e.to_string()),
            },
        };
        if matches!(
            answer,
            PrinterEvent::State(PrinterState::Down, _) | PrinterEvent::Printed(Err(PrintProblem::Offline))
        ) {
            // Open it again next time: the printer may have been unplugged or power-cycled.
            printer = None;
        }
        if !deliver(answer) {
            return;
        }
    }
}
