//! Signed catalogue updates with The Update Framework, through `tough`.
//!
//! Admins change the catalogue often and a wrong or malicious catalogue on a kiosk misleads
//! residents about their rights, so an update must prove who made it, that it is current and that
//! it is whole. TUF gives that with separate keys per role: an offline root (threshold ≥ 2) that
//! names the other keys, a targets key that signs catalogue contents, and snapshot and timestamp
//! keys that make rollback, mix-and-match and freeze attacks detectable (sync-ota.md §2).
//!
//! [`repo`] is the admin side (`kioskctl catalogue init-repo` / `publish`); [`client`] is the
//! kiosk side, run by the sync agent, and works the same over `https://` and from a USB stick
//! (`file://`).

pub mod client;
pub mod repo;
pub mod transport;

/// The one target a catalogue repository holds. A fixed name keeps the kiosk from ever picking
/// a file by listing a directory an attacker may control.
pub const TARGET: &str = "catalogue.bundle";

/// Where the static repository keeps metadata and targets, relative to its base URL.
pub const METADATA_DIR: &str = "metadata";
pub const TARGETS_DIR: &str = "targets";
