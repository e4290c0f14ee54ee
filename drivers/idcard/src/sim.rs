//! A card reader on the device side of the wire: it answers the SAM protocol with configurable
//! cards and faults. It backs the demo, the tests over pseudo-terminals, the virtual USB rig, and
//! `kiosk-diag idcard simulate` for technicians testing a kiosk without a card.
//!
//! [`Simulator`] is sans-IO (bytes in, timed replies out); [`SimServer`] runs it on a serial
//! port.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use kiosk_transport::devsim::{self, PtyHold, SimThread};
use serialport::SerialPort;
use zeroize::Zeroizing;

use crate::card::{CardJson, IdCard, encode_addresses, encode_base_message};
use crate::command::{BaudRate, Command, Response};
use crate::frame::{self, FrameCodec, FrameError};
use crate::samid::SamId;
use crate::status::Status;

/// The invented sample cards in `fixtures/cards`, one or more of every layout.
pub fn sample_cards() -> Vec<(&'static str, IdCard)> {
    [
        ("resident", include_str!("../fixtures/cards/resident.json")),
        ("resident_long_term", include_str!("../fixtures/cards/resident_long_term.json")),
        ("hmt_permit", include_str!("../fixtures/cards/hmt_permit.json")),
        ("foreigner_2017", include_str!("../fixtures/cards/foreigner_2017.json")),
        ("foreigner_2023", include_str!("../fixtures/cards/foreigner_2023.json")),
    ]
    .into_iter()
    .map(|(name, json)| {
        let json: CardJson = serde_json::from_str(json).expect("sample card fixtures are valid JSON");
        (name, IdCard::try_from(&json).expect("sample card fixtures are valid cards"))
    })
    .collect()
}

/// Misbehaviour to inject. Counters apply to the next N occurrences and count down.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Line noise before each answer's preamble (including a false start `AA AA 96`).
    pub noise_before_preamble: bool,
    /// Write answers in pieces of this many bytes, pausing `chunk_pause` between them.
    pub chunk_size: Option<usize>,
    pub chunk_pause: Duration,
    /// Corrupt the checksum of the next N answers.
    pub bad_checksums: u32,
    /// Answer this command with this status instead of its normal answer.
    pub status_override: Option<(Command, Status)>,
    /// The next N finds fail with 0x80 although a card is present.
    pub spurious_find_failures: u32,
    /// The next N selects fail with 0x81.
    pub spurious_select_failures: u32,
    /// The card leaves the antenna during the next read: the read fails with 0x41.
    pub lift_during_read: bool,
    /// Wait this long before answering.
    pub reply_delay: Duration,
    /// Answer nothing at all (a hung module).
    pub silent: bool,
}

/// One answer to write, with how to pace it.
#[derive(Debug)]
pub struct Reply {
    pub bytes: Zeroizing<Vec<u8>>,
    pub delay: Duration,
    pub chunk: Option<(usize, Duration)>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct CardState {
    found: bool,
    selected: bool,
    /// Read since it was placed: like real modules, refuse to find it again until re-placed.
    read: bool,
}

/// The simulated module and the card on its antenna.
#[derive(Debug)]
pub struct Simulator {
    sam_id: SamId,
    baud: BaudRate,
    self_test_ok: bool,
    card: Option<(IdCard, CardState)>,
    pub faults: Faults,
    rx: BytesMut,
    history: Vec<(Instant, Command)>,
}

/// What a UART listening at the wrong speed makes of a frame: a few bytes of rubbish.
const WRONG_BAUD_GARBAGE: [u8; 5] = [0xE0, 0x00, 0xFC, 0x1C, 0x80];
const NOISE: [u8; 6] = [0x13, 0xAA, 0x00, 0xAA, 0xAA, 0x96];

impl Simulator {
    pub fn new(sam_id: SamId) -> Self {
        Self {
            sam_id,
            baud: BaudRate::B115200,
            self_test_ok: true,
            card: None,
            faults: Faults::default(),
            rx: BytesMut::new(),
            history: Vec::new(),
        }
    }

    /// A module whose UART was set to another rate earlier.
    pub fn with_baud(mut self, baud: BaudRate) -> Self {
        self.baud = baud;
        self
    }

    pub fn baud(&self) -> BaudRate {
        self.baud
    }

    pub fn set_self_test_ok(&mut self, ok: bool) {
        self.self_test_ok = ok;
    }

    pub fn place_card(&mut self, card: IdCard) {
        self.card = Some((card, CardState::default()));
    }

    pub fn lift_card(&mut self) {
        self.card = None;
    }

    pub fn has_card(&self) -> bool {
        self.card.is_some()
    }

    /// Commands received so far, with when they arrived (no card data is kept).
    pub fn history(&self) -> &[(Instant, Command)] {
        &self.history
    }

    /// Feeds bytes from the host. `line_baud` is the host's line speed where it can be observed
    /// (a pseudo-terminal); a mismatch garbles the exchange as a real UART would.
    pub fn feed(&mut self, bytes: &[u8], line_baud: Option<u32>) -> Vec<Reply> {
        if line_baud.is_some_and(|b| b != self.baud.bits_per_second()) {
            return vec![self.reply_raw(Zeroizing::new(WRONG_BAUD_GARBAGE.to_vec()))];
        }
        self.rx.extend_from_slice(bytes);
        let mut replies = Vec::new();
        while let Some(item) = FrameCodec.decode(&mut self.rx) {
            let payload = match item {
                Ok(frame) => self.answer(frame.payload()),
                Err(FrameError::Checksum { .. }) => Response::payload(Status::ChecksumError, &[]),
                Err(FrameError::BadLength { .. }) => Response::payload(Status::LengthError, &[]),
            };
            if self.faults.silent {
                continue;
            }
            let mut out = BytesMut::new();
            if self.faults.noise_before_preamble {
                out.extend_from_slice(&NOISE);
            }
            frame::encode(&payload, &mut out);
            if self.faults.bad_checksums > 0 {
                self.faults.bad_checksums -= 1;
                let last = out.len() - 1;
                out[last] ^= 0x5A;
            }
            replies.push(self.reply_raw(Zeroizing::new(out.to_vec())));
            out.fill(0);
        }
        replies
    }

    fn reply_raw(&self, bytes: Zeroizing<Vec<u8>>) -> Reply {
        Reply {
            bytes,
            delay: self.faults.reply_delay,
            chunk: self.faults.chunk_size.map(|n| (n.max(1), self.faults.chunk_pause)),
        }
    }

    /// The answer payload (SW1 SW2 SW3 DATA) to one command payload.
    fn answer(&mut self, payload: &[u8]) -> Zeroizing<Vec<u8>> {
        let ok = |data: &[u8]| Response::payload(Status::Success, data);
        let status = |s: Status| Response::payload(s, &[]);
        let cmd = match Command::parse(payload) {
            Ok(cmd) => cmd,
            Err(s) => return status(s),
        };
        self.history.push((Instant::now(), cmd));
        if let Some((c, s)) = self.faults.status_override
            && c == cmd
        {
            return status(s);
        }
        if !self.self_test_ok && !matches!(cmd, Command::Reset) {
            return status(Status::SelfTestFailed);
        }
        match cmd {
            Command::Reset => {
                if let Some((_, state)) = &mut self.card {
                    state.found = false;
                    state.selected = false;
                }
                ok(&[])
            }
            Command::SamStatus => ok(&[]),
            Command::SamId => ok(&self.sam_id.to_bytes()),
            Command::SetBaud(rate) => {
                self.baud = rate;
                ok(&[])
            }
            Command::SetMaxRfBytes(_) => ok(&[]),
            Command::FindCard => match &mut self.card {
                Some((_, state)) if !state.read => {
                    if self.faults.spurious_find_failures > 0 {
                        self.faults.spurious_find_failures -= 1;
                        return status(Status::FindFailed);
                    }
                    state.found = true;
                    Response::payload(Status::FindSuccess, &[0; 4])
                }
                _ => status(Status::FindFailed),
            },
            Command::SelectCard => match &mut self.card {
                Some((_, state)) if state.found => {
                    if self.faults.spurious_select_failures > 0 {
                        self.faults.spurious_select_failures -= 1;
                        return status(Status::SelectFailed);
                    }
                    state.selected = true;
                    ok(&[0; 8])
                }
                _ => status(Status::SelectFailed),
            },
            Command::ReadBase | Command::ReadBaseWithFingerprint => {
                if std::mem::take(&mut self.faults.lift_during_read) {
                    self.card = None;
                    return status(Status::ReadFailed);
                }
                match &mut self.card {
                    Some((card, state)) if state.selected => {
                        let fingerprint = cmd == Command::ReadBaseWithFingerprint;
                        match encode_base_message(card, fingerprint) {
                            Ok(data) => {
                                *state = CardState { read: true, ..CardState::default() };
                                ok(&data)
                            }
                            Err(_) => status(Status::ReadFailed),
                        }
                    }
                    _ => status(Status::ReadFailed),
                }
            }
            Command::ReadNewAddress => match &self.card {
                Some((card, state)) if state.read || state.selected => {
                    if card.appended_addresses.is_empty() {
                        status(Status::NoContent)
                    } else {
                        encode_addresses(&card.appended_addresses)
                            .map_or(status(Status::ReadFailed), |d| ok(&d))
                    }
                }
                _ => status(Status::ReadFailed),
            },
        }
    }
}

/// How the simulator's port relates to the host's line speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimLine {
    /// The master side of a pseudo-terminal: the host's speed is visible in the shared termios,
    /// and a mismatch is emulated.
    PtyMaster,
    /// A real UART (null-modem cable to the kiosk): the port itself runs at the simulated speed,
    /// and the hardware garbles a mismatch.
    Uart,
}

/// A simulator answering on a serial port from its own thread until dropped.
#[derive(Debug)]
pub struct SimServer(SimThread<Simulator>);

impl SimServer {
    pub fn spawn(mut port: Box<dyn SerialPort>, line: SimLine, sim: Simulator) -> std::io::Result<Self> {
        if line == SimLine::Uart {
            port.set_baud_rate(sim.baud().bits_per_second())?;
        }
        port.set_timeout(Duration::from_millis(20))?;
        Ok(Self(SimThread::spawn("idcard-sim", sim, move |sim, stop| serve(port, line, sim, stop))?))
    }

    /// The simulator, to place cards and set faults while it runs.
    pub fn sim(&self) -> MutexGuard<'_, Simulator> {
        self.0.lock()
    }
}

/// A simulator on a new pseudo-terminal: the host opens `path` as it would open `/dev/ttyUSB0`.
#[derive(Debug)]
pub struct PtySim {
    pub server: SimServer,
    pub path: String,
    _hold: PtyHold,
}

impl PtySim {
    pub fn start(sim: Simulator) -> std::io::Result<Self> {
        let (master, hold) = devsim::pty()?;
        let server = SimServer::spawn(Box::new(master), SimLine::PtyMaster, sim)?;
        Ok(Self { server, path: hold.path.clone(), _hold: hold })
    }

    /// Points `link` at this pty, as udev's `/dev/serial/by-id` links point at a tty, so that a
    /// later `PtySim` can stand in for the same device after a simulated re-plug.
    pub fn link_as(&self, link: &std::path::Path) -> std::io::Result<()> {
        match std::fs::remove_file(link) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        std::os::unix::fs::symlink(&self.path, link)
    }

    pub fn sim(&self) -> MutexGuard<'_, Simulator> {
        self.server.sim()
    }
}

fn serve(mut port: Box<dyn SerialPort>, line: SimLine, sim: &Mutex<Simulator>, stop: &AtomicBool) {
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::Relaxed) {
        let n = match port.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            // A pty master reports EIO while no host has the other end open: wait for one.
            Err(_) => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        let line_baud = match line {
            SimLine::PtyMaster => port.baud_rate().ok(),
            SimLine::Uart => None,
        };
        let (replies, baud) = {
            let mut sim = sim.lock().unwrap_or_else(|p| p.into_inner());
            (sim.feed(&buf[..n], line_baud), sim.baud().bits_per_second())
        };
        buf[..n].fill(0);
        for reply in replies {
            std::thread::sleep(reply.delay);
            let (size, pause) = reply.chunk.unwrap_or((reply.bytes.len().max(1), Duration::ZERO));
            for piece in reply.bytes.chunks(size) {
                if port.write_all(piece).is_err() {
                    break;
                }
                let _ = port.flush();
                std::thread::sleep(pause);
            }
        }
        // After a 0x60 answer the module listens at the new rate.
        if line == SimLine::Uart && port.baud_rate().ok() != Some(baud) {
            let _ = port.set_baud_rate(baud);
        }
    }
}
