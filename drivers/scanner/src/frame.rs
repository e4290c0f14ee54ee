//! Turning what a scanner sends into raw scans, for the three ways scanners attach (sans-IO).

use bytes::BytesMut;
use tokio_util::codec::{AnyDelimiterCodec, AnyDelimiterCodecError, Decoder};

/// A scan as bytes, before anyone has looked at what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Raw {
    Scan(Vec<u8>),
    /// More than the configured maximum arrived without a terminator; it is dropped up to the
    /// next terminator.
    TooLong,
}

/// What ends a scan on a serial scanner (configured on the scanner by a setup barcode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suffix {
    Cr,
    Lf,
    CrLf,
    Tab,
}

impl std::str::FromStr for Suffix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "cr" => Suffix::Cr,
            "lf" => Suffix::Lf,
            "crlf" => Suffix::CrLf,
            "tab" => Suffix::Tab,
            _ => return Err(format!("{s:?}: suffix must be cr, lf, crlf or tab")),
        })
    }
}

/// Line framing for CDC serial scanners, through `tokio_util`'s delimiter codec.
#[derive(Debug)]
pub struct SerialFraming {
    codec: AnyDelimiterCodec,
    buf: BytesMut,
}

impl SerialFraming {
    pub fn new(suffix: Suffix, max_len: usize) -> Self {
        let delimiters: &[u8] = match suffix {
            Suffix::Cr => b"\r",
            Suffix::Lf => b"\n",
            // Either byte ends a scan; the empty piece between them is skipped.
            Suffix::CrLf => b"\r\n",
            Suffix::Tab => b"\t",
        };
        Self {
            codec: AnyDelimiterCodec::new_with_max_length(delimiters.to_vec(), Vec::new(), max_len),
            buf: BytesMut::new(),
        }
    }

    pub fn push(&mut self, bytes: &[u8]) -> Vec<Raw> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Some(chunk)) if chunk.is_empty() => {}
                Ok(Some(chunk)) => out.push(Raw::Scan(chunk.to_vec())),
                Ok(None) => return out,
                Err(AnyDelimiterCodecError::MaxChunkLengthExceeded) => out.push(Raw::TooLong),
                Err(AnyDelimiterCodecError::Io(_)) => unreachable!("decoding from memory does no I/O"),
            }
        }
    }
}

/// HID usage IDs of a US keyboard, unshifted and shifted (keyboard page, 0x04 onwards).
const KEYS: [(u8, char, char); 47] = [
    (0x04, 'a', 'A'),
    (0x05, 'b', 'B'),
    (0x06, 'c', 'C'),
    (0x07, 'd', 'D'),
    (0x08, 'e', 'E'),
    (0x09, 'f', 'F'),
    (0x0A, 'g', 'G'),
    (0x0B, 'h', 'H'),
    (0x0C, 'i', 'I'),
    (0x0D, 'j', 'J'),
    (0x0E, 'k', 'K'),
    (0x0F, 'l', 'L'),
    (0x10, 'm', 'M'),
    (0x11, 'n', 'N'),
    (0x12, 'o', 'O'),
    (0x13, 'p', 'P'),
    (0x14, 'q', 'Q'),
    (0x15, 'r', 'R'),
    (0x16, 's', 'S'),
    (0x17, 't', 'T'),
    (0x18, 'u', 'U'),
    (0x19, 'v', 'V'),
    (0x1A, 'w', 'W'),
    (0x1B, 'x', 'X'),
    (0x1C, 'y', 'Y'),
    (0x1D, 'z', 'Z'),
    (0x1E, '1', '!'),
    (0x1F, '2', '@'),
    (0x20, '3', '#'),
    (0x21, '4', '$'),
    (0x22, '5', '%'),
    (0x23, '6', '^'),
    (0x24, '7', '&'),
    (0x25, '8', '*'),
    (0x26, '9', '('),
    (0x27, '0', ')'),
    (0x2C, ' ', ' '),
    (0x2D, '-', '_'),
    (0x2E, '=', '+'),
    (0x2F, '[', '{'),
    (0x30, ']', '}'),
    (0x31, '\\', '|'),
    (0x33, ';', ':'),
    (0x34, '\'', '"'),
    (0x35, '`', '~'),
    (0x36, ',', '<'),
    (0x37, '.', '>'),
];
const SLASH: (u8, char, char) = (0x38, '/', '?');
const ENTER: u8 = 0x28;
const KEYPAD_ENTER: u8 = 0x58;
const TAB: u8 = 0x2B;
const SHIFT_BITS: u8 = 0x22; // left shift 0x02, right shift 0x20

/// The key a character is typed with, and whether shift is held (for the simulator).
pub fn key_for(c: char) -> Option<(u8, bool)> {
    KEYS.iter().chain([&SLASH]).find_map(|&(code, plain, shifted)| {
        if c == plain {
            Some((code, false))
        } else if c == shifted {
            Some((code, true))
        } else {
            None
        }
    })
}

pub const ENTER_KEY: u8 = ENTER;

fn char_for(code: u8, shift: bool) -> Option<char> {
    if (0x59..=0x62).contains(&code) {
        // Keypad 1–9, 0 (some scanners type digits on the keypad).
        return Some(if code == 0x62 { '0' } else { char::from(b'1' + code - 0x59) });
    }
    KEYS.iter().chain([&SLASH]).find(|k| k.0 == code).map(|k| if shift { k.2 } else { k.1 })
}

/// Scanners that pretend to be a keyboard: boot-protocol reports of 8 bytes (modifiers,
/// reserved, six key codes); a scan is the keys pressed until Enter.
#[derive(Debug)]
pub struct KeyboardDecoder {
    pressed: [u8; 6],
    text: Vec<u8>,
    max_len: usize,
    overflow: bool,
}

impl KeyboardDecoder {
    pub fn new(max_len: usize) -> Self {
        Self { pressed: [0; 6], text: Vec::new(), max_len, overflow: false }
    }

    /// One input report. Zero-length transfers, reports of any other size (the LED output
    /// report echoed back) and rollover errors are skipped.
    pub fn push_report(&mut self, report: &[u8]) -> Vec<Raw> {
        let Ok(report) = <&[u8; 8]>::try_from(report) else { return Vec::new() };
        let keys: [u8; 6] = report[2..8].try_into().expect("six key slots");
        if keys.iter().all(|&k| k == 0x01) {
            return Vec::new(); // ErrorRollOver: too many keys at once
        }
        let shift = report[0] & SHIFT_BITS != 0;
        let mut out = Vec::new();
        // Only keys that were not down in the previous report are new presses.
        for &code in keys.iter().filter(|&&k| k != 0 && !self.pressed.contains(&k)) {
            match code {
                ENTER | KEYPAD_ENTER | TAB => {
                    let text = std::mem::take(&mut self.text);
                    if std::mem::take(&mut self.overflow) {
                        out.push(Raw::TooLong);
                    } else if !text.is_empty() {
                        out.push(Raw::Scan(text));
                    }
                }
                code => match char_for(code, shift) {
                    Some(c) if self.text.len() < self.max_len => self.text.push(c as u8),
                    Some(_) => self.overflow = true,
                    // A key with no character (F-keys, arrows): noise in a scan.
                    None => self.text.push(0),
                },
            }
        }
        self.pressed = keys;
        out
    }
}

/// Size of a HID POS scanned-data report as this driver reads it.
pub const POS_REPORT_LEN: usize = 64;
/// Data bytes in one report.
pub const POS_DATA_LEN: usize = 56;

/// HID POS barcode scanners (usage page 0x8C) send scanned-data reports: report ID 2, the count
/// of data bytes in this report, a three-byte AIM symbology identifier, 56 data bytes, and a last
/// byte that is 1 when the scan continues in the next report. This is the layout common
/// Honeywell and Zebra scanners use; a scanner with another report descriptor needs its own.
#[derive(Debug)]
pub struct HidPosDecoder {
    text: Vec<u8>,
    max_len: usize,
    overflow: bool,
}

impl HidPosDecoder {
    pub fn new(max_len: usize) -> Self {
        Self { text: Vec::new(), max_len, overflow: false }
    }

    pub fn push_report(&mut self, report: &[u8]) -> Vec<Raw> {
        if report.len() != POS_REPORT_LEN || report[0] != 0x02 {
            return Vec::new();
        }
        let n = usize::from(report[1]).min(POS_DATA_LEN);
        if self.text.len() + n > self.max_len {
            self.overflow = true;
        } else {
            self.text.extend_from_slice(&report[5..5 + n]);
        }
        if report[POS_REPORT_LEN - 1] & 0x01 != 0 {
            return Vec::new();
        }
        let text = std::mem::take(&mut self.text);
        if std::mem::take(&mut self.overflow) {
            vec![Raw::TooLong]
        } else if text.is_empty() {
            Vec::new()
        } else {
            vec![Raw::Scan(text)]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_lines_with_each_suffix() {
        let mut f = SerialFraming::new(Suffix::CrLf, 64);
        assert_eq!(f.push(b"abc\r\nde"), [Raw::Scan(b"abc".to_vec())]);
        assert_eq!(f.push(b"f\r\n"), [Raw::Scan(b"def".to_vec())]);
        let mut f = SerialFraming::new(Suffix::Tab, 64);
        assert_eq!(f.push(b"x\ty\t"), [Raw::Scan(b"x".to_vec()), Raw::Scan(b"y".to_vec())]);
        let mut f = SerialFraming::new(Suffix::Cr, 4);
        assert_eq!(f.push(b"toolong\rok\r"), [Raw::TooLong, Raw::Scan(b"ok".to_vec())]);
    }

    #[test]
    fn keyboard_reports_with_shift_and_repeats() {
        let mut k = KeyboardDecoder::new(64);
        let report = |m: u8, k: u8| [m, 0, k, 0, 0, 0, 0, 0];
        let mut out = Vec::new();
        for r in [
            report(0x02, 0x0B),
            report(0, 0),
            report(0, 0x0C),
            report(0, 0),
            report(0, 0x0C),
            report(0, 0),
            report(0x20, 0x1E),
            report(0, 0),
        ] {
            out.extend(k.push_report(&r));
        }
        out.extend(k.push_report(&[])); // zero-length transfer
        out.extend(k.push_report(&[0x00])); // LED report
        out.extend(k.push_report(&report(0, ENTER)));
        assert_eq!(out, [Raw::Scan(b"Hii!".to_vec())]);
    }

    #[test]
    fn hid_pos_reports_continue() {
        let mut d = HidPosDecoder::new(1000);
        let mut r = [0u8; POS_REPORT_LEN];
        r[0] = 2;
        r[1] = 3;
        r[2..5].copy_from_slice(b"]Q1");
        r[5..8].copy_from_slice(b"abc");
        r[63] = 1;
        assert_eq!(d.push_report(&r), []);
        r[63] = 0;
        assert_eq!(d.push_report(&r), [Raw::Scan(b"abcabc".to_vec())]);
        assert_eq!(d.push_report(&r[..10]), []);
    }
}
