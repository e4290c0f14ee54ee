//! The host side of the protocol over any [`Link`]: one command at a time, answers framed by the
//! sans-IO codec, statuses turned into typed errors.
//!
//! Blocking by design: it runs on the reader's own thread (see [`crate::service`]), so a reader
//! that stops answering never stalls the async runtime.

use std::time::{Duration, Instant};

use kiosk_transport::{Address, Link, LinkError, SerialLink, UsbId};

use crate::card::{self, CardError, IdCard};
use crate::command::{BaudRate, Command, Response};
use crate::exchange::{Exchange, Outcome};
use crate::frame::FrameError;
use crate::probe::{BaudProbe, ProbeIo};
use crate::read::{CardRead, Io};
use crate::samid::SamId;
use crate::status::Status;
use crate::usb::SamUsbLink;

/// Pause before asking again after a spurious "no card", and the shortest gap between two
/// finds: vendors warn that polling faster than every 300 ms upsets the reader.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(300);

#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(
        "no answer to {command} within {waited_ms} ms from {device}: check the reader's power, cable and port"
    )]
    Timeout { command: &'static str, waited_ms: u128, device: String },
    #[error("{command}: {status}")]
    Status { command: &'static str, status: Status },
    #[error("{command}: {source}")]
    Frame {
        command: &'static str,
        #[source]
        source: FrameError,
    },
    #[error("{command}: answer carries {got} data bytes, expected {expected}")]
    Malformed { command: &'static str, got: usize, expected: usize },
    #[error("{command}: card data unusable: {source}")]
    Card {
        command: &'static str,
        #[source]
        source: CardError,
    },
    #[error(
        "no reader answered on {device} at 115200, 57600, 38400, 19200 or 9600 baud: check power and wiring, and that this is the reader's port"
    )]
    NoReader { device: String },
}

impl ReaderError {
    /// The device went away: wait for it to come back rather than report a fault.
    pub fn is_disconnect(&self) -> bool {
        matches!(self, ReaderError::Link(LinkError::Disconnected { .. }))
    }

    /// The failure is cured by the resident lifting and re-placing the card.
    pub fn card_placement_status(&self) -> Option<Status> {
        match self {
            ReaderError::Status { status, .. } if status.is_card_placement() => Some(*status),
            _ => None,
        }
    }
}

/// Where the reader is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderPort {
    /// A UART or USB-serial port; `baud: None` probes the five supported rates.
    Serial { path: String, baud: Option<u32> },
    /// The standard SAM USB module (four bulk pipes), by VID:PID.
    Usb(UsbId),
}

/// The standard SAM USB module's ID.
pub const SAM_USB_ID: UsbId = UsbId { vid: 0x0400, pid: 0xC35A };

impl ReaderPort {
    /// What technicians and configuration files write: `usb` (the standard module), `usb:VID:PID`,
    /// or a serial port path with an optional fixed baud rate (else probed).
    pub fn parse(port: &str, baud: Option<u32>) -> Result<Self, String> {
        let port = match port.parse::<Address>()? {
            Address::Usb(id) => ReaderPort::Usb(id.unwrap_or(SAM_USB_ID)),
            Address::Serial { path, baud: written } => ReaderPort::Serial { path, baud: baud.or(written) },
            _ => {
                return Err(format!(
                    "{port:?}: a card reader is usb[:VID:PID], serial:PATH[@BAUD] or a port path"
                ));
            }
        };
        if let ReaderPort::Serial { baud: Some(b), .. } = port {
            BaudRate::from_bits_per_second(b).ok_or_else(|| {
                format!("{b} baud is not one a SAM module supports (115200, 57600, 38400, 19200, 9600)")
            })?;
        }
        Ok(port)
    }
}

impl std::fmt::Display for ReaderPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReaderPort::Serial { path, baud: Some(b) } => write!(f, "{path} @ {b}"),
            ReaderPort::Serial { path, baud: None } => write!(f, "{path} (baud probed)"),
            ReaderPort::Usb(id) => write!(f, "usb:{id}"),
        }
    }
}

/// What the kiosk learns when a reader comes up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderInfo {
    pub device: String,
    pub sam_id: SamId,
    /// The line speed found, for serial readers.
    pub baud: Option<u32>,
}

/// Options for a card read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Use 30 10 to also read fingerprint minutiae (for sites with a fingerprint scanner).
    pub fingerprint: bool,
    /// Follow with 30 03 to read addresses appended after issue.
    pub appended_addresses: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self { fingerprint: false, appended_addresses: true }
    }
}

/// A connected reader.
pub struct Reader {
    link: Box<dyn Link>,
    /// Bytes exchanged with the device, for wire-time figures in benchmarks and diagnostics.
    wire_bytes: u64,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").field("link", &self.link.describe()).finish_non_exhaustive()
    }
}

impl Reader {
    pub fn new(link: Box<dyn Link>) -> Self {
        Self { link, wire_bytes: 0 }
    }

    /// Connects, finds the line speed, checks the SAM and reads its ID.
    pub fn open(port: &ReaderPort) -> Result<(Self, ReaderInfo), ReaderError> {
        let (mut reader, baud) = match port {
            ReaderPort::Serial { path, baud } => {
                let (reader, baud) = Self::probe_serial(path, *baud)?;
                (reader, Some(baud))
            }
            ReaderPort::Usb(id) => (Self::new(Box::new(SamUsbLink::open(*id)?)), None),
        };
        reader.sam_status()?;
        let sam_id = reader.sam_id()?;
        let device = reader.link.describe();
        tracing::info!(%device, %sam_id, ?baud, "ID card reader ready");
        Ok((reader, ReaderInfo { device, sam_id, baud }))
    }

    /// Opens a serial reader at `baud`, or finds its rate ([`BaudProbe`] has the rules).
    pub fn probe_serial(path: &str, baud: Option<u32>) -> Result<(Self, u32), ReaderError> {
        let (mut probe, mut io) = BaudProbe::start(path.to_owned(), baud, Instant::now());
        let mut reader: Option<Self> = None;
        loop {
            match io {
                ProbeIo::Try { baud, bytes } => {
                    let r = match &mut reader {
                        Some(r) => {
                            r.link.set_baud(baud)?;
                            r
                        }
                        None => reader.insert(Self::new(Box::new(SerialLink::open(path, baud)?))),
                    };
                    r.send(&bytes)?;
                    io = r.wait(&mut probe)?;
                }
                ProbeIo::Done(result) => {
                    let rate = result?;
                    let mut reader = reader.expect("a rate answered on an open line");
                    reader.wire_bytes += probe.wire_bytes();
                    return Ok((reader, rate));
                }
            }
        }
    }

    pub fn describe(&self) -> String {
        self.link.describe()
    }

    pub fn wire_bytes(&self) -> u64 {
        self.wire_bytes
    }

    /// Sends a command and returns whatever status comes back. A corrupted answer is asked for
    /// again once: line noise should not cost a resident a read. The rules are
    /// [`Exchange`]'s; this only moves bytes and reads the clock.
    pub fn execute(&mut self, cmd: Command) -> Result<Response, ReaderError> {
        let (mut exchange, bytes) = Exchange::start(cmd, Instant::now());
        self.send(&bytes)?;
        tracing::trace!(command = cmd.name(), "sent");
        loop {
            let result = match self.wait(&mut exchange)? {
                Outcome::Resend(bytes) => {
                    self.send(&bytes)?;
                    continue;
                }
                Outcome::Answer(response) => Ok(response),
                Outcome::Failed(failure) => Err(failure.into_error(self.link.describe())),
            };
            self.wire_bytes += exchange.wire_bytes();
            return result;
        }
    }

    /// Feeds `session` what the reader sends and the time until it says what to do next:
    /// waits for bytes while it listens, sleeps through its pauses.
    fn wait<S: Session>(&mut self, session: &mut S) -> Result<S::Io, ReaderError> {
        loop {
            let deadline = session.deadline().expect("a session that has not ended waits for something");
            let now = Instant::now();
            let next = if now >= deadline {
                session.on_time(now)
            } else if session.listening() {
                self.receive(deadline - now, |bytes, at| session.on_bytes(bytes, at))?
            } else {
                std::thread::sleep(deadline - now);
                None
            };
            if let Some(io) = next {
                return Ok(io);
            }
        }
    }

    /// Waits up to `wait` for bytes and hands what came (perhaps nothing) to `feed` with the time
    /// of arrival; the buffer is wiped after, since card data passes through it.
    fn receive<T>(
        &mut self,
        wait: Duration,
        feed: impl FnOnce(&[u8], Instant) -> T,
    ) -> Result<T, ReaderError> {
        let mut chunk = [0u8; 512];
        let n = self.link.recv(&mut chunk, wait)?;
        let fed = feed(&chunk[..n], Instant::now());
        chunk[..n].fill(0);
        Ok(fed)
    }

    /// Drops input nobody will read (a late answer to an earlier command), then sends.
    fn send(&mut self, bytes: &[u8]) -> Result<(), ReaderError> {
        self.link.discard_input()?;
        self.link.send(bytes)?;
        Ok(())
    }

    /// Sends a command and insists on its success status.
    fn expect(&mut self, cmd: Command) -> Result<Response, ReaderError> {
        let response = self.execute(cmd)?;
        if response.status == cmd.success() {
            Ok(response)
        } else {
            Err(ReaderError::Status { command: cmd.name(), status: response.status })
        }
    }

    /// Equivalent to power-cycling the module.
    pub fn reset(&mut self) -> Result<(), ReaderError> {
        self.expect(Command::Reset).map(drop)
    }

    pub fn sam_status(&mut self) -> Result<(), ReaderError> {
        self.expect(Command::SamStatus).map(drop)
    }

    pub fn sam_id(&mut self) -> Result<SamId, ReaderError> {
        let r = self.expect(Command::SamId)?;
        SamId::parse(&r.data).ok_or(ReaderError::Malformed {
            command: Command::SamId.name(),
            got: r.data.len(),
            expected: 16,
        })
    }

    /// `Ok(false)` when no card answers (none present, or the one present was already read).
    pub fn find_card(&mut self) -> Result<bool, ReaderError> {
        let r = self.execute(Command::FindCard)?;
        match r.status {
            Status::FindSuccess => Ok(true),
            Status::FindFailed => Ok(false),
            status => Err(ReaderError::Status { command: Command::FindCard.name(), status }),
        }
    }

    pub fn select_card(&mut self) -> Result<(), ReaderError> {
        self.expect(Command::SelectCard).map(drop)
    }

    /// Reads the base message (text and photo, and with `fingerprint` the minutiae).
    pub fn read_base(&mut self, fingerprint: bool) -> Result<IdCard, ReaderError> {
        let cmd = if fingerprint { Command::ReadBaseWithFingerprint } else { Command::ReadBase };
        let r = self.expect(cmd)?;
        card::parse_base_message(&r.data, fingerprint)
            .map_err(|source| ReaderError::Card { command: cmd.name(), source })
    }

    /// Addresses appended to the card after issue; empty when there are none (SW3 0x91).
    pub fn read_appended_addresses(&mut self) -> Result<Vec<String>, ReaderError> {
        let cmd = Command::ReadNewAddress;
        let r = self.execute(cmd)?;
        match r.status {
            Status::NoContent => Ok(Vec::new()),
            Status::Success => card::parse_addresses(&r.data)
                .map_err(|source| ReaderError::Card { command: cmd.name(), source }),
            status => Err(ReaderError::Status { command: cmd.name(), status }),
        }
    }

    /// Changes the module's UART speed, then the link's.
    pub fn set_baud(&mut self, rate: BaudRate) -> Result<(), ReaderError> {
        self.expect(Command::SetBaud(rate))?;
        self.link.set_baud(rate.bits_per_second())?;
        Ok(())
    }

    /// Tunes the SAM-to-RF frame size (24–255); most sites never need it.
    pub fn set_max_rf_bytes(&mut self, bytes: u8) -> Result<(), ReaderError> {
        self.expect(Command::SetMaxRfBytes(bytes)).map(drop)
    }

    /// Selects and reads a card that a find has just reported, retrying a spurious select
    /// failure once as vendor SDKs do ([`CardRead`] has the rules).
    pub fn read_found_card(&mut self, opts: ReadOptions) -> Result<IdCard, ReaderError> {
        let (read, io) = CardRead::start_found(opts, self.link.describe(), Instant::now());
        // Only a find can end a read with "no card"; this one starts after it.
        Ok(self.drive(read, io)?.expect("a read from the select ends with a card or an error"))
    }

    /// One complete read: find (a spurious first "no card" is asked again after the poll
    /// interval), select, read. `Ok(None)` when no card is there.
    pub fn read_card(&mut self, opts: ReadOptions) -> Result<Option<IdCard>, ReaderError> {
        let (read, io) = CardRead::start(opts, self.link.describe(), Instant::now());
        self.drive(read, io)
    }

    /// Carries out a [`CardRead`]: sends what it says, waits out its pauses, feeds it what the
    /// reader answers and the time.
    fn drive(&mut self, mut read: CardRead, mut io: Io) -> Result<Option<IdCard>, ReaderError> {
        loop {
            match io {
                Io::Send(bytes) => self.send(&bytes)?,
                Io::Done(result) => {
                    self.wire_bytes += read.wire_bytes();
                    return result.map(|card| card.map(|c| *c));
                }
            }
            io = self.wait(&mut read)?;
        }
    }
}

/// The sans-IO sessions [`Reader`] drives ([`Exchange`], [`CardRead`], [`BaudProbe`]): bytes
/// and time in, what to do next out.
trait Session {
    type Io;
    /// Until when to wait; `None` once the session is over.
    fn deadline(&self) -> Option<Instant>;
    /// Whether bytes are expected; otherwise the wait is a pause.
    fn listening(&self) -> bool;
    fn on_bytes(&mut self, bytes: &[u8], now: Instant) -> Option<Self::Io>;
    fn on_time(&mut self, now: Instant) -> Option<Self::Io>;
}

impl Session for Exchange {
    type Io = Outcome;
    fn deadline(&self) -> Option<Instant> {
        Some(Exchange::deadline(self))
    }
    fn listening(&self) -> bool {
        true
    }
    fn on_bytes(&mut self, bytes: &[u8], now: Instant) -> Option<Outcome> {
        Exchange::on_bytes(self, bytes, now)
    }
    fn on_time(&mut self, now: Instant) -> Option<Outcome> {
        Exchange::on_time(self, now)
    }
}

impl Session for CardRead {
    type Io = Io;
    fn deadline(&self) -> Option<Instant> {
        CardRead::deadline(self)
    }
    fn listening(&self) -> bool {
        CardRead::listening(self)
    }
    fn on_bytes(&mut self, bytes: &[u8], now: Instant) -> Option<Io> {
        CardRead::on_bytes(self, bytes, now)
    }
    fn on_time(&mut self, now: Instant) -> Option<Io> {
        CardRead::on_time(self, now)
    }
}

impl Session for BaudProbe {
    type Io = ProbeIo;
    fn deadline(&self) -> Option<Instant> {
        BaudProbe::deadline(self)
    }
    fn listening(&self) -> bool {
        true
    }
    fn on_bytes(&mut self, bytes: &[u8], now: Instant) -> Option<ProbeIo> {
        BaudProbe::on_bytes(self, bytes, now)
    }
    fn on_time(&mut self, now: Instant) -> Option<ProbeIo> {
        BaudProbe::on_time(self, now)
    }
}
