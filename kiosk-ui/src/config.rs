//! The kiosk's configuration file (`/etc/kiosk/kiosk-ui.toml` in the image).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::devices::DeviceConfig;

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

fn default_idle() -> u64 {
    90
}

fn default_countdown() -> u64 {
    30
}

impl Config {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("{} is not a valid kiosk-ui configuration", path.display()))
    }

    pub fn devices(&self) -> Result<DeviceConfig> {
        let reader = self
            .reader
            .as_ref()
            .map(|r| kiosk_idcard::ReaderPort::parse(&r.port, r.baud).map_err(anyhow::Error::msg))
            .transpose()
            .context("[reader] port")?;
        let printer = self
            .printer
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(anyhow::Error::msg)
            .context("printer")?;
        let scanner = self
            .scanner
            .as_ref()
            .map(|s| -> Result<_> {
                Ok((
                    s.device.parse().map_err(anyhow::Error::msg).context("[scanner] device")?,
                    s.mode.parse().map_err(anyhow::Error::msg).context("[scanner] mode")?,
                    kiosk_scanner::ScanConfig { login_prefix: s.login_prefix.clone(), ..Default::default() },
                ))
            })
            .transpose()?;
        Ok(DeviceConfig { reader, printer, scanner })
    }
}
