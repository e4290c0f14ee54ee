//! The technician PIN's rules: repeated wrong PINs lock the screen for a while, doubling each
//! time, so four digits cannot be guessed by trying. The PIN itself is stored only as an Argon2id
//! hash in the kiosk's configuration; checking it is slow on purpose and the shell's work
//! (`kiosk-ui`'s `pin.rs`, off the UI thread), which reports the result with [`Gate::record`]
//! through `Session::pin_result`.

use std::time::{Duration, Instant};

/// Wrong PINs allowed before a lockout.
pub const ATTEMPTS: u32 = 5;
/// The first lockout; each further one doubles, up to [`MAX_LOCKOUT`].
pub const LOCKOUT: Duration = Duration::from_secs(5 * 60);
pub const MAX_LOCKOUT: Duration = Duration::from_secs(4 * 60 * 60);

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
