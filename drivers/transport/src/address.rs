//! How configuration files and technicians name a device's link: one grammar for every kind of
//! device, so `kiosk-ui.toml`, `kiosk-diag` and the drivers agree on what `usb:0416:5011` or
//! `serial:/dev/ttyS1@9600` means. Each driver then says which of these links its device can
//! have and what a missing baud rate defaults to.

use std::str::FromStr;

use crate::UsbId;

/// A device's link as written: `usb` or `usb:VID:PID`, `serial:PATH[@BAUD]` (a bare `/dev/…`
/// path is a serial port too), `lp:PATH`, `hidraw:PATH`, `tcp:HOST:PORT`, `file:PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A USB device on its bulk pipes, by ID; `None` where the driver knows the standard one.
    Usb(Option<UsbId>),
    /// A UART or USB-serial port; `baud: None` leaves the rate to the driver (default or probe).
    Serial { path: String, baud: Option<u32> },
    /// The kernel's usblp node of a USB printer.
    Lp(String),
    /// A HID device's raw node (scanners in keyboard or HID POS mode).
    Hidraw(String),
    /// Raw TCP, `HOST:PORT`.
    Tcp(String),
    /// Bytes appended to a file, for capturing output.
    File(String),
}

/// The forms [`Address`] accepts, for error messages.
const FORMS: &str = "usb[:VID:PID], serial:PATH[@BAUD], lp:PATH, hidraw:PATH, tcp:HOST:PORT or file:PATH";

impl FromStr for Address {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.starts_with('/') {
            return Ok(Address::Serial { path: s.to_owned(), baud: None });
        }
        let (kind, rest) = s.split_once(':').unwrap_or((s, ""));
        let nonempty = |what: &str| {
            if rest.is_empty() { Err(format!("{s:?}: {kind}: needs {what}")) } else { Ok(rest.to_owned()) }
        };
        Ok(match kind {
            "usb" if rest.is_empty() => Address::Usb(None),
            "usb" => Address::Usb(Some(rest.parse()?)),
            "serial" => match rest.rsplit_once('@') {
                Some((path, baud)) => Address::Serial {
                    path: path.to_owned(),
                    baud: Some(baud.parse().map_err(|_| format!("{s:?}: {baud:?} is not a baud rate"))?),
                },
                None => Address::Serial { path: nonempty("a port path")?, baud: None },
            },
            "lp" => Address::Lp(nonempty("a device path")?),
            "hidraw" => Address::Hidraw(nonempty("a device path")?),
            "tcp" => Address::Tcp(nonempty("HOST:PORT")?),
            "file" => Address::File(nonempty("a file path")?),
            _ => return Err(format!("{s:?}: unknown device link; expected {FORMS}")),
        })
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Usb(None) => write!(f, "usb"),
            Address::Usb(Some(id)) => write!(f, "usb:{id}"),
            Address::Serial { path, baud: Some(b) } => write!(f, "serial:{path}@{b}"),
            Address::Serial { path, baud: None } => write!(f, "serial:{path}"),
            Address::Lp(p) => write!(f, "lp:{p}"),
            Address::Hidraw(p) => write!(f, "hidraw:{p}"),
            Address::Tcp(a) => write!(f, "tcp:{a}"),
            Address::File(p) => write!(f, "file:{p}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_parses_and_prints_back() {
        for text in [
            "usb",
            "usb:0416:5011",
            "serial:/dev/ttyS1@9600",
            "serial:/dev/ttyACM0",
            "lp:/dev/usb/lp0",
            "hidraw:/dev/kiosk/scanner",
            "tcp:kiosk-printer:9100",
            "file:/tmp/out.bin",
        ] {
            let address: Address = text.parse().unwrap();
            assert_eq!(address.to_string(), text);
        }
        assert_eq!(
            "/dev/serial/by-id/usb-FTDI:1".parse(),
            Ok(Address::Serial { path: "/dev/serial/by-id/usb-FTDI:1".into(), baud: None })
        );
    }

    #[test]
    fn mistakes_say_what_is_wrong() {
        for (text, says) in [
            ("usb:04x6:5011", "\"04x6\""),
            ("serial:/dev/ttyS1@fast", "not a baud rate"),
            ("lp:", "needs a device path"),
            ("bluetooth:aa", "unknown device link"),
            ("", "unknown device link"),
        ] {
            let e = text.parse::<Address>().unwrap_err();
            assert!(e.contains(says), "{text:?} → {e}");
        }
    }
}
