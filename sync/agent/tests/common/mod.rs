//! A gateway with faults on loopback, certificates for one kiosk, and an agent configuration.
#![allow(dead_code)] // each test binary uses a different part of this helper

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use kiosk_gateway::{Faults, Gateway, certs};
use kiosk_outbox::{NewSubmission, Options, Outbox, now_ms};

pub const KIOSK: &str = "NH-GC-0007";
pub const SECRET: &str = "dev-secret-0123456789";
/// A second client certificate, for whoever watches the fleet (the MQTT test's subscriber).
pub const OBSERVER: &str = "fleet-observer";

pub struct Rig {
    pub dir: PathBuf,
    pub api: SocketAddr,
    pub admin: SocketAddr,
    pub gateway: std::sync::Arc<Gateway>,
    _runtime: tokio::runtime::Runtime,
}

impl Rig {
    pub fn start(name: &str, faults: Faults) -> Self {
        let dir =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("sync-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        certs::write_private(&dir.join("app-secret"), SECRET).unwrap();
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let running = runtime
            .block_on(kiosk_gateway::start_dev(
                &dir,
                &[KIOSK.to_owned(), OBSERVER.to_owned()],
                "kiosk-dev",
                SECRET.as_bytes(),
                faults,
                42,
                Some(dir.join("catalogue-repo")),
            ))
            .unwrap();
        Self { dir, api: running.api, admin: running.admin, gateway: running.gateway, _runtime: runtime }
    }

    /// Writes an agent configuration with fast retries, for `secret_file` (the right one by
    /// default).
    pub fn config(&self, secret_file: Option<&Path>) -> PathBuf {
        let (cert, key) = certs::kiosk_files(Path::new("certs"), KIOSK);
        let text = format!(
            r#"kiosk_id = "{KIOSK}"
gateway = "https://127.0.0.1:{port}"
app_key = "kiosk-dev"
app_secret_file = "{secret}"
ca = "certs/ca.pem"
client_cert = "{cert}"
client_key = "{key}"
outbox = "kiosk.db"
payload_key = "payload.key"

[upload]
timeout_ms = 1500
concurrency = 8
backoff_base_ms = 20
backoff_cap_ms = 300
heartbeat_secs = 1
poll_ms = 50
"#,
            port = self.api.port(),
            secret = secret_file.map_or("app-secret".into(), |p| p.display().to_string()),
            cert = cert.display(),
            key = key.display(),
        );
        let path = self.dir.join("kiosk-sync.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The same configuration with the local API on `socket` (the agent's default deadline
    /// unless `deadline_ms` names one).
    pub fn config_with_local(&self, socket: &Path, deadline_ms: Option<u64>) -> PathBuf {
        let path = self.config(None);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&format!("\n[local]\nsocket = \"{}\"\n", socket.display()));
        if let Some(ms) = deadline_ms {
            text.push_str(&format!("deadline_ms = {ms}\n"));
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The same configuration with heartbeats going to an MQTT broker.
    pub fn config_with_mqtt(&self, port: u16) -> PathBuf {
        let path = self.config(None);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&format!("\n[mqtt]\nhost = \"127.0.0.1\"\nport = {port}\nkeep_alive_secs = 1\n"));
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The same configuration with catalogue updates from the gateway's `catalogue-repo` (and a
    /// USB stick at `usb`, when one is there), trusting `kiosk-root.json`.
    pub fn config_with_catalogue(&self) -> PathBuf {
        let path = self.config(None);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&format!(
            "\n[catalogue]\ntrusted_root = \"kiosk-root.json\"\nusb = \"{}\"\ndatastore = \"tuf\"\ninstall_dir = \"catalogue\"\n",
            self.dir.join("usb").display()
        ));
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A page of the gateway's admin port, as raw HTTP/1.1 (status line included).
    pub fn admin_page(&self, path: &str) -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(self.admin).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        out
    }

    pub fn outbox(&self) -> Outbox {
        Outbox::open_with_key_file(
            &self.dir.join("kiosk.db"),
            &self.dir.join("payload.key"),
            Options { max_pending: u64::MAX, ..Options::default() },
        )
        .unwrap()
    }

    /// Queues `n` forms carrying (invented) personal data, as the UI would.
    pub fn enqueue(&self, n: usize) -> Vec<String> {
        let mut ob = self.outbox();
        (0..n)
            .map(|i| {
                let form = format!(
                    r#"{{"item_code":"440605-JZZ-001","kiosk_id":"{KIOSK}","form":{{"name":"陈喆","id_number":"440605199005171237","address":"广东省佛山市南海区桂城街道南海大道北88号","seq":"{i}"}}}}"#
                );
                ob.enqueue(&NewSubmission { item_code: "440605-JZZ-001", stream_key: "", payload: form.as_bytes() }, now_ms()).unwrap().idempotency_key
            })
            .collect()
    }

    /// Every submission the gateway filed: idempotency key → case number.
    pub fn filed(&self) -> Vec<(String, String)> {
        let conn = rusqlite::Connection::open(self.dir.join("gateway.db")).unwrap();
        let mut stmt = conn
            .prepare("SELECT idempotency_key, case_number FROM submission ORDER BY idempotency_key")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
    }
}

pub const PERSONAL: [&str; 3] = ["陈喆", "440605199005171237", "南海大道北88号"];

/// Waits until a `kiosk-sync` daemon's local API answers `client`.
pub fn wait_for_local_api(client: &kiosk_live::LocalClient) {
    let started = std::time::Instant::now();
    while client.status().is_err() {
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "the local API did not come up");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
