//! The kiosk's payload key and the sealing of payloads with it.
//!
//! Why field-level AEAD rather than SQLCipher: the queue's metadata (state, attempts, times, case
//! numbers) carries no personal data and technicians must be able to inspect it with `kioskctl`
//! without holding the key; only the payload is personal. XChaCha20-Poly1305 needs no OpenSSL
//! (SQLCipher links libcrypto), its 24-byte random nonces never collide in practice, and binding
//! the idempotency key as associated data stops a payload from being moved to another row. The
//! key lives in a file outside the database (on the image: a provisioning-time secret on the data
//! partition, mode 0600); a stolen database file alone reveals nothing.
//!
//! A key is never made up silently where payloads sealed with another one wait: the outbox
//! records the [`PayloadKey::id`] of the key that sealed it, and
//! [`crate::Outbox::open_with_key_file`] refuses a missing or different key while such payloads
//! exist.

use std::io::Write;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::OutboxError;

const NONCE_LEN: usize = 24;

/// 256-bit payload key, wiped when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PayloadKey([u8; 32]);

impl std::fmt::Debug for PayloadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PayloadKey({})", self.id())
    }
}

/// Refuses a secret file that others than its owner may read: a key copied by another local
/// user opens every queued submission.
pub fn check_private(path: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "{} has mode {mode:03o}: group and others must not read it; run `chmod 600 {}`",
            path.display(),
            path.display()
        ));
    }
    Ok(())
}

impl PayloadKey {
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).expect("the OS random source works");
        Self(k)
    }

    /// A public name for the key (16 hex digits of a domain-separated hash): recorded in the
    /// outbox so a swapped or regenerated key file is caught before it is used.
    pub fn id(&self) -> String {
        let digest =
            Sha256::new().chain_update(b"kiosk-outbox payload key id v1\0").chain_update(self.0).finalize();
        hex_prefix(&digest[..8])
    }

    /// Loads an existing key file (32 bytes, mode 0600).
    pub fn load(path: &Path) -> Result<Self, OutboxError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => Zeroizing::new(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(OutboxError::KeyMissing { key_file: path.to_owned(), outbox: None, sealed: 0 });
            }
            Err(e) => return Err(OutboxError::Key(format!("{}: {e}", path.display()))),
        };
        check_private(path).map_err(OutboxError::Key)?;
        let raw: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            OutboxError::Key(format!("{} is {} bytes, not a 32-byte key", path.display(), bytes.len()))
        })?;
        Ok(Self(raw))
    }

    /// Writes a new key to `path`, which must not exist yet: written under a temporary name and
    /// linked into place, so a process starting beside this one sees the whole key or none.
    /// When another process won the race, its key is loaded instead.
    pub fn create(path: &Path) -> Result<Self, OutboxError> {
        let key_err = |e: std::io::Error| OutboxError::Key(format!("{}: {e}", path.display()));
        let key = Self::generate();
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options
            .open(&tmp)
            .and_then(|mut file| file.write_all(&key.0).and_then(|()| file.sync_all()))
            .and_then(|()| std::fs::hard_link(&tmp, path));
        let _ = std::fs::remove_file(&tmp);
        match written {
            Ok(()) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
                }
                tracing::info!(path = %path.display(), id = %key.id(), "new payload key created");
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load(path),
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

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
    fn key_files_are_created_once_private_and_reloaded() {
        let dir = std::env::temp_dir().join(format!("kiosk-outbox-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("payload.key");
        assert!(matches!(PayloadKey::load(&path), Err(OutboxError::KeyMissing { .. })));
        let a = PayloadKey::create(&path).unwrap();
        let b = PayloadKey::load(&path).unwrap();
        assert_eq!((a.0, a.id()), (b.0, b.id()));
        assert_eq!(PayloadKey::create(&path).unwrap().0, a.0, "a second create loads the first key");
        assert_ne!(a.id(), PayloadKey::generate().id());
        assert_eq!(
            format!("{a:?}"),
            format!("PayloadKey({})", a.id()),
            "Debug names the key, never shows it"
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600);
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
        let err = PayloadKey::load(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        std::fs::write(&path, b"short").unwrap();
        assert!(PayloadKey::load(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
