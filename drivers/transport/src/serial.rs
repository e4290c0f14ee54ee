//! UART and USB-serial (CDC-ACM, bridge chips) devices, and pseudo-terminals in tests.

use std::io::{Read, Write};
use std::time::Duration;

use serialport::{ClearBuffer, SerialPort};

use crate::{Link, LinkError, is_disconnect};

/// A serial port opened 8N1 without flow control, as every known reader and scanner expects.
pub struct SerialLink {
    path: String,
    port: Box<dyn SerialPort>,
}

impl std::fmt::Debug for SerialLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialLink").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SerialLink {
    pub fn open(path: &str, baud: u32) -> Result<Self, LinkError> {
        let port = serialport::new(path, baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|e| match e.kind() {
                // serialport also says "no device" for a port another process has locked.
                serialport::ErrorKind::NoDevice if std::path::Path::new(path).exists() => LinkError::Open {
                    device: path.into(),
                    reason: format!(
                        "{}: another program (a second kiosk-diag, ModemManager, a terminal) holds the port",
                        e.description
                    ),
                },
                serialport::ErrorKind::NoDevice => LinkError::Disconnected { device: path.into() },
                serialport::ErrorKind::Io(kind) if is_disconnect(&std::io::Error::from(kind)) => {
                    LinkError::Disconnected { device: path.into() }
                }
                _ => LinkError::Open { device: path.into(), reason: e.description },
            })?;
        tracing::debug!(path, baud, "serial port opened");
        Ok(Self { path: path.into(), port })
    }

    fn io_error(&self, source: std::io::Error) -> LinkError {
        // serialport reports some hang-ups (EIO from termios calls) without an OS error code;
        // a device node that has disappeared is the dependable sign of an unplugged adapter.
        if is_disconnect(&source) || !std::path::Path::new(&self.path).exists() {
            LinkError::Disconnected { device: self.path.clone() }
        } else {
            LinkError::Io { device: self.path.clone(), source }
        }
    }

    fn port_error(&self, e: serialport::Error) -> LinkError {
        self.io_error(e.into())
    }
}

impl Link for SerialLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.port.write_all(bytes).map_err(|e| self.io_error(e))?;
        self.port.flush().map_err(|e| self.io_error(e))
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        self.port.set_timeout(timeout.max(Duration::from_millis(1))).map_err(|e| self.port_error(e))?;
        match self.port.read(buf) {
            // A tty that reports end-of-file has lost its other side.
            Ok(0) if !buf.is_empty() => Err(LinkError::Disconnected { device: self.path.clone() }),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Ok(0),
            Err(e) => Err(self.io_error(e)),
        }
    }

    fn discard_input(&mut self) -> Result<(), LinkError> {
        self.port.clear(ClearBuffer::Input).map_err(|e| self.port_error(e))
    }

    fn set_baud(&mut self, baud: u32) -> Result<(), LinkError> {
        self.port.set_baud_rate(baud).map_err(|e| self.port_error(e))
    }

    fn describe(&self) -> String {
        self.path.clone()
    }
}
