//! Real repositories on disk, served over `file://` (the USB path; HTTPS uses the same client),
//! and every attack TUF is meant to stop, each of which must leave the installed catalogue alone.

use std::fs;
use std::path::{Path, PathBuf};

use kiosk_update::client::{Client, Outcome, UpdateError};
use kiosk_update::repo::{self, InitOptions, Lifetimes, RepoError};
use url::Url;

struct Setup {
    dir: PathBuf,
    keys: PathBuf,
    repo: PathBuf,
    client: Client,
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), dest).unwrap();
        }
    }
}

impl Setup {
    async fn new(name: &str) -> Self {
        let dir =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("update-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let keys = dir.join("keys");
        let repo = dir.join("repo");
        let init = repo::init_repo(&keys, &repo, &InitOptions::default()).await.unwrap();
        let kiosk = dir.join("kiosk");
        fs::create_dir_all(&kiosk).unwrap();
        // The image ships a copy of the root, not a pointer into the repository.
        fs::copy(&init.root, kiosk.join("root.json")).unwrap();
        let client = Client {
            trusted_root: kiosk.join("root.json"),
            repository: Url::from_directory_path(&repo).unwrap(),
            datastore: kiosk.join("tuf"),
            install_dir: kiosk.join("catalogue"),
            https: None,
        };
        Self { dir, keys, repo, client }
    }

    async fn publish(&self, catalogue_version: &str, lifetimes: Lifetimes) -> u64 {
        let mut cat = kiosk_catalogue::sample();
        cat.catalogue_version = catalogue_version.into();
        repo::publish(&cat, &self.keys, &self.repo, lifetimes, |_| {}).await.unwrap().version
    }

    fn installed(&self) -> Vec<u8> {
        fs::read(self.client.installed_path()).unwrap()
    }

    fn installed_version(&self) -> String {
        kiosk_catalogue::Bundle::open(&self.installed()).unwrap().meta.catalogue_version
    }

    /// The one target file of the current release (consistent snapshots prefix its hash).
    fn target_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> =
            fs::read_dir(self.repo.join("targets")).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        files
    }

    async fn refused(&self) -> String {
        refused(&self.client).await
    }

    /// A kiosk that has installed release "v1".
    async fn running_v1(name: &str) -> Self {
        let s = Self::new(name).await;
        s.publish("v1", Lifetimes::default()).await;
        s.client.update().await.unwrap();
        s
    }
}

async fn refused(client: &Client) -> String {
    match client.update().await {
        Err(UpdateError::Refused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn installs_then_reports_current_then_installs_the_next_release() {
    let s = Setup::new("happy").await;
    let mut ui = kiosk_catalogue::BundleWatch::new(s.client.installed_path());
    assert!(ui.poll().unwrap().is_none(), "nothing installed yet");
    assert_eq!(s.publish("2026.11-a", Lifetimes::default()).await, 1);
    let Outcome::Applied(r) = s.client.update().await.unwrap() else { panic!("expected an install") };
    assert_eq!((r.version, r.catalogue_version.as_str()), (1, "2026.11-a"));
    assert_eq!(r.items, kiosk_catalogue::sample().items.len());
    kiosk_catalogue::verify_bundle(&s.installed()).unwrap();

    assert_eq!(ui.poll().unwrap().unwrap().meta.catalogue_version, "2026.11-a");
    assert!(matches!(s.client.update().await.unwrap(), Outcome::Current(r) if r.version == 1));
    assert!(ui.poll().unwrap().is_none(), "no change, no reload");

    // An earlier publish was interrupted: its leftovers were never visible and do not matter.
    fs::create_dir_all(s.repo.join(".staging/metadata")).unwrap();
    fs::write(s.repo.join(".staging/metadata/timestamp.json"), b"{half a file").unwrap();
    assert_eq!(s.publish("2026.11-b", Lifetimes::default()).await, 2);
    assert!(!s.repo.join(".staging").exists());
    let Outcome::Applied(r) = s.client.update().await.unwrap() else { panic!("expected an install") };
    assert_eq!((r.version, r.catalogue_version.as_str()), (2, "2026.11-b"));
    assert_eq!(s.installed_version(), "2026.11-b");
    let switched = ui.poll().unwrap().expect("the UI sees the new catalogue");
    assert_eq!((switched.meta.catalogue_version.as_str(), switched.len()), ("2026.11-b", r.items));
    assert!(!s.client.install_dir.join(".catalogue.bundle.incoming").exists());
    fs::remove_dir_all(&s.dir).unwrap();
}

#[tokio::test]
async fn a_tampered_bundle_is_refused_and_the_current_catalogue_stays() {
    let s = Setup::running_v1("tamper").await;
    let before = s.installed();
    s.publish("v2", Lifetimes::default()).await;
    let newest = s
        .target_files()
        .into_iter()
        .find(|p| {
            let bytes = fs::read(p).unwrap();
            kiosk_catalogue::Bundle::open(&bytes).unwrap().meta.catalogue_version == "v2"
        })
        .unwrap();
    let mut bytes = fs::read(&newest).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&newest, &bytes).unwrap();

    let why = s.refused().await;
    assert!(why.to_lowercase().contains("hash"), "{why}");
    assert_eq!(s.installed(), before);

    // Longer than signed: the download stops at the signed length and fails.
    bytes[mid] ^= 0x01;
    bytes.extend_from_slice(&[0u8; 4096]);
    fs::write(&newest, &bytes).unwrap();
    s.refused().await;
    assert_eq!(s.installed(), before);
    fs::remove_dir_all(&s.dir).unwrap();
}

#[tokio::test]
async fn a_rollback_to_older_signed_metadata_is_refused_even_after_a_restart() {
    let s = Setup::new("rollback").await;
    s.publish("v1", Lifetimes::default()).await;
    let old = s.dir.join("repo-v1");
    copy_dir(&s.repo, &old);
    s.publish("v2", Lifetimes::default()).await;
    s.client.update().await.unwrap();
    assert_eq!(s.installed_version(), "v2");

    // A mirror serves the old, validly signed release. A new client is a restarted agent: only
    // the persistent datastore remembers that version 2 was seen.
    let restarted = Client { repository: Url::from_directory_path(&old).unwrap(), ..s.client.clone() };
    let why = refused(&restarted).await;
    assert!(why.contains("older") || why.contains("version"), "{why}");
    assert_eq!(s.installed_version(), "v2");
    fs::remove_dir_all(&s.dir).unwrap();
}

#[tokio::test]
async fn expired_metadata_is_refused_as_a_freeze_attack() {
    let s = Setup::running_v1("freeze").await;
    // A mirror keeps serving a release whose timestamp has run out instead of the fresh one.
    let stale = Lifetimes { timestamp: -repo::days(1), ..Lifetimes::default() };
    s.publish("v2", stale).await;
    let why = s.refused().await;
    assert!(why.to_lowercase().contains("expired"), "{why}");
    assert_eq!(s.installed_version(), "v1");
    fs::remove_dir_all(&s.dir).unwrap();
}

#[tokio::test]
async fn mixing_metadata_from_different_releases_is_refused() {
    let s = Setup::running_v1("mix").await;
    s.publish("v2", Lifetimes::default()).await;
    // Current timestamp and snapshot, but the targets list of the previous release.
    let meta = s.repo.join("metadata");
    fs::copy(meta.join("1.targets.json"), meta.join("2.targets.json")).unwrap();
    s.refused().await;
    assert_eq!(s.installed_version(), "v1");

    // And a snapshot from the previous release under the current name.
    s.publish("v3", Lifetimes::default()).await;
    fs::copy(meta.join("2.snapshot.json"), meta.join("3.snapshot.json")).unwrap();
    s.refused().await;
    assert_eq!(s.installed_version(), "v1");
    fs::remove_dir_all(&s.dir).unwrap();
}

#[tokio::test]
async fn a_repository_signed_with_other_keys_is_refused() {
    let s = Setup::new("keys").await;
    let attacker = Setup::new("keys-attacker").await;
    attacker.publish("evil", Lifetimes::default()).await;
    let hijacked =
        Client { repository: Url::from_directory_path(&attacker.repo).unwrap(), ..s.client.clone() };
    let why = refused(&hijacked).await;
    assert!(why.to_lowercase().contains("signature"), "{why}");
    assert!(!s.client.installed_path().exists());
    fs::remove_dir_all(&s.dir).unwrap();
    fs::remove_dir_all(&attacker.dir).unwrap();
}

#[tokio::test]
async fn a_missing_usb_stick_is_unreachable_not_refused() {
    let s = Setup::new("absent").await;
    let absent =
        Client { repository: Url::parse("file:///nonexistent/usb/catalogue/").unwrap(), ..s.client.clone() };
    assert!(matches!(absent.update().await, Err(UpdateError::Unreachable(_))));
    fs::remove_dir_all(&s.dir).unwrap();
}

#[tokio::test]
async fn init_repo_never_overwrites_keys_and_checks_the_threshold() {
    let s = Setup::new("init").await;
    let again = repo::init_repo(&s.keys, &s.dir.join("other"), &InitOptions::default()).await;
    assert!(matches!(again, Err(RepoError::KeysExist(_))), "{again:?}");
    let bad = InitOptions { root_keys: 1, root_threshold: 2, ..InitOptions::default() };
    let err = repo::init_repo(&s.dir.join("k2"), &s.dir.join("r2"), &bad).await;
    assert!(matches!(err, Err(RepoError::Threshold { threshold: 2, keys: 1 })), "{err:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(s.keys.join("targets.pk8")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "keys must be owner-only");
    }
    fs::remove_dir_all(&s.dir).unwrap();
}

#[test]
fn sources_read_as_json_and_toml_alike() {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("update-{}-sources", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let sample = kiosk_catalogue::sample();
    let toml_path = dir.join("catalogue.toml");
    fs::write(&toml_path, toml::to_string(&sample).unwrap()).unwrap();
    let (from_toml, _) = repo::read_source(&toml_path).unwrap();
    let (from_json, _) = repo::read_source(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../catalogue/data/sample.json"
    )))
    .unwrap();
    assert_eq!(kiosk_catalogue::to_bundle(&from_toml), kiosk_catalogue::to_bundle(&from_json));

    let mut broken = sample.clone();
    broken.items[0].task_name.clear();
    fs::write(&toml_path, toml::to_string(&broken).unwrap()).unwrap();
    let err = repo::read_source(&toml_path).unwrap_err().to_string();
    assert!(err.contains("task_name"), "{err}");
    let odd = dir.join("catalogue.yaml");
    fs::write(&odd, "x").unwrap();
    assert!(matches!(repo::read_source(&odd), Err(RepoError::Source { .. })));
    fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn rotated_keys_are_followed_and_retired_keys_stay_retired() {
    let s = Setup::running_v1("rotate").await;
    // Someone copied the online keys and the repository before the rotation.
    let stolen = s.dir.join("stolen");
    copy_dir(&s.keys, &stolen.join("keys"));
    copy_dir(&s.repo, &stolen.join("repo"));

    assert_eq!(repo::rotate_online_keys(&s.keys, &s.repo, repo::days(365)).await.unwrap(), 2);
    assert!(s.keys.join("retired/targets-root1.pk8").exists());
    s.publish("v2", Lifetimes::default()).await;
    let Outcome::Applied(r) = s.client.update().await.unwrap() else { panic!("expected an install") };
    assert_eq!(r.catalogue_version, "v2", "the kiosk walked from root 1 to root 2");

    // With the retired keys, the thief publishes newer-looking releases into the old copy, which
    // has no 2.root.json: a kiosk starting again from the image's root would believe them.
    let mut evil = kiosk_catalogue::sample();
    evil.catalogue_version = "evil".into();
    for _ in 0..3 {
        repo::publish(&evil, &stolen.join("keys"), &stolen.join("repo"), Lifetimes::default(), |_| {})
            .await
            .unwrap();
    }
    let mirror =
        Client { repository: Url::from_directory_path(stolen.join("repo")).unwrap(), ..s.client.clone() };
    refused(&mirror).await;
    assert_eq!(s.installed_version(), "v2");
    fs::remove_dir_all(&s.dir).unwrap();
}

#[tokio::test]
async fn os_releases_travel_beside_the_catalogue_and_a_rolled_back_one_is_not_retried() {
    use kiosk_update::client::{OS_STAGED, OsOutcome};
    let s = Setup::running_v1("os").await;
    let bundle: Vec<u8> = (0..1_500_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let bundle_path = s.dir.join("kiosk-os-amd64.raucb");
    fs::write(&bundle_path, &bundle).unwrap();
    let amd64 = "nanhai-kiosk-amd64";
    let published =
        repo::publish_os(&bundle_path, amd64, "2026.12.01-1", &s.keys, &s.repo, Lifetimes::default())
            .await
            .unwrap();
    assert_eq!((published.version, published.bytes), (2, bundle.len() as u64));
    // Publishing the OS kept the catalogue listed, and the other way round below.
    assert!(matches!(s.client.update().await.unwrap(), Outcome::Current(r) if r.catalogue_version == "v1"));

    let incoming = s.dir.join("incoming");
    let staged = incoming.join(OS_STAGED);
    let other = s.client.stage_os("nanhai-kiosk-arm64", "2026.11.27-1", &incoming).await.unwrap();
    assert_eq!(other, OsOutcome::NoRelease, "another hardware family's release is not this kiosk's");
    let outcome = s.client.stage_os(amd64, "2026.11.27-1", &incoming).await.unwrap();
    assert_eq!(outcome, OsOutcome::Staged("2026.12.01-1".into()));
    assert_eq!(fs::read(&staged).unwrap(), bundle);
    assert_eq!(
        s.client.stage_os(amd64, "2026.11.27-1", &incoming).await.unwrap(),
        OsOutcome::Waiting("2026.12.01-1".into())
    );

    s.publish("v2", Lifetimes::default()).await;
    assert!(matches!(s.client.update().await.unwrap(), Outcome::Applied(r) if r.catalogue_version == "v2"));
    assert_eq!(
        s.client.stage_os(amd64, "2026.12.01-1", &incoming).await.unwrap(),
        OsOutcome::Current("2026.12.01-1".into()),
        "the kiosk booted the new system"
    );
    // Installed, then rolled back by GRUB: the kiosk runs the old version again and must not
    // install the same release in a loop.
    fs::remove_file(&staged).unwrap();
    match s.client.stage_os(amd64, "2026.11.27-1", &incoming).await {
        Err(UpdateError::Refused(why)) => assert!(why.contains("is not running"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }

    // A newer release whose bytes were changed on the mirror: refused, nothing left to install.
    let mut tampered = bundle.clone();
    tampered.reverse();
    fs::write(&bundle_path, &tampered).unwrap();
    repo::publish_os(&bundle_path, amd64, "2026.12.02-1", &s.keys, &s.repo, Lifetimes::default())
        .await
        .unwrap();
    let served = s.target_files().into_iter().find(|p| fs::read(p).unwrap() == tampered).unwrap();
    tampered[700_000] ^= 0x40;
    fs::write(&served, &tampered).unwrap();
    match s.client.stage_os(amd64, "2026.11.27-1", &incoming).await {
        Err(UpdateError::Refused(why)) => assert!(why.to_lowercase().contains("hash"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(!staged.exists() && !incoming.join(".update.partial").exists());
    fs::remove_dir_all(&s.dir).unwrap();
}
