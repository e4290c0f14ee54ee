//! The kiosk side: fetch, verify and apply a catalogue release.
//!
//! Trust starts from the root built into the image and moves forward only through roots signed by
//! their predecessors. tough keeps the last trusted metadata in a persistent datastore, so a
//! rollback is detected across reboots too (a temporary datastore would forget it). A release is
//! written to a temporary file, checked whole (hashes by TUF, contents by the catalogue's own
//! validation) and only then renamed over the current bundle: a power cut leaves either the old
//! catalogue or the new one, never a mixture.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use futures::StreamExt;
use sha2::{Digest, Sha256};
use tough::{ExpirationEnforcement, Limits, RepositoryLoader, TargetName};
use url::Url;

use crate::transport::KioskTransport;
use crate::{Description, METADATA_DIR, TARGET, TARGETS_DIR};

/// The name the current catalogue has in the install directory; the UI watches it.
pub const INSTALLED: &str = "catalogue.bundle";

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The repository could not be reached; nothing is wrong with it as far as we know. Retry.
    #[error("catalogue repository unreachable: {0}")]
    Unreachable(String),
    /// The repository served something that failed verification: an attack, a mistake by the
    /// publisher, or expired signatures. The current catalogue stays; the heartbeat reports it.
    #[error("catalogue update refused: {0}")]
    Refused(String),
    /// This kiosk's own storage failed (full disk, read-only partition).
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl UpdateError {
    fn from_tuf(e: tough::error::Error) -> Self {
        use tough::error::Error as E;
        match e {
            // A transport also carries verification failures found while streaming.
            E::Transport { .. } if !failed_verification(&e) => Self::Unreachable(chain(&e)),
            E::DatastoreInit { .. }
            | E::DatastoreCreate { .. }
            | E::DatastoreOpen { .. }
            | E::DatastoreRemove { .. }
            | E::DatastoreSerialize { .. } => {
                Self::Io { path: PathBuf::from("datastore"), source: std::io::Error::other(chain(&e)) }
            }
            _ => Self::Refused(chain(&e)),
        }
    }
}

fn sources<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |e| e.source())
}

/// Whether the bytes arrived but did not match what was signed.
fn failed_verification(e: &(dyn std::error::Error + 'static)) -> bool {
    use tough::error::Error as E;
    sources(e)
        .any(|s| matches!(s.downcast_ref::<E>(), Some(E::HashMismatch { .. } | E::MaxSizeExceeded { .. })))
}

/// An error and its causes on one line: some of tough's messages omit the reason, others repeat
/// their sources, so a cause is added only when the line does not already say it.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    for s in sources(e) {
        let text = s.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

/// Where a kiosk gets its catalogue and keeps what it trusts.
#[derive(Debug, Clone)]
pub struct Client {
    /// The root shipped in the image; used only until a newer trusted root is in the datastore.
    pub trusted_root: PathBuf,
    /// The repository's base: `https://…/catalogue/` or `file:///media/usb/catalogue/`.
    pub repository: Url,
    /// Persistent; holds the last trusted metadata for rollback detection.
    pub datastore: PathBuf,
    /// Holds [`INSTALLED`].
    pub install_dir: PathBuf,
    /// For `https://` repositories: the agent's client (pinned CA, kiosk certificate).
    pub https: Option<reqwest::Client>,
}

/// The catalogue this kiosk runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The repository's metadata version (rises by one per publish).
    pub version: u64,
    pub catalogue_version: String,
    pub items: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The installed catalogue is the repository's current one.
    Current(Release),
    /// A new catalogue was verified and installed.
    Applied(Release),
}

/// Catalogues are a few MB; anything much larger is an endless-data attack.
const MAX_METADATA: u64 = 1024 * 1024;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> UpdateError + '_ {
    move |source| UpdateError::Io { path: path.to_owned(), source }
}

fn base_join(base: &Url, dir: &str) -> Result<Url, UpdateError> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    base.join(&format!("{dir}/")).map_err(|e| UpdateError::Refused(format!("repository URL {base}: {e}")))
}

impl Client {
    pub fn installed_path(&self) -> PathBuf {
        self.install_dir.join(INSTALLED)
    }

    /// The repository's current metadata, verified from the newest trusted root.
    async fn load(&self) -> Result<tough::Repository, UpdateError> {
        let shipped = fs::read(&self.trusted_root).map_err(io_err(&self.trusted_root))?;
        // tough walks forward from the root it is given. Starting from the newest root already
        // verified (kept in the datastore) means a mirror that withholds a newer root cannot
        // bring back keys that a rotation retired.
        let root = match fs::read(self.datastore.join("root.json")) {
            Ok(stored) if root_version(&stored) > root_version(&shipped) => stored,
            _ => shipped,
        };
        fs::create_dir_all(&self.datastore).map_err(io_err(&self.datastore))?;
        fs::create_dir_all(&self.install_dir).map_err(io_err(&self.install_dir))?;
        let limits = Limits {
            max_root_size: MAX_METADATA,
            max_targets_size: MAX_METADATA * 8,
            max_snapshot_size: MAX_METADATA,
            max_timestamp_size: MAX_METADATA,
            max_root_updates: 1024,
        };
        RepositoryLoader::new(
            &root,
            base_join(&self.repository, METADATA_DIR)?,
            base_join(&self.repository, TARGETS_DIR)?,
        )
        .transport(KioskTransport { https: self.https.clone() })
        .datastore(&self.datastore)
        .limits(limits)
        .expiration_enforcement(ExpirationEnforcement::Safe)
        .load()
        .await
        .map_err(UpdateError::from_tuf)
    }

    /// One update cycle. Safe to run at any time; the UI sees a change only through an atomic
    /// rename of [`INSTALLED`].
    pub async fn update(&self) -> Result<Outcome, UpdateError> {
        let repo = self.load().await?;
        let name = TargetName::new(TARGET).expect("a plain file name");
        let target = repo
            .targets()
            .signed
            .find_target(&name, false)
            .map_err(|_| UpdateError::Refused(format!("the signed targets do not list {TARGET}")))?;
        let described = Description::read_from(target);
        let release = Release {
            version: repo.targets().signed.version.get(),
            catalogue_version: described.catalogue_version.clone(),
            items: described.items as usize,
        };
        let want: &[u8] = &target.hashes.sha256;
        let installed = self.installed_path();
        if let Ok(bytes) = fs::read(&installed)
            && Sha256::digest(&bytes).as_slice() == want
        {
            return Ok(Outcome::Current(release));
        }

        let mut stream = repo
            .read_target(&name)
            .await
            .map_err(UpdateError::from_tuf)?
            .ok_or_else(|| UpdateError::Refused(format!("{TARGET} is not in the signed targets")))?;
        // Never use data from a stream that errored (tough's contract): collect, then check.
        let mut bytes = Vec::with_capacity(target.length as usize);
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.map_err(UpdateError::from_tuf)?);
        }
        let (cat, _) = kiosk_catalogue::verify_bundle(&bytes)
            .map_err(|e| UpdateError::Refused(format!("signed bundle does not validate: {e}")))?;
        if Description::of(&cat) != described {
            return Err(UpdateError::Refused(
                "the bundle's contents disagree with its signed description".into(),
            ));
        }
        install(&self.install_dir, &bytes)?;
        Ok(Outcome::Applied(release))
    }
}

/// What became of a check for an OS release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OsOutcome {
    /// The repository holds no OS release for this kind of kiosk.
    NoRelease,
    /// The kiosk runs the released version.
    Current(String),
    /// The release was verified and left in the incoming folder for RAUC (the root-owned
    /// `kiosk-os-install` unit picks it up); it runs from the next boot.
    Staged(String),
    /// Staged earlier and not yet installed.
    Waiting(String),
}

/// The file the OS installer unit watches for; it appears only by rename, complete and verified.
pub const OS_STAGED: &str = "update.raucb";
/// Versions this kiosk staged, one a line, kept with the trusted metadata.
const OS_TRIED: &str = "os-tried";

impl Client {
    /// Checks for an OS release for `compatible`; a newer one than `running` is downloaded
    /// (streamed to disk and verified by TUF as it arrives: bundles are hundreds of MB) and
    /// staged in `incoming`. A version staged before that the kiosk is not running did not
    /// survive its boot (GRUB rolled it back): it is refused rather than installed again in a loop.
    pub async fn stage_os(
        &self,
        compatible: &str,
        running: &str,
        incoming: &Path,
    ) -> Result<OsOutcome, UpdateError> {
        let repo = self.load().await?;
        let name = TargetName::new(crate::os_target(compatible))
            .map_err(|e| UpdateError::Refused(format!("compatible {compatible:?}: {e}")))?;
        let Some(target) = repo.targets().signed.targets.get(&name) else {
            return Ok(OsOutcome::NoRelease);
        };
        let version = target
            .custom
            .get(crate::OS_VERSION)
            .and_then(|v| v.as_str())
            .ok_or_else(|| UpdateError::Refused(format!("{} names no {}", name.raw(), crate::OS_VERSION)))?
            .to_owned();
        if version == running {
            return Ok(OsOutcome::Current(version));
        }
        let staged = incoming.join(OS_STAGED);
        let tried_path = self.datastore.join(OS_TRIED);
        let tried = fs::read_to_string(&tried_path).unwrap_or_default();
        if tried.lines().any(|l| l == version) {
            if staged.exists() {
                return Ok(OsOutcome::Waiting(version));
            }
            return Err(UpdateError::Refused(format!(
                "OS {version} was staged before and is not running (its install failed or GRUB rolled it back to {running}); waiting for a newer release"
            )));
        }

        fs::create_dir_all(incoming).map_err(io_err(incoming))?;
        let partial = incoming.join(".update.partial");
        let mut stream =
            repo.read_target(&name).await.map_err(UpdateError::from_tuf)?.ok_or_else(|| {
                UpdateError::Refused(format!("{} is not in the signed targets", name.raw()))
            })?;
        let mut file = fs::File::create(&partial).map_err(io_err(&partial))?;
        while let Some(chunk) = stream.next().await {
            // tough checks length and hash as the bytes arrive and fails the stream at the end
            // if they do not match: the partial file is never used then.
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    drop(file);
                    let _ = fs::remove_file(&partial);
                    return Err(UpdateError::from_tuf(e));
                }
            };
            file.write_all(&chunk).map_err(io_err(&partial))?;
        }
        file.sync_all().map_err(io_err(&partial))?;
        drop(file);
        // Remembered before it can be installed, so a boot that fails cannot loop.
        let mut tried_file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&tried_path)
            .map_err(io_err(&tried_path))?;
        writeln!(tried_file, "{version}")
            .and_then(|()| tried_file.sync_all())
            .map_err(io_err(&tried_path))?;
        fs::rename(&partial, &staged).map_err(io_err(&staged))?;
        fs::File::open(incoming).and_then(|d| d.sync_all()).map_err(io_err(incoming))?;
        Ok(OsOutcome::Staged(version))
    }
}

fn root_version(bytes: &[u8]) -> u64 {
    serde_json::from_slice::<tough::schema::Signed<tough::schema::Root>>(bytes)
        .map_or(0, |r| r.signed.version.get())
}

/// Write, fsync, rename, fsync the directory: the rename is the commit point.
fn install(dir: &Path, bytes: &[u8]) -> Result<(), UpdateError> {
    let tmp = dir.join(format!(".{INSTALLED}.incoming"));
    let mut file = fs::File::create(&tmp).map_err(io_err(&tmp))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(io_err(&tmp))?;
    let dest = dir.join(INSTALLED);
    fs::rename(&tmp, &dest).map_err(io_err(&dest))?;
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir))
}
