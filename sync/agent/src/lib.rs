//! The sync agent: leases due submissions from the outbox, uploads them signed over mutual TLS,
//! records each answer (accepted → receipt, retry → persisted full-jitter backoff, refused by the
//! service network → dead letter), and reports the kiosk's health in heartbeats. Delivery is
//! at-least-once; the gateway's idempotency-key dedup makes it exactly once.
//!
//! One agent holds an outbox at a time ([`AgentLock`]). A `Retry-After` pauses every upload for
//! as long as it says; a 4xx that is not the service network's own refusal is retried and
//! reported, never dead-lettered; answers the outbox cannot take yet are kept and recorded
//! before anything new is leased; the gateway's `Date` corrects the time requests are signed
//! with, and the offset is reported.

pub mod config;
pub mod local;
pub mod mqtt;
pub mod updates;

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use kiosk_outbox::{AgentLock, Answer, Claimed, Outbox, Part, PartState, now_ms};
use kiosk_sync_proto::{self as proto, Accepted, Heartbeat, Verdict};
use zeroize::Zeroizing;

pub use config::Config;
pub use updates::{UpdateStatus, Updater};

/// What one upload came to.
#[derive(Debug)]
pub enum Sent {
    Accepted(Accepted),
    Retry {
        status: Option<u16>,
        retry_after: Option<Duration>,
        error: String,
    },
    /// The gateway refused the kiosk's credentials or clock (401, or its 403 `kiosk_mismatch`).
    Reauthenticate {
        status: u16,
        error: String,
    },
    /// A 4xx that is not the service network's refusal: a proxy or a wrong gateway address.
    Misrouted {
        status: u16,
        error: String,
    },
    Refused {
        status: u16,
        error: String,
    },
}

/// Full-jitter exponential backoff: a random wait between zero and min(cap, base · 2^attempt).
pub fn full_jitter(attempt: u32, base: Duration, cap: Duration, rng: &mut fastrand::Rng) -> Duration {
    let ceiling = base.saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX)).min(cap);
    Duration::from_millis(rng.u64(0..=ceiling.as_millis() as u64))
}

/// The longest pause a gateway's `Retry-After` can impose: hours are honoured, a garbled
/// header of years is not.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// A clock offset the agent tolerates without reporting it.
const CLOCK_REPORT_MS: i64 = 30_000;

/// Signs and sends requests to the gateway.
pub struct Uploader {
    pub(crate) client: reqwest::Client,
    base: String,
    kiosk_id: String,
    app_key: String,
    secret: Zeroizing<Vec<u8>>,
    alg: proto::Algorithm,
    /// The gateway's clock minus ours, in ms, from the `Date` header of its last answer. Requests
    /// are signed with the corrected time, so a kiosk whose clock drifted keeps uploading (the
    /// gateway's replay window still holds) and reports the drift instead of going silent.
    offset_ms: AtomicI64,
    offset_known: AtomicBool,
    /// What the last request to the gateway came to: the local API answers "network
    /// unavailable" at once while a recent one could not connect.
    link: Mutex<Link>,
}

/// The link to the service network as the last requests found it.
#[derive(Debug, Default, Clone, Copy)]
struct Link {
    /// The last answer of any kind from the gateway.
    last_answer: Option<Instant>,
    /// Since when requests fail to connect, while they do.
    down_since: Option<Instant>,
    /// The last request that found no answer in time (a link that swallows packets): trying
    /// again costs a resident the whole deadline. A refused connection costs nothing to retry.
    last_timeout: Option<Instant>,
}

/// While a request found the link unresponsive this recently, live requests are not even tried.
const LINK_RETRY_AFTER: Duration = Duration::from_secs(5);

/// What a live request forwarded to the gateway came to.
#[derive(Debug)]
pub enum Live {
    /// The gateway answered (any status); its body is passed on as it is.
    Answer { status: u16, body: Bytes },
    /// The link is down: no connection to the gateway (now, or a moment ago).
    Unavailable(String),
    /// No answer within the deadline.
    Timeout,
}

impl std::fmt::Debug for Uploader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uploader")
            .field("base", &self.base)
            .field("kiosk_id", &self.kiosk_id)
            .finish_non_exhaustive()
    }
}

fn nonce() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS random source works");
    hex::encode(b)
}

impl Uploader {
    pub fn new(config: &Config) -> Result<Self> {
        let read = |p: &std::path::Path| {
            std::fs::read(p).map(Zeroizing::new).with_context(|| format!("reading {}", p.display()))
        };
        let ca = reqwest::Certificate::from_pem(&read(&config.ca)?).context("the gateway CA")?;
        let mut identity_pem = read(&config.client_cert)?;
        identity_pem.extend(read(&config.client_key)?.iter());
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
        let secret = Zeroizing::new(read(&config.app_secret_file)?.trim_ascii().to_vec());
        Ok(Self {
            client,
            base: config.gateway.trim_end_matches('/').to_owned(),
            kiosk_id: config.kiosk_id.clone(),
            app_key: config.app_key.clone(),
            secret,
            alg: config.algorithm()?,
            offset_ms: AtomicI64::new(0),
            offset_known: AtomicBool::new(false),
            link: Mutex::new(Link::default()),
        })
    }

    /// The mutual-TLS client, for the update repository on the same gateway.
    pub fn https_client(&self) -> reqwest::Client {
        self.client.clone()
    }

    /// Our clock minus the gateway's, in ms, once an answer told us.
    pub fn clock_offset_ms(&self) -> Option<i64> {
        self.offset_known.load(Ordering::Relaxed).then(|| -self.offset_ms.load(Ordering::Relaxed))
    }

    /// Learns the gateway's time from an answer's `Date` header (one-second resolution: offsets
    /// under two seconds are noise and ignored).
    fn learn_clock(&self, headers: &reqwest::header::HeaderMap) {
        let Some(date) = headers.get(reqwest::header::DATE).and_then(|v| v.to_str().ok()) else { return };
        let Ok(theirs) = httpdate::parse_http_date(date) else { return };
        let theirs = theirs.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        let offset = theirs - now_ms();
        let offset = if offset.abs() < 2_000 { 0 } else { offset };
        self.offset_ms.store(offset, Ordering::Relaxed);
        self.offset_known.store(true, Ordering::Relaxed);
    }

    fn signed_post(&self, path: &str, idempotency_key: &str, body: &Bytes) -> reqwest::RequestBuilder {
        let timestamp = (now_ms() + self.offset_ms.load(Ordering::Relaxed)) / 1000;
        let nonce = nonce();
        let signature = proto::Signed {
            method: "POST",
            path,
            kiosk_id: &self.kiosk_id,
            app_key: &self.app_key,
            timestamp,
            nonce: &nonce,
            idempotency_key,
            body,
        }
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
        req.body(body.clone())
    }

    /// Whether the gateway answered the last request, and since when it has not.
    pub fn online(&self) -> (bool, Option<Duration>) {
        let link = *self.link.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        (link.down_since.is_none(), link.last_answer.map(|t| t.elapsed()))
    }

    fn note_link(&self, result: &reqwest::Result<reqwest::Response>) {
        let mut link = self.link.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        match result {
            Ok(_) => {
                if link.down_since.take().is_some() {
                    tracing::info!("the service network answers again");
                }
                link.last_answer = Some(now);
            }
            Err(e) if e.is_connect() || e.is_timeout() => {
                link.down_since.get_or_insert(now);
                if e.is_timeout() {
                    link.last_timeout = Some(now);
                }
            }
            Err(_) => {}
        }
    }

    /// Sends one signed request and notes what it says about the link.
    async fn send_signed(
        &self,
        path: &str,
        idempotency_key: &str,
        body: &Bytes,
    ) -> reqwest::Result<reqwest::Response> {
        let result = self.signed_post(path, idempotency_key, body).send().await;
        self.note_link(&result);
        result
    }

    /// Forwards a live request (`kiosk_sync_proto::live`) to the gateway, signed like an upload,
    /// within `deadline`. While the link is down and a request found it unresponsive a moment
    /// ago, it is not tried: the resident hears at once that the network is down instead of
    /// waiting out the deadline. A link that refuses connections is tried each time: that costs
    /// nothing, and the first question after it returns gets its answer.
    pub async fn live(&self, service: proto::live::Service, body: Bytes, deadline: Duration) -> Live {
        let link = *self.link.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if link.down_since.is_some() && link.last_timeout.is_some_and(|t| t.elapsed() < LINK_RETRY_AFTER) {
            return Live::Unavailable("the service network did not answer a moment ago".into());
        }
        let path = service.gateway_path();
        let request = async {
            let response = self.post(&path, "", &body).await?;
            let status = response.status().as_u16();
            Ok::<_, reqwest::Error>((status, response.bytes().await?))
        };
        match tokio::time::timeout(deadline, request).await {
            Err(_) => {
                let mut link = self.link.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                link.last_timeout = Some(Instant::now());
                Live::Timeout
            }
            Ok(Ok((status, body))) => Live::Answer { status, body },
            Ok(Err(e)) if e.is_timeout() => Live::Timeout,
            Ok(Err(e)) => Live::Unavailable(describe(&e)),
        }
    }

    /// Sends a signed POST and learns the gateway's time from the answer. A 401 that taught us a
    /// new clock offset (the gateway refused our clock) is sent once more at once, signed with the
    /// corrected time: one rule for uploads, heartbeats and live requests alike.
    async fn post(
        &self,
        path: &str,
        idempotency_key: &str,
        body: &Bytes,
    ) -> reqwest::Result<reqwest::Response> {
        let before = self.offset_ms.load(Ordering::Relaxed);
        let first = self.send_signed(path, idempotency_key, body).await?;
        self.learn_clock(first.headers());
        let offset = self.offset_ms.load(Ordering::Relaxed);
        if first.status() != reqwest::StatusCode::UNAUTHORIZED || offset == before {
            return Ok(first);
        }
        tracing::warn!(offset_ms = -offset, "the gateway refused our clock; signing with its time");
        let again = self.send_signed(path, idempotency_key, body).await?;
        self.learn_clock(again.headers());
        Ok(again)
    }

    /// Uploads one queued row (an application or a rating, each to its endpoint); never fails,
    /// every outcome is a [`Sent`].
    pub async fn send(&self, c: &Claimed) -> Sent {
        // The request owns a wiped-on-drop copy of the form: no plaintext outlives the upload.
        let body = Bytes::from_owner(c.payload.clone());
        let path = match c.kind {
            kiosk_outbox::Kind::Submission => proto::PATH_SUBMISSIONS,
            kiosk_outbox::Kind::Evaluation => proto::PATH_EVALUATIONS,
        };
        let response = match self.post(path, &c.idempotency_key, &body).await {
            Ok(r) => r,
            Err(e) => return Sent::Retry { status: None, retry_after: None, error: describe(&e) },
        };
        drop(body);
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return Sent::Retry { status: Some(status), retry_after, error: describe(&e) },
        };
        let problem = serde_json::from_slice::<proto::Problem>(&body).ok();
        let said = problem
            .as_ref()
            .map_or_else(|| format!("HTTP {status}"), |p| format!("HTTP {status} {}: {}", p.code, p.message));
        match proto::classify(status, problem.as_ref()) {
            Verdict::Accepted => match serde_json::from_slice::<Accepted>(&body) {
                Ok(a) => Sent::Accepted(a),
                Err(e) => Sent::Retry {
                    status: Some(status),
                    retry_after,
                    error: format!("unreadable answer: {e}"),
                },
            },
            Verdict::Retry => Sent::Retry { status: Some(status), retry_after, error: said },
            Verdict::Reauthenticate => Sent::Reauthenticate { status, error: said },
            Verdict::Misrouted => Sent::Misrouted {
                status,
                error: format!(
                    "{said} from {}{path} is not the service network's answer (a proxy, or a wrong `gateway` address in kiosk-sync.toml?)",
                    self.base,
                ),
            },
            Verdict::DeadLetter => Sent::Refused { status, error: said },
        }
    }

    /// Sends a heartbeat (a refusal of our clock is sent again at once, as for uploads).
    pub async fn heartbeat(&self, hb: &Heartbeat) -> Result<()> {
        let body = Bytes::from(serde_json::to_vec(hb)?);
        let r =
            self.post(proto::PATH_HEARTBEATS, "", &body).await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
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
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    pub accepted: usize,
    pub retried: usize,
    pub refused: usize,
    /// The gateway refused the kiosk's credentials or clock: the words to report.
    pub auth_failed: Option<String>,
    /// Uploads wait for the gateway's Retry-After until this time (ms).
    pub paused_until: Option<i64>,
}

impl Round {
    pub fn total(&self) -> usize {
        self.accepted + self.retried + self.refused
    }
}

/// How a `--drain` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drained {
    /// Nothing is left to send; `set_aside` submissions were refused or quarantined by this run.
    Empty { set_aside: u64 },
    /// `left` submissions wait past the drain's patience (a Retry-After, a long backoff) until
    /// `until`; the daemon sends them then.
    Waiting { left: u64, until: i64 },
    /// The gateway refused the kiosk's credentials or clock.
    AuthFailed(String),
}

pub struct Agent {
    pub outbox: Outbox,
    /// Held for the agent's life: one agent per outbox.
    _lock: AgentLock,
    /// Taken by [`Agent::run`] into a task of its own.
    pub updater: Option<Updater>,
    update_status: Option<Arc<Mutex<UpdateStatus>>>,
    uploader: Arc<Uploader>,
    config: Config,
    owner: String,
    rng: fastrand::Rng,
    /// Answers the outbox could not take yet (locked or full): recorded before anything new is
    /// leased, so nothing the gateway said is lost and no lease is left to run out for nothing.
    unrecorded: Vec<(i64, Answer)>,
    /// Why uploads are not getting through, for heartbeats and the maintenance screen.
    problem: Option<String>,
    /// The outbox turned out damaged while running: nothing more is written to it.
    damaged: Option<String>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent").field("owner", &self.owner).finish_non_exhaustive()
    }
}

impl Agent {
    pub fn new(config: Config) -> Result<Self> {
        config.check_secret_modes()?;
        let lock = AgentLock::acquire(&config.outbox)?;
        let mut outbox =
            Outbox::open_with_key_file(&config.outbox, &config.payload_key, config.queue.options())?;
        match outbox.recover_in_flight(&lock) {
            Ok(0) => {}
            Ok(recovered) => {
                tracing::info!(recovered, "uploads interrupted by a previous run will be sent again")
            }
            // Their leases run out and are taken over by the first claim after that.
            Err(e) => tracing::warn!(error = %e, "interrupted uploads not released yet"),
        }
        let uploader = Arc::new(Uploader::new(&config)?);
        if let Some(os) = config.catalogue.as_ref().and_then(|c| c.os.as_ref()) {
            // Which system this kiosk runs, for the fleet view and the maintenance screen.
            let (version, slot) = updates::running_os(&os.os_release);
            let text = slot.map_or_else(|| version.clone(), |s| format!("{version} (slot {s})"));
            if let Err(e) = outbox.set_part_state(Part::Os, &PartState::ok(text), now_ms()) {
                tracing::warn!(error = %e, "OS version not recorded");
            }
        }
        let updater = match &config.catalogue {
            Some(c) => Some(Updater::new(c, &config.gateway, uploader.client.clone())?),
            None => None,
        };
        Ok(Self {
            outbox,
            _lock: lock,
            update_status: updater.as_ref().map(Updater::status),
            updater,
            uploader,
            owner: format!("kiosk-sync/{}", std::process::id()),
            rng: fastrand::Rng::new(),
            config,
            unrecorded: Vec::new(),
            problem: None,
            damaged: None,
        })
    }

    /// Records the answers kept so far; on failure they stay kept for the next try.
    fn record_answers(&mut self) -> Result<(), kiosk_outbox::OutboxError> {
        if self.unrecorded.is_empty() {
            return Ok(());
        }
        let results = self.outbox.record(&self.unrecorded, now_ms())?;
        for ((id, _), result) in self.unrecorded.iter().zip(results) {
            if let Err(e) = result {
                tracing::warn!(id, error = %e, "answer not recorded: the submission was no longer leased");
            }
        }
        self.unrecorded.clear();
        Ok(())
    }

    /// Uploads what is due now, `concurrency` at a time, and records every answer.
    pub async fn round(&mut self) -> Result<Round> {
        if let Some(why) = &self.damaged {
            anyhow::bail!("{why}");
        }
        let result = self.round_inner().await;
        if let Err(e) = &result
            && let Some(kiosk_outbox::OutboxError::Corrupt { .. }) = e.downcast_ref()
        {
            self.damaged = Some(format!("{e:#}"));
        }
        result
    }

    async fn round_inner(&mut self) -> Result<Round> {
        self.record_answers().context("recording earlier answers (they are kept and tried again)")?;
        let mut round = Round::default();
        let now = now_ms();
        if let Some(until) = self.outbox.paused_until(now)? {
            round.paused_until = Some(until);
            return Ok(round);
        }
        let lease = self.config.timeout() * 3;
        let claimed = self.outbox.claim_due(&self.owner, now, self.config.upload.concurrency, lease)?;
        let results = futures_util::future::join_all(claimed.iter().map(|c| self.uploader.send(c))).await;
        let (base, cap) = (
            Duration::from_millis(self.config.upload.backoff_base_ms),
            Duration::from_millis(self.config.upload.backoff_cap_ms),
        );
        let now = now_ms();
        let mut pause: Option<Duration> = None;
        let mut problem = None;
        for (c, sent) in claimed.iter().zip(results) {
            let jitter = full_jitter(c.attempts, base, cap, &mut self.rng);
            let retry = |wait: Duration, status: Option<u16>, error: String| Answer::Retry {
                at: now + wait.as_millis() as i64,
                status,
                error,
            };
            let answer = match sent {
                Sent::Accepted(a) => {
                    tracing::info!(id = c.id, case = %a.case_number, duplicate = a.duplicate, "submission accepted");
                    round.accepted += 1;
                    Answer::Accepted { case_number: a.case_number }
                }
                Sent::Retry { status, retry_after, error } => {
                    let wait = jitter.max(retry_after.unwrap_or_default());
                    if let Some(ra) = retry_after.filter(|ra| !ra.is_zero()) {
                        pause = pause.max(Some(ra));
                    }
                    tracing::warn!(
                        id = c.id,
                        ?status,
                        error,
                        wait_ms = wait.as_millis(),
                        "upload will be retried"
                    );
                    round.retried += 1;
                    retry(wait, status, error)
                }
                Sent::Reauthenticate { status, error } => {
                    // Credentials or the clock: a technician's problem, never the resident's.
                    let wait = jitter.max(Duration::from_secs(60).min(cap));
                    tracing::error!(
                        id = c.id,
                        status,
                        error,
                        "gateway refused our credentials; check the app secret, certificate and clock"
                    );
                    let why = format!(
                        "the gateway refused the kiosk's credentials: {error}; check the app secret, the certificate and the clock"
                    );
                    round.auth_failed = Some(why.clone());
                    problem = Some(why);
                    round.retried += 1;
                    retry(wait, Some(status), error)
                }
                Sent::Misrouted { status, error } => {
                    tracing::error!(
                        id = c.id,
                        status,
                        error,
                        "upload did not reach the service network; will retry"
                    );
                    problem = Some(error.clone());
                    round.retried += 1;
                    retry(jitter, Some(status), error)
                }
                Sent::Refused { status, error } => {
                    tracing::error!(
                        id = c.id,
                        status,
                        error,
                        "submission refused; set aside for a technician"
                    );
                    round.refused += 1;
                    Answer::Refused { status: Some(status), error }
                }
            };
            self.unrecorded.push((c.id, answer));
        }
        if !claimed.is_empty() {
            self.problem = problem;
        }
        if let Some(wait) = pause {
            let until = now + wait.as_millis() as i64;
            tracing::warn!(
                wait_secs = wait.as_secs(),
                "the gateway asked every upload to wait (Retry-After)"
            );
            if let Err(e) = self.outbox.pause_uploads(until, now) {
                tracing::warn!(error = %e, "pause not recorded; the submissions keep their own retry times");
            }
            round.paused_until = Some(until);
        }
        if let Err(e) = self.record_answers() {
            tracing::warn!(error = %e, kept = self.unrecorded.len(), "answers not recorded yet; kept and tried again");
        }
        Ok(round)
    }

    /// Uploads until nothing is waiting, or until what waits is due later than `patience`.
    pub async fn drain(&mut self, patience: Duration) -> Result<Drained> {
        let set_aside = |ob: &Outbox| ob.stats(now_ms()).map(|s| s.dead + s.quarantined);
        let before = set_aside(&self.outbox)?;
        loop {
            let round = self.round().await?;
            if let Some(why) = round.auth_failed {
                return Ok(Drained::AuthFailed(why));
            }
            if round.total() > 0 {
                continue;
            }
            let now = now_ms();
            let stats = self.outbox.stats(now)?;
            let left = stats.pending + stats.in_flight;
            if left == 0 && self.unrecorded.is_empty() {
                return Ok(Drained::Empty { set_aside: set_aside(&self.outbox)?.saturating_sub(before) });
            }
            let due = self.outbox.next_due_at()?.unwrap_or(now).max(round.paused_until.unwrap_or(now));
            if due - now > patience.as_millis() as i64 {
                return Ok(Drained::Waiting { left, until: due });
            }
            let wait = (due - now).clamp(10, self.config.upload.poll_ms as i64);
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
    }

    pub fn heartbeat_document(&self) -> Result<Heartbeat> {
        let problem = self.damaged.clone().or_else(|| self.problem.clone());
        heartbeat_document(
            &self.config,
            Some(&self.outbox),
            &self.uploader,
            self.update_status.as_ref(),
            problem,
        )
    }

    /// Leaves what the agent knows where the UI's maintenance screen reads it (the outbox's
    /// device states, which heartbeats carry as well): the last catalogue check, the upload
    /// problem if any, and the clock's offset from the gateway's.
    fn record_states(&mut self) {
        if self.damaged.is_some() {
            return;
        }
        let mut states = Vec::new();
        if let Some(status) = &self.update_status {
            let status = status.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            states.push((
                Part::CatalogueUpdate,
                match (status.refused, status.installed) {
                    (Some(why), _) => PartState::warning(format!("refused: {why}")),
                    (None, Some(version)) => PartState::ok(format!("current: {version}")),
                    (None, None) => PartState::ok("no release installed yet"),
                },
            ));
            if let Some(os) = status.os {
                states.push((Part::OsUpdate, os));
            }
        }
        states.push((
            Part::Uploads,
            self.problem.as_ref().map_or_else(|| PartState::ok(""), |p| PartState::warning(p.clone())),
        ));
        if let Some(offset) = self.uploader.clock_offset_ms() {
            states.push((Part::Clock, clock_state(offset)));
        }
        for (part, state) in states {
            if let Err(e) = self.outbox.set_part_state(part, &state, now_ms()) {
                tracing::warn!(part = part.as_str(), error = %e, "state not recorded");
            }
        }
    }

    pub async fn send_heartbeat(&self) -> Result<()> {
        self.uploader.heartbeat(&self.heartbeat_document()?).await
    }

    /// Deletes receipts past the retention period and takes the space reserve back if it was
    /// given up (hourly in the daemon).
    fn housekeeping(&mut self) {
        self.outbox.keep_reserve();
        let keep = Duration::from_secs(self.config.queue.receipt_retention_days * 86_400);
        match self.outbox.purge_receipts(now_ms() - keep.as_millis() as i64) {
            Ok(0) => {}
            Ok(n) => tracing::info!(receipts = n, "receipts past the retention period deleted"),
            Err(e) => tracing::warn!(error = %e, "receipts not purged"),
        }
    }

    /// The daemon: upload, heartbeat, pet the systemd watchdog, until `shutdown` resolves.
    pub async fn run(&mut self, shutdown: impl std::future::Future<Output = ()>) -> Result<()> {
        let mqtt = match &self.config.mqtt {
            Some(m) => Some(mqtt::MqttHeartbeat::connect(&self.config, m)?),
            None => None,
        };
        // The local API's socket exists before systemd hears the agent is up.
        let _local = match &self.config.local {
            Some(l) => Some(AbortOnDrop(tokio::spawn(local::serve(
                local::bind(l)?,
                local::Forwarder::new(self.uploader.clone(), &self.config.kiosk_id, l),
            )))),
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
        let mut next_purge = tokio::time::Instant::now();
        let updates = self.updater.take().map(|u| AbortOnDrop(tokio::spawn(u.run())));
        loop {
            if let Some(every) = watchdog
                && tokio::time::Instant::now() >= next_pet
            {
                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
                next_pet = tokio::time::Instant::now() + every;
            }
            if tokio::time::Instant::now() >= next_purge {
                self.housekeeping();
                next_purge = tokio::time::Instant::now() + Duration::from_secs(3600);
            }
            if tokio::time::Instant::now() >= next_heartbeat {
                self.record_states();
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
                    tracing::error!(error = %format!("{e:#}"), "outbox error; retrying");
                    false
                }
            };
            let idle = if busy { Duration::ZERO } else { Duration::from_millis(self.config.upload.poll_ms) };
            tokio::select! {
                () = &mut shutdown => {
                    drop(updates);
                    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
                    tracing::info!("stopping");
                    return Ok(());
                }
                () = tokio::time::sleep(idle) => {}
            }
        }
    }
}

/// The clock's offset as the maintenance screen and `kiosk-diag` show it: a warning past the
/// point where signed requests risk refusal.
pub fn clock_state(offset_ms: i64) -> PartState {
    if offset_ms.abs() < CLOCK_REPORT_MS {
        return PartState::ok(format!("within {} s of the gateway", offset_ms.abs() / 1000 + 1));
    }
    PartState::warning(format!(
        "off by {} s: the kiosk is {} the gateway; uploads are signed with the gateway's time meanwhile; check NTP (timedatectl)",
        offset_ms.abs() / 1000,
        if offset_ms > 0 { "ahead of" } else { "behind" }
    ))
}

fn heartbeat_document(
    config: &Config,
    outbox: Option<&Outbox>,
    uploader: &Uploader,
    catalogue: Option<&Arc<Mutex<UpdateStatus>>>,
    problem: Option<String>,
) -> Result<Heartbeat> {
    let now = now_ms();
    // A damaged outbox still gets its heartbeat out: the fleet must hear of it.
    let (stats, devices) = match outbox.map(|o| (o.stats(now), o.part_states())) {
        Some((Ok(stats), Ok(parts))) => (
            stats,
            parts.into_iter().map(|(part, state)| (part.as_str().to_owned(), state.to_string())).collect(),
        ),
        Some((Err(e), _) | (_, Err(e))) => {
            (kiosk_outbox::Stats::default(), vec![("outbox".to_owned(), e.to_string())])
        }
        None => (kiosk_outbox::Stats::default(), Vec::new()),
    };
    let catalogue = catalogue
        .map(|s| s.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone())
        .unwrap_or_default();
    Ok(Heartbeat {
        kiosk_id: config.kiosk_id.clone(),
        software_version: env!("CARGO_PKG_VERSION").to_owned(),
        catalogue_version: catalogue.installed,
        catalogue_refused: catalogue.refused,
        queue_pending: stats.pending + stats.in_flight,
        queue_dead: stats.dead,
        queue_quarantined: stats.quarantined,
        oldest_pending_secs: stats.oldest_pending_ms.map(|ms| ms / 1000),
        clock_offset_secs: uploader.clock_offset_ms().map(|ms| ms / 1000),
        upload_problem: problem,
        devices: devices.into_iter().collect(),
        sent_at: now / 1000,
    })
}

/// A heartbeat sent without taking the outbox: for `kiosk-diag check`, which must observe a
/// running kiosk without disturbing its agent (no lock, no key, no lease, no write). Returns
/// the clock offset the gateway's answer showed.
pub async fn probe_gateway(config: &Config) -> Result<Option<i64>> {
    // Before kiosk-ui's first start there is no outbox yet; looking must not create one.
    let outbox = config
        .outbox
        .exists()
        .then(|| Outbox::open_for_inspection(&config.outbox, config.queue.options()))
        .transpose()?;
    let uploader = Uploader::new(config)?;
    let hb = heartbeat_document(config, outbox.as_ref(), &uploader, None, None)?;
    uploader.heartbeat(&hb).await?;
    Ok(uploader.clock_offset_ms())
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
