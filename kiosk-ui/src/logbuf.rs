//! The last log lines for the maintenance screen. The kiosk's logs never carry personal data
//! (each crate masks or leaves it out, and the tests check it), so showing them is safe; this
//! buffer only keeps them in memory.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};

const KEEP: usize = 200;

#[derive(Debug, Clone)]
pub struct LogBuffer {
    lines: Arc<Mutex<VecDeque<String>>>,
    keep: usize,
}

impl Default for LogBuffer {
    fn default() -> Self {
        Self::keeping(KEEP)
    }
}

impl LogBuffer {
    /// A buffer of the newest `keep` lines.
    pub fn keeping(keep: usize) -> Self {
        Self { lines: Arc::default(), keep }
    }

    /// Every line kept, oldest first.
    pub fn all(&self) -> Vec<String> {
        self.tail(usize::MAX)
    }

    /// The newest `n` lines, oldest first.
    pub fn tail(&self, n: usize) -> Vec<String> {
        let lines = self.lines.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        lines.iter().skip(lines.len().saturating_sub(n)).cloned().collect()
    }
}

/// One formatted event, appended when the formatter is done with it.
#[derive(Debug)]
pub struct LineWriter {
    buffer: LogBuffer,
    bytes: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.bytes);
        let mut lines = self.buffer.lines.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if lines.len() >= self.buffer.keep {
                lines.pop_front();
            }
            lines.push_back(line.to_owned());
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter { buffer: self.clone(), bytes: Vec::new() }
    }
}
