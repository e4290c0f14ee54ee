//! Hashing and checking the technician PIN: Argon2id in a PHC string, so reading the
//! configuration off a stolen disk does not give the PIN away. Checking is slow on purpose (tens
//! of milliseconds in release builds), so [`crate::App`] runs [`verify`] off the UI thread; the
//! lockout rules are the core's (`kiosk_app::pin::Gate`).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("the PIN must be 4 to 12 digits")]
    Format,
    #[error(
        "the stored PIN hash is not a valid Argon2 PHC string ({0}); set it again with `kiosk-ui --hash-pin`"
    )]
    Hash(String),
    #[error("no randomness for the PIN's salt: {0}")]
    Salt(String),
}

/// A new PIN's hash, salted from the OS random source.
pub fn hash_new(pin: &str) -> Result<String, PinError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PinError::Salt(e.to_string()))?;
    hash(pin, salt)
}

/// Hashes a PIN with Argon2id and `salt` (OWASP's minimum: 19 MiB, 2 passes).
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
        assert_ne!(hash_new("482915").unwrap(), hash_new("482915").unwrap(), "a fresh salt each time");
        assert!(matches!(hash("12a4", [7; 16]), Err(PinError::Format)));
        assert!(matches!(verify("not a hash", "1234"), Err(PinError::Hash(_))));
    }
}
