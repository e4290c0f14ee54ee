//! The standard SAM USB module (0400:C35A): a frame's first seven bytes travel on one bulk pipe
//! and the rest on another, in each direction (`reference/idcard.md` §7.1). This adapter turns
//! the four pipes back into one byte stream, so the same [`crate::reader::Reader`] drives serial
//! and USB readers.

use std::time::{Duration, Instant};

use kiosk_transport::{Link, LinkError, UsbBulkDevice, UsbId, UsbInterface};

use crate::frame::{HEADER_LEN, MAX_LEN, PREAMBLE};

const EP_HEADER_OUT: u8 = 0x02;
const EP_BODY_OUT: u8 = 0x06;
const EP_HEADER_IN: u8 = 0x81;
const EP_BODY_IN: u8 = 0x85;
const WRITE_TIMEOUT: Duration = Duration::from_millis(500);

/// Bulk pipes addressed by endpoint, as a USB device offers them.
pub trait BulkPipes: Send {
    fn write_ep(&mut self, ep: u8, bytes: &[u8], timeout: Duration) -> Result<(), LinkError>;
    fn read_ep(&mut self, ep: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError>;
    fn discard(&mut self);
    fn describe(&self) -> String;
}

impl BulkPipes for UsbBulkDevice {
    fn write_ep(&mut self, ep: u8, bytes: &[u8], timeout: Duration) -> Result<(), LinkError> {
        UsbBulkDevice::write_ep(self, ep, bytes, timeout)
    }
    fn read_ep(&mut self, ep: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        UsbBulkDevice::read_ep(self, ep, buf, timeout)
    }
    fn discard(&mut self) {
        self.clear_pending();
    }
    fn describe(&self) -> String {
        Link::describe(self)
    }
}

/// A byte-stream view of the four-pipe module.
#[derive(Debug)]
pub struct SamUsbLink<P = UsbBulkDevice> {
    pipes: P,
    /// Bytes of the current answer still to come from the body pipe.
    body_left: usize,
}

impl SamUsbLink<UsbBulkDevice> {
    pub fn open(id: UsbId) -> Result<Self, LinkError> {
        Ok(Self::new(UsbBulkDevice::open(id, UsbInterface::Number(0))?))
    }
}

impl<P: BulkPipes> SamUsbLink<P> {
    pub fn new(pipes: P) -> Self {
        Self { pipes, body_left: 0 }
    }

    /// The underlying pipes, for diagnostics.
    pub fn pipes(&self) -> &P {
        &self.pipes
    }

    /// Reads the seven header bytes of the next answer from the header pipe.
    fn read_header(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        let deadline = Instant::now() + timeout;
        let mut header = [0u8; HEADER_LEN];
        let mut got = 0;
        while got < HEADER_LEN {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() && got == 0 {
                return Ok(0);
            }
            let n =
                self.pipes.read_ep(EP_HEADER_IN, &mut header[got..], left.max(Duration::from_millis(1)))?;
            if n == 0 && left.is_zero() {
                break;
            }
            got += n;
        }
        // A header that is not ours (noise) is passed on for the codec to skip; only a
        // plausible one announces a body.
        if got == HEADER_LEN && header[..5] == PREAMBLE {
            let len = usize::from(u16::from_be_bytes([header[5], header[6]]));
            self.body_left = if len <= MAX_LEN { len } else { 0 };
        }
        let n = got.min(buf.len());
        buf[..n].copy_from_slice(&header[..n]);
        Ok(n)
    }
}

impl<P: BulkPipes> Link for SamUsbLink<P> {
    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        let split = HEADER_LEN.min(bytes.len());
        self.pipes.write_ep(EP_HEADER_OUT, &bytes[..split], WRITE_TIMEOUT)?;
        if split < bytes.len() {
            self.pipes.write_ep(EP_BODY_OUT, &bytes[split..], WRITE_TIMEOUT)?;
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        if self.body_left == 0 {
            return self.read_header(buf, timeout);
        }
        let want = self.body_left.min(buf.len());
        let n = self.pipes.read_ep(EP_BODY_IN, &mut buf[..want], timeout)?;
        self.body_left -= n;
        Ok(n)
    }

    fn discard_input(&mut self) -> Result<(), LinkError> {
        self.body_left = 0;
        self.pipes.discard();
        Ok(())
    }

    fn describe(&self) -> String {
        self.pipes.describe()
    }
}
