//! Network printers (raw TCP, port 9100), device files such as `/dev/usb/lp0` and `/dev/hidraw0`,
//! and plain files that capture output.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

use crate::{Link, LinkError, is_disconnect};

fn io_err(device: &str, source: std::io::Error) -> LinkError {
    if is_disconnect(&source) {
        LinkError::Disconnected { device: device.to_owned() }
    } else {
        LinkError::Io { device: device.to_owned(), source }
    }
}

/// A raw TCP connection (a network receipt printer's port 9100).
#[derive(Debug)]
pub struct TcpLink {
    name: String,
    stream: TcpStream,
}

impl TcpLink {
    pub fn connect(addr: &str, timeout: Duration) -> Result<Self, LinkError> {
        let name = format!("tcp:{addr}");
        let open = |reason: String| LinkError::Open { device: name.clone(), reason };
        let sock = addr
            .to_socket_addrs()
            .map_err(|e| open(format!("cannot resolve: {e}")))?
            .next()
            .ok_or_else(|| open("no address".into()))?;
        let stream = TcpStream::connect_timeout(&sock, timeout).map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::TimedOut => {
                LinkError::Disconnected { device: name.clone() }
            }
            _ => open(e.to_string()),
        })?;
        let _ = stream.set_nodelay(true);
        stream.set_write_timeout(Some(Duration::from_secs(10))).map_err(|e| open(e.to_string()))?;
        Ok(Self { name, stream })
    }
}

impl Link for TcpLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.stream.write_all(bytes).map_err(|e| io_err(&self.name, e))
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        self.stream
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .map_err(|e| io_err(&self.name, e))?;
        match self.stream.read(buf) {
            Ok(0) if !buf.is_empty() => Err(LinkError::Disconnected { device: self.name.clone() }),
            Ok(n) => Ok(n),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                Ok(0)
            }
            Err(e) => Err(io_err(&self.name, e)),
        }
    }

    fn discard_input(&mut self) -> Result<(), LinkError> {
        let mut scratch = [0u8; 256];
        while self.recv(&mut scratch, Duration::from_millis(1))? > 0 {}
        Ok(())
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// A character device read on a helper thread, so reads can time out without `poll(2)`:
/// `/dev/usb/lpN` (usblp keeps a read posted for status bytes) or `/dev/hidrawN`.
#[derive(Debug)]
pub struct DeviceFileLink {
    name: String,
    writer: File,
    rx: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    pending: Vec<u8>,
    /// Reads are refused (a unidirectional printer answers EINVAL): status is unavailable.
    write_only: bool,
}

impl DeviceFileLink {
    /// Opens `path` for reading and writing; `chunk` is the read size (8 for boot-keyboard
    /// reports, larger for printers).
    pub fn open(path: &str, chunk: usize) -> Result<Self, LinkError> {
        let file = OpenOptions::new().read(true).write(true).open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => LinkError::Disconnected { device: path.into() },
            std::io::ErrorKind::PermissionDenied => LinkError::Open {
                device: path.into(),
                reason: "permission denied; install the kiosk's udev rules (group lp / plugdev)".into(),
            },
            _ if e.raw_os_error() == Some(16) => LinkError::Open {
                device: path.into(),
                reason: "busy: another program (CUPS, a second kiosk process) holds the device".into(),
            },
            _ => LinkError::Open { device: path.into(), reason: e.to_string() },
        })?;
        let mut reader = file.try_clone().map_err(|e| io_err(path, e))?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("read {path}"))
            .spawn(move || {
                let mut buf = vec![0u8; chunk.max(1)];
                loop {
                    let result = reader.read(&mut buf).map(|n| buf[..n].to_vec());
                    let stop = !matches!(result, Ok(ref v) if !v.is_empty());
                    if tx.send(result).is_err() || stop {
                        return;
                    }
                }
            })
            .map_err(|e| io_err(path, e))?;
        Ok(Self { name: path.into(), writer: file, rx, pending: Vec::new(), write_only: false })
    }
}

impl Link for DeviceFileLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.writer.write_all(bytes).map_err(|e| io_err(&self.name, e))
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        if self.pending.is_empty() {
            if self.write_only {
                return Err(LinkError::Unsupported { device: self.name.clone(), what: WRITE_ONLY });
            }
            match self.rx.recv_timeout(timeout) {
                Ok(Ok(data)) if data.is_empty() => {
                    return Err(LinkError::Disconnected { device: self.name.clone() });
                }
                Ok(Ok(data)) => self.pending = data,
                Ok(Err(e)) if e.raw_os_error() == Some(22) => {
                    self.write_only = true;
                    return self.recv(buf, timeout);
                }
                Ok(Err(e)) => return Err(io_err(&self.name, e)),
                Err(mpsc::RecvTimeoutError::Timeout) => return Ok(0),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(LinkError::Disconnected { device: self.name.clone() });
                }
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }

    fn discard_input(&mut self) -> Result<(), LinkError> {
        self.pending.clear();
        while let Ok(Ok(data)) = self.rx.try_recv() {
            if data.is_empty() {
                break;
            }
        }
        Ok(())
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

const WRITE_ONLY: &str = "reading (the device is write-only, so it cannot report status)";

const NO_ANSWER: &str = "reading (a file never answers)";

/// A plain file: everything sent is appended, nothing is ever received. This is how tests and
/// technicians capture the exact bytes a device would get.
#[derive(Debug)]
pub struct FileLink {
    name: String,
    file: File,
}

impl FileLink {
    pub fn create(path: &str) -> Result<Self, LinkError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| LinkError::Open { device: format!("file:{path}"), reason: e.to_string() })?;
        Ok(Self { name: format!("file:{path}"), file })
    }
}

impl Link for FileLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.file.write_all(bytes).and_then(|()| self.file.flush()).map_err(|e| io_err(&self.name, e))
    }

    fn recv(&mut self, _buf: &mut [u8], _timeout: Duration) -> Result<usize, LinkError> {
        Err(LinkError::Unsupported { device: self.name.clone(), what: NO_ANSWER })
    }

    fn can_receive(&self) -> bool {
        false
    }

    fn discard_input(&mut self) -> Result<(), LinkError> {
        Ok(())
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}
