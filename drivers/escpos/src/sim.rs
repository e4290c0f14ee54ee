//! A receipt printer on the device side: it consumes ESC/POS, keeps a log of what it printed
//! (text decoded from GB18030, QR payloads, barcodes with their code sets unpacked, raster
//! images, cuts), answers status queries, and can run out of paper, have its cover opened or its
//! cutter jam. It backs the tests, `kiosk-diag`, and the virtual rig's printer gadget.
//!
//! Sans-IO: [`PrinterSim::feed`] takes bytes from the host, [`PrinterSim::take_output`] gives the
//! replies; [`SimServer`] runs it on a pseudo-terminal or a TCP port.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use kiosk_transport::devsim::{self, PtyHold, SimThread};
use serialport::SerialPort;

use crate::canvas::Canvas;
use crate::status::{Paper, PrinterStatus};

/// Something that came out of the printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Printed {
    Line {
        text: String,
        bold: bool,
        double: bool,
    },
    Qr {
        data: Vec<u8>,
        module: u8,
        level: u8,
    },
    /// CODE128 (GS k 73) with the code sets decoded back to text.
    Barcode {
        text: String,
        module: u8,
    },
    Image(Canvas),
    Cut {
        partial: bool,
    },
}

/// Faults to inject.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// The roll runs out after this many more printed lines.
    pub paper_end_after_lines: Option<usize>,
    /// The next cut jams the cutter.
    pub jam_next_cut: bool,
}

#[derive(Debug, Default)]
pub struct PrinterSim {
    pub faults: Faults,
    status: PrinterStatus,
    printed: Vec<Printed>,
    input: Vec<u8>,
    output: Vec<u8>,
    line: Vec<u8>,
    chinese: bool,
    bold: bool,
    double: bool,
    qr_module: u8,
    qr_level: u8,
    qr_data: Vec<u8>,
    bar_module: u8,
    asb: bool,
}

/// How many bytes a complete command at the start of `b` takes, `None` while incomplete,
/// `Some(1)` for a byte that starts no command (text).
fn command_len(b: &[u8]) -> Option<usize> {
    let need = |n: usize| (b.len() >= n).then_some(n);
    match b {
        [0x10, 0x04, ..]
        | [0x1B, b'a' | b'E' | b'G' | b'-' | b'd' | b'J' | b'3' | b'M' | b'!' | b't' | b' ', ..] => need(3),
        [0x1B, b'@' | b'2', ..] | [0x1C, b'&' | b'.', ..] => need(2),
        [0x1C, b'!' | b'-' | b'W', ..] => need(3),
        [0x1C, b'S', ..] => need(4),
        [0x1D, b'!' | b'H' | b'f' | b'h' | b'w' | b'r' | b'a', ..] => need(3),
        [0x1D, b'V', m, ..] => need(if matches!(m, 65 | 66 | 97 | 98 | 103 | 104) { 4 } else { 3 }),
        [0x1D, b'(', b'k', pl, ph, ..] => need(5 + usize::from(*pl) + 256 * usize::from(*ph)),
        [0x1D, b'k', m, ..] if *m >= 65 => b.get(3).and_then(|n| need(4 + usize::from(*n))),
        [0x1D, b'k', ..] => b.iter().skip(3).position(|&x| x == 0).map(|p| p + 4),
        [0x1D, b'v', b'0', _, xl, xh, yl, yh, ..] => need(
            8 + (usize::from(*xl) + 256 * usize::from(*xh)) * (usize::from(*yl) + 256 * usize::from(*yh)),
        ),
        // A command byte whose parameters have not all arrived yet.
        [0x10 | 0x1B | 0x1C | 0x1D] | [0x1D, b'(' | b'v' | b'V', ..] => None,
        _ => Some(1),
    }
}

impl PrinterSim {
    pub fn new() -> Self {
        Self {
            status: PrinterStatus { online: true, ..Default::default() },
            qr_module: 3,
            bar_module: 3,
            ..Default::default()
        }
    }

    pub fn status(&self) -> PrinterStatus {
        self.status
    }

    pub fn printed(&self) -> &[Printed] {
        &self.printed
    }

    /// Printed text lines, in order.
    pub fn lines(&self) -> Vec<String> {
        self.printed
            .iter()
            .filter_map(|p| if let Printed::Line { text, .. } = p { Some(text.clone()) } else { None })
            .collect()
    }

    pub fn set_near_end(&mut self, near: bool) {
        if self.status.paper != Paper::End {
            self.update(|s| s.paper = if near { Paper::NearEnd } else { Paper::Ok });
        }
    }

    pub fn open_cover(&mut self) {
        self.update(|s| {
            s.cover_open = true;
            s.online = false;
        });
    }

    pub fn close_cover(&mut self) {
        self.update(|s| s.cover_open = false);
        self.recover();
    }

    pub fn run_out_of_paper(&mut self) {
        self.update(|s| {
            s.paper = Paper::End;
            s.online = false;
        });
    }

    /// A new roll: the printer comes back online and prints what it held.
    pub fn load_paper(&mut self) {
        self.update(|s| s.paper = Paper::Ok);
        self.recover();
    }

    pub fn clear_cutter(&mut self) {
        self.update(|s| s.cutter_error = false);
        self.recover();
    }

    fn recover(&mut self) {
        let s = self.status;
        if !s.cover_open && s.paper != Paper::End && !s.cutter_error {
            self.update(|s| s.online = true);
            self.process();
        }
    }

    fn update(&mut self, f: impl FnOnce(&mut PrinterStatus)) {
        let before = self.status;
        f(&mut self.status);
        if self.asb && self.status != before {
            self.send_asb();
        }
    }

    fn send_asb(&mut self) {
        let s = self.status;
        let b1 = 0x10 | if s.online { 0 } else { 0x08 } | if s.cover_open { 0x20 } else { 0 };
        let b2 = if s.cutter_error { 0x08 } else { 0 } | if s.unrecoverable_error { 0x20 } else { 0 };
        let b3 = match s.paper {
            Paper::Ok => 0,
            Paper::NearEnd => 0x03,
            Paper::End => 0x0F,
        };
        self.output.extend_from_slice(&[b1, b2, b3, 0]);
    }

    fn real_time(&self, n: u8) -> u8 {
        let s = self.status;
        let set = |cond: bool, bit: u8| if cond { bit } else { 0 };
        0x12 | match n {
            1 => set(!s.online, 0x08),
            2 => set(s.cover_open, 0x04) | set(s.paper == Paper::End, 0x20) | set(!s.ready(), 0x40),
            3 => set(s.cutter_error, 0x08) | set(s.unrecoverable_error, 0x20),
            4 => set(s.paper != Paper::Ok, 0x0C) | set(s.paper == Paper::End, 0x60),
            _ => 0,
        }
    }

    /// Bytes from the host.
    pub fn feed(&mut self, bytes: &[u8]) {
        // Real-time commands are answered on arrival, even while held data waits for paper.
        if !self.status.online {
            for w in bytes.windows(3) {
                if w[0] == 0x10 && w[1] == 0x04 {
                    let reply = self.real_time(w[2]);
                    self.output.push(reply);
                }
            }
            let mut rest = bytes.to_vec();
            while let Some(i) = rest.windows(3).position(|w| w[0] == 0x10 && w[1] == 0x04) {
                rest.drain(i..i + 3);
            }
            self.input.extend(rest);
            return;
        }
        self.input.extend_from_slice(bytes);
        self.process();
    }

    /// Replies for the host.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    fn process(&mut self) {
        let mut at = 0;
        while at < self.input.len() && self.status.online {
            let Some(len) = command_len(&self.input[at..]) else { break };
            let cmd = self.input[at..at + len].to_vec();
            at += len;
            self.execute(&cmd);
        }
        self.input.drain(..at);
    }

    fn finish_line(&mut self) {
        let bytes = std::mem::take(&mut self.line);
        let text = if self.chinese {
            encoding_rs::GB18030.decode_without_bom_handling(&bytes).0.into_owned()
        } else {
            bytes.iter().map(|&b| char::from(b)).collect()
        };
        self.printed.push(Printed::Line { text, bold: self.bold, double: self.double });
        if let Some(n) = self.faults.paper_end_after_lines.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.faults.paper_end_after_lines = None;
                self.run_out_of_paper();
            }
        }
    }

    fn execute(&mut self, cmd: &[u8]) {
        match cmd {
            [0x10, 0x04, n] => {
                let reply = self.real_time(*n);
                self.output.push(reply);
            }
            [0x1B, b'@'] => {
                let keep = (self.status, std::mem::take(&mut self.printed), std::mem::take(&mut self.faults));
                *self = Self {
                    status: keep.0,
                    printed: keep.1,
                    faults: keep.2,
                    output: std::mem::take(&mut self.output),
                    input: std::mem::take(&mut self.input),
                    ..Self::new()
                };
            }
            [0x1C, b'&'] => self.chinese = true,
            [0x1C, b'.'] => self.chinese = false,
            [0x1B, b'E', n] => self.bold = n & 1 == 1,
            [0x1D, b'!', n] => self.double = *n != 0,
            [0x1B, b'd', n] => (0..*n).for_each(|_| self.finish_line()),
            [0x1D, b'w', n] => self.bar_module = *n,
            [0x1D, b'r', 1 | 0x31] => {
                let paper = match self.status.paper {
                    Paper::Ok => 0x00,
                    Paper::NearEnd => 0x03,
                    Paper::End => 0x0F,
                };
                self.output.push(paper);
            }
            [0x1D, b'a', n] => {
                self.asb = *n != 0;
                if self.asb {
                    self.send_asb();
                }
            }
            [0x1D, b'(', b'k', _, _, 0x31, f, rest @ ..] => match (f, rest) {
                (0x43, [m]) => self.qr_module = *m,
                (0x45, [l]) => self.qr_level = *l,
                (0x50, [0x30, data @ ..]) => self.qr_data = data.to_vec(),
                (0x51, [0x30]) => {
                    let data = std::mem::take(&mut self.qr_data);
                    self.printed.push(Printed::Qr { data, module: self.qr_module, level: self.qr_level });
                }
                _ => {}
            },
            [0x1D, b'k', 73, _, data @ ..] => {
                let text = decode_code128(data);
                self.printed.push(Printed::Barcode { text, module: self.bar_module });
            }
            [0x1D, b'v', b'0', _, xl, xh, yl, yh, data @ ..] => {
                let (w, h) =
                    (usize::from(*xl) + 256 * usize::from(*xh), usize::from(*yl) + 256 * usize::from(*yh));
                self.printed.push(Printed::Image(Canvas::from_gs_v0(w, h, data)));
            }
            [0x1D, b'V', m, ..] => {
                if std::mem::take(&mut self.faults.jam_next_cut) {
                    self.update(|s| {
                        s.cutter_error = true;
                        s.online = false;
                    });
                } else {
                    self.printed.push(Printed::Cut { partial: matches!(m, 1 | 49 | 66) });
                }
            }
            [b'\n'] => self.finish_line(),
            [b] if *b >= 0x20 => self.line.push(*b),
            _ => {} // Commands that change nothing the log records.
        }
    }
}

/// Reads `{B`/`{C` CODE128 data back to text, as a scanner would see the printed symbol.
fn decode_code128(data: &[u8]) -> String {
    let mut out = String::new();
    let mut set_c = false;
    let mut i = 0;
    while i < data.len() {
        match (data[i], data.get(i + 1)) {
            (b'{', Some(b'{')) => {
                out.push('{');
                i += 2;
            }
            (b'{', Some(s @ (b'A' | b'B' | b'C'))) => {
                set_c = *s == b'C';
                i += 2;
            }
            (b, _) if set_c => {
                out.push_str(&format!("{b:02}"));
                i += 1;
            }
            (b, _) => {
                out.push(char::from(b));
                i += 1;
            }
        }
    }
    out
}

/// A simulated printer answering on a pseudo-terminal or a TCP port from its own thread.
#[derive(Debug)]
pub struct SimServer {
    thread: SimThread<PrinterSim>,
    /// What the driver opens: `serial:/dev/pts/N` or `tcp:127.0.0.1:PORT`.
    pub device: String,
    _hold: Option<PtyHold>,
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

fn pump(stream: &mut dyn Stream, sim: &Mutex<PrinterSim>, buf: &mut [u8]) -> std::io::Result<()> {
    let n = match stream.read(buf) {
        Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
        Ok(n) => n,
        Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => 0,
        Err(e) => return Err(e),
    };
    let out = {
        let mut sim = sim.lock().unwrap_or_else(|p| p.into_inner());
        sim.feed(&buf[..n]);
        sim.take_output()
    };
    if !out.is_empty() {
        stream.write_all(&out)?;
        stream.flush()?;
    }
    Ok(())
}

impl SimServer {
    pub fn sim(&self) -> MutexGuard<'_, PrinterSim> {
        self.thread.lock()
    }

    /// On a new pseudo-terminal (a serial printer).
    pub fn pty(sim: PrinterSim) -> std::io::Result<Self> {
        let (mut master, hold) = devsim::pty()?;
        master.set_timeout(Duration::from_millis(20))?;
        let thread = SimThread::spawn("printer-sim", sim, move |sim, stop| {
            let mut buf = [0u8; 4096];
            while !stop.load(Ordering::Relaxed) {
                // EIO while no host has the pty open: wait for one.
                if pump(&mut master, sim, &mut buf).is_err() {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        })?;
        Ok(Self { thread, device: format!("serial:{}", hold.path), _hold: Some(hold) })
    }

    /// On a loopback TCP port (a network printer's port 9100), one connection at a time.
    pub fn tcp(sim: PrinterSim) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let device = format!("tcp:{}", listener.local_addr()?);
        listener.set_nonblocking(true)?;
        let thread = SimThread::spawn("printer-sim", sim, move |sim, stop| {
            let mut buf = [0u8; 4096];
            while !stop.load(Ordering::Relaxed) {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_millis(20)));
                while !stop.load(Ordering::Relaxed) && pump(&mut conn, sim, &mut buf).is_ok() {}
            }
        })?;
        Ok(Self { thread, device, _hold: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_anywhere_are_still_understood() {
        let mut bytes = vec![0x1B, b'@', 0x1C, b'&'];
        bytes.extend(crate::text::gb18030("办事回执 喆"));
        bytes.extend_from_slice(b"\n\x1dk\x49\x09{C\x14\x18\x06\x0c\x00\x01\x17\x10\x04\x04");
        let mut sim = PrinterSim::new();
        for b in &bytes {
            sim.feed(std::slice::from_ref(b));
        }
        assert_eq!(sim.lines(), ["办事回执 喆"]);
        assert_eq!(sim.printed()[1], Printed::Barcode { text: "20240612000123".into(), module: 3 });
        assert_eq!(sim.take_output(), [0x12]);
    }

    #[test]
    fn paper_end_holds_data_and_answers_real_time_queries() {
        let mut sim = PrinterSim::new();
        sim.faults.paper_end_after_lines = Some(1);
        sim.feed(b"one\ntwo\n\x1dr\x01");
        assert_eq!(sim.lines(), ["one"]);
        sim.feed(&[0x10, 0x04, 0x04, 0x10, 0x04, 0x01]);
        assert_eq!(sim.take_output(), [0x7E, 0x1A], "paper end, offline; no GS r answer yet");
        sim.load_paper();
        assert_eq!(sim.lines(), ["one", "two"]);
        assert_eq!(sim.take_output(), [0x00], "GS r answered once the held data printed");
    }

    #[test]
    fn asb_reports_changes() {
        let mut sim = PrinterSim::new();
        sim.feed(&[0x1D, b'a', 0xFF]);
        assert_eq!(sim.take_output(), [0x10, 0, 0, 0]);
        sim.open_cover();
        assert_eq!(sim.take_output(), [0x38, 0, 0, 0]);
    }
}
