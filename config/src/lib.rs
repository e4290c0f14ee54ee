//! The kiosk's configuration file, `/etc/kiosk/kiosk-ui.toml` in the image: which kiosk this is,
//! where its catalogue, outbox and key are, and how its devices are attached. `kiosk-ui` runs
//! from it and `kiosk-diag check` checks the same devices the same way, so both read it here:
//! a field one of them did not know would otherwise pass one and fail the other.

use std::path::{Path, PathBuf};

use kiosk_escpos::Device as PrinterDevice;
use kiosk_idcard::ReaderPort;
use kiosk_scanner::{Device as ScannerDevice, Mode, ScanConfig};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub kiosk_id: String,
    /// The installed catalogue bundle (the sync agent's `install_dir/catalogue.bundle`).
    pub catalogue: PathBuf,
    /// The outbox the sync agent uploads from.
    pub outbox: PathBuf,
    pub payload_key: PathBuf,
    /// Argon2 PHC string of the technician PIN (`kiosk-ui --hash-pin`); no PIN, no maintenance screen.
    #[serde(default)]
    pub pin_hash: Option<String>,
    #[serde(default)]
    pub font_dir: Option<PathBuf>,
    #[serde(default)]
    pub reader: Option<Reader>,
    /// `usb:VID:PID`, `lp:PATH`, `serial:PATH[@BAUD]` or `tcp:HOST:PORT`.
    #[serde(default)]
    pub printer: Option<String>,
    #[serde(default)]
    pub scanner: Option<Scanner>,
    #[serde(default = "default_idle")]
    pub idle_secs: u64,
    #[serde(default = "default_countdown")]
    pub countdown_secs: u64,
    /// The sync agent's local API (its `kiosk-sync.toml` `[local] socket`), for live services;
    /// none, and the kiosk offers them as unavailable.
    #[serde(default)]
    pub live_socket: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reader {
    /// `usb`, `usb:VID:PID` or a serial port (a `/dev/serial/by-id/` link).
    pub port: String,
    #[serde(default)]
    pub baud: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scanner {
    /// `serial:PATH[@BAUD]` or `hidraw:PATH`.
    pub device: String,
    /// `serial-cr`, `keyboard`, `hid-pos`, ... as `kiosk-diag scanner` takes them.
    pub mode: String,
    #[serde(default)]
    pub login_prefix: Option<String>,
}

/// A scanner as the driver opens it.
pub type ScannerSetup = (ScannerDevice, Mode, ScanConfig);

/// Where the devices are; a missing one is shown as such, and the kiosk offers the other ways.
#[derive(Debug, Clone, Default)]
pub struct DeviceConfig {
    pub reader: Option<ReaderPort>,
    pub printer: Option<PrinterDevice>,
    pub scanner: Option<ScannerSetup>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid kiosk-ui configuration: {source}", path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("{setting}: {problem}")]
    Device { setting: &'static str, problem: String },
}

fn default_idle() -> u64 {
    90
}

fn default_countdown() -> u64 {
    30
}

impl Config {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        toml::from_str(&text)
            .map_err(|source| ConfigError::Invalid { path: path.to_owned(), source: Box::new(source) })
    }

    /// Every device, or the first setting that does not name one.
    pub fn devices(&self) -> Result<DeviceConfig, ConfigError> {
        Ok(DeviceConfig {
            reader: self.reader_port()?,
            printer: self.printer_device()?,
            scanner: self.scanner()?,
        })
    }

    pub fn reader_port(&self) -> Result<Option<ReaderPort>, ConfigError> {
        let Some(r) = &self.reader else { return Ok(None) };
        ReaderPort::parse(&r.port, r.baud)
            .map(Some)
            .map_err(|problem| ConfigError::Device { setting: "[reader] port", problem })
    }

    pub fn printer_device(&self) -> Result<Option<PrinterDevice>, ConfigError> {
        let Some(p) = &self.printer else { return Ok(None) };
        p.parse().map(Some).map_err(|problem| ConfigError::Device { setting: "printer", problem })
    }

    pub fn scanner(&self) -> Result<Option<ScannerSetup>, ConfigError> {
        let Some(s) = &self.scanner else { return Ok(None) };
        let device = s
            .device
            .parse()
            .map_err(|problem| ConfigError::Device { setting: "[scanner] device", problem })?;
        let mode =
            s.mode.parse().map_err(|problem| ConfigError::Device { setting: "[scanner] mode", problem })?;
        Ok(Some((device, mode, ScanConfig { login_prefix: s.login_prefix.clone(), ..ScanConfig::default() })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
kiosk_id = "NH-GC-0007"
catalogue = "/data/kiosk/catalogue/catalogue.bundle"
outbox = "/data/kiosk/kiosk.db"
payload_key = "/data/kiosk/payload.key"
"#;

    fn parse(extra: &str) -> Config {
        toml::from_str(&format!("{MINIMAL}{extra}")).unwrap()
    }

    #[test]
    fn devices_come_out_typed() {
        let config = parse(
            r#"printer = "usb:0416:5011"
[reader]
port = "usb"
[scanner]
device = "hidraw:/dev/kiosk/scanner"
mode = "keyboard"
login_prefix = "GDZWFW:"
"#,
        );
        let devices = config.devices().unwrap();
        assert_eq!(devices.reader, Some(ReaderPort::Usb(kiosk_idcard::reader::SAM_USB_ID)));
        assert!(matches!(devices.printer, Some(PrinterDevice::Usb(_))));
        let (device, mode, scan) = devices.scanner.unwrap();
        assert_eq!((device, mode), (ScannerDevice::Hidraw("/dev/kiosk/scanner".into()), Mode::Keyboard));
        assert_eq!(scan.login_prefix.as_deref(), Some("GDZWFW:"));
        assert_eq!((config.idle_secs, config.countdown_secs), (90, 30));
    }

    #[test]
    fn a_bad_device_names_its_setting() {
        let e = parse("printer = \"hidraw:/dev/hidraw0\"\n").devices().unwrap_err();
        assert!(e.to_string().starts_with("printer: "), "{e}");
        let e = parse("[scanner]\ndevice = \"usb\"\nmode = \"keyboard\"\n").devices().unwrap_err();
        assert!(e.to_string().starts_with("[scanner] device: "), "{e}");
    }

    #[test]
    fn unknown_settings_are_refused() {
        let e = toml::from_str::<Config>(&format!("{MINIMAL}pritner = \"usb:0416:5011\"\n")).unwrap_err();
        assert!(e.to_string().contains("pritner"), "{e}");
    }
}
