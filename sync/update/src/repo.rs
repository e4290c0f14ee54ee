//! The admin side: create a repository's keys and root, and publish catalogues into it.
//!
//! The repository is a directory of static files (`metadata/`, `targets/`) that any HTTP server,
//! object store or USB stick can serve; nothing on the serving side needs to be trusted.
//!
//! Root keys should live offline (on separate sticks or HSMs) once `init-repo` has run: publishing
//! needs only the targets, snapshot and timestamp keys, so [`publish`] never loads a root key.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::Ed25519KeyPair;
use jiff::{SignedDuration, Timestamp};
use tough::editor::RepositoryEditor;
use tough::editor::signed::{PathExists, SignedRole};
use tough::key_source::{KeySource, LocalKeySource};
use tough::schema::{KeyHolder, RoleKeys, RoleType, Root, Target};
use tough::sign::{Sign, parse_keypair};
use tough::{TargetName, schema};

use crate::{Description, METADATA_DIR, TARGET, TARGETS_DIR};

/// The TUF specification version tough writes and accepts.
const SPEC_VERSION: &str = "1.0.0";

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "{0} already holds keys; refusing to overwrite them (a new root would orphan every kiosk \
         that trusts the old one). Use an empty directory"
    )]
    KeysExist(PathBuf),
    #[error("a root threshold of {threshold} needs at least that many root keys, got {keys}")]
    Threshold { threshold: u64, keys: usize },
    #[error("key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("catalogue {path}: {source}")]
    Catalogue { path: PathBuf, source: kiosk_catalogue::LoadError },
    #[error("{path}: {reason}")]
    Source { path: PathBuf, reason: String },
    #[error("{path} is not a catalogue repository (no {what}); run `kioskctl catalogue init-repo` first")]
    NotARepo { path: PathBuf, what: &'static str },
    #[error("signing the repository: {0}")]
    Tuf(Box<tough::error::Error>),
    #[error("describing a key or target: {0}")]
    Schema(#[from] tough::schema::Error),
}

impl From<tough::error::Error> for RepoError {
    fn from(e: tough::error::Error) -> Self {
        Self::Tuf(Box::new(e))
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RepoError + '_ {
    move |source| RepoError::Io { path: path.to_owned(), source }
}

/// How long each role's signatures stay valid. Short timestamp and snapshot lifetimes bound how
/// long a mirror can freeze a kiosk on an old catalogue; the publisher re-signs them on every
/// publish.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub targets: SignedDuration,
    pub snapshot: SignedDuration,
    pub timestamp: SignedDuration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self { targets: days(90), snapshot: days(14), timestamp: days(7) }
    }
}

pub fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

#[derive(Debug, Clone)]
pub struct InitOptions {
    pub root_keys: usize,
    pub root_threshold: u64,
    pub root_lifetime: SignedDuration,
}

impl Default for InitOptions {
    fn default() -> Self {
        Self { root_keys: 2, root_threshold: 2, root_lifetime: days(365) }
    }
}

/// What `init-repo` made, for the admin's records.
#[derive(Debug)]
pub struct Initialised {
    /// The trust anchor to build into kiosk images (`/etc/kiosk/catalogue-root.json`).
    pub root: PathBuf,
    pub root_keys: Vec<PathBuf>,
    pub online_keys: Vec<PathBuf>,
}

fn key_path(keys: &Path, role: &str) -> PathBuf {
    keys.join(format!("{role}.pk8"))
}

/// Ed25519 in PKCS#8, the form tough's `LocalKeySource` reads; written owner-only.
fn generate_key(path: &Path) -> Result<(), RepoError> {
    let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|e| RepoError::Key { path: path.to_owned(), reason: e.to_string() })?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(doc.as_ref()).and_then(|()| file.sync_all()).map_err(io(path))
}

fn signer(path: &Path) -> Result<impl Sign, RepoError> {
    let bytes = fs::read(path).map_err(io(path))?;
    parse_keypair(&bytes).map_err(|e| RepoError::Key { path: path.to_owned(), reason: e.to_string() })
}

fn key_sources(paths: &[PathBuf]) -> Vec<Box<dyn KeySource>> {
    paths.iter().map(|p| Box::new(LocalKeySource { path: p.clone() }) as Box<dyn KeySource>).collect()
}

/// Creates the keys (in `keys_dir`) and the signed version-1 root (in `repo_dir/metadata`).
pub async fn init_repo(
    keys_dir: &Path,
    repo_dir: &Path,
    opts: &InitOptions,
) -> Result<Initialised, RepoError> {
    if opts.root_threshold == 0 || opts.root_threshold > opts.root_keys as u64 {
        return Err(RepoError::Threshold { threshold: opts.root_threshold, keys: opts.root_keys });
    }
    fs::create_dir_all(keys_dir).map_err(io(keys_dir))?;
    if fs::read_dir(keys_dir).map_err(io(keys_dir))?.next().is_some() {
        return Err(RepoError::KeysExist(keys_dir.to_owned()));
    }
    let root_keys: Vec<PathBuf> =
        (1..=opts.root_keys).map(|i| key_path(keys_dir, &format!("root-{i}"))).collect();
    let online_keys: Vec<PathBuf> =
        ["targets", "snapshot", "timestamp"].iter().map(|r| key_path(keys_dir, r)).collect();
    for path in root_keys.iter().chain(&online_keys) {
        generate_key(path)?;
    }

    let mut keys = HashMap::new();
    let mut roles = HashMap::new();
    let role_keys = [
        (RoleType::Root, &root_keys[..], opts.root_threshold),
        (RoleType::Targets, &online_keys[0..1], 1),
        (RoleType::Snapshot, &online_keys[1..2], 1),
        (RoleType::Timestamp, &online_keys[2..3], 1),
    ];
    for (role, paths, threshold) in role_keys {
        let mut keyids = Vec::new();
        for path in paths {
            let key = signer(path)?.tuf_key();
            let id = key.key_id()?;
            keyids.push(id.clone());
            keys.insert(id, key);
        }
        let threshold = NonZeroU64::new(threshold).expect("checked above");
        roles.insert(role, RoleKeys { keyids, threshold, _extra: HashMap::new() });
    }
    let root = Root {
        spec_version: SPEC_VERSION.into(),
        consistent_snapshot: true,
        version: NonZeroU64::MIN,
        expires: Timestamp::now() + opts.root_lifetime,
        keys,
        roles,
        _extra: HashMap::new(),
    };
    let holder = KeyHolder::Root(root.clone());
    let signed = SignedRole::new(root, &holder, &key_sources(&root_keys), &SystemRandom::new()).await?;
    let metadata = repo_dir.join(METADATA_DIR);
    signed.write(&metadata, true).await?;
    let anchor = repo_dir.join("root.json");
    fs::write(&anchor, signed.buffer()).map_err(io(&anchor))?;
    Ok(Initialised { root: anchor, root_keys, online_keys })
}

/// Reads an admin's source catalogue, by extension: the project's JSON or TOML (the same fields;
/// TOML is easier to edit by hand and to review in a diff). It must validate.
pub fn read_source(path: &Path) -> Result<(kiosk_catalogue::Catalogue, kiosk_catalogue::Report), RepoError> {
    let bytes = fs::read(path).map_err(io(path))?;
    let source_err = |reason: String| RepoError::Source { path: path.to_owned(), reason };
    let cat: kiosk_catalogue::Catalogue = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => serde_json::from_slice(&bytes).map_err(|e| source_err(e.to_string()))?,
        Some("toml") => {
            let text = std::str::from_utf8(&bytes).map_err(|e| source_err(e.to_string()))?;
            toml::from_str(text).map_err(|e| source_err(e.to_string()))?
        }
        _ => return Err(source_err("unknown source format; expected .json or .toml".into())),
    };
    validated(cat, path)
}

/// The catalogue with its report (warnings for the admin), or every error, naming the source.
fn validated(
    cat: kiosk_catalogue::Catalogue,
    path: &Path,
) -> Result<(kiosk_catalogue::Catalogue, kiosk_catalogue::Report), RepoError> {
    let report = kiosk_catalogue::validate(&cat);
    if report.is_ok() {
        Ok((cat, report))
    } else {
        Err(RepoError::Catalogue {
            path: path.to_owned(),
            source: kiosk_catalogue::LoadError::Invalid(report),
        })
    }
}

/// Merges a provincial export onto the kiosk's current catalogue `base` (JSON or TOML) and
/// validates the result; see [`kiosk_catalogue::import`]. `items` is a CSV file (materials, if
/// any, in a second CSV) or an XLSX workbook (materials in its 申请材料 sheet unless given).
pub fn read_export(
    items: &Path,
    materials: Option<&Path>,
    base: &Path,
    version: &str,
) -> Result<(kiosk_catalogue::Catalogue, kiosk_catalogue::Report), RepoError> {
    let (base_cat, _) = read_source(base)?;
    let table = |path: &Path| {
        let bytes = fs::read(path).map_err(io(path))?;
        kiosk_catalogue::import::read_csv(&bytes)
            .map_err(|e| RepoError::Source { path: path.to_owned(), reason: e.to_string() })
    };
    let (item_table, mut material_table) = if items.extension().is_some_and(|e| e == "xlsx") {
        let bytes = fs::read(items).map_err(io(items))?;
        kiosk_catalogue::import::read_xlsx(bytes)
            .map_err(|e| RepoError::Source { path: items.to_owned(), reason: e.to_string() })?
    } else {
        (table(items)?, None)
    };
    if let Some(path) = materials {
        material_table = Some(table(path)?);
    }
    let cat = kiosk_catalogue::import::merge(&base_cat, &item_table, material_table.as_ref(), version)
        .map_err(|e| RepoError::Source { path: items.to_owned(), reason: e.to_string() })?;
    validated(cat, items)
}

/// One step of [`publish`], for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Building,
    Signing,
    Writing,
}

#[derive(Debug)]
pub struct Published {
    /// The metadata version kiosks will see; every publish raises it by one.
    pub version: u64,
    pub catalogue_version: String,
    pub items: usize,
    pub bundle_len: u64,
}

/// The version of the repository's current timestamp, 0 for a new repository.
fn current_version(metadata: &Path) -> Result<u64, RepoError> {
    let path = metadata.join("timestamp.json");
    match fs::read(&path) {
        Ok(bytes) => {
            let ts: schema::Signed<schema::Timestamp> = serde_json::from_slice(&bytes)
                .map_err(|e| RepoError::Source { path: path.clone(), reason: e.to_string() })?;
            Ok(ts.signed.version.get())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(io(&path)(e)),
    }
}

/// Builds a bundle from a validated catalogue, signs it with the online keys and writes it into
/// the repository. Targets are written before metadata and `timestamp.json` last, so a kiosk that
/// reads the repository mid-publish sees either the old release or the new one whole.
pub async fn publish(
    cat: &kiosk_catalogue::Catalogue,
    keys_dir: &Path,
    repo_dir: &Path,
    lifetimes: Lifetimes,
    mut progress: impl FnMut(Step),
) -> Result<Published, RepoError> {
    let latest_root = latest_root_of(repo_dir)?;
    progress(Step::Building);
    let bundle = kiosk_catalogue::to_bundle(cat);
    let staging = fresh_staging(repo_dir)?;
    let staged = staging.join(TARGET);
    fs::write(&staged, &bundle).map_err(io(&staged))?;

    progress(Step::Signing);
    let mut target = Target::from_path(&staged).await?;
    Description::of(cat).write_to(&mut target);
    let version = sign_release(repo_dir, keys_dir, &latest_root, lifetimes, &staging, TARGET, target, || {
        progress(Step::Writing)
    })
    .await?;
    Ok(Published {
        version,
        catalogue_version: cat.catalogue_version.clone(),
        items: cat.items.len(),
        bundle_len: bundle.len() as u64,
    })
}

/// An OS release in the repository.
#[derive(Debug)]
pub struct PublishedOs {
    pub version: u64,
    pub target: String,
    pub bytes: u64,
}

/// Adds a signed RAUC bundle (from `images/build`) for kiosks whose RAUC `compatible` is
/// `compatible`, beside the catalogue: OS updates get the same freshness, rollback and
/// mix-and-match protection as catalogues. RAUC checks its own signature again on the kiosk.
pub async fn publish_os(
    bundle: &Path,
    compatible: &str,
    os_version: &str,
    keys_dir: &Path,
    repo_dir: &Path,
    lifetimes: Lifetimes,
) -> Result<PublishedOs, RepoError> {
    let latest_root = latest_root_of(repo_dir)?;
    let name = crate::os_target(compatible);
    let staging = fresh_staging(repo_dir)?;
    let staged = staging.join(&name);
    // A bundle is hundreds of MB: link it into staging when the file system allows.
    if fs::hard_link(bundle, &staged).is_err() {
        fs::copy(bundle, &staged).map_err(io(bundle))?;
    }
    let mut target = Target::from_path(&staged).await?;
    target.custom.insert(crate::OS_VERSION.into(), os_version.into());
    let bytes = target.length;
    let version =
        sign_release(repo_dir, keys_dir, &latest_root, lifetimes, &staging, &name, target, || {}).await?;
    Ok(PublishedOs { version, target: name, bytes })
}

fn latest_root_of(repo_dir: &Path) -> Result<PathBuf, RepoError> {
    let latest = latest_root(&repo_dir.join(METADATA_DIR))?.unwrap_or(repo_dir.join("root.json"));
    if !latest.exists() {
        return Err(RepoError::NotARepo { path: repo_dir.to_owned(), what: "root.json" });
    }
    Ok(latest)
}

/// An empty `.staging/`: anything left in it by an interrupted publish was never visible.
fn fresh_staging(repo_dir: &Path) -> Result<PathBuf, RepoError> {
    let staging = repo_dir.join(".staging");
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    fs::create_dir_all(&staging).map_err(io(&staging))?;
    Ok(staging)
}

/// Signs the next repository version: the current targets with `name` added or replaced by the
/// file staged under that name, then writes targets first and `timestamp.json` last.
#[allow(clippy::too_many_arguments)]
async fn sign_release(
    repo_dir: &Path,
    keys_dir: &Path,
    latest_root: &Path,
    lifetimes: Lifetimes,
    staging: &Path,
    name: &str,
    target: Target,
    writing: impl FnOnce(),
) -> Result<u64, RepoError> {
    let metadata = repo_dir.join(METADATA_DIR);
    let version = NonZeroU64::new(current_version(&metadata)? + 1).expect("≥ 1");
    let now = Timestamp::now();
    let name = TargetName::new(name)?;
    let mut editor = RepositoryEditor::new(latest_root).await?;
    editor
        .targets_version(version)?
        .targets_expires(now + lifetimes.targets)?
        .snapshot_version(version)
        .snapshot_expires(now + lifetimes.snapshot)
        .timestamp_version(version)
        .timestamp_expires(now + lifetimes.timestamp);
    // The other release kinds stay listed: publishing a catalogue must not withdraw an OS release.
    // Read from the publisher's own last targets file; kiosks verify the result as a whole.
    if version.get() > 1 {
        let path = metadata.join(format!("{}.targets.json", version.get() - 1));
        let bytes = fs::read(&path).map_err(io(&path))?;
        let previous: schema::Signed<schema::Targets> = serde_json::from_slice(&bytes)
            .map_err(|e| RepoError::Source { path: path.clone(), reason: e.to_string() })?;
        for (other, kept) in previous.signed.targets {
            if other != name {
                editor.add_target(other, kept)?;
            }
        }
    }
    editor.add_target(name.clone(), target)?;
    let online = ["targets", "snapshot", "timestamp"].map(|r| key_path(keys_dir, r));
    let signed = editor.sign(&key_sources(&online)).await?;

    writing();
    let staged = staging.join(name.raw());
    let targets = repo_dir.join(TARGETS_DIR);
    fs::create_dir_all(&targets).map_err(io(&targets))?;
    signed.copy_target(&staged, &targets, PathExists::Skip, Some(&name)).await?;
    // tough writes files in place; write them aside and rename them in, timestamp.json (the only
    // file a kiosk reads by a fixed name) last, so no reader ever sees half a file.
    let staged_meta = staging.join(METADATA_DIR);
    signed.write(&staged_meta).await?;
    fs::create_dir_all(&metadata).map_err(io(&metadata))?;
    let mut names: Vec<_> = fs::read_dir(&staged_meta)
        .map_err(io(&staged_meta))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .map_err(io(&staged_meta))?;
    names.sort_by_key(|n| n == "timestamp.json");
    for name in names {
        let (from, to) = (staged_meta.join(&name), metadata.join(&name));
        fs::File::open(&from).and_then(|f| f.sync_all()).map_err(io(&from))?;
        fs::rename(&from, &to).map_err(io(&to))?;
    }
    fs::File::open(&metadata).and_then(|d| d.sync_all()).map_err(io(&metadata))?;
    fs::remove_dir_all(staging).map_err(io(staging))?;
    Ok(version.get())
}

/// Replaces the targets, snapshot and timestamp keys (after a suspected leak, or routinely): a
/// new root version names the new keys and is signed by the root keys, which kiosks already
/// trust. The old keys move to `retired/`. Returns the new root version. Publish afterwards.
pub async fn rotate_online_keys(
    keys_dir: &Path,
    repo_dir: &Path,
    root_lifetime: SignedDuration,
) -> Result<u64, RepoError> {
    let metadata = repo_dir.join(METADATA_DIR);
    let latest = latest_root(&metadata)?
        .ok_or(RepoError::NotARepo { path: repo_dir.to_owned(), what: "metadata/1.root.json" })?;
    let bytes = fs::read(&latest).map_err(io(&latest))?;
    let old: schema::Signed<Root> = serde_json::from_slice(&bytes)
        .map_err(|e| RepoError::Source { path: latest.clone(), reason: e.to_string() })?;
    let mut root_keys: Vec<PathBuf> = fs::read_dir(keys_dir)
        .map_err(io(keys_dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("root-") && n.ends_with(".pk8"))
        })
        .collect();
    root_keys.sort();

    let mut root = old.signed.clone();
    root.version = root.version.checked_add(1).expect("fewer than 2^64 roots");
    root.expires = Timestamp::now() + root_lifetime;
    let mut staged = Vec::new();
    for (role, name) in
        [(RoleType::Targets, "targets"), (RoleType::Snapshot, "snapshot"), (RoleType::Timestamp, "timestamp")]
    {
        let fresh = keys_dir.join(format!("{name}.pk8.new"));
        if fresh.exists() {
            fs::remove_file(&fresh).map_err(io(&fresh))?;
        }
        generate_key(&fresh)?;
        let key = signer(&fresh)?.tuf_key();
        let id = key.key_id()?;
        let entry = root.roles.get_mut(&role).expect("a root names every top-level role");
        for old_id in std::mem::replace(&mut entry.keyids, vec![id.clone()]) {
            root.keys.remove(&old_id);
        }
        root.keys.insert(id, key);
        staged.push((name, fresh));
    }
    let holder = KeyHolder::Root(root.clone());
    let signed = SignedRole::new(root, &holder, &key_sources(&root_keys), &SystemRandom::new()).await?;
    signed.write(&metadata, true).await?;
    // Only now that the new root is out do the key files change: an interruption before this
    // leaves the old keys working.
    let retired = keys_dir.join("retired");
    fs::create_dir_all(&retired).map_err(io(&retired))?;
    let version = old.signed.version.get();
    for (name, fresh) in staged {
        let current = key_path(keys_dir, name);
        let archived = retired.join(format!("{name}-root{version}.pk8"));
        fs::rename(&current, &archived).map_err(io(&archived))?;
        fs::rename(&fresh, &current).map_err(io(&current))?;
    }
    Ok(version + 1)
}

/// The highest `N.root.json`: publishing must use the root kiosks will end up trusting.
fn latest_root(metadata: &Path) -> Result<Option<PathBuf>, RepoError> {
    let entries = match fs::read_dir(metadata) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(metadata)(e)),
    };
    let mut best: Option<(u64, PathBuf)> = None;
    for entry in entries {
        let entry = entry.map_err(io(metadata))?;
        let name = entry.file_name();
        let Some(n) = name.to_str().and_then(|n| n.strip_suffix(".root.json")).and_then(|n| n.parse().ok())
        else {
            continue;
        };
        if best.as_ref().is_none_or(|(b, _)| n > *b) {
            best = Some((n, entry.path()));
        }
    }
    Ok(best.map(|(_, p)| p))
}

/// What kiosks would see in a repository, checked as they check it (signatures from the trusted
/// root), with expiry reported instead of enforced so an admin sees what is about to run out.
#[derive(Debug)]
pub struct Status {
    pub version: u64,
    pub catalogue_version: String,
    pub items: u64,
    /// Each role's expiry, soonest first.
    pub expires: Vec<(&'static str, Timestamp)>,
}

/// The repository as kiosks see it, from its own files (expiry not enforced: admins need to see
/// what has run out).
async fn load_local(repo_dir: &Path) -> Result<tough::Repository, RepoError> {
    let anchor = repo_dir.join("root.json");
    let root = fs::read(&anchor)
        .map_err(|_| RepoError::NotARepo { path: repo_dir.to_owned(), what: "root.json" })?;
    let repo_dir = &fs::canonicalize(repo_dir).map_err(io(repo_dir))?;
    let url = |dir: &str| {
        url::Url::from_directory_path(repo_dir.join(dir)).map_err(|()| RepoError::Source {
            path: repo_dir.to_owned(),
            reason: "the repository path must be absolute".into(),
        })
    };
    Ok(tough::RepositoryLoader::new(&root, url(METADATA_DIR)?, url(TARGETS_DIR)?)
        .expiration_enforcement(tough::ExpirationEnforcement::Unsafe)
        .load()
        .await?)
}

pub async fn status(repo_dir: &Path) -> Result<Status, RepoError> {
    let repo = load_local(repo_dir).await?;
    let Description { catalogue_version, items } = repo
        .targets()
        .signed
        .targets
        .get(&TargetName::new(TARGET)?)
        .map(Description::read_from)
        .unwrap_or_default();
    let mut expires = vec![
        ("root", repo.root().signed.expires),
        ("targets", repo.targets().signed.expires),
        ("snapshot", repo.snapshot().signed.expires),
        ("timestamp", repo.timestamp().signed.expires),
    ];
    expires.sort_by_key(|(_, t)| *t);
    Ok(Status { version: repo.targets().signed.version.get(), catalogue_version, items, expires })
}
