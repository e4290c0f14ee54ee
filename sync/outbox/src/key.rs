//! The kiosk's payload key and the sealing of payloads with it.
//!
//! Why field-level AEAD rather than SQLCipher: the queue's metadata (state, attempts, times, case
//! numbers) carries no personal data and technicians must be able to inspect it with `kioskctl`
//! without holding the key; only the payload is personal. XChaCha20-Poly1305 needs no OpenSSL
//! (SQLCipher links libcrypto), its 24-byte random nonces never collide in practice, and binding
//! the idempotency key as associated data stops a payload from being moved to another row. The
//! key lives in a file outside the database (on the image: a TPM-sealed or provisioning-time
//! secret on the data partition, mode 0600); a stolen database file alone reveals nothing.

use std::io::Write;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::OutboxError;

const NONCE_LEN: usize = 24;

/// 256-bit payload key, wiped when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PayloadKey([u8; 32]);

impl std::fmt::Debug for PayloadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PayloadKey(..)")
    }
}

impl PayloadKey {
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).expect("the OS random source works");
        Self(k)
    }

    /// Loads the key file, creating it (mode 0600) at first start of a freshly provisioned kiosk.
    pub fn load_or_create(path: &Path) -> Result<Self, OutboxError> {
        let key_err = |e: std::io::Error| OutboxError::Key(format!("{}: {e}", path.display()));
        match std::fs::read(path) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let raw: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    OutboxError::Key(format!(
                        "{} is {} bytes, not a 32-byte key",
                        path.display(),
                        bytes.len()
                    ))
                })?;
                Ok(Self(raw))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(key_err)?;
                file.write_all(&key.0).and_then(|()| file.sync_all()).map_err(key_err)?;
                tracing::info!(path = %path.display(), "new payload key created");
                Ok(key)
            }
            Err(e) => Err(key_err(e)),
        }
    }

    /// nonce ‖ ciphertext ‖ tag, bound to `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new_from_slice(&self.0).expect("32-byte key");
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the OS random source works");
        let sealed = cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: plaintext, aad })
            .expect("encryption of an in-memory buffer cannot fail");
        [nonce.as_slice(), &sealed].concat()
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, OutboxError> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(OutboxError::Tampered);
        }
        let cipher = XChaCha20Poly1305::new_from_slice(&self.0).expect("32-byte key");
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| OutboxError::Tampered)?;
        cipher
            .decrypt(&nonce, Payload { msg: body, aad })
            .map(Zeroizing::new)
            .map_err(|_| OutboxError::Tampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_refuses_tampering() {
        let key = PayloadKey::generate();
        let sealed = key.seal(b"name=chen", b"key-1");
        assert_eq!(&*key.open(&sealed, b"key-1").unwrap(), b"name=chen");
        assert!(matches!(key.open(&sealed, b"key-2"), Err(OutboxError::Tampered)), "bound to its row");
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        assert!(matches!(key.open(&flipped, b"key-1"), Err(OutboxError::Tampered)));
        assert!(matches!(PayloadKey::generate().open(&sealed, b"key-1"), Err(OutboxError::Tampered)));
        assert_ne!(key.seal(b"x", b"k"), key.seal(b"x", b"k"), "fresh nonce every time");
    }

    #[test]
    fn key_file_is_created_private_and_reloaded() {
        let path = std::env::temp_dir().join(format!("kiosk-outbox-key-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let a = PayloadKey::load_or_create(&path).unwrap();
        let b = PayloadKey::load_or_create(&path).unwrap();
        assert_eq!(a.0, b.0);
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(&path, b"short").unwrap();
        assert!(PayloadKey::load_or_create(&path).is_err());
        std::fs::remove_file(&path).unwrap();
    }
}
