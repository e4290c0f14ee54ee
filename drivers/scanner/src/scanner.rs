//! The scanner driver: a device by its address, a mode, and a pipeline from bytes or reports to
//! typed scan events; and the async service that reconnects when the scanner is re-plugged.

use std::str::FromStr;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use kiosk_transport::{Address, Deliver, DeviceFileLink, Link, LinkError, SerialLink};
use tokio::sync::mpsc;

use crate::classify::{Deduper, Rejection, Scan, ScanConfig, classify};
use crate::frame::{HidPosDecoder, KeyboardDecoder, POS_REPORT_LEN, Raw, SerialFraming, Suffix};

/// How the scanner presents itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// USB CDC or RS-232: text lines ended by a suffix.
    Serial(Suffix),
    /// HID keyboard emulation, read from its hidraw node.
    Keyboard,
    /// HID POS (usage page 0x8C), read from its hidraw node.
    HidPos,
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "keyboard" => Mode::Keyboard,
            "pos" | "hid-pos" => Mode::HidPos,
            "serial" => Mode::Serial(Suffix::Cr),
            other => Mode::Serial(
                other
                    .strip_prefix("serial-")
                    .ok_or_else(|| {
                        format!("{other:?}: mode must be serial[-cr|-lf|-crlf|-tab], keyboard or pos")
                    })?
                    .parse()?,
            ),
        })
    }
}

/// `serial:/dev/ttyACM0[@baud]` or `hidraw:/dev/hidraw0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    Serial { path: String, baud: u32 },
    Hidraw(String),
}

impl FromStr for Device {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.parse::<Address>()? {
            Address::Serial { path, baud } => Ok(Device::Serial { path, baud: baud.unwrap_or(9600) }),
            Address::Hidraw(path) => Ok(Device::Hidraw(path)),
            _ => Err(format!("{s:?}: a scanner is serial:PATH[@BAUD] or hidraw:PATH")),
        }
    }
}

#[derive(Debug)]
pub enum ScanEvent {
    Scan(Scan),
    Rejected(Rejection),
}

enum Framing {
    Serial(SerialFraming),
    Keyboard(KeyboardDecoder),
    HidPos(HidPosDecoder),
}

impl std::fmt::Debug for Framing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Framing::Serial(_) => "Serial",
            Framing::Keyboard(_) => "Keyboard",
            Framing::HidPos(_) => "HidPos",
        })
    }
}

/// Bytes or reports in, scan events out (sans-IO).
#[derive(Debug)]
pub struct Pipeline {
    framing: Framing,
    config: ScanConfig,
    dedup: Deduper,
}

impl Pipeline {
    pub fn new(mode: Mode, config: ScanConfig) -> Self {
        let framing = match mode {
            Mode::Serial(suffix) => Framing::Serial(SerialFraming::new(suffix, config.max_len)),
            Mode::Keyboard => Framing::Keyboard(KeyboardDecoder::new(config.max_len)),
            Mode::HidPos => Framing::HidPos(HidPosDecoder::new(config.max_len)),
        };
        Self { dedup: Deduper::new(config.dedup_window), framing, config }
    }

    /// One read from the device: a piece of the byte stream (serial) or one report (HID).
    pub fn push(&mut self, data: &[u8], now: Instant) -> Vec<ScanEvent> {
        let raws = match &mut self.framing {
            Framing::Serial(f) => f.push(data),
            Framing::Keyboard(k) => k.push_report(data),
            Framing::HidPos(p) => p.push_report(data),
        };
        let mut out = Vec::new();
        for raw in raws {
            let event = match raw {
                Raw::TooLong => ScanEvent::Rejected(Rejection::TooLong),
                Raw::Scan(mut bytes) => {
                    let result = classify(&bytes, &self.config);
                    zeroize::Zeroize::zeroize(&mut bytes);
                    match result {
                        Ok(scan) if self.dedup.is_repeat(&scan.text, now) => continue,
                        Ok(scan) => ScanEvent::Scan(scan),
                        Err(r) => ScanEvent::Rejected(r),
                    }
                }
            };
            match &event {
                ScanEvent::Scan(s) => tracing::info!(kind = ?s.kind, chars = s.text.chars().count(), "scan"),
                ScanEvent::Rejected(r) => tracing::warn!(reason = ?r, "scan rejected"),
            }
            out.push(event);
        }
        out
    }
}

/// A connected scanner.
pub struct Scanner {
    link: Box<dyn Link>,
    pipeline: Pipeline,
    read_size: usize,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner").field("link", &self.link.describe()).finish_non_exhaustive()
    }
}

impl Scanner {
    pub fn open(device: &Device, mode: Mode, config: ScanConfig) -> Result<Self, LinkError> {
        // hidraw hands over one report per read; ask for exactly one report's size.
        let read_size = match mode {
            Mode::Serial(_) => 512,
            Mode::Keyboard => 8,
            Mode::HidPos => POS_REPORT_LEN,
        };
        let link: Box<dyn Link> = match device {
            Device::Serial { path, baud } => Box::new(SerialLink::open(path, *baud)?),
            Device::Hidraw(path) => Box::new(DeviceFileLink::open(path, read_size)?),
        };
        Ok(Self { link, pipeline: Pipeline::new(mode, config), read_size })
    }

    pub fn describe(&self) -> String {
        self.link.describe()
    }

    /// Waits up to `timeout` for the next read and returns its events (often none).
    pub fn poll(&mut self, timeout: Duration) -> Result<Vec<ScanEvent>, LinkError> {
        let mut buf = vec![0u8; self.read_size];
        let n = self.link.recv(&mut buf, timeout)?;
        if n == 0 {
            return Ok(Vec::new());
        }
        let events = self.pipeline.push(&buf[..n], Instant::now());
        zeroize::Zeroize::zeroize(&mut buf);
        Ok(events)
    }
}

/// What the scanner service reports.
#[derive(Debug)]
pub enum ScannerEvent {
    Connected {
        device: String,
    },
    Scan(Scan),
    Rejected(Rejection),
    /// Gone (unplugged); the service keeps trying to reach it.
    Disconnected {
        device: String,
        reason: String,
    },
}

/// The scanner on its own thread, delivering events to a callback or a tokio channel, as the
/// reader's and the printer's services do. Dropping it stops the thread.
#[derive(Debug)]
pub struct ScannerService {
    /// Set when events go to a channel ([`ScannerService::spawn`]).
    events: Option<mpsc::Receiver<ScannerEvent>>,
    stop: std_mpsc::Sender<()>,
}

impl ScannerService {
    /// A service whose events are read with [`ScannerService::next_event`].
    pub fn spawn(device: Device, mode: Mode, config: ScanConfig) -> std::io::Result<Self> {
        let (tx, events) = mpsc::channel(32);
        let mut service =
            Self::spawn_delivering(device, mode, config, Box::new(move |e| tx.blocking_send(e).is_ok()))?;
        service.events = Some(events);
        Ok(service)
    }

    /// A service that hands every event to `deliver` on its own thread.
    pub fn spawn_delivering(
        device: Device,
        mode: Mode,
        config: ScanConfig,
        mut deliver: Deliver<ScannerEvent>,
    ) -> std::io::Result<Self> {
        let (stop, stop_rx) = std_mpsc::channel();
        std::thread::Builder::new()
            .name("scanner".into())
            .spawn(move || run(&device, mode, &config, &mut deliver, &stop_rx))?;
        Ok(Self { events: None, stop })
    }

    /// The next event; `None` once the service has stopped, or when its events go to a
    /// callback ([`ScannerService::spawn_delivering`]).
    pub async fn next_event(&mut self) -> Option<ScannerEvent> {
        self.events.as_mut()?.recv().await
    }
}

/// Why the pump stopped.
enum Ended {
    Stopped,
    Lost(String),
}

/// Connects, pumps events, and after a loss reconnects; a scanner that stays away is reported
/// once, not every half second.
fn run(
    device: &Device,
    mode: Mode,
    config: &ScanConfig,
    deliver: &mut Deliver<ScannerEvent>,
    stop: &std_mpsc::Receiver<()>,
) {
    let mut announced_down = false;
    loop {
        match Scanner::open(device, mode, config.clone()) {
            Ok(mut scanner) => {
                if !deliver(ScannerEvent::Connected { device: scanner.describe() }) {
                    return;
                }
                match pump(&mut scanner, deliver, stop) {
                    Ended::Stopped => return,
                    Ended::Lost(reason) => {
                        announced_down = true;
                        let event = ScannerEvent::Disconnected { device: scanner.describe(), reason };
                        if !deliver(event) {
                            return;
                        }
                    }
                }
            }
            Err(e) => {
                if !announced_down {
                    announced_down = true;
                    let event =
                        ScannerEvent::Disconnected { device: format!("{device:?}"), reason: e.to_string() };
                    if !deliver(event) {
                        return;
                    }
                }
                if !matches!(
                    stop.recv_timeout(Duration::from_millis(500)),
                    Err(std_mpsc::RecvTimeoutError::Timeout)
                ) {
                    return;
                }
            }
        }
    }
}

fn pump(scanner: &mut Scanner, deliver: &mut Deliver<ScannerEvent>, stop: &std_mpsc::Receiver<()>) -> Ended {
    while matches!(stop.try_recv(), Err(std_mpsc::TryRecvError::Empty)) {
        match scanner.poll(Duration::from_millis(200)) {
            Ok(events) => {
                for e in events {
                    let event = match e {
                        ScanEvent::Scan(s) => ScannerEvent::Scan(s),
                        ScanEvent::Rejected(r) => ScannerEvent::Rejected(r),
                    };
                    if !deliver(event) {
                        return Ended::Stopped;
                    }
                }
            }
            Err(e) => return Ended::Lost(e.to_string()),
        }
    }
    Ended::Stopped
}

impl Drop for ScannerService {
    fn drop(&mut self) {
        let _ = self.stop.send(());
    }
}
