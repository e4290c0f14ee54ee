//! Host commands and module answers (`reference/idcard.md` §2), as payloads for [`crate::frame`].

use std::time::Duration;

use zeroize::Zeroizing;

use crate::frame::Frame;
use crate::status::Status;

/// The UART rates a SAM module supports, in the order a probe tries them (factory default first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaudRate {
    B115200,
    B57600,
    B38400,
    B19200,
    B9600,
}

impl BaudRate {
    pub const ALL: [BaudRate; 5] =
        [BaudRate::B115200, BaudRate::B57600, BaudRate::B38400, BaudRate::B19200, BaudRate::B9600];

    pub fn bits_per_second(self) -> u32 {
        [115_200, 57_600, 38_400, 19_200, 9_600][self.code() as usize]
    }

    /// The 0x60 command's parameter byte.
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }

    pub fn from_bits_per_second(bps: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.bits_per_second() == bps)
    }
}

/// The commands the kiosk sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Reset,
    SamStatus,
    SamId,
    FindCard,
    SelectCard,
    ReadBase,
    ReadBaseWithFingerprint,
    ReadNewAddress,
    SetBaud(BaudRate),
    /// Largest frame between SAM and RF adapter, 24–255 bytes.
    SetMaxRfBytes(u8),
}

impl Command {
    pub fn payload(self) -> Vec<u8> {
        match self {
            Command::Reset => vec![0x10, 0xFF],
            Command::SamStatus => vec![0x11, 0xFF],
            Command::SamId => vec![0x12, 0xFF],
            Command::FindCard => vec![0x20, 0x01],
            Command::SelectCard => vec![0x20, 0x02],
            Command::ReadBase => vec![0x30, 0x01],
            Command::ReadNewAddress => vec![0x30, 0x03],
            Command::ReadBaseWithFingerprint => vec![0x30, 0x10],
            Command::SetBaud(rate) => vec![0x60, rate.code()],
            Command::SetMaxRfBytes(n) => vec![0x61, 0xFF, n],
        }
    }

    /// Parses a command frame, as the simulator sees it. `Err` carries the SW3 a real module
    /// answers with.
    pub fn parse(payload: &[u8]) -> Result<Self, Status> {
        Ok(match payload {
            [0x10, 0xFF] => Command::Reset,
            [0x11, 0xFF] => Command::SamStatus,
            [0x12, 0xFF] => Command::SamId,
            [0x20, 0x01] => Command::FindCard,
            [0x20, 0x02] => Command::SelectCard,
            [0x30, 0x01] => Command::ReadBase,
            [0x30, 0x03] => Command::ReadNewAddress,
            [0x30, 0x10] => Command::ReadBaseWithFingerprint,
            [0x60, code] => Command::SetBaud(BaudRate::from_code(*code).ok_or(Status::CommandError)?),
            [0x61, 0xFF, n] if *n >= 24 => Command::SetMaxRfBytes(*n),
            [_] | [] => return Err(Status::LengthError),
            _ => return Err(Status::CommandError),
        })
    }

    /// The SW3 that means this command worked.
    pub fn success(self) -> Status {
        match self {
            Command::FindCard => Status::FindSuccess,
            _ => Status::Success,
        }
    }

    /// How long to wait for the answer. The card-side read dominates (RF and crypto, up to about
    /// 3.5 s for reads, as the Synjones/XZX library allows); the rest answer in milliseconds.
    pub fn timeout(self) -> Duration {
        Duration::from_millis(match self {
            Command::ReadBase | Command::ReadBaseWithFingerprint => 3500,
            Command::ReadNewAddress => 1000,
            Command::FindCard | Command::SelectCard => 500,
            Command::Reset => 1000,
            _ => 300,
        })
    }

    /// A short name for logs and errors.
    pub fn name(self) -> &'static str {
        match self {
            Command::Reset => "reset",
            Command::SamStatus => "SAM status",
            Command::SamId => "SAM ID",
            Command::FindCard => "find card",
            Command::SelectCard => "select card",
            Command::ReadBase => "read base message",
            Command::ReadBaseWithFingerprint => "read base message with fingerprint",
            Command::ReadNewAddress => "read latest address",
            Command::SetBaud(_) => "set baud",
            Command::SetMaxRfBytes(_) => "set max RF bytes",
        }
    }
}

/// An answer from the module: the card's APDU status (SW1 SW2), the module status and the data.
#[derive(Debug)]
pub struct Response {
    pub sw1: u8,
    pub sw2: u8,
    pub status: Status,
    pub data: Zeroizing<Vec<u8>>,
}

impl Response {
    /// `None` for a frame too short to be an answer (a command echo, for instance).
    pub fn parse(frame: &Frame) -> Option<Self> {
        match frame.payload() {
            [sw1, sw2, sw3, data @ ..] => Some(Self {
                sw1: *sw1,
                sw2: *sw2,
                status: Status::from_byte(*sw3),
                data: Zeroizing::new(data.to_vec()),
            }),
            _ => None,
        }
    }

    /// The payload of an answer with SW1 SW2 = 00 00, as the simulator sends it.
    pub fn payload(status: Status, data: &[u8]) -> Zeroizing<Vec<u8>> {
        let mut p = Zeroizing::new(Vec::with_capacity(3 + data.len()));
        p.extend_from_slice(&[0, 0, status.byte()]);
        p.extend_from_slice(data);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_parses_back() {
        let mut all = vec![
            Command::Reset,
            Command::SamStatus,
            Command::SamId,
            Command::FindCard,
            Command::SelectCard,
            Command::ReadBase,
            Command::ReadBaseWithFingerprint,
            Command::ReadNewAddress,
            Command::SetMaxRfBytes(0x50),
        ];
        all.extend(BaudRate::ALL.map(Command::SetBaud));
        for cmd in all {
            assert_eq!(Command::parse(&cmd.payload()), Ok(cmd));
        }
    }

    #[test]
    fn bad_commands_get_the_module_status() {
        assert_eq!(Command::parse(&[0x60, 0x05]), Err(Status::CommandError));
        assert_eq!(Command::parse(&[0x61, 0xFF, 10]), Err(Status::CommandError));
        assert_eq!(Command::parse(&[0x99, 0x01]), Err(Status::CommandError));
        assert_eq!(Command::parse(&[0x10]), Err(Status::LengthError));
    }

    #[test]
    fn baud_codes_follow_the_reference_table() {
        assert_eq!(BaudRate::B9600.code(), 4);
        assert_eq!(BaudRate::from_bits_per_second(38_400), Some(BaudRate::B38400));
        assert_eq!(BaudRate::from_code(1).map(BaudRate::bits_per_second), Some(57_600));
        assert_eq!(BaudRate::from_bits_per_second(4800), None);
    }
}
