//! The upload API between a kiosk and the government service network, as this project defines it
//! (`sync/openapi.json`; the real network's API is not public). Shared by the kiosk's uploader
//! and the reference gateway so the two cannot drift apart.
//!
//! Every request carries the kiosk's app key, a timestamp, a nonce and a signature (HMAC-SHA256,
//! or HMAC-SM3 where national algorithms are required) over a canonical form of the request:
//! method, path, kiosk id, app key, timestamp, nonce, idempotency key and a digest of the body.
//! Signing the kiosk id means a request replayed over another kiosk's certificate (under another
//! `x-kiosk-id`) no longer verifies. TLS with a client certificate authenticates the kiosk too;
//! the signature survives TLS-terminating proxies.

pub mod evaluation;
pub mod live;
mod submission;

pub use evaluation::Evaluation;
pub use submission::{FormValue, FormValues, Submission};

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const HEADER_IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const HEADER_KIOSK_ID: &str = "x-kiosk-id";
pub const HEADER_APP_KEY: &str = "x-app-key";
pub const HEADER_TIMESTAMP: &str = "x-timestamp";
pub const HEADER_NONCE: &str = "x-nonce";
pub const HEADER_SIGNATURE: &str = "x-signature";
pub const HEADER_SIGNATURE_ALG: &str = "x-signature-alg";

pub const PATH_SUBMISSIONS: &str = "/v1/submissions";
pub const PATH_HEARTBEATS: &str = "/v1/heartbeats";
pub const PATH_EVALUATIONS: &str = "/v1/evaluations";

/// How far a request's timestamp may be from the gateway's clock, in seconds. Guangdong's
/// gateways use ±180 s; kiosks without a fresh NTP sync after a power cut need a little more.
pub const REPLAY_WINDOW_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Algorithm {
    #[serde(rename = "HMAC-SHA256")]
    HmacSha256,
    #[serde(rename = "HMAC-SM3")]
    HmacSm3,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::HmacSha256 => "HMAC-SHA256",
            Algorithm::HmacSm3 => "HMAC-SM3",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Algorithm::HmacSha256, Algorithm::HmacSm3].into_iter().find(|a| a.name().eq_ignore_ascii_case(name))
    }

    fn digest(self, body: &[u8]) -> String {
        match self {
            Algorithm::HmacSha256 => hex::encode(Sha256::digest(body)),
            Algorithm::HmacSm3 => hex::encode(sm3::Sm3::digest(body)),
        }
    }
}

/// The signed parts of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The kiosk id of `x-kiosk-id` (the client certificate's common name).
    pub kiosk_id: &'a str,
    pub app_key: &'a str,
    pub timestamp: i64,
    pub nonce: &'a str,
    /// Empty for requests without one (heartbeats).
    pub idempotency_key: &'a str,
    pub body: &'a [u8],
}

impl Signed<'_> {
    /// The canonical request: one field a line, the body as its digest in the same algorithm.
    pub fn canonical(&self, alg: Algorithm) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.method.to_ascii_uppercase(),
            self.path,
            self.kiosk_id,
            self.app_key,
            self.timestamp,
            self.nonce,
            self.idempotency_key,
            alg.digest(self.body)
        )
    }

    /// Lower-case hex HMAC of the canonical request under the app secret.
    pub fn sign(&self, alg: Algorithm, secret: &[u8]) -> String {
        let canonical = self.canonical(alg);
        match alg {
            Algorithm::HmacSha256 => {
                let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
                mac.update(canonical.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            Algorithm::HmacSm3 => {
                let mut mac = Hmac::<sm3::Sm3>::new_from_slice(secret).expect("HMAC takes any key length");
                mac.update(canonical.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
        }
    }

    /// Checks a signature in constant time (through the MAC's own verification).
    pub fn verify(&self, alg: Algorithm, secret: &[u8], signature_hex: &str) -> bool {
        let Ok(sig) = hex::decode(signature_hex.trim()) else { return false };
        let canonical = self.canonical(alg);
        match alg {
            Algorithm::HmacSha256 => {
                let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
                mac.update(canonical.as_bytes());
                mac.verify_slice(&sig).is_ok()
            }
            Algorithm::HmacSm3 => {
                let mut mac = Hmac::<sm3::Sm3>::new_from_slice(secret).expect("HMAC takes any key length");
                mac.update(canonical.as_bytes());
                mac.verify_slice(&sig).is_ok()
            }
        }
    }
}

/// The gateway's answer to an accepted submission. A repeat of the same idempotency key gets the
/// same case number, marked as a duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub case_number: String,
    pub received_at: i64,
    #[serde(default)]
    pub duplicate: bool,
}

/// An error answer body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: String,
    pub message: String,
}

/// Problem codes with which the service network refuses a submission for good. Only these,
/// in the gateway's own problem document, dead-letter a submission: a 4xx from anything else on
/// the way (a proxy's 403 page, a 404 from a mistyped URL) says nothing about the submission.
pub const REFUSAL_CODES: &[&str] = &["invalid_body", "idempotency_key_reused", "item_not_accepted"];

/// The problem code of a 401 whose timestamp was outside the replay window.
pub const CLOCK_SKEW: &str = "clock_skew";

/// What the uploader does with an answer (`reference/sync-ota.md` §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    /// Network trouble, 5xx, 408, 429: try again later.
    Retry,
    /// 401 (or the gateway's 403 `kiosk_mismatch`): the credentials or the clock are wrong; retry
    /// after fixing, never dead-letter.
    Reauthenticate,
    /// A 4xx that is not the service network's refusal of this submission (no problem document,
    /// or a code that is not a refusal): a proxy or a wrong address. Retry and report it.
    Misrouted,
    /// The service network refused this submission with one of [`REFUSAL_CODES`].
    DeadLetter,
}

pub fn classify(status: u16, problem: Option<&Problem>) -> Verdict {
    let code = problem.map(|p| p.code.as_str());
    match status {
        200 | 201 => Verdict::Accepted,
        401 => Verdict::Reauthenticate,
        403 if code == Some("kiosk_mismatch") => Verdict::Reauthenticate,
        408 | 425 | 429 => Verdict::Retry,
        400..=499 if code.is_some_and(|c| REFUSAL_CODES.contains(&c)) => Verdict::DeadLetter,
        400..=499 => Verdict::Misrouted,
        _ => Verdict::Retry,
    }
}

/// What a kiosk reports about itself (no personal data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Heartbeat {
    pub kiosk_id: String,
    pub software_version: String,
    pub catalogue_version: Option<String>,
    /// Why the last catalogue update was refused (tampered, expired, rolled back …); absent
    /// when the last check succeeded. The kiosk keeps its current catalogue meanwhile.
    #[serde(default)]
    pub catalogue_refused: Option<String>,
    pub queue_pending: u64,
    pub queue_dead: u64,
    /// Submissions whose payload this kiosk cannot open, set aside (`kioskctl outbox list`).
    #[serde(default)]
    pub queue_quarantined: u64,
    /// The kiosk's clock minus the gateway's (from its `Date` header), when known; uploads are
    /// signed with the corrected time meanwhile.
    #[serde(default)]
    pub clock_offset_secs: Option<i64>,
    /// Why uploads are not getting through, when they are not (a wrong address, credentials,
    /// a damaged outbox, a missing key), in words a technician acts on.
    #[serde(default)]
    pub upload_problem: Option<String>,
    pub oldest_pending_secs: Option<i64>,
    /// Part of the kiosk → its state (`kiosk_outbox::PartState` as text): its words when healthy,
    /// `warning: …` or `fault: …` otherwise (`fault: disconnected`, `warning: paper_near_end`).
    #[serde(default)]
    pub devices: std::collections::BTreeMap<String, String>,
    pub sent_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: &[u8]) -> Signed<'_> {
        Signed {
            method: "post",
            path: PATH_SUBMISSIONS,
            kiosk_id: "NH-GC-0007",
            app_key: "kiosk-dev",
            timestamp: 1_800_000_000,
            nonce: "n0nce",
            idempotency_key: "k1",
            body,
        }
    }

    #[test]
    fn canonical_form_is_fixed() {
        assert_eq!(
            req(b"{}").canonical(Algorithm::HmacSha256),
            "POST\n/v1/submissions\nNH-GC-0007\nkiosk-dev\n1800000000\nn0nce\nk1\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn signatures_verify_and_catch_any_change() {
        for alg in [Algorithm::HmacSha256, Algorithm::HmacSm3] {
            let sig = req(b"{\"a\":1}").sign(alg, b"secret");
            assert!(req(b"{\"a\":1}").verify(alg, b"secret", &sig));
            assert!(
                req(b"{\"a\":1}").verify(alg, b"secret", &sig.to_uppercase()),
                "hex case does not matter"
            );
            assert!(!req(b"{\"a\":2}").verify(alg, b"secret", &sig), "body changed");
            assert!(!req(b"{\"a\":1}").verify(alg, b"other", &sig), "wrong secret");
            let mut replay = req(b"{\"a\":1}");
            replay.timestamp += 1;
            assert!(!replay.verify(alg, b"secret", &sig));
            let mut other_kiosk = req(b"{\"a\":1}");
            other_kiosk.kiosk_id = "NH-GC-0008";
            assert!(!other_kiosk.verify(alg, b"secret", &sig), "the kiosk id is signed");
            assert!(!req(b"{\"a\":1}").verify(alg, b"secret", "zz"));
        }
        assert_ne!(req(b"x").sign(Algorithm::HmacSha256, b"s"), req(b"x").sign(Algorithm::HmacSm3, b"s"));
        // GB/T 32905 test vector: SM3("abc").
        assert_eq!(
            Algorithm::HmacSm3.digest(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn answers_are_classified() {
        let p = |code: &str| Problem { code: code.into(), message: String::new() };
        assert_eq!(classify(201, None), Verdict::Accepted);
        assert_eq!(classify(200, None), Verdict::Accepted);
        assert_eq!(classify(503, None), Verdict::Retry);
        assert_eq!(classify(429, Some(&p("injected"))), Verdict::Retry);
        assert_eq!(classify(401, Some(&p(CLOCK_SKEW))), Verdict::Reauthenticate);
        assert_eq!(classify(403, Some(&p("kiosk_mismatch"))), Verdict::Reauthenticate);
        assert_eq!(classify(422, Some(&p("invalid_body"))), Verdict::DeadLetter);
        assert_eq!(classify(409, Some(&p("idempotency_key_reused"))), Verdict::DeadLetter);
        assert_eq!(classify(404, None), Verdict::Misrouted, "a proxy's or a wrong path's 404");
        assert_eq!(classify(403, None), Verdict::Misrouted);
        assert_eq!(classify(422, Some(&p("something_else"))), Verdict::Misrouted);
    }
}
