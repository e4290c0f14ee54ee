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
    #[serde(default)]
    pub queue: Queue,
    /// Send heartbeats to this MQTT broker instead of the gateway.
    #[serde(default)]
    pub mqtt: Option<crate::mqtt::MqttConfig>,
    /// Signed catalogue updates; absent on kiosks that get their catalogue from the image only.
    #[serde(default)]
    pub catalogue: Option<CatalogueUpdates>,
    /// The local API the UI asks for live services; absent, the agent serves none.
    #[serde(default)]
    pub local: Option<Local>,
}

/// The local API (`kiosk_sync_proto::live`) on a Unix socket.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Local {
    /// The socket's path, e.g. `/run/kiosk/sync.sock`.
    pub socket: PathBuf,
    /// Callers must run as this group (or as the agent's own user); the socket is made
    /// `0660` and given to it.
    #[serde(default = "default_local_group")]
    pub group: String,
    /// How long a live request may take at the service network before the UI hears `timeout`.
    #[serde(default = "default_live_deadline")]
    pub deadline_ms: u64,
}

fn default_local_group() -> String {
    "kiosk".into()
}

fn default_live_deadline() -> u64 {
    4_000
}

impl Local {
    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }
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

/// The outbox's limits, shared with the UI through the same defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Queue {
    /// Days an acknowledged submission's receipt (item, case number, times; no personal data) is
    /// kept for technicians before it is deleted.
    pub receipt_retention_days: u64,
    /// The outbox's size cap.
    pub max_mib: u64,
}

impl Default for Queue {
    fn default() -> Self {
        Self { receipt_retention_days: 90, max_mib: (kiosk_outbox::DEFAULT_MAX_PAGES * 4096) >> 20 }
    }
}

impl Queue {
    pub fn options(&self) -> kiosk_outbox::Options {
        kiosk_outbox::Options {
            max_pages: Some(self.max_mib * (1 << 20) / 4096),
            ..kiosk_outbox::Options::default()
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
        }))
        .chain(c.local.as_mut().map(|l| &mut l.socket))
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        c.algorithm()?;
        c.validate().with_context(|| format!("in {}", path.display()))?;
        Ok(c)
    }

    /// Values that would hang or storm the agent are refused by name, before anything runs.
    fn validate(&self) -> Result<()> {
        let u = &self.upload;
        let checks: [(bool, &str); 8] = [
            (u.concurrency >= 1 && u.concurrency <= 64, "upload.concurrency must be between 1 and 64"),
            (
                u.timeout_ms >= 100 && u.timeout_ms <= 300_000,
                "upload.timeout_ms must be between 100 and 300000",
            ),
            (u.poll_ms >= 10 && u.poll_ms <= 600_000, "upload.poll_ms must be between 10 and 600000"),
            (u.backoff_base_ms >= 1, "upload.backoff_base_ms must be at least 1"),
            (
                u.backoff_cap_ms >= u.backoff_base_ms && u.backoff_cap_ms <= 24 * 3600 * 1000,
                "upload.backoff_cap_ms must be at least backoff_base_ms and at most a day (86400000)",
            ),
            (u.heartbeat_secs >= 1, "upload.heartbeat_secs must be at least 1"),
            (self.queue.receipt_retention_days >= 1, "queue.receipt_retention_days must be at least 1"),
            (self.queue.max_mib >= 1, "queue.max_mib must be at least 1"),
        ];
        for (ok, why) in checks {
            anyhow::ensure!(ok, "{why}");
        }
        if let Some(l) = &self.local {
            anyhow::ensure!(
                (100..=30_000).contains(&l.deadline_ms),
                "local.deadline_ms must be between 100 and 30000"
            );
        }
        url::Url::parse(&self.gateway)
            .ok()
            .filter(|u| u.scheme() == "https")
            .with_context(|| format!("gateway {:?} must be an https:// URL", self.gateway))?;
        Ok(())
    }

    /// The secrets this agent reads must be its own: checked at start, with the chmod to run.
    pub fn check_secret_modes(&self) -> Result<()> {
        for p in [&self.app_secret_file, &self.client_key] {
            kiosk_outbox::key::check_private(p).map_err(anyhow::Error::msg)?;
        }
        Ok(())
    }

    pub fn algorithm(&self) -> Result<Algorithm> {
        Algorithm::from_name(&self.signature)
            .with_context(|| format!("signature {:?} must be HMAC-SHA256 or HMAC-SM3", self.signature))
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.upload.timeout_ms)
    }
}
