//! The printer driver: opens a device by its address, reads status, and prints a slip as one job
//! that ends with GS r 1, whose answer proves the printer processed everything before it. A job
//! that never gets that answer is checked against the printer's status and reported as
//! interrupted (paper end, cover opened) instead of being taken as printed.

use std::str::FromStr;
use std::time::{Duration, Instant};

use kiosk_transport::{
    Address, DeviceFileLink, FileLink, Link, LinkError, SerialLink, TcpLink, UsbBulkDevice, UsbId,
    UsbInterface,
};

use crate::doc::Slip;
use crate::encode;
use crate::job::{Action, Done, Job};
use crate::layout::{LayoutError, Note};
use crate::profile::{self, Profile};
use crate::status::{PrinterStatus, Reply, ReplyParser};

/// Where a printer is, as technicians and the configuration write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    /// USB printer class through libusb (usblp is detached).
    Usb(UsbId),
    /// The kernel's usblp device node.
    Lp(String),
    Serial {
        path: String,
        baud: u32,
    },
    /// Raw TCP, usually port 9100.
    Tcp(String),
    /// Raw bytes appended to a file: for capturing output; no status.
    File(String),
}

impl FromStr for Device {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let wrong = || {
            format!(
                "{s:?}: a printer is usb:VID:PID, lp:PATH, serial:PATH[@BAUD], tcp:HOST:PORT or file:PATH"
            )
        };
        Ok(match s.parse::<Address>()? {
            Address::Usb(Some(id)) => Device::Usb(id),
            Address::Lp(path) => Device::Lp(path),
            Address::Serial { path, baud } => Device::Serial { path, baud: baud.unwrap_or(115_200) },
            Address::Tcp(addr) => Device::Tcp(addr),
            Address::File(path) => Device::File(path),
            Address::Usb(None) | Address::Hidraw(_) => return Err(wrong()),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PrinterError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("slip layout: {0}")]
    Layout(#[from] LayoutError),
    #[error("printer not ready: {}", .0.problems().join("; "))]
    NotReady(PrinterStatus),
    #[error("slip interrupted after {sent} bytes: {}. The slip must be printed again once fixed", .status.problems().join("; "))]
    Interrupted { status: PrinterStatus, sent: usize },
    #[error(
        "{device} did not answer {what} within {waited_ms} ms: check power, cable and that it speaks ESC/POS"
    )]
    NoAnswer { device: String, what: &'static str, waited_ms: u128 },
}

/// A printed slip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintReport {
    pub bytes: usize,
    /// Status after printing; `None` where the link cannot report it (file:, write-only).
    pub status: Option<PrinterStatus>,
    pub notes: Vec<Note>,
}

/// The IEEE 1284 port status of a USB printer (GET_PORT_STATUS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PortStatus {
    pub paper_empty: bool,
    pub selected: bool,
    pub error: bool,
}

impl PortStatus {
    pub fn from_byte(b: u8) -> Self {
        Self { paper_empty: b & 0x20 != 0, selected: b & 0x10 != 0, error: b & 0x08 == 0 }
    }
}

/// The link, keeping a USB printer's handle typed for its class requests.
enum PrinterLink {
    Usb(UsbBulkDevice),
    Other(Box<dyn Link>),
}

impl std::ops::Deref for PrinterLink {
    type Target = dyn Link;
    fn deref(&self) -> &Self::Target {
        match self {
            PrinterLink::Usb(d) => d,
            PrinterLink::Other(l) => l.as_ref(),
        }
    }
}

impl std::ops::DerefMut for PrinterLink {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            PrinterLink::Usb(d) => d,
            PrinterLink::Other(l) => l.as_mut(),
        }
    }
}

pub struct Printer {
    link: PrinterLink,
    profile: &'static Profile,
    device_id: Option<String>,
    parser: ReplyParser,
    /// Automatic status back is on (it must be switched on again after every ESC @).
    asb: bool,
    /// The newest ASB report not yet handed out.
    asb_status: Option<PrinterStatus>,
}

impl std::fmt::Debug for Printer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Printer")
            .field("link", &self.link.describe())
            .field("profile", &self.profile.name)
            .finish()
    }
}

/// The IEEE 1284 device ID of a USB printer (GET_DEVICE_ID): a two-byte big-endian length
/// that counts itself, then `MFG:…;MDL:…;CMD:…;`.
fn usb_device_id(dev: &mut UsbBulkDevice) -> Result<String, LinkError> {
    let mut buf = [0u8; 1024];
    let n = dev.class_request_in(0, 0, true, &mut buf)?;
    let len = if n >= 2 { usize::from(u16::from_be_bytes([buf[0], buf[1]])).clamp(2, n) } else { n };
    Ok(String::from_utf8_lossy(&buf[2.min(len)..len]).into_owned())
}

impl Printer {
    /// Opens a printer. Without a `profile`, a USB printer's device ID chooses one, and other
    /// links get the common GBK 80 mm profile.
    pub fn open(device: &Device, profile: Option<&'static Profile>) -> Result<Self, PrinterError> {
        let (link, device_id) = match device {
            Device::Usb(id) => {
                let mut dev = UsbBulkDevice::open(*id, UsbInterface::Class(7))?;
                let device_id = usb_device_id(&mut dev).ok();
                (PrinterLink::Usb(dev), device_id)
            }
            Device::Lp(path) => (PrinterLink::Other(Box::new(DeviceFileLink::open(path, 1024)?)), None),
            Device::Serial { path, baud } => {
                (PrinterLink::Other(Box::new(SerialLink::open(path, *baud)?)), None)
            }
            Device::Tcp(addr) => {
                (PrinterLink::Other(Box::new(TcpLink::connect(addr, Duration::from_secs(3))?)), None)
            }
            Device::File(path) => (PrinterLink::Other(Box::new(FileLink::create(path)?)), None),
        };
        let profile = profile
            .or_else(|| device_id.as_deref().and_then(profile::from_device_id))
            .unwrap_or(&profile::GBK_80);
        Ok(Self { link, profile, device_id, parser: ReplyParser::default(), asb: false, asb_status: None })
    }

    pub fn profile(&self) -> &'static Profile {
        self.profile
    }

    pub fn device_id(&self) -> Option<&str> {
        self.device_id.as_deref()
    }

    pub fn describe(&self) -> String {
        self.link.describe()
    }

    /// Waits for the first reply `want` accepts, ignoring unsolicited ones (ASB, flow control).
    fn await_reply<T>(
        &mut self,
        timeout: Duration,
        what: &'static str,
        want: impl Fn(Reply) -> Option<T>,
    ) -> Result<T, PrinterError> {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 64];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PrinterError::NoAnswer {
                    device: self.link.describe(),
                    what,
                    waited_ms: timeout.as_millis(),
                });
            }
            let n = self.link.recv(&mut buf, left)?;
            for reply in self.parser.push(&buf[..n]) {
                match (want(reply), reply) {
                    (Some(t), _) => return Ok(t),
                    (None, Reply::Asb(block)) => self.asb_status = Some(PrinterStatus::from_asb(block)),
                    (None, _) => tracing::debug!(?reply, "printer reply set aside"),
                }
            }
        }
    }

    /// Switches on automatic status back (GS a): the printer then reports every change of its
    /// online, cover, error and paper state by itself, which [`Printer::status_change`] picks up.
    pub fn enable_status_reports(&mut self) -> Result<(), PrinterError> {
        self.link.send(&[0x1D, b'a', 0x0F])?;
        self.asb = true;
        Ok(())
    }

    /// The newest status the printer reported by itself, waiting up to `timeout` for one.
    pub fn status_change(&mut self, timeout: Duration) -> Result<Option<PrinterStatus>, PrinterError> {
        if let Some(s) = self.asb_status.take() {
            return Ok(Some(s));
        }
        match self.await_reply(timeout, "a status report", |r| match r {
            Reply::Asb(block) => Some(PrinterStatus::from_asb(block)),
            _ => None,
        }) {
            Ok(s) => Ok(Some(s)),
            Err(PrinterError::NoAnswer { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GET_PORT_STATUS of a USB printer: the IEEE 1284 status byte, coarser than DLE EOT but
    /// answered even by unidirectional printers. `None` for links that are not USB.
    pub fn port_status(&mut self) -> Option<Result<PortStatus, PrinterError>> {
        let PrinterLink::Usb(dev) = &mut self.link else { return None };
        let mut byte = [0u8; 1];
        Some(
            dev.class_request_in(1, 0, false, &mut byte)
                .map(|_| PortStatus::from_byte(byte[0]))
                .map_err(Into::into),
        )
    }

    /// Asks DLE EOT 1–4 one at a time, after draining stale replies ([`Job::status`]).
    pub fn status(&mut self) -> Result<PrinterStatus, PrinterError> {
        if !self.link.can_receive() {
            return Err(LinkError::Unsupported {
                device: self.link.describe(),
                what: "status (it never answers)",
            }
            .into());
        }
        match self.drive(Job::status(self.link.describe(), Instant::now()))? {
            Done::Status(status) => Ok(status),
            Done::Printed(_) => unreachable!("a status job prints nothing"),
        }
    }

    /// Prints a slip. Refuses when the printer reports it cannot print, and reports a slip cut
    /// short by paper end or an opened cover as interrupted ([`Job::print`] has the rules).
    pub fn print(&mut self, slip: &Slip) -> Result<PrintReport, PrinterError> {
        let encoded = encode::encode(slip, self.profile)?;
        let job =
            Job::print(encoded, self.asb, self.link.can_receive(), self.link.describe(), Instant::now());
        match self.drive(job)? {
            Done::Printed(report) => Ok(report),
            Done::Status(_) => unreachable!("a print job ends printed or failed"),
        }
    }

    /// Carries out a [`Job`]: its actions on the link, then what the printer answers and the
    /// time, until it is over.
    fn drive(&mut self, mut job: Job) -> Result<Done, PrinterError> {
        let mut buf = [0u8; 64];
        loop {
            while let Some(action) = job.poll_action() {
                match action {
                    Action::Discard => self.link.discard_input()?,
                    Action::Send(bytes) => self.link.send(&bytes)?,
                }
            }
            if let Some(status) = job.asb_status() {
                self.asb_status = Some(status);
            }
            if let Some(outcome) = job.outcome() {
                return outcome;
            }
            let deadline = job.deadline().expect("a job that is not over waits for the printer");
            let now = Instant::now();
            if now >= deadline {
                job.on_time(now);
            } else {
                let n = self.link.recv(&mut buf, deadline - now)?;
                job.on_bytes(&buf[..n], Instant::now());
            }
        }
    }
}

/// The slip a technician prints to check a printer: Chinese text with rare name characters, a
/// QR code, a CODE128 barcode, the profile, and a cut.
pub fn test_slip(profile: &Profile, device: &str) -> Slip {
    use crate::doc::{Align, Style};
    Slip::new()
        .title("打印机测试单")
        .text_styled("Printer test slip", Style { align: Align::Center, ..Style::default() })
        .separator()
        .kv("打印机 Printer", device)
        .kv("配置 Profile", profile.name)
        .kv("纸宽 Width", &format!("{} dots, {} columns", profile.dots, profile.columns()))
        .kv("字库 Font", &format!("{:?}", profile.font))
        .separator()
        .text("常用字：办事回执，请妥善保管。")
        .text("生僻字（GBK）：陈喆 黄堃 朱镕")
        .text("四字节字（GB18030）：𠮷野 𠀀")
        .text("全角：（１２３）￥５０")
        .table(
            &[2, 1, 1],
            &[&["材料 Material", "份数", "形式"], &["身份证复印件", "1", "纸质"], &["申请表", "2", "电子"]],
        )
        .separator()
        .qr("https://zwfw.nanhai.example/t/NH20261127000123?s=3f9a")
        .barcode("20261127000123")
        .feed(2)
        .cut()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_status_bits() {
        // What the rig's printer gadget answered: 0x18 ready, 0x08 not selected.
        assert_eq!(
            PortStatus::from_byte(0x18),
            PortStatus { paper_empty: false, selected: true, error: false }
        );
        assert_eq!(
            PortStatus::from_byte(0x08),
            PortStatus { paper_empty: false, selected: false, error: false }
        );
        assert!(PortStatus::from_byte(0x30).paper_empty && PortStatus::from_byte(0x30).error);
    }
}
