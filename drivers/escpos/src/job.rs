//! The conversation with a receipt printer, sans-IO: asking its status (DLE EOT 1–4, one at a
//! time, each with its own wait) and printing a slip (the status first, refusing a printer that
//! cannot print; the slip; GS r 1, whose answer means everything before it was processed; the
//! status again, telling a finished slip from one cut short). Bytes and time go in; what to
//! send, the next deadline and the outcome come out. [`crate::Printer`] drives it over a link;
//! tests drive it against the simulator on a made-up clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::encode::Encoded;
use crate::layout::Note;
use crate::printer::{PrintReport, PrinterError};
use crate::status::{Paper, PrinterStatus, Reply, ReplyParser};

/// How long each DLE EOT may take to be answered.
pub const STATUS_TIMEOUT: Duration = Duration::from_millis(500);

/// What the driver does for the job, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Drop input nobody will read (stale replies).
    Discard,
    Send(Vec<u8>),
}

/// How a job ended well.
#[derive(Debug)]
pub enum Done {
    Status(PrinterStatus),
    Printed(PrintReport),
}

/// A status query: which DLE EOT is out, what the earlier ones said, until when to wait.
#[derive(Debug)]
struct Query {
    n: u8,
    status: PrinterStatus,
    deadline: Instant,
}

/// Why the status is being asked.
#[derive(Debug, Clone, Copy)]
enum Asking {
    /// A plain status query.
    Status,
    /// Before printing.
    Before,
    /// After printing; `finished` tells whether GS r 1 was answered.
    After { finished: bool },
}

/// Where the job is.
#[derive(Debug)]
enum Phase {
    Query(Asking, Query),
    /// The slip is out; waiting for GS r 1's answer.
    Printing {
        deadline: Instant,
        waited: Duration,
    },
    Over,
}

/// A slip waiting to go out.
#[derive(Debug)]
struct Pending {
    bytes: Vec<u8>,
    notes: Vec<Note>,
    /// Automatic status back was on; the slip's ESC @ switches it off, so it goes on again.
    asb: bool,
}

#[derive(Debug)]
pub struct Job {
    device: String,
    phase: Phase,
    parser: ReplyParser,
    actions: VecDeque<Action>,
    pending: Option<Pending>,
    sent: usize,
    notes: Vec<Note>,
    asb_status: Option<PrinterStatus>,
    outcome: Option<Result<Done, PrinterError>>,
}

impl Job {
    /// Asks DLE EOT 1–4, after dropping stale replies. `device` names the printer in errors.
    pub fn status(device: String, now: Instant) -> Self {
        let mut job = Self::new(device);
        job.phase = Phase::Query(Asking::Status, job.query(now));
        job
    }

    /// Prints `slip`: on a printer that can answer (`can_receive`), with the status before and
    /// after; otherwise the bytes only.
    pub fn print(slip: Encoded, asb: bool, can_receive: bool, device: String, now: Instant) -> Self {
        let mut job = Self::new(device);
        job.pending = Some(Pending { bytes: slip.bytes, notes: slip.notes, asb });
        if can_receive {
            job.phase = Phase::Query(Asking::Before, job.query(now));
        } else {
            job.send_slip(false, now);
        }
        job
    }

    fn new(device: String) -> Self {
        Self {
            device,
            phase: Phase::Over,
            parser: ReplyParser::default(),
            actions: VecDeque::new(),
            pending: None,
            sent: 0,
            notes: Vec::new(),
            asb_status: None,
            outcome: None,
        }
    }

    /// The next thing to do on the link.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Until when to wait for the printer; `None` once the job is over.
    pub fn deadline(&self) -> Option<Instant> {
        match &self.phase {
            Phase::Query(_, q) => Some(q.deadline),
            Phase::Printing { deadline, .. } => Some(*deadline),
            Phase::Over => None,
        }
    }

    /// How the job ended, once it has.
    pub fn outcome(&mut self) -> Option<Result<Done, PrinterError>> {
        self.outcome.take()
    }

    /// The newest status the printer reported by itself (ASB) during the job.
    pub fn asb_status(&mut self) -> Option<PrinterStatus> {
        self.asb_status.take()
    }

    pub fn on_bytes(&mut self, bytes: &[u8], now: Instant) {
        for reply in self.parser.push(bytes) {
            match (&mut self.phase, reply) {
                (Phase::Query(asking, q), Reply::RealTime(b)) => {
                    q.status.apply_real_time(q.n, b);
                    if q.n < 4 {
                        q.n += 1;
                        q.deadline = now + STATUS_TIMEOUT;
                        self.actions.push_back(Action::Send(vec![0x10, 0x04, q.n]));
                    } else {
                        let (asking, status) = (*asking, q.status);
                        self.status_known(asking, status, now);
                    }
                }
                (Phase::Printing { .. }, Reply::Transmit(_)) => self.after_printing(true, now),
                (_, Reply::Asb(block)) => self.asb_status = Some(PrinterStatus::from_asb(block)),
                (_, reply) => tracing::debug!(?reply, "printer reply set aside"),
            }
        }
    }

    pub fn on_time(&mut self, now: Instant) {
        if self.deadline().is_none_or(|d| now < d) {
            return;
        }
        match &self.phase {
            Phase::Printing { .. } => self.after_printing(false, now),
            Phase::Query(..) => self.finish(Err(PrinterError::NoAnswer {
                device: self.device.clone(),
                what: "a status query (DLE EOT)",
                waited_ms: STATUS_TIMEOUT.as_millis(),
            })),
            Phase::Over => {}
        }
    }

    fn query(&mut self, now: Instant) -> Query {
        self.parser = ReplyParser::default();
        self.actions.push_back(Action::Discard);
        self.actions.push_back(Action::Send(vec![0x10, 0x04, 1]));
        Query { n: 1, status: PrinterStatus::default(), deadline: now + STATUS_TIMEOUT }
    }

    /// All four DLE EOT answered with `status`.
    fn status_known(&mut self, asking: Asking, status: PrinterStatus, now: Instant) {
        match asking {
            Asking::Status => self.finish(Ok(Done::Status(status))),
            Asking::Before if !status.ready() => self.finish(Err(PrinterError::NotReady(status))),
            Asking::Before => {
                if status.paper == Paper::NearEnd {
                    tracing::warn!(printer = %self.device, "paper near end");
                }
                self.send_slip(true, now);
            }
            Asking::After { finished: true } => {
                let notes = std::mem::take(&mut self.notes);
                self.finish(Ok(Done::Printed(PrintReport { bytes: self.sent, status: Some(status), notes })));
            }
            Asking::After { finished: false } => {
                self.finish(Err(PrinterError::Interrupted { status, sent: self.sent }));
            }
        }
    }

    fn send_slip(&mut self, can_talk: bool, now: Instant) {
        let Pending { bytes, notes, asb } = self.pending.take().expect("a print job has a slip");
        self.sent = bytes.len();
        self.notes = notes;
        for chunk in bytes.chunks(4096) {
            self.actions.push_back(Action::Send(chunk.to_vec()));
        }
        if asb {
            self.actions.push_back(Action::Send(vec![0x1D, b'a', 0x0F]));
        }
        tracing::info!(printer = %self.device, bytes = self.sent, "slip sent");
        if !can_talk {
            let notes = std::mem::take(&mut self.notes);
            return self.finish(Ok(Done::Printed(PrintReport { bytes: self.sent, status: None, notes })));
        }
        // GS r 1 is answered only after everything before it was processed.
        self.actions.push_back(Action::Send(vec![0x1D, 0x72, 0x01]));
        let waited = Duration::from_secs(5) + Duration::from_millis(self.sent as u64 / 10);
        self.phase = Phase::Printing { deadline: now + waited, waited };
    }

    fn after_printing(&mut self, finished: bool, now: Instant) {
        if let Phase::Printing { waited, .. } = self.phase
            && !finished
        {
            tracing::warn!(printer = %self.device, waited_ms = waited.as_millis(), "no end-of-slip marker (GS r 1)");
        }
        let query = self.query(now);
        self.phase = Phase::Query(Asking::After { finished }, query);
    }

    fn finish(&mut self, outcome: Result<Done, PrinterError>) {
        self.phase = Phase::Over;
        self.outcome = Some(outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode;
    use crate::sim::PrinterSim;

    /// Drives a job against the simulator on a made-up clock: what the printer answers arrives
    /// 2 ms after what it answers; waits pass without anyone waiting.
    fn run(mut job: Job, sim: &mut PrinterSim, t0: Instant) -> (Result<Done, PrinterError>, Duration) {
        let mut now = t0;
        loop {
            while let Some(action) = job.poll_action() {
                match action {
                    Action::Discard => drop(sim.take_output()),
                    Action::Send(bytes) => sim.feed(&bytes),
                }
            }
            if let Some(outcome) = job.outcome() {
                return (outcome, now - t0);
            }
            let answer = sim.take_output();
            if answer.is_empty() {
                now = job.deadline().expect("a job that is not over waits for something");
                job.on_time(now);
            } else {
                now += Duration::from_millis(2);
                job.on_bytes(&answer, now);
            }
        }
    }

    fn slip() -> Encoded {
        encode::encode(&crate::printer::test_slip(&crate::profile::GBK_80, "sim"), &crate::profile::GBK_80)
            .unwrap()
    }

    #[test]
    fn a_slip_is_printed_between_two_status_queries() {
        let mut sim = PrinterSim::new();
        let (outcome, elapsed) =
            run(Job::print(slip(), false, true, "sim".into(), Instant::now()), &mut sim, Instant::now());
        match outcome {
            Ok(Done::Printed(report)) => {
                assert!(report.status.unwrap().ready());
                assert_eq!(report.bytes, slip().bytes.len());
            }
            other => panic!("{other:?}"),
        }
        assert!(!sim.printed().is_empty());
        assert_eq!(elapsed, Duration::from_millis(2 * 9), "4 status answers, the marker, 4 again");
    }

    #[test]
    fn a_printer_out_of_paper_is_refused_before_a_byte_of_the_slip() {
        let mut sim = PrinterSim::new();
        sim.run_out_of_paper();
        let (outcome, _) =
            run(Job::print(slip(), false, true, "sim".into(), Instant::now()), &mut sim, Instant::now());
        assert!(matches!(outcome, Err(PrinterError::NotReady(s)) if s.paper == Paper::End));
        assert!(sim.printed().is_empty());
    }

    #[test]
    fn a_silent_printer_times_out_on_the_made_up_clock() {
        let t0 = Instant::now();
        let mut job = Job::status("sim".into(), t0);
        assert_eq!(job.poll_action(), Some(Action::Discard));
        assert_eq!(job.poll_action(), Some(Action::Send(vec![0x10, 0x04, 1])));
        job.on_time(t0 + STATUS_TIMEOUT - Duration::from_millis(1));
        assert!(job.outcome().is_none(), "not before its time");
        job.on_time(t0 + STATUS_TIMEOUT);
        match job.outcome() {
            Some(Err(PrinterError::NoAnswer { waited_ms, device, .. })) => {
                assert_eq!((waited_ms, device.as_str()), (500, "sim"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_slip_without_its_end_marker_is_reported_interrupted_after_the_budget() {
        let t0 = Instant::now();
        let encoded = slip();
        let budget = Duration::from_secs(5) + Duration::from_millis(encoded.bytes.len() as u64 / 10);
        let mut job = Job::print(encoded, false, true, "sim".into(), t0);
        // Four status answers: ready.
        let mut now = t0;
        for _ in 0..4 {
            while job.poll_action().is_some() {}
            now += Duration::from_millis(2);
            job.on_bytes(&[0x12], now);
        }
        while job.poll_action().is_some() {}
        assert_eq!(job.deadline(), Some(now + budget));
        job.on_time(now + budget);
        // The paper ran out meanwhile: the status after says so.
        for byte in [0x12, 0x12, 0x12, 0x72] {
            while job.poll_action().is_some() {}
            job.on_bytes(&[byte], now + budget);
        }
        assert!(matches!(job.outcome(), Some(Err(PrinterError::Interrupted { .. }))));
    }

    #[test]
    fn a_printer_that_cannot_answer_gets_the_bytes_only() {
        let mut job = Job::print(slip(), false, false, "file".into(), Instant::now());
        assert!(matches!(job.poll_action(), Some(Action::Send(_))));
        assert!(matches!(job.outcome(), Some(Ok(Done::Printed(PrintReport { status: None, .. })))));
    }
}
