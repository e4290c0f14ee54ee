//! Thin, blocking byte transports for the kiosk's devices.
//!
//! Protocol logic never lives here: drivers keep their codecs sans-IO and use a [`Link`] only to
//! move bytes. Links are blocking on purpose; drivers run them on their own threads so that a
//! stalled device never blocks the async runtime the UI and the sync agent share.

mod address;
#[cfg(feature = "sim")]
pub mod devsim;
mod serial;
mod stream;
mod usb;

use std::time::Duration;

pub use address::Address;
pub use serial::SerialLink;
pub use stream::{DeviceFileLink, FileLink, TcpLink};
pub use usb::{UsbBulkDevice, UsbId, UsbInterface};

/// Where a device service delivers its events: called on the service's own thread, it returns
/// false once nobody listens any more, and the service stops. The kiosk's UI hands the event to
/// its event loop; async callers send it into a channel.
pub type Deliver<E> = Box<dyn FnMut(E) -> bool + Send>;

/// Why a link failed. `Disconnected` is separate so drivers can wait for the device to come back
/// instead of reporting a fault a technician would chase.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("device {device} is not connected (unplugged, powered off or cable fault)")]
    Disconnected { device: String },
    #[error("cannot open {device}: {reason}; check the configured port and its permissions")]
    Open { device: String, reason: String },
    #[error("I/O error on {device}: {source}")]
    Io {
        device: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{device}: {what} is not supported by this link")]
    Unsupported { device: String, what: &'static str },
}

/// A bidirectional byte stream to one device.
pub trait Link: Send {
    /// Writes every byte or fails.
    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError>;
    /// Reads what arrives within `timeout`; `Ok(0)` means nothing arrived in time.
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError>;
    /// Drops input nobody will read, such as the late answer to a command that timed out, so it
    /// cannot be mistaken for the answer to the next command.
    fn discard_input(&mut self) -> Result<(), LinkError>;
    /// Whether anything can ever arrive: false for a capture file, so that nobody sends queries
    /// that would only end up in the capture.
    fn can_receive(&self) -> bool {
        true
    }
    /// Changes the line speed, for links that have one.
    fn set_baud(&mut self, baud: u32) -> Result<(), LinkError> {
        let _ = baud;
        Err(LinkError::Unsupported { device: self.describe(), what: "changing the baud rate" })
    }
    /// A name a technician recognises (`/dev/ttyUSB0`, `usb 1-2 0400:c35a`).
    fn describe(&self) -> String;
}

/// Classifies I/O errors that mean "the device went away" rather than "the device misbehaved".
pub(crate) fn is_disconnect(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(err.kind(), BrokenPipe | NotConnected | ConnectionReset | UnexpectedEof | NotFound)
        // EIO (5), ENXIO (6) and ENODEV (19) are what a vanished tty or USB device reports.
        || matches!(err.raw_os_error(), Some(5 | 6 | 19))
}
