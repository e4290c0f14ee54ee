//! A card read, sans-IO: the commands in order (find, select, read the base message, read the
//! appended addresses) with the readers' pacing rules: a spurious "no card" is asked again after
//! the 300 ms poll interval, a spurious select failure after a 50 ms pause and a fresh find. Bytes
//! and time go in; bytes to send, the next deadline and the outcome come out. The blocking
//! [`crate::Reader`] drives it over a link; tests drive it against the simulator with a made-up
//! clock.

use std::time::{Duration, Instant};

use crate::card::{self, IdCard};
use crate::command::{Command, Response};
use crate::exchange::{Exchange, Outcome};
use crate::reader::{MIN_POLL_INTERVAL, ReadOptions, ReaderError};
use crate::status::Status;

/// Pause before a fresh find when a select failed spuriously.
const SELECT_RETRY_PAUSE: Duration = Duration::from_millis(50);

/// What the driver does next.
#[derive(Debug)]
pub enum Io {
    /// Drop unread input, then send these bytes.
    Send(Vec<u8>),
    /// The read is over: the card, `None` when no card is there, or why it failed.
    Done(Result<Option<Box<IdCard>>, ReaderError>),
}

/// Where the read is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Find {
        again: bool,
    },
    /// A find that follows a spurious select failure: only its errors matter.
    Refind,
    Select {
        retried: bool,
    },
    ReadBase,
    ReadAddresses,
}

/// One card read in progress.
#[derive(Debug)]
pub struct CardRead {
    opts: ReadOptions,
    device: String,
    step: Step,
    /// The command on the wire, or `None` during a pause.
    exchange: Option<Exchange>,
    /// The end of a pause, before `step`'s command is sent.
    pause_until: Option<Instant>,
    card: Option<IdCard>,
    wire_bytes: u64,
}

impl CardRead {
    /// A whole read, from the find. `device` names the reader in errors.
    pub fn start(opts: ReadOptions, device: String, now: Instant) -> (Self, Io) {
        Self::at(opts, device, Step::Find { again: false }, now)
    }

    /// A read of the card a find has just reported, from the select.
    pub fn start_found(opts: ReadOptions, device: String, now: Instant) -> (Self, Io) {
        Self::at(opts, device, Step::Select { retried: false }, now)
    }

    fn at(opts: ReadOptions, device: String, step: Step, now: Instant) -> (Self, Io) {
        let mut read =
            Self { opts, device, step, exchange: None, pause_until: None, card: None, wire_bytes: 0 };
        let io = read.send(step, now);
        (read, io)
    }

    /// Until when to wait: for bytes while a command is out ([`CardRead::listening`]), or the
    /// end of a pause; `None` once the read is over.
    pub fn deadline(&self) -> Option<Instant> {
        self.exchange.as_ref().map(Exchange::deadline).or(self.pause_until)
    }

    /// Whether a command is out and bytes are expected; otherwise this is a pause.
    pub fn listening(&self) -> bool {
        self.exchange.is_some()
    }

    /// Bytes exchanged so far, for wire-time figures.
    pub fn wire_bytes(&self) -> u64 {
        self.wire_bytes + self.exchange.as_ref().map_or(0, Exchange::wire_bytes)
    }

    pub fn on_bytes(&mut self, bytes: &[u8], now: Instant) -> Option<Io> {
        let outcome = self.exchange.as_mut()?.on_bytes(bytes, now)?;
        self.next(outcome, now)
    }

    pub fn on_time(&mut self, now: Instant) -> Option<Io> {
        match (&mut self.exchange, self.pause_until) {
            (Some(exchange), _) => {
                let outcome = exchange.on_time(now)?;
                self.next(outcome, now)
            }
            (None, Some(until)) if now >= until => {
                self.pause_until = None;
                Some(self.send(self.step, now))
            }
            (None, _) => None,
        }
    }

    fn send(&mut self, step: Step, now: Instant) -> Io {
        self.step = step;
        let (exchange, bytes) = Exchange::start(self.command(), now);
        self.exchange = Some(exchange);
        Io::Send(bytes)
    }

    fn command(&self) -> Command {
        match self.step {
            Step::Find { .. } | Step::Refind => Command::FindCard,
            Step::Select { .. } => Command::SelectCard,
            Step::ReadBase if self.opts.fingerprint => Command::ReadBaseWithFingerprint,
            Step::ReadBase => Command::ReadBase,
            Step::ReadAddresses => Command::ReadNewAddress,
        }
    }

    /// Waits `pause` before `then`'s command.
    fn pause(&mut self, then: Step, pause: Duration, now: Instant) -> Option<Io> {
        self.step = then;
        self.pause_until = Some(now + pause);
        None
    }

    /// The command on the wire ended with `outcome`: the next command, a pause, or the end.
    fn next(&mut self, outcome: Outcome, now: Instant) -> Option<Io> {
        let next = match outcome {
            Outcome::Resend(bytes) => return Some(Io::Send(bytes)),
            Outcome::Answer(response) => {
                self.close_exchange();
                self.after(&response, now)
            }
            Outcome::Failed(failure) => {
                self.close_exchange();
                Err(failure.into_error(self.device.clone()))
            }
        };
        next.unwrap_or_else(|error| Some(self.failed(error)))
    }

    fn close_exchange(&mut self) {
        self.wire_bytes += self.exchange.take().map_or(0, |e| e.wire_bytes());
    }

    /// What follows an answer; `Ok(None)` while a pause runs.
    fn after(&mut self, r: &Response, now: Instant) -> Result<Option<Io>, ReaderError> {
        let cmd = self.command();
        let refused = |status| ReaderError::Status { command: cmd.name(), status };
        Ok(match self.step {
            Step::Find { again } => match r.status {
                Status::FindSuccess => Some(self.send(Step::Select { retried: false }, now)),
                Status::FindFailed if !again => {
                    self.pause(Step::Find { again: true }, MIN_POLL_INTERVAL, now)
                }
                Status::FindFailed => Some(Io::Done(Ok(None))),
                status => return Err(refused(status)),
            },
            Step::Refind => match r.status {
                Status::FindSuccess | Status::FindFailed => {
                    Some(self.send(Step::Select { retried: true }, now))
                }
                status => return Err(refused(status)),
            },
            Step::Select { retried } => match r.status {
                Status::Success => Some(self.send(Step::ReadBase, now)),
                Status::SelectFailed if !retried => self.pause(Step::Refind, SELECT_RETRY_PAUSE, now),
                status => return Err(refused(status)),
            },
            Step::ReadBase => {
                if r.status != Status::Success {
                    return Err(refused(r.status));
                }
                let card = card::parse_base_message(&r.data, self.opts.fingerprint)
                    .map_err(|source| ReaderError::Card { command: cmd.name(), source })?;
                if !self.opts.appended_addresses {
                    return Ok(Some(Io::Done(Ok(Some(Box::new(card))))));
                }
                self.card = Some(card);
                Some(self.send(Step::ReadAddresses, now))
            }
            Step::ReadAddresses => {
                let addresses = match r.status {
                    Status::NoContent => Vec::new(),
                    Status::Success => card::parse_addresses(&r.data)
                        .map_err(|source| ReaderError::Card { command: cmd.name(), source })?,
                    status => return Err(refused(status)),
                };
                let mut card = self.card.take().expect("the base message was read");
                card.appended_addresses = addresses;
                Some(Io::Done(Ok(Some(Box::new(card)))))
            }
        })
    }

    fn failed(&mut self, error: ReaderError) -> Io {
        match (self.step, self.card.take()) {
            // A timeout or a garbled answer to the address read keeps the card.
            (Step::ReadAddresses, Some(card)) => {
                tracing::warn!(error = %error, "appended addresses not read");
                Io::Done(Ok(Some(Box::new(card))))
            }
            _ => Io::Done(Err(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samid::SamId;
    use crate::sim::{Simulator, sample_cards};

    /// What the reader saw and when, on the made-up clock.
    struct Run {
        result: Result<Option<Box<IdCard>>, ReaderError>,
        sent: Vec<(Duration, Vec<u8>)>,
        elapsed: Duration,
    }

    /// Drives a read against the simulator with a made-up clock: each answer arrives 5 ms after
    /// its command, pauses and timeouts pass without anyone waiting.
    fn run(start: impl FnOnce(Instant) -> (CardRead, Io), sim: &mut Simulator) -> Run {
        let t0 = Instant::now();
        let mut now = t0;
        let (mut read, mut io) = start(now);
        let mut sent = Vec::new();
        loop {
            match io {
                Io::Send(bytes) => {
                    sent.push((
                        now - t0,
                        crate::frame::decode_first(&bytes).unwrap().unwrap().payload().to_vec(),
                    ));
                    let answer: Vec<u8> =
                        sim.feed(&bytes, None).iter().flat_map(|r| r.bytes.to_vec()).collect();
                    now += Duration::from_millis(5);
                    if let Some(next) = read.on_bytes(&answer, now) {
                        io = next;
                        continue;
                    }
                }
                Io::Done(result) => return Run { result, sent, elapsed: now - t0 },
            }
            // Nothing more arrives: time passes to the deadline (a pause, or a silent reader).
            now = read.deadline().unwrap();
            io = read.on_time(now).expect("the deadline ends the wait");
        }
    }

    fn reader_with_card() -> (Simulator, IdCard) {
        let mut sim = Simulator::new(SamId { a: 5, b: 1, c: 20_240_101, d: 1, e: 1 });
        let card = sample_cards().remove(0).1;
        sim.place_card(card.clone());
        (sim, card)
    }

    fn device() -> String {
        "test reader".to_owned()
    }

    #[test]
    fn a_spurious_no_card_is_asked_again_after_the_poll_interval() {
        let (mut sim, card) = reader_with_card();
        sim.faults.spurious_find_failures = 1;
        let r = run(|t| CardRead::start(ReadOptions::default(), device(), t), &mut sim);
        assert_eq!(r.result.unwrap().unwrap().id_number, card.id_number);
        let finds: Vec<Duration> =
            r.sent.iter().filter(|(_, p)| *p == Command::FindCard.payload()).map(|(t, _)| *t).collect();
        assert_eq!(finds.len(), 2);
        assert_eq!(finds[1] - finds[0], Duration::from_millis(5) + MIN_POLL_INTERVAL, "answer, then 300 ms");
    }

    #[test]
    fn no_card_is_two_finds_300_ms_apart_and_no_error() {
        let mut sim = Simulator::new(SamId { a: 5, b: 1, c: 20_240_101, d: 1, e: 1 });
        let r = run(|t| CardRead::start(ReadOptions::default(), device(), t), &mut sim);
        assert!(r.result.unwrap().is_none());
        assert_eq!(r.sent.len(), 2);
        assert_eq!(r.elapsed, Duration::from_millis(10) + MIN_POLL_INTERVAL);
    }

    #[test]
    fn a_spurious_select_failure_is_retried_after_a_pause_and_a_fresh_find() {
        let (mut sim, card) = reader_with_card();
        sim.faults.spurious_select_failures = 1;
        // As the service does: a find has reported the card.
        let mut find = bytes::BytesMut::new();
        crate::frame::encode(&Command::FindCard.payload(), &mut find);
        sim.feed(&find, None);
        let r = run(|t| CardRead::start_found(ReadOptions::default(), device(), t), &mut sim);
        assert_eq!(r.result.unwrap().unwrap().name, card.name);
        let order: Vec<Vec<u8>> = r.sent.iter().map(|(_, p)| p.clone()).collect();
        assert_eq!(
            order,
            [
                Command::SelectCard,
                Command::FindCard,
                Command::SelectCard,
                Command::ReadBase,
                Command::ReadNewAddress
            ]
            .map(Command::payload)
        );
        assert_eq!(r.sent[1].0 - r.sent[0].0, Duration::from_millis(5) + SELECT_RETRY_PAUSE);
    }

    #[test]
    fn a_silent_reader_times_out_on_the_made_up_clock() {
        let (mut sim, _) = reader_with_card();
        sim.faults.silent = true;
        let r = run(|t| CardRead::start(ReadOptions::default(), device(), t), &mut sim);
        match r.result {
            Err(ReaderError::Timeout { device, .. }) => assert_eq!(device, "test reader"),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.elapsed, Command::FindCard.timeout());
    }

    #[test]
    fn a_card_lifted_during_the_read_asks_for_it_again() {
        let (mut sim, _) = reader_with_card();
        sim.faults.lift_during_read = true;
        let r = run(|t| CardRead::start(ReadOptions::default(), device(), t), &mut sim);
        let e = r.result.unwrap_err();
        assert!(e.card_placement_status().is_some(), "{e}");
    }
}
