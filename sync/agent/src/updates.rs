//! Keeps the kiosk's catalogue and operating system current from the signed update repository
//! (catalogue releases over the network or from a USB stick; OS releases staged for RAUC), and
//! remembers what to report: the installed catalogue version, why the last update was refused,
//! and the last OS release check.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use kiosk_outbox::PartState;
use kiosk_update::client::{Client, OsOutcome, Outcome, UpdateError};

use crate::config::{CatalogueUpdates, OsUpdates};

/// What the heartbeat reports; shared with the agent because checks run in their own task.
#[derive(Debug, Clone, Default)]
pub struct UpdateStatus {
    /// The catalogue version the kiosk runs, as its installed bundle says.
    pub installed: Option<String>,
    /// Why the last update was refused; cleared by the next successful check.
    pub refused: Option<String>,
    /// The last OS release check's result, for kiosks that take OS updates.
    pub os: Option<PartState>,
}

#[derive(Debug)]
pub struct Updater {
    network: Client,
    usb: Option<(PathBuf, Client)>,
    pub poll: Duration,
    status: Arc<Mutex<UpdateStatus>>,
    os: Option<OsUpdates>,
}

/// The running OS version (`IMAGE_VERSION=` in os-release) and the slot GRUB booted.
pub fn running_os(os_release: &std::path::Path) -> (String, Option<String>) {
    let version = std::fs::read_to_string(os_release)
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| l.strip_prefix("IMAGE_VERSION=").map(|v| v.trim_matches('"').to_owned()))
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let slot = std::fs::read_to_string("/proc/cmdline")
        .ok()
        .and_then(|c| c.split_whitespace().find_map(|w| w.strip_prefix("rauc.slot=").map(str::to_owned)));
    (version, slot)
}

impl Updater {
    pub fn new(cfg: &CatalogueUpdates, gateway: &str, https: reqwest::Client) -> Result<Self> {
        let repository =
            cfg.repository.clone().unwrap_or_else(|| format!("{}/catalogue/", gateway.trim_end_matches('/')));
        let network = Client {
            trusted_root: cfg.trusted_root.clone(),
            repository: repository
                .parse()
                .with_context(|| format!("catalogue repository URL {repository:?}"))?,
            datastore: cfg.datastore.clone(),
            install_dir: cfg.install_dir.clone(),
            https: Some(https),
        };
        let usb = match &cfg.usb {
            Some(dir) => {
                let url = url::Url::from_directory_path(dir).map_err(|()| {
                    anyhow::anyhow!("the USB repository {} must be an absolute path", dir.display())
                })?;
                Some((dir.clone(), Client { repository: url, https: None, ..network.clone() }))
            }
            None => None,
        };
        let sync = Self {
            network,
            usb,
            poll: Duration::from_secs(cfg.poll_secs),
            status: Arc::default(),
            os: cfg.os.clone(),
        };
        sync.read_installed();
        Ok(sync)
    }

    pub fn status(&self) -> Arc<Mutex<UpdateStatus>> {
        self.status.clone()
    }

    fn set(&self, f: impl FnOnce(&mut UpdateStatus)) {
        f(&mut self.status.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    }

    /// After a successful check the release names what is installed: no need to read the
    /// bundle again.
    fn running(&self, catalogue_version: &str) {
        self.set(|s| {
            s.installed = Some(catalogue_version.to_owned());
            s.refused = None;
        });
    }

    /// At start-up, from the bundle itself.
    fn read_installed(&self) {
        let installed = std::fs::read(self.network.installed_path())
            .ok()
            .and_then(|b| kiosk_catalogue::Bundle::open(&b).ok())
            .map(|b| b.meta.catalogue_version);
        self.set(|s| s.installed = installed);
    }

    /// Checks every `poll`, for the life of the agent. A task of its own, so a slow download
    /// never holds up residents' uploads.
    pub async fn run(mut self) {
        loop {
            // Outcomes are logged and kept for the heartbeat.
            let _ = self.check().await;
            tokio::time::sleep(self.poll).await;
        }
    }

    /// One update cycle: the USB stick first when one is mounted, then the network.
    pub async fn check(&mut self) -> Result<Outcome, UpdateError> {
        let usb = self.usb.as_ref().filter(|(dir, _)| dir.join(kiosk_update::METADATA_DIR).is_dir());
        let result = match usb {
            Some((dir, client)) => match client.update().await {
                Err(UpdateError::Unreachable(why)) => {
                    tracing::warn!(usb = %dir.display(), why, "USB catalogue unreadable; trying the network");
                    self.network.update().await
                }
                other => other,
            },
            None => self.network.update().await,
        };
        match &result {
            Ok(Outcome::Applied(r)) => {
                tracing::info!(version = r.version, catalogue = %r.catalogue_version, items = r.items, "catalogue updated");
                self.running(&r.catalogue_version);
            }
            // Current means the installed bundle is byte for byte the signed one.
            Ok(Outcome::Current(r)) => self.running(&r.catalogue_version),
            Err(UpdateError::Refused(why)) => {
                tracing::error!(why, "catalogue update refused; keeping the current catalogue");
                self.set(|s| s.refused = Some(why.clone()));
            }
            Err(e) => tracing::warn!(error = %e, "catalogue update not checked; will retry"),
        }
        if result.is_ok() {
            self.check_os().await;
        }
        result
    }

    /// After a successful catalogue check, the OS release from the same (now verified)
    /// repository.
    async fn check_os(&mut self) {
        let Some(os) = &self.os else { return };
        let (running, _) = running_os(&os.os_release);
        let text = match self.network.stage_os(&os.compatible, &running, &os.incoming).await {
            Ok(OsOutcome::NoRelease) => {
                PartState::ok(format!("current: {running} (no OS release published)"))
            }
            Ok(OsOutcome::Current(v)) => PartState::ok(format!("current: {v}")),
            Ok(OsOutcome::Staged(v)) => {
                tracing::info!(version = %v, "OS release verified and staged for installation");
                PartState::ok(format!("staged: {v} (installs now, runs from the next boot)"))
            }
            Ok(OsOutcome::Waiting(v)) => PartState::ok(format!("staged: {v} (waiting for the installer)")),
            Err(UpdateError::Refused(why)) => {
                tracing::error!(why, "OS release refused");
                PartState::warning(format!("refused: {why}"))
            }
            Err(e) => {
                tracing::warn!(error = %e, "OS release not checked; will retry");
                PartState::warning(format!("not checked (will retry): {e}"))
            }
        };
        self.set(|s| s.os = Some(text));
    }
}
