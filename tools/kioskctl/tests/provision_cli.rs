//! `kioskctl provision`: a provisioning folder made from real certificates, installed, and the
//! result used by the real sync agent against the reference gateway over mutual TLS.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kiosk_gateway::{Faults, certs};

const BIN: &str = env!("CARGO_BIN_EXE_kioskctl");
const SECRET: &str = "provisioning-test-secret";

fn provision(from: &Path, to: &Path, extra: &[&str]) -> Output {
    let bundle = to.parent().unwrap().join("shipped.bundle");
    Command::new(BIN)
        .args(["provision", "--from", from.to_str().unwrap(), "--to", to.to_str().unwrap()])
        .args(["--catalogue", bundle.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A stick's folder: `id`'s settings with the certificate of `cert_of` and the key of `key_of`.
fn folder(dir: &Path, name: &str, id: &str, gateway: &str, cert_of: &str, key_of: &str) -> PathBuf {
    let f = dir.join(name);
    std::fs::create_dir_all(&f).unwrap();
    let certs_dir = dir.join("certs");
    std::fs::write(
        f.join("provision.toml"),
        format!("kiosk_id = \"{id}\"\ngateway = \"{gateway}\"\napp_key = \"kiosk-test\"\n[devices]\nlogin_prefix = \"NHGOV:\"\n"),
    )
    .unwrap();
    std::fs::copy(certs_dir.join("ca.pem"), f.join("ca.pem")).unwrap();
    std::fs::copy(certs::kiosk_files(&certs_dir, cert_of).0, f.join("kiosk.pem")).unwrap();
    std::fs::copy(certs::kiosk_files(&certs_dir, key_of).1, f.join("kiosk-key.pem")).unwrap();
    std::fs::write(f.join("app-secret"), SECRET).unwrap();
    f
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_provisioned_kiosk_reaches_the_gateway_and_bad_sticks_change_nothing() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("provision-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("shipped.bundle"), kiosk_catalogue::to_bundle(&kiosk_catalogue::sample()))
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ids = ["NH-T-0001".to_owned(), "NH-T-0002".to_owned()];
    let gw = runtime
        .block_on(kiosk_gateway::start_dev(
            &dir,
            &ids,
            "kiosk-test",
            SECRET.as_bytes(),
            Faults::default(),
            1,
            None,
        ))
        .unwrap();
    let url = format!("https://{}", gw.api);
    let data = dir.join("data");

    // A wrong stick (another kiosk's certificate), a mismatched key pair, a plain-HTTP gateway:
    // each refused with the reason, and nothing written.
    let other = folder(&dir, "other", "NH-T-0001", &url, "NH-T-0002", "NH-T-0002");
    let out = provision(&other, &data, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("not to kiosk \"NH-T-0001\""), "{}", text(&out));
    let mixed = folder(&dir, "mixed", "NH-T-0001", &url, "NH-T-0001", "NH-T-0002");
    let out = provision(&mixed, &data, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("is not the key of kiosk.pem"), "{}", text(&out));
    let http = folder(&dir, "http", "NH-T-0001", &url.replace("https", "http"), "NH-T-0001", "NH-T-0001");
    let out = provision(&http, &data, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("must be an https:// address"), "{}", text(&out));
    assert!(!data.join("config").exists());

    // The right stick.
    let good = folder(&dir, "good", "NH-T-0001", &url, "NH-T-0001", "NH-T-0001");
    let out = provision(&good, &data, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let config = data.join("config");
    assert_eq!(std::fs::read_to_string(config.join("provisioned")).unwrap().trim(), "NH-T-0001");
    for secret in [config.join("kiosk-key.pem"), config.join("app-secret"), data.join("state/payload.key")] {
        assert_eq!(mode(&secret), 0o600, "{}", secret.display());
    }
    assert!(data.join("state/catalogue/catalogue.bundle").exists());
    let ui: toml::Table =
        toml::from_str(&std::fs::read_to_string(config.join("kiosk-ui.toml")).unwrap()).unwrap();
    assert_eq!(ui["kiosk_id"].as_str(), Some("NH-T-0001"));
    assert_eq!(ui["reader"]["port"].as_str(), Some("/dev/kiosk/idcard"));
    assert_eq!(ui["scanner"]["login_prefix"].as_str(), Some("NHGOV:"));

    // The agent runs on what was written: a heartbeat over mutual TLS, signed with the secret.
    let agent_config = kiosk_sync::Config::load(&config.join("kiosk-sync.toml")).unwrap();
    let local = agent_config.local.as_ref().expect("the agent serves the UI's live questions");
    assert_eq!(local.socket, std::path::Path::new("/run/kiosk-sync/sync.sock"));
    let agent = kiosk_sync::Agent::new(agent_config).unwrap();
    runtime.block_on(agent.send_heartbeat()).unwrap();
    let fleet = gw.gateway.store().fleet().unwrap();
    assert_eq!(fleet.iter().map(|r| r.kiosk_id.as_str()).collect::<Vec<_>>(), ["NH-T-0001"]);
    drop(agent);

    // Once provisioned, only --force replaces the identity; a bad stick with --force still changes
    // nothing, and a good one keeps the outbox's key.
    let key_before = std::fs::read(data.join("state/payload.key")).unwrap();
    let out = provision(&good, &data, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("already provisioned"), "{}", text(&out));
    let cert_before = std::fs::read(config.join("kiosk.pem")).unwrap();
    let out = provision(&other, &data, &["--force"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(config.join("kiosk.pem")).unwrap(), cert_before);
    let out = provision(&good, &data, &["--force"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read(data.join("state/payload.key")).unwrap(), key_before);
    assert!(!data.join("config.new").exists() && !data.join("config.old").exists());
}
