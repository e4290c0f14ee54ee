//! Signed releases of the catalogue and of the OS (RAUC bundles) with The Update Framework,
//! through `tough`.
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
#[cfg(feature = "publish")]
pub mod repo;
pub mod transport;

/// The one target a catalogue repository holds. A fixed name keeps the kiosk from ever picking
/// a file by listing a directory an attacker may control.
pub const TARGET: &str = "catalogue.bundle";

/// The OS release for kiosks of one RAUC `compatible` (hardware family and architecture): a
/// fixed name per family, so a kiosk can only ever pick its own.
pub fn os_target(compatible: &str) -> String {
    format!("os-{compatible}.raucb")
}

/// The signed target entry's field naming an OS bundle's version.
pub(crate) const OS_VERSION: &str = "os_version";

/// Where the static repository keeps metadata and targets, relative to its base URL.
pub const METADATA_DIR: &str = "metadata";
pub const TARGETS_DIR: &str = "targets";

/// What a release's signed target entry says about its catalogue: signed with the targets key, so
/// a kiosk can name the version before downloading and check the bundle against it after.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Description {
    pub catalogue_version: String,
    pub items: u64,
}

impl Description {
    const VERSION: &str = "catalogue_version";
    const ITEMS: &str = "items";

    pub fn of(cat: &kiosk_catalogue::Catalogue) -> Self {
        Self { catalogue_version: cat.catalogue_version.clone(), items: cat.items.len() as u64 }
    }

    #[cfg(feature = "publish")]
    pub fn write_to(&self, target: &mut tough::schema::Target) {
        target.custom.insert(Self::VERSION.into(), self.catalogue_version.clone().into());
        target.custom.insert(Self::ITEMS.into(), self.items.into());
    }

    /// Missing fields read as empty: the kiosk then refuses the bundle, which cannot match.
    pub fn read_from(target: &tough::schema::Target) -> Self {
        Self {
            catalogue_version: target
                .custom
                .get(Self::VERSION)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned(),
            items: target.custom.get(Self::ITEMS).and_then(|v| v.as_u64()).unwrap_or(0),
        }
    }
}
