//! The technician PIN. Stored only as an Argon2id hash (PHC string) in the kiosk's
//! configuration, so reading the configuration off a stolen disk does not give the PIN away;
//! repeated wrong PINs lock the screen for a while, doubling each time, so four digits cannot
//! be guessed by trying.
//!
//! Verification is deliberately slow (tens of milliseconds in release builds): the UI runs
//! [`verify`] off its thread and reports the result back with [`Gate::record`].

use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Wrong PINs allowed before a lockout.
pub const ATTEMPTS: u32 = 5;
/// The first lockout; each further one doubles, up to [`MAX_LOCKOUT`].
pub const LOCKOUT: Duration = Duration::from_secs(5 * 60);
pub const MAX_LOCKOUT: Duration = Duration::from_secs(4 * 60 * 60);

#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("the PIN must be 4 to 12 digits")]
    Format,
    #[error(
        "the stored PIN hash is not a valid Argon2 PHC string ({0}); set it again with `kiosk-ui --hash-pin`"
    )]
    Hash(String),
}

/// Hashes a new PIN with Argon2id and the random `salt` the caller brings (OWASP's minimum:
/// 19 MiB, 2 passes).
pub fn hash(pin: &str, salt: [u8; 16]) -> Result<String, PinError> {
    if !(4..=12).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PinError::Format);
    }
    let salt = SaltString::encode_b64(&salt).map_err(|e| PinError::Hash(e.to_string()))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default());
    Ok(argon.hash_password(pin.as_bytes(), &salt).map_err(|e| PinError::Hash(e.to_string()))?.to_string())
}

/// Checks a PIN against the stored hash; the parameters come from the hash itself.
pub fn verify(stored: &str, pin: &str) -> Result<bool, PinError> {
    let parsed = PasswordHash::new(stored).map_err(|e| PinError::Hash(e.to_string()))?;
    Ok(Argon2::default().verify_password(pin.as_bytes(), &parsed).is_ok())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead and verify.
    Open,
    /// Locked for this long.
    Locked(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    /// Wrong; this many tries remain before a lockout.
    Wrong(u32),
    /// Wrong, and now locked for this long.
    LockedOut(Duration),
}

/// Counts failures and keeps the lockout.
#[derive(Debug, Default)]
pub struct Gate {
    failures: u32,
    lockouts: u32,
    locked_until: Option<Instant>,
}

impl Gate {
    pub fn admit(&self, now: Instant) -> Admission {
        match self.locked_until {
            Some(until) if until > now => Admission::Locked(until - now),
            _ => Admission::Open,
        }
    }

    pub fn record(&mut self, accepted: bool, now: Instant) -> Outcome {
        if accepted {
            self.failures = 0;
            self.lockouts = 0;
            self.locked_until = None;
            return Outcome::Accepted;
        }
        self.failures += 1;
        if self.failures < ATTEMPTS {
            return Outcome::Wrong(ATTEMPTS - self.failures);
        }
        self.failures = 0;
        let lockout = LOCKOUT.saturating_mul(1 << self.lockouts.min(6)).min(MAX_LOCKOUT);
        self.lockouts += 1;
        self.locked_until = Some(now + lockout);
        tracing::warn!(minutes = lockout.as_secs() / 60, "technician PIN locked after repeated failures");
        Outcome::LockedOut(lockout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_pin_and_never_contains_it() {
        let stored = hash("482915", [7; 16]).unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert!(!stored.contains("482915"));
        assert!(verify(&stored, "482915").unwrap());
        assert!(!verify(&stored, "482916").unwrap());
        assert_ne!(hash("482915", [8; 16]).unwrap(), stored, "salted");
        assert!(matches!(hash("12a4", [7; 16]), Err(PinError::Format)));
        assert!(matches!(verify("not a hash", "1234"), Err(PinError::Hash(_))));
    }

    #[test]
    fn repeated_failures_lock_out_and_the_lockout_grows() {
        let t0 = Instant::now();
        let mut gate = Gate::default();
        for left in (1..ATTEMPTS).rev() {
            assert_eq!(gate.admit(t0), Admission::Open);
            assert_eq!(gate.record(false, t0), Outcome::Wrong(left));
        }
        assert_eq!(gate.record(false, t0), Outcome::LockedOut(LOCKOUT));
        assert_eq!(
            gate.admit(t0 + Duration::from_secs(60)),
            Admission::Locked(LOCKOUT - Duration::from_secs(60))
        );
        let t1 = t0 + LOCKOUT;
        assert_eq!(gate.admit(t1), Admission::Open);
        for _ in 0..ATTEMPTS {
            gate.record(false, t1);
        }
        assert_eq!(gate.admit(t1), Admission::Locked(LOCKOUT * 2), "the second lockout is twice as long");
        let t2 = t1 + LOCKOUT * 2;
        assert_eq!(gate.record(true, t2), Outcome::Accepted);
        assert_eq!(gate.record(false, t2), Outcome::Wrong(ATTEMPTS - 1), "success resets the count");
    }
}
