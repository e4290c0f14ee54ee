//! The sync agent: leases due submissions from the outbox, uploads them signed over mutual TLS,
//! records each answer (accepted → receipt, retry → persisted full-jitter backoff, refused →
//! dead letter), and reports the kiosk's health in heartbeats. Delivery is at-least-once; the
//! gateway's idempotency-key dedup makes it exactly once.

pub mod catalogue;
pub mod config;
pub mod mqtt;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use kiosk_outbox::{Claimed, Options, Outbox, PayloadKey, now_ms};
use kiosk_sync_proto::{self as proto, Accepted, Heartbeat, Verdict};

pub use catalogue::{CatalogueStatus, CatalogueSync};
pub use config::Config;

/// What one upload came to.
#[derive(Debug)]
pub enum Sent {
    Accepted(Accepted),
    Retry { status: Option<u16>, retry_after: Option<Duration>, error: String },
    Reauthenticate { status: u16, error: String },
    Refused { status: u16, error: String },
}

/// Full-jitter exponential backoff: a random wait between zero and min(cap, base · 2^attempt).
pub fn full_jitter(attempt: u32, base: Duration, cap: Duration, rng: &mut fastrand::Rng) -> Duration {
    let ceiling = base.saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX)).min(cap);
    Duration::from_millis(rng.u64(0..=ceiling.as_millis() as u64))
}

/// Signs and sends requests to the gateway.
#[derive(Debug)]
pub struct Uploader {
    pub(crate) client: reqwest::Client,
    base: String,
    kiosk_id: String,
    app_key: String,
    secret: Vec<u8>,
    alg: proto::Algorithm,
}

fn nonce() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS random source works");
    hex::encode(b)
}

impl Uploader {
    pub fn new(config: &Config) -> Result<Self> {
        let read = |p: &std::path::Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
        let ca = reqwest::Certificate::from_pem(&read(&config.ca)?).context("the gateway CA")?;
        let mut identity_pem = read(&config.client_cert)?;
        identity_pem.extend(read(&config.client_key)?);
        let identity =
            reqwest::Identity::from_pem(&identity_pem).context("the kiosk's client certificate and key")?;
        let client = reqwest::Client::builder()
            .tls_certs_only([ca])
            .identity(identity)
            .timeout(config.timeout())
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .context("building the HTTPS client")?;
        let secret = read(&config.app_secret_file)?.trim_ascii().to_vec();
        Ok(Self {
            client,
            base: config.gateway.trim_end_matches('/').to_owned(),
            kiosk_id: config.kiosk_id.clone(),
            app_key: config.app_key.clone(),
            secret,
            alg: config.algorithm()?,
        })
    }

    fn signed_post(&self, path: &str, idempotency_key: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        let (timestamp, nonce) = (now_ms() / 1000, nonce());
        let signature =
            proto::Signed { method: "POST", path, timestamp, nonce: &nonce, idempotency_key, body: &body }
                .sign(self.alg, &self.secret);
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(proto::HEADER_KIOSK_ID, &self.kiosk_id)
            .header(proto::HEADER_APP_KEY, &self.app_key)
            .header(proto::HEADER_TIMESTAMP, timestamp.to_string())
            .header(proto::HEADER_NONCE, nonce)
            .header(proto::HEADER_SIGNATURE_ALG, self.alg.name())
            .header(proto::HEADER_SIGNATURE, signature);
        if !idempotency_key.is_empty() {
            req = req.header(proto::HEADER_IDEMPOTENCY_KEY, idempotency_key);
        }
        req.body(body)
    }

    /// Uploads one submission; never fails, every outcome is a [`Sent`].
    pub async fn send(&self, c: &Claimed) -> Sent {
        let response = match self
            .signed_post(proto::PATH_SUBMISSIONS, &c.idempotency_key, c.payload.to_vec())
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return Sent::Retry { status: None, retry_after: None, error: describe(&e) },
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return Sent::Retry { status: Some(status), retry_after, error: describe(&e) },
        };
        let problem = || {
            serde_json::from_slice::<proto::Problem>(&body).map_or_else(
                |_| format!("HTTP {status}"),
                |p| format!("HTTP {status} {}: {}", p.code, p.message),
            )
        };
        match proto::classify(status) {
            Verdict::Accepted => match serde_json::from_slice::<Accepted>(&body) {
                Ok(a) => Sent::Accepted(a),
                Err(e) => Sent::Retry {
                    status: Some(status),
                    retry_after,
                    error: format!("unreadable answer: {e}"),
                },
            },
            Verdict::Retry => Sent::Retry { status: Some(status), retry_after, error: problem() },
            Verdict::Reauthenticate => Sent::Reauthenticate { status, error: problem() },
            Verdict::DeadLetter => Sent::Refused { status, error: problem() },
        }
    }

    pub async fn heartbeat(&self, hb: &Heartbeat) -> Result<()> {
        let body = serde_json::to_vec(hb)?;
        let r = self
            .signed_post(proto::PATH_HEARTBEATS, "", body)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(describe(&e)))?;
        anyhow::ensure!(r.status().is_success(), "gateway answered the heartbeat with HTTP {}", r.status());
        Ok(())
    }
}

/// A network error in words a technician can act on.
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "no answer in time"
    } else if e.is_connect() {
        "cannot connect (network down, gateway unreachable or TLS refused)"
    } else {
        "connection failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() { what.to_owned() } else { format!("{what}: {detail}") }
}

/// The counts of one pass over the due submissions.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub accepted: usize,
    pub retried: usize,
    pub refused: usize,
}

impl Round {
    pub fn total(&self) -> usize {
        self.accepted + self.retried + self.refused
    }
}

pub struct Agent {
    pub outbox: Outbox,
    /// Taken by [`Agent::run`] into a task of its own.
    pub catalogue: Option<CatalogueSync>,
    catalogue_status: Option<Arc<Mutex<CatalogueStatus>>>,
    uploader: Uploader,
    config: Config,
    owner: String,
    rng: fastrand::Rng,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent").field("owner", &self.owner).finish_non_exhaustive()
    }
}

impl Agent {
    pub fn new(config: Config) -> Result<Self> {
        let key = PayloadKey::load_or_create(&config.payload_key)?;
        let mut outbox = Outbox::open(&config.outbox, key, Options::default())?;
        let recovered = outbox.recover_in_flight()?;
        if recovered > 0 {
            tracing::info!(recovered, "uploads interrupted by a previous run will be sent again");
        }
        let uploader = Uploader::new(&config)?;
        if let Some(os) = config.catalogue.as_ref().and_then(|c| c.os.as_ref()) {
            // Which system this kiosk runs, for the fleet view and the maintenance screen.
            let (version, slot) = catalogue::running_os(&os.os_release);
            let text = slot.map_or_else(|| version.clone(), |s| format!("{version} (slot {s})"));
            outbox.set_device_state("os", &text, now_ms())?;
        }
        let catalogue = match &config.catalogue {
            Some(c) => Some(CatalogueSync::new(c, &config.gateway, uploader.client.clone())?),
            None => None,
        };
        Ok(Self {
            outbox,
            catalogue_status: catalogue.as_ref().map(CatalogueSync::status),
            catalogue,
            uploader,
            owner: format!("kiosk-sync/{}", std::process::id()),
            rng: fastrand::Rng::new(),
            config,
        })
    }

    /// Uploads what is due now, `concurrency` at a time, and records every answer.
    pub async fn round(&mut self) -> Result<Round> {
        let lease = self.config.timeout() * 3;
        let claimed = self.outbox.claim_due(&self.owner, now_ms(), self.config.upload.concurrency, lease)?;
        let results = futures_util::future::join_all(claimed.iter().map(|c| self.uploader.send(c))).await;
        let mut round = Round::default();
        let (base, cap) = (
            Duration::from_millis(self.config.upload.backoff_base_ms),
            Duration::from_millis(self.config.upload.backoff_cap_ms),
        );
        for (c, sent) in claimed.iter().zip(results) {
            let now = now_ms();
            match sent {
                Sent::Accepted(a) => {
                    self.outbox.ack(c.id, &a.case_number, now)?;
                    tracing::info!(id = c.id, case = %a.case_number, duplicate = a.duplicate, "submission accepted");
                    round.accepted += 1;
                }
                Sent::Retry { status, retry_after, error } => {
                    let wait = full_jitter(c.attempts, base, cap, &mut self.rng)
                        .max(retry_after.unwrap_or_default());
                    self.outbox.retry_at(c.id, now + wait.as_millis() as i64, status, &error)?;
                    tracing::warn!(
                        id = c.id,
                        ?status,
                        error,
                        wait_ms = wait.as_millis(),
                        "upload will be retried"
                    );
                    round.retried += 1;
                }
                Sent::Reauthenticate { status, error } => {
                    // Credentials or the clock: a technician's problem, never the resident's.
                    let wait = full_jitter(c.attempts, base, cap, &mut self.rng)
                        .max(Duration::from_secs(60).min(cap));
                    self.outbox.retry_at(c.id, now + wait.as_millis() as i64, Some(status), &error)?;
                    tracing::error!(
                        id = c.id,
                        status,
                        error,
                        "gateway refused our credentials; check the app secret, certificate and clock"
                    );
                    round.retried += 1;
                }
                Sent::Refused { status, error } => {
                    self.outbox.dead_letter(c.id, Some(status), &error)?;
                    tracing::error!(
                        id = c.id,
                        status,
                        error,
                        "submission refused; set aside for a technician"
                    );
                    round.refused += 1;
                }
            }
        }
        Ok(round)
    }

    /// Uploads until nothing is waiting. True when nothing was dead-lettered.
    pub async fn drain(&mut self) -> Result<bool> {
        loop {
            if self.round().await?.total() > 0 {
                continue;
            }
            let stats = self.outbox.stats(now_ms())?;
            if stats.pending + stats.in_flight == 0 {
                return Ok(stats.dead == 0);
            }
            let due = self.outbox.next_due_at()?.unwrap_or_else(now_ms);
            let wait = (due - now_ms()).clamp(10, self.config.upload.poll_ms as i64);
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
    }

    pub fn heartbeat_document(&self) -> Result<Heartbeat> {
        let now = now_ms();
        let stats = self.outbox.stats(now)?;
        let catalogue = self
            .catalogue_status
            .as_ref()
            .map(|s| s.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone())
            .unwrap_or_default();
        Ok(Heartbeat {
            kiosk_id: self.config.kiosk_id.clone(),
            software_version: env!("CARGO_PKG_VERSION").to_owned(),
            catalogue_version: catalogue.installed,
            catalogue_refused: catalogue.refused,
            queue_pending: stats.pending + stats.in_flight,
            queue_dead: stats.dead,
            oldest_pending_secs: stats.oldest_pending_ms.map(|ms| ms / 1000),
            devices: self.outbox.device_states()?.into_iter().collect(),
            sent_at: now / 1000,
        })
    }

    /// Leaves the last catalogue check's result where the UI's maintenance screen reads it
    /// (the outbox's device states, which heartbeats carry as well).
    fn record_catalogue_state(&mut self) {
        let Some(status) = &self.catalogue_status else { return };
        let status = status.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let text = match (status.refused, status.installed) {
            (Some(why), _) => format!("refused: {why}"),
            (None, Some(version)) => format!("current: {version}"),
            (None, None) => "no release installed yet".to_owned(),
        };
        if let Err(e) = self.outbox.set_device_state("catalogue_update", &text, now_ms()) {
            tracing::warn!(error = %e, "catalogue state not recorded");
        }
        if let Some(os) = &status.os
            && let Err(e) = self.outbox.set_device_state("os_update", os, now_ms())
        {
            tracing::warn!(error = %e, "OS update state not recorded");
        }
    }

    pub async fn send_heartbeat(&self) -> Result<()> {
        self.uploader.heartbeat(&self.heartbeat_document()?).await
    }

    /// The daemon: upload, heartbeat, pet the systemd watchdog, until `shutdown` resolves.
    pub async fn run(&mut self, shutdown: impl std::future::Future<Output = ()>) -> Result<()> {
        let mqtt = match &self.config.mqtt {
            Some(m) => Some(mqtt::MqttHeartbeat::connect(&self.config, m)?),
            None => None,
        };
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
        // Pet the watchdog at half the interval systemd set (WatchdogSec=), and not at all
        // without one: every message costs systemd a wake-up, and a full socket would block us.
        let mut usec = 0;
        let watchdog = sd_notify::watchdog_enabled(false, &mut usec).then(|| Duration::from_micros(usec / 2));
        let mut next_pet = tokio::time::Instant::now();
        let mut shutdown = std::pin::pin!(shutdown);
        let mut next_heartbeat = tokio::time::Instant::now();
        let catalogue = self.catalogue.take().map(|c| AbortOnDrop(tokio::spawn(c.run())));
        loop {
            if let Some(every) = watchdog
                && tokio::time::Instant::now() >= next_pet
            {
                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
                next_pet = tokio::time::Instant::now() + every;
            }
            if tokio::time::Instant::now() >= next_heartbeat {
                self.record_catalogue_state();
                let sent = match &mqtt {
                    Some(m) => match self.heartbeat_document() {
                        Ok(hb) => m.publish(&hb).await,
                        Err(e) => Err(e),
                    },
                    None => self.send_heartbeat().await,
                };
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "heartbeat not delivered");
                }
                next_heartbeat =
                    tokio::time::Instant::now() + Duration::from_secs(self.config.upload.heartbeat_secs);
            }
            let busy = match self.round().await {
                Ok(r) => r.total() > 0,
                Err(e) => {
                    tracing::error!(error = %e, "outbox error; retrying");
                    false
                }
            };
            let idle = if busy { Duration::ZERO } else { Duration::from_millis(self.config.upload.poll_ms) };
            tokio::select! {
                () = &mut shutdown => {
                    drop(catalogue);
                    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
                    tracing::info!("stopping");
                    return Ok(());
                }
                () = tokio::time::sleep(idle) => {}
            }
        }
    }
}

/// Stops a task when the agent stops, on every path out of [`Agent::run`]. An install cut short
/// leaves only its temporary file; the installed catalogue changes by rename alone.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_jitter_stays_under_the_ceiling() {
        let mut rng = fastrand::Rng::with_seed(7);
        let (base, cap) = (Duration::from_millis(100), Duration::from_secs(5));
        for attempt in 0..40 {
            let ceiling = (base * 2u32.saturating_pow(attempt.min(20))).min(cap);
            for _ in 0..50 {
                assert!(full_jitter(attempt, base, cap, &mut rng) <= ceiling);
            }
        }
        let spread: std::collections::BTreeSet<_> =
            (0..100).map(|_| full_jitter(6, base, cap, &mut rng)).collect();
        assert!(spread.len() > 50, "waits are spread out, not synchronised");
    }
}
