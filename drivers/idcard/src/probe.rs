//! Finding a serial reader's line speed, sans-IO. Someone may have changed the module's UART rate
//! (command 0x60), and the setting can survive a power cycle, so each supported rate is tried with
//! the status command, factory default first, until one gets a well-formed answer. Bytes and time
//! go in; the rate to set, bytes to send and the outcome come out. [`crate::Reader`] drives it
//! over a serial link; tests drive it against the simulator with a made-up clock.

use std::time::Instant;

use crate::command::{BaudRate, Command};
use crate::exchange::{Exchange, Outcome};
use crate::reader::ReaderError;
use crate::status::Status;

/// What the driver does next.
#[derive(Debug, PartialEq, Eq)]
pub enum ProbeIo {
    /// Set the line to `baud`, drop unread input, then send `bytes`.
    Try { baud: u32, bytes: Vec<u8> },
    /// The rate the reader answered at, or why none did.
    Done(Result<u32, ProbeFailed>),
}

/// No supported rate got an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeFailed {
    pub device: String,
}

impl From<ProbeFailed> for ReaderError {
    fn from(f: ProbeFailed) -> Self {
        ReaderError::NoReader { device: f.device }
    }
}

/// One probe in progress.
#[derive(Debug)]
pub struct BaudProbe {
    device: String,
    rates: Vec<u32>,
    /// Index into `rates` of the rate being tried.
    at: usize,
    exchange: Option<Exchange>,
    wire_bytes: u64,
}

impl BaudProbe {
    /// Tries `fixed` alone when the configuration names a rate, else every supported rate.
    /// `device` names the port in errors.
    pub fn start(device: String, fixed: Option<u32>, now: Instant) -> (Self, ProbeIo) {
        let rates = match fixed {
            Some(rate) => vec![rate],
            None => BaudRate::ALL.iter().map(|b| b.bits_per_second()).collect(),
        };
        let mut probe = Self { device, rates, at: 0, exchange: None, wire_bytes: 0 };
        let io = probe.try_rate(now);
        (probe, io)
    }

    /// Until when to wait for the answer; `None` once the probe is over.
    pub fn deadline(&self) -> Option<Instant> {
        self.exchange.as_ref().map(Exchange::deadline)
    }

    /// Bytes exchanged so far, for wire-time figures.
    pub fn wire_bytes(&self) -> u64 {
        self.wire_bytes + self.exchange.as_ref().map_or(0, Exchange::wire_bytes)
    }

    pub fn on_bytes(&mut self, bytes: &[u8], now: Instant) -> Option<ProbeIo> {
        let outcome = self.exchange.as_mut()?.on_bytes(bytes, now)?;
        Some(self.next(outcome, now))
    }

    pub fn on_time(&mut self, now: Instant) -> Option<ProbeIo> {
        let outcome = self.exchange.as_mut()?.on_time(now)?;
        Some(self.next(outcome, now))
    }

    fn try_rate(&mut self, now: Instant) -> ProbeIo {
        let (exchange, bytes) = Exchange::start(Command::SamStatus, now);
        self.exchange = Some(exchange);
        ProbeIo::Try { baud: self.rates[self.at], bytes }
    }

    fn next(&mut self, outcome: Outcome, now: Instant) -> ProbeIo {
        let rate = self.rates[self.at];
        match outcome {
            // A corrupted answer is asked for again at the same rate.
            Outcome::Resend(bytes) => return ProbeIo::Try { baud: rate, bytes },
            // A self-test failure still proves the rate; the caller reports the fault.
            Outcome::Answer(r) if matches!(r.status, Status::Success | Status::SelfTestFailed) => {
                self.close_exchange();
                tracing::debug!(device = %self.device, rate, "reader answered");
                return ProbeIo::Done(Ok(rate));
            }
            Outcome::Answer(_) | Outcome::Failed(_) => {
                self.close_exchange();
                tracing::debug!(device = %self.device, rate, "no valid answer at this rate");
            }
        }
        self.at += 1;
        if self.at < self.rates.len() {
            self.try_rate(now)
        } else {
            ProbeIo::Done(Err(ProbeFailed { device: self.device.clone() }))
        }
    }

    fn close_exchange(&mut self) {
        self.wire_bytes += self.exchange.take().map_or(0, |e| e.wire_bytes());
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::samid::SamId;
    use crate::sim::Simulator;

    /// Drives a probe against the simulator on a made-up clock: the line garbles everything
    /// unless the host's rate matches the module's, an answer arrives 5 ms after its command,
    /// and a silent wait passes at once. Returns the outcome, the rates tried in order and the
    /// time it took.
    fn run(sim: &mut Simulator, fixed: Option<u32>) -> (Result<u32, ProbeFailed>, Vec<u32>, Duration) {
        let t0 = Instant::now();
        let mut now = t0;
        let (mut probe, mut io) = BaudProbe::start("/dev/ttyS9".into(), fixed, now);
        let mut tried = Vec::new();
        loop {
            match io {
                ProbeIo::Try { baud, bytes } => {
                    tried.push(baud);
                    let answer: Vec<u8> =
                        sim.feed(&bytes, Some(baud)).iter().flat_map(|r| r.bytes.to_vec()).collect();
                    now += Duration::from_millis(5);
                    if let Some(next) = probe.on_bytes(&answer, now) {
                        io = next;
                        continue;
                    }
                }
                ProbeIo::Done(result) => return (result, tried, now - t0),
            }
            now = probe.deadline().expect("a probe that has not ended waits for an answer");
            io = probe.on_time(now).expect("the deadline ends the wait");
        }
    }

    fn sim() -> Simulator {
        Simulator::new(SamId { a: 5, b: 1, c: 20_240_101, d: 1, e: 1 })
    }

    #[test]
    fn the_factory_rate_answers_first() {
        let (result, tried, _) = run(&mut sim(), None);
        assert_eq!(result, Ok(115_200));
        assert_eq!(tried, [115_200]);
    }

    #[test]
    fn a_changed_rate_is_found_after_the_faster_ones_time_out() {
        let mut sim = sim().with_baud(BaudRate::B19200);
        let (result, tried, elapsed) = run(&mut sim, None);
        assert_eq!(result, Ok(19_200));
        // At a wrong rate the line carries noise without a frame, until the command's timeout.
        assert_eq!(tried, [115_200, 57_600, 38_400, 19_200]);
        assert_eq!(
            elapsed,
            Command::SamStatus.timeout() * 3 + Duration::from_millis(5),
            "three timeouts, one answer"
        );
    }

    #[test]
    fn a_silent_line_fails_after_each_rate_has_timed_out() {
        let mut sim = sim();
        sim.faults.silent = true;
        let (result, tried, elapsed) = run(&mut sim, None);
        assert_eq!(result, Err(ProbeFailed { device: "/dev/ttyS9".into() }));
        assert_eq!(tried, BaudRate::ALL.map(BaudRate::bits_per_second));
        assert_eq!(elapsed, Command::SamStatus.timeout() * 5, "one timeout per rate, on the made-up clock");
        let e: ReaderError = result.unwrap_err().into();
        assert!(e.to_string().contains("/dev/ttyS9"), "{e}");
    }

    #[test]
    fn a_configured_rate_is_the_only_one_tried() {
        let mut sim = sim().with_baud(BaudRate::B9600);
        let (result, tried, _) = run(&mut sim, Some(115_200));
        assert!(result.is_err());
        assert_eq!(tried, [115_200]);
        let (result, _, _) = run(&mut sim, Some(9_600));
        assert_eq!(result, Ok(9_600));
    }
}
