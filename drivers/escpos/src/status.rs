//! Printer status read-back (`reference/escpos.md` §2): real-time replies to DLE EOT n, automatic
//! status back (ASB) blocks, GS r replies and flow control, told apart by their bit patterns in
//! one byte stream (sans-IO).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    #[default]
    Ok,
    /// A warning for the technician: slips still print.
    NearEnd,
    /// Out of paper: services that need a slip are taken out of use.
    End,
}

/// What the printer reports about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct PrinterStatus {
    pub online: bool,
    pub cover_open: bool,
    pub paper: Paper,
    pub cutter_error: bool,
    pub unrecoverable_error: bool,
    pub auto_recoverable_error: bool,
}

impl PrinterStatus {
    /// Can a slip be printed now?
    pub fn ready(&self) -> bool {
        self.online
            && !self.cover_open
            && self.paper != Paper::End
            && !self.cutter_error
            && !self.unrecoverable_error
    }

    /// Plain-language problems, Chinese first, for the technician screen and `kiosk-diag`.
    pub fn problems(&self) -> Vec<&'static str> {
        let mut p = Vec::new();
        if self.cover_open {
            p.push("纸仓盖未关 / cover open: close the paper cover");
        }
        match self.paper {
            Paper::End => p.push("缺纸 / out of paper: load a new roll"),
            Paper::NearEnd => p.push("纸将用尽 / paper near end: replace the roll soon"),
            Paper::Ok => {}
        }
        if self.cutter_error {
            p.push("切刀故障 / cutter error: clear the jam, then power-cycle the printer");
        }
        if self.unrecoverable_error {
            p.push("不可恢复故障 / unrecoverable error: power-cycle; replace the printer if it stays");
        }
        if self.auto_recoverable_error {
            p.push("自动恢复中 / recovering by itself (head temperature): wait a moment");
        }
        if !self.online && p.is_empty() {
            p.push("脱机 / offline: check power and cable");
        }
        p
    }

    /// Folds in the reply to `DLE EOT n` (n = 1…4).
    pub fn apply_real_time(&mut self, n: u8, byte: u8) {
        let bit = |b: u8| byte & b != 0;
        match n {
            1 => self.online = !bit(0x08),
            2 => {
                self.cover_open = bit(0x04);
                if bit(0x20) {
                    self.paper = Paper::End;
                }
            }
            3 => {
                self.cutter_error = bit(0x08);
                self.unrecoverable_error = bit(0x20);
                self.auto_recoverable_error = bit(0x40);
            }
            4 => {
                self.paper = if bit(0x60) {
                    Paper::End
                } else if bit(0x0C) {
                    Paper::NearEnd
                } else {
                    Paper::Ok
                }
            }
            _ => {}
        }
    }

    /// The status in an ASB block.
    pub fn from_asb(b: [u8; 4]) -> Self {
        Self {
            online: b[0] & 0x08 == 0,
            cover_open: b[0] & 0x20 != 0,
            paper: if b[2] & 0x0C != 0 {
                Paper::End
            } else if b[2] & 0x03 != 0 {
                Paper::NearEnd
            } else {
                Paper::Ok
            },
            cutter_error: b[1] & 0x08 != 0,
            unrecoverable_error: b[1] & 0x20 != 0,
            auto_recoverable_error: b[1] & 0x40 != 0,
        }
    }
}

/// One thing the printer said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A DLE EOT answer (`0xx1xx10`); which n it answers is known only to who asked.
    RealTime(u8),
    /// Automatic status back: four bytes, the first `0xx1xx00`.
    Asb([u8; 4]),
    /// A GS r answer (`0xx0xxxx`): everything sent before it was processed.
    Transmit(u8),
    Xon,
    Xoff,
    /// A byte that fits no pattern (line noise, a reply to a command we never send).
    Unexpected(u8),
}

/// Splits the printer's byte stream into replies.
#[derive(Debug, Default)]
pub struct ReplyParser {
    asb: Vec<u8>,
}

impl ReplyParser {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Reply> {
        let mut out = Vec::new();
        for &b in bytes {
            match b {
                0x11 => out.push(Reply::Xon),
                // XOFF may fall inside an ASB block; it does not end it.
                0x13 => out.push(Reply::Xoff),
                _ if !self.asb.is_empty() => {
                    if b & 0x90 == 0 {
                        self.asb.push(b);
                        if self.asb.len() == 4 {
                            out.push(Reply::Asb([self.asb[0], self.asb[1], self.asb[2], self.asb[3]]));
                            self.asb.clear();
                        }
                    } else {
                        // A broken block: report its start and read this byte afresh.
                        out.extend(self.asb.drain(..).map(Reply::Unexpected));
                        out.extend(self.push(&[b]));
                    }
                }
                _ if b & 0x93 == 0x12 => out.push(Reply::RealTime(b)),
                _ if b & 0x93 == 0x10 => self.asb.push(b),
                _ if b & 0x90 == 0 => out.push(Reply::Transmit(b)),
                _ => out.push(Reply::Unexpected(b)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_time_replies_from_the_reference_table() {
        let mut s = PrinterStatus::default();
        for (n, b) in [(1, 0x12), (2, 0x12), (3, 0x12), (4, 0x12)] {
            s.apply_real_time(n, b);
        }
        assert!(s.ready());
        s.apply_real_time(4, 0x1E);
        assert_eq!(s.paper, Paper::NearEnd);
        assert!(s.ready(), "near end still prints");
        let mut out = PrinterStatus::default();
        for (n, b) in [(1, 0x1A), (2, 0x32), (3, 0x12), (4, 0x7E)] {
            out.apply_real_time(n, b);
        }
        assert!(!out.online && out.paper == Paper::End && !out.ready());
        let mut cover = PrinterStatus::default();
        cover.apply_real_time(1, 0x1A);
        cover.apply_real_time(2, 0x16);
        assert!(cover.cover_open);
        assert!(cover.problems()[0].contains("cover open"));
        let mut cutter = PrinterStatus { online: true, ..Default::default() };
        cutter.apply_real_time(3, 0x1A);
        assert!(cutter.cutter_error && !cutter.ready());
    }

    #[test]
    fn asb_blocks_from_the_reference_examples() {
        assert!(PrinterStatus::from_asb([0x10, 0, 0, 0]).ready());
        assert_eq!(PrinterStatus::from_asb([0x10, 0, 0x03, 0]).paper, Paper::NearEnd);
        let out = PrinterStatus::from_asb([0x18, 0, 0x0F, 0]);
        assert!(!out.online && out.paper == Paper::End);
        assert!(PrinterStatus::from_asb([0x38, 0, 0, 0]).cover_open);
    }

    #[test]
    fn parser_tells_replies_apart() {
        let mut p = ReplyParser::default();
        let got = p.push(&[0x16, 0x18, 0x00, 0x13, 0x0F, 0x00, 0x00, 0xFF, 0x11]);
        assert_eq!(
            got,
            [
                Reply::RealTime(0x16),
                Reply::Xoff,
                Reply::Asb([0x18, 0, 0x0F, 0]),
                Reply::Transmit(0),
                Reply::Unexpected(0xFF),
                Reply::Xon
            ]
        );
        // An ASB block split across reads, and one broken by a real-time reply.
        assert_eq!(p.push(&[0x10, 0x00]), []);
        assert_eq!(p.push(&[0x00, 0x00]), [Reply::Asb([0x10, 0, 0, 0])]);
        assert_eq!(p.push(&[0x10, 0x12]), [Reply::Unexpected(0x10), Reply::RealTime(0x12)]);
    }
}
