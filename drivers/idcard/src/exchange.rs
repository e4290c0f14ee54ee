//! One command and its answer, sans-IO: the bytes to send, then bytes and time in until there is
//! an answer, the command's time is up, or a corrupted answer has been asked for again once.
//! [`crate::Reader`] is a thin blocking loop over it; tests drive it with byte vectors and a
//! made-up clock, so the timeout and the retry need no real time.

use std::time::Instant;

use bytes::BytesMut;

use crate::command::{Command, Response};
use crate::frame::{self, FrameCodec, FrameError};
use crate::reader::ReaderError;

/// A command on its way: what was sent, what has come back, and until when to wait.
#[derive(Debug)]
pub struct Exchange {
    cmd: Command,
    buf: BytesMut,
    started: Instant,
    deadline: Instant,
    retried: bool,
    wire_bytes: u64,
}

/// What the exchange needs next, or how it ended.
#[derive(Debug)]
pub enum Outcome {
    /// The answer (whatever its status; the caller judges it).
    Answer(Response),
    /// The answer was corrupted: drop unread input and send these bytes again, once.
    Resend(Vec<u8>),
    /// No usable answer.
    Failed(Failure),
}

#[derive(Debug)]
pub enum Failure {
    /// Nothing complete arrived within the command's time (waited this long, in ms).
    Timeout { command: &'static str, waited_ms: u128 },
    /// The repeated answer was corrupted too.
    Frame { command: &'static str, source: FrameError },
}

impl Failure {
    /// The failure as the reader reports it; `device` names the reader for the technician.
    pub fn into_error(self, device: String) -> ReaderError {
        match self {
            Failure::Timeout { command, waited_ms } => ReaderError::Timeout { command, waited_ms, device },
            Failure::Frame { command, source } => ReaderError::Frame { command, source },
        }
    }
}

impl Exchange {
    /// Starts `cmd` at `now`; the caller drops unread input and sends the returned bytes.
    pub fn start(cmd: Command, now: Instant) -> (Self, Vec<u8>) {
        let bytes = encoded(cmd);
        let wire_bytes = bytes.len() as u64;
        let exchange = Self {
            cmd,
            buf: BytesMut::with_capacity(4096),
            started: now,
            deadline: now + cmd.timeout(),
            retried: false,
            wire_bytes,
        };
        (exchange, bytes)
    }

    /// Until when to wait for bytes before [`Exchange::on_time`] ends it.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Bytes sent and received so far, for wire-time figures.
    pub fn wire_bytes(&self) -> u64 {
        self.wire_bytes
    }

    /// Bytes arrived at `now`.
    pub fn on_bytes(&mut self, bytes: &[u8], now: Instant) -> Option<Outcome> {
        self.buf.extend_from_slice(bytes);
        while let Some(item) = FrameCodec.decode(&mut self.buf) {
            let frame = match item {
                Ok(frame) => frame,
                Err(source) if self.retried => {
                    return Some(Outcome::Failed(Failure::Frame { command: self.cmd.name(), source }));
                }
                Err(source) => {
                    tracing::warn!(command = self.cmd.name(), error = %source, "corrupted answer, asking again");
                    self.retried = true;
                    self.clear();
                    self.deadline = now + self.cmd.timeout();
                    let bytes = encoded(self.cmd);
                    self.wire_bytes += bytes.len() as u64;
                    return Some(Outcome::Resend(bytes));
                }
            };
            self.wire_bytes += (frame.payload().len() + frame::HEADER_LEN + 1) as u64;
            // Anything shorter than an answer is an echo of our own command: skip it.
            if let Some(response) = Response::parse(&frame) {
                tracing::debug!(
                    command = self.cmd.name(),
                    status = format_args!("0x{:02X}", response.status.byte()),
                    data_bytes = response.data.len(),
                    elapsed_ms = now.saturating_duration_since(self.started).as_millis(),
                    "answer"
                );
                self.clear();
                return Some(Outcome::Answer(response));
            }
        }
        None
    }

    /// The clock read `now` with no new bytes: past the deadline the exchange has failed.
    pub fn on_time(&mut self, now: Instant) -> Option<Outcome> {
        (now >= self.deadline).then(|| {
            self.clear();
            Outcome::Failed(Failure::Timeout {
                command: self.cmd.name(),
                waited_ms: self.cmd.timeout().as_millis(),
            })
        })
    }

    /// Card data passes through the buffer: wipe it, not just forget it.
    fn clear(&mut self) {
        self.buf.fill(0);
        self.buf.clear();
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        self.clear();
    }
}

fn encoded(cmd: Command) -> Vec<u8> {
    let mut out = BytesMut::new();
    frame::encode(&cmd.payload(), &mut out);
    out.to_vec()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::status::Status;

    fn answer(status: Status, data: &[u8]) -> Vec<u8> {
        let mut out = BytesMut::new();
        frame::encode(&Response::payload(status, data), &mut out);
        out.to_vec()
    }

    #[test]
    fn an_answer_in_pieces_after_an_echo() {
        let t0 = Instant::now();
        let (mut ex, sent) = Exchange::start(Command::SamId, t0);
        assert_eq!(sent, encoded(Command::SamId));
        let mut wire = sent.clone(); // the module echoes the command first
        wire.extend(answer(Status::Success, &[1; 16]));
        let (a, b) = wire.split_at(wire.len() / 2 + 3);
        assert!(ex.on_bytes(a, t0 + Duration::from_millis(5)).is_none());
        match ex.on_bytes(b, t0 + Duration::from_millis(9)) {
            Some(Outcome::Answer(r)) => assert_eq!((r.status, r.data.len()), (Status::Success, 16)),
            other => panic!("{other:?}"),
        }
        assert_eq!(ex.wire_bytes(), (sent.len() + wire.len()) as u64);
    }

    #[test]
    fn the_command_times_out_at_its_deadline_and_not_before() {
        let t0 = Instant::now();
        let (mut ex, _) = Exchange::start(Command::ReadBase, t0);
        assert_eq!(ex.deadline(), t0 + Command::ReadBase.timeout());
        assert!(ex.on_time(t0 + Command::ReadBase.timeout() - Duration::from_millis(1)).is_none());
        assert!(ex.on_bytes(&answer(Status::Success, &[])[..4], t0 + Duration::from_secs(1)).is_none());
        match ex.on_time(ex.deadline()) {
            Some(Outcome::Failed(Failure::Timeout { waited_ms, .. })) => assert_eq!(waited_ms, 3500),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_corrupted_answer_is_asked_for_again_once_with_a_fresh_deadline() {
        let t0 = Instant::now();
        let (mut ex, sent) = Exchange::start(Command::SamStatus, t0);
        let mut bad = answer(Status::Success, &[]);
        *bad.last_mut().unwrap() ^= 0xFF;
        let t1 = t0 + Duration::from_millis(400);
        match ex.on_bytes(&bad, t1) {
            Some(Outcome::Resend(bytes)) => assert_eq!(bytes, sent),
            other => panic!("{other:?}"),
        }
        assert_eq!(ex.deadline(), t1 + Command::SamStatus.timeout());
        // A good answer to the repeat ends it well; a second bad one would have failed it.
        let (mut twice, _) = Exchange::start(Command::SamStatus, t0);
        assert!(matches!(twice.on_bytes(&bad, t1), Some(Outcome::Resend(_))));
        assert!(matches!(twice.on_bytes(&bad, t1), Some(Outcome::Failed(Failure::Frame { .. }))));
        assert!(matches!(ex.on_bytes(&answer(Status::Success, &[]), t1), Some(Outcome::Answer(_))));
    }
}
