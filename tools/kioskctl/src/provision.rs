//! `kioskctl provision`: a new kiosk's identity, from the provisioning folder a technician brings
//! on a USB stick (or copies to the data partition), installed where the image's services read it.
//!
//! Everything is checked before anything is written, and the new configuration appears by one
//! rename: a stick with the wrong certificate, or a power cut half-way, leaves the kiosk as it
//! was, never with half an identity. The outbox and its payload key are never replaced, so
//! re-provisioning a kiosk (`--force`) cannot strand residents' queued submissions.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use serde::Deserialize;

/// Files a provisioning folder holds besides `provision.toml`.
pub const CA: &str = "ca.pem";
pub const CERT: &str = "kiosk.pem";
pub const KEY: &str = "kiosk-key.pem";
pub const SECRET: &str = "app-secret";
/// Optional: the root of the signed update repository (catalogue and OS releases).
pub const UPDATE_ROOT: &str = "update-root.json";
/// Written last inside the new configuration folder; first boot runs until it exists.
pub const MARKER: &str = "provisioned";
/// Where the agent serves the UI's live questions (its systemd unit's RuntimeDirectory).
pub const LOCAL_SOCKET: &str = "/run/kiosk-sync/sync.sock";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The provisioning folder (`kiosk-provision/` on the stick): provision.toml, ca.pem,
    /// kiosk.pem, kiosk-key.pem, app-secret and optionally update-root.json.
    #[arg(long)]
    from: PathBuf,
    /// The kiosk's data folder (/data/kiosk in the image).
    #[arg(long)]
    to: PathBuf,
    /// The catalogue the image ships, installed when none is yet.
    #[arg(long)]
    catalogue: Option<PathBuf>,
    /// RAUC's `compatible` of this kiosk: with update-root.json, OS releases for it are taken
    /// from the update repository too.
    #[arg(long)]
    os_compatible: Option<String>,
    /// Replace an existing identity (the outbox and its key are kept).
    #[arg(long)]
    force: bool,
}

/// `provision.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Provision {
    kiosk_id: String,
    /// `https://host:port` of the gateway.
    gateway: String,
    app_key: String,
    #[serde(default)]
    signature: Option<String>,
    /// Argon2 PHC string of the technician PIN (`kiosk-ui --hash-pin`).
    #[serde(default)]
    pin_hash: Option<String>,
    #[serde(default)]
    devices: Devices,
    /// How often to look for catalogue and OS releases (default: the agent's 15 minutes).
    #[serde(default)]
    update_poll_secs: Option<u64>,
}

/// Defaults are the names the image's udev rules give (`/dev/kiosk/…`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Devices {
    reader: String,
    printer: String,
    scanner: String,
    scanner_mode: String,
    login_prefix: Option<String>,
}

impl Default for Devices {
    fn default() -> Self {
        Self {
            reader: "/dev/kiosk/idcard".into(),
            printer: "lp:/dev/kiosk/printer".into(),
            scanner: "hidraw:/dev/kiosk/scanner".into(),
            scanner_mode: "keyboard".into(),
            login_prefix: None,
        }
    }
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let path = dir.join(name);
    fs::read(&path).with_context(|| format!("reading {} from the provisioning folder", path.display()))
}

/// The certificate must name this kiosk and belong to the key beside it: a swapped stick would
/// otherwise give a kiosk another's identity, which the gateway would only notice as refusals.
fn check_identity(kiosk_id: &str, cert_pem: &[u8], key_pem: &[u8]) -> Result<()> {
    let (_, pem) =
        x509_parser::pem::parse_x509_pem(cert_pem).context("kiosk.pem is not a PEM certificate")?;
    let cert = pem.parse_x509().context("kiosk.pem does not parse as an X.509 certificate")?;
    let names: Vec<&str> = cert.subject().iter_common_name().filter_map(|cn| cn.as_str().ok()).collect();
    ensure!(
        names.contains(&kiosk_id),
        "kiosk.pem is issued to {names:?}, not to kiosk {kiosk_id:?}: wrong stick or wrong kiosk_id"
    );
    ensure!(
        cert.validity().is_valid(),
        "kiosk.pem is not valid now (valid {} to {}): check the clock, or issue a new certificate",
        cert.validity().not_before,
        cert.validity().not_after
    );
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .ok()
        .and_then(|der| rustls::crypto::aws_lc_rs::sign::any_supported_type(&der).ok())
        .context("kiosk-key.pem is not a PEM private key of a kind TLS can use")?;
    ensure!(
        key.public_key().is_some_and(|spki| spki.as_ref() == cert.public_key().raw),
        "kiosk-key.pem is not the key of kiosk.pem: the two files come from different kiosks"
    );
    Ok(())
}

fn check(p: &Provision) -> Result<()> {
    ensure!(
        !p.kiosk_id.is_empty()
            && p.kiosk_id.len() <= 64
            && p.kiosk_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "kiosk_id {:?} must be 1 to 64 letters, digits, '-' or '_'",
        p.kiosk_id
    );
    let url = url::Url::parse(&p.gateway).with_context(|| format!("gateway {:?} is not a URL", p.gateway))?;
    ensure!(url.scheme() == "https", "gateway {:?} must be an https:// address", p.gateway);
    ensure!(!p.app_key.is_empty(), "app_key is empty");
    Ok(())
}

/// Writes `bytes` to `path`, readable by its owner only when `secret`.
fn write(path: &Path, bytes: &[u8], secret: bool) -> Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if secret { 0o600 } else { 0o644 })
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).with_context(|| format!("writing {}", path.display()))
}

fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("syncing {}", dir.display()))
}

pub fn run(args: &Args) -> Result<u8> {
    let src = &args.from;
    let text = String::from_utf8(read(src, "provision.toml")?).context("provision.toml is not UTF-8")?;
    let p: Provision = toml::from_str(&text).context("provision.toml")?;
    check(&p)?;
    let (ca, cert, key) = (read(src, CA)?, read(src, CERT)?, read(src, KEY)?);
    check_identity(&p.kiosk_id, &cert, &key)?;
    ensure!(
        x509_parser::pem::parse_x509_pem(&ca).is_ok_and(|(_, pem)| pem.parse_x509().is_ok()),
        "ca.pem is not a PEM certificate"
    );
    let secret = read(src, SECRET)?;
    ensure!(secret.iter().any(|b| !b.is_ascii_whitespace()), "app-secret is empty");
    let update_root = match fs::read(src.join(UPDATE_ROOT)) {
        Ok(bytes) => {
            serde_json::from_slice::<serde_json::Value>(&bytes).context("update-root.json is not JSON")?;
            Some(bytes)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).context("reading update-root.json"),
    };

    fs::create_dir_all(&args.to).with_context(|| format!("creating {}", args.to.display()))?;
    let to = args.to.canonicalize().with_context(|| format!("{}", args.to.display()))?;
    let config = to.join("config");
    if config.join(MARKER).exists() && !args.force {
        bail!("{} is already provisioned; --force replaces its identity (the outbox is kept)", to.display());
    }
    let state = to.join("state");
    let catalogue_dir = state.join("catalogue");
    fs::create_dir_all(&catalogue_dir).with_context(|| format!("creating {}", catalogue_dir.display()))?;

    let staged = to.join("config.new");
    if staged.exists() {
        fs::remove_dir_all(&staged).with_context(|| format!("removing {}", staged.display()))?;
    }
    fs::create_dir(&staged).with_context(|| format!("creating {}", staged.display()))?;
    write(&staged.join(CA), &ca, false)?;
    write(&staged.join(CERT), &cert, false)?;
    write(&staged.join(KEY), &key, true)?;
    write(&staged.join(SECRET), &secret, true)?;

    let outbox = state.join("outbox.db");
    let payload_key = state.join("payload.key");
    // The key is made once, at first provisioning; a re-provisioning keeps it (an outbox
    // without its key is refused by load, with what to restore).
    match kiosk_outbox::PayloadKey::load(&payload_key) {
        Ok(_) => {}
        Err(kiosk_outbox::OutboxError::KeyMissing { .. }) if !outbox.exists() => {
            kiosk_outbox::PayloadKey::create(&payload_key)?;
        }
        Err(e) => return Err(e.into()),
    }
    let installed = catalogue_dir.join(kiosk_update::TARGET);
    if let Some(shipped) = &args.catalogue
        && !installed.exists()
    {
        fs::copy(shipped, &installed)
            .with_context(|| format!("installing the image's catalogue {}", shipped.display()))?;
    }

    let mut sync = toml::Table::new();
    let s = |v: &str| toml::Value::String(v.to_owned());
    let path = |p: &Path| toml::Value::String(p.to_string_lossy().into_owned());
    sync.insert("kiosk_id".into(), s(&p.kiosk_id));
    sync.insert("gateway".into(), s(&p.gateway));
    sync.insert("app_key".into(), s(&p.app_key));
    sync.insert("app_secret_file".into(), path(&config.join(SECRET)));
    if let Some(sig) = &p.signature {
        sync.insert("signature".into(), s(sig));
    }
    sync.insert("ca".into(), path(&config.join(CA)));
    sync.insert("client_cert".into(), path(&config.join(CERT)));
    sync.insert("client_key".into(), path(&config.join(KEY)));
    sync.insert("outbox".into(), path(&outbox));
    sync.insert("payload_key".into(), path(&payload_key));
    if let Some(root) = &update_root {
        write(&staged.join(UPDATE_ROOT), root, false)?;
        let mut updates = toml::Table::new();
        updates.insert("trusted_root".into(), path(&config.join(UPDATE_ROOT)));
        updates.insert("datastore".into(), path(&state.join("update-datastore")));
        updates.insert("install_dir".into(), path(&catalogue_dir));
        if let Some(secs) = p.update_poll_secs {
            updates.insert(
                "poll_secs".into(),
                toml::Value::Integer(secs.try_into().context("update_poll_secs")?),
            );
        }
        if let Some(compatible) = args.os_compatible.as_deref().filter(|c| !c.is_empty()) {
            let os = toml::Table::from_iter([
                ("compatible".into(), s(compatible)),
                ("incoming".into(), path(&state.join("os-incoming"))),
            ]);
            updates.insert("os".into(), toml::Value::Table(os));
        }
        sync.insert("catalogue".into(), toml::Value::Table(updates));
    }
    sync.insert(
        "local".into(),
        toml::Value::Table(toml::Table::from_iter([("socket".into(), s(LOCAL_SOCKET))])),
    );

    let d = &p.devices;
    let mut ui = toml::Table::new();
    ui.insert("kiosk_id".into(), s(&p.kiosk_id));
    ui.insert("catalogue".into(), path(&installed));
    ui.insert("outbox".into(), path(&outbox));
    ui.insert("payload_key".into(), path(&payload_key));
    if let Some(pin) = &p.pin_hash {
        ui.insert("pin_hash".into(), s(pin));
    }
    ui.insert("font_dir".into(), s("/usr/share/fonts/opentype/noto"));
    ui.insert("live_socket".into(), s(LOCAL_SOCKET));
    ui.insert("printer".into(), s(&d.printer));
    ui.insert("reader".into(), toml::Value::Table(toml::Table::from_iter([("port".into(), s(&d.reader))])));
    let mut scanner =
        toml::Table::from_iter([("device".into(), s(&d.scanner)), ("mode".into(), s(&d.scanner_mode))]);
    if let Some(prefix) = &d.login_prefix {
        scanner.insert("login_prefix".into(), s(prefix));
    }
    ui.insert("scanner".into(), toml::Value::Table(scanner));

    let header = "# Written by `kioskctl provision`; re-provision rather than edit.\n";
    write(&staged.join("kiosk-sync.toml"), format!("{header}{sync}").as_bytes(), false)?;
    write(&staged.join("kiosk-ui.toml"), format!("{header}{ui}").as_bytes(), false)?;
    write(&staged.join(MARKER), format!("{}\n", p.kiosk_id).as_bytes(), false)?;
    sync_dir(&staged)?;

    // The commit point: the old configuration, if any, goes aside first.
    let old = to.join("config.old");
    if config.exists() {
        if old.exists() {
            fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
        }
        fs::rename(&config, &old).with_context(|| format!("moving {} aside", config.display()))?;
    }
    fs::rename(&staged, &config).with_context(|| format!("installing {}", config.display()))?;
    sync_dir(&to)?;
    if old.exists() {
        fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
    }
    println!("provisioned kiosk {} for {} → {}", p.kiosk_id, p.gateway, config.display());
    Ok(0)
}
