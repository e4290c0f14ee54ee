//! The agent's configuration file (TOML). Relative paths are taken from the file's folder.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use kiosk_sync_proto::Algorithm;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub kiosk_id: String,
    /// Base URL of the gateway, e.g. `https://gateway.example:8443`.
    pub gateway: String,
    pub app_key: String,
    /// File holding the app secret (mode 0600); never the secret itself in this file.
    pub app_secret_file: PathBuf,
    #[serde(default = "default_signature")]
    pub signature: String,
    /// The only CA trusted for the gateway's certificate.
    pub ca: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    pub outbox: PathBuf,
    pub payload_key: PathBuf,
    #[serde(default)]
    pub upload: Upload,
    /// Send heartbeats to this MQTT broker instead of the gateway.
    #[serde(default)]
    pub mqtt: Option<crate::mqtt::MqttConfig>,
    /// Signed catalogue updates; absent on kiosks that get their catalogue from the image only.
    #[serde(default)]
    pub catalogue: Option<CatalogueUpdates>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueUpdates {
    /// The repository's root, built into the image (`kioskctl catalogue init-repo` wrote it).
    pub trusted_root: PathBuf,
    /// Defaults to the gateway's `/catalogue/`.
    #[serde(default)]
    pub repository: Option<String>,
    /// A repository copied to a USB stick, tried first whenever it is mounted; it carries the same
    /// signatures, so it is checked exactly like the network one.
    #[serde(default)]
    pub usb: Option<PathBuf>,
    /// The last trusted metadata, for rollback detection across reboots (persistent storage).
    pub datastore: PathBuf,
    /// Where the current catalogue bundle lives; the UI watches it.
    pub install_dir: PathBuf,
    #[serde(default = "default_catalogue_poll")]
    pub poll_secs: u64,
    /// OS releases from the same repository (images built by `images/build`).
    #[serde(default)]
    pub os: Option<OsUpdates>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsUpdates {
    /// RAUC's `compatible` of this kiosk (its /etc/rauc/system.conf): which releases fit it.
    pub compatible: String,
    /// Where a verified bundle is left for the root-owned installer unit.
    pub incoming: PathBuf,
    /// Names the running version (`IMAGE_VERSION=`).
    #[serde(default = "default_os_release")]
    pub os_release: PathBuf,
}

fn default_os_release() -> PathBuf {
    PathBuf::from("/etc/os-release")
}

fn default_catalogue_poll() -> u64 {
    15 * 60
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Upload {
    pub timeout_ms: u64,
    /// Uploads in flight at once.
    pub concurrency: usize,
    pub backoff_base_ms: u64,
    pub backoff_cap_ms: u64,
    pub heartbeat_secs: u64,
    /// How often the daemon looks for new submissions when idle.
    pub poll_ms: u64,
}

impl Default for Upload {
    fn default() -> Self {
        Self {
            timeout_ms: 10_000,
            concurrency: 8,
            backoff_base_ms: 1_000,
            backoff_cap_ms: 30 * 60 * 1000,
            heartbeat_secs: 60,
            poll_ms: 1_000,
        }
    }
}

fn default_signature() -> String {
    "HMAC-SHA256".into()
}

impl Config {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the configuration {}", path.display()))?;
        let mut c: Config = toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut c.app_secret_file,
            &mut c.ca,
            &mut c.client_cert,
            &mut c.client_key,
            &mut c.outbox,
            &mut c.payload_key,
        ]
        .into_iter()
        .chain(c.catalogue.iter_mut().flat_map(|u| {
            [&mut u.trusted_root, &mut u.datastore, &mut u.install_dir]
                .into_iter()
                .chain(u.usb.as_mut())
                .chain(u.os.as_mut().map(|o| &mut o.incoming))
        })) {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        c.algorithm()?;
        Ok(c)
    }

    pub fn algorithm(&self) -> Result<Algorithm> {
        Algorithm::from_name(&self.signature)
            .with_context(|| format!("signature {:?} must be HMAC-SHA256 or HMAC-SM3", self.signature))
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.upload.timeout_ms)
    }
}
