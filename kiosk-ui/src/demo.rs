//! Demo mode: the kiosk with every device simulated and the service network on loopback, so a
//! newcomer sees the whole journey with no hardware. Nothing is mocked past the wire: the card
//! reader, printer and scanner simulators answer on pseudo-terminals and the kiosk's real
//! drivers talk to them; the reference gateway serves mutual TLS on loopback and the real sync
//! agent uploads to it; catalogue releases are signed and published with TUF and installed by
//! the agent. The on-screen demo panel stands in for the resident's hands on the devices.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use kiosk_escpos::sim::{PrinterSim, SimServer};
use kiosk_gateway::{Faults, Running, certs};
use kiosk_idcard::sim::{PtySim, Simulator, sample_cards};
use kiosk_idcard::{ReaderPort, SamId};
use kiosk_scanner::sim::serial_bytes;
use kiosk_scanner::{Mode, ScanConfig, Suffix};
use kiosk_sync::{Agent, Config as AgentConfig};
use kiosk_update::repo;
use serialport::{SerialPort, TTYPort};

use kiosk_config::DeviceConfig;

pub const KIOSK_ID: &str = "NH-DEMO-0001";
/// The prefix of the government app's login code in the demo (site configuration on a kiosk).
pub const LOGIN_PREFIX: &str = "GDZWFW:";
/// The technician PIN of the demo kiosk.
pub const DEMO_PIN: &str = "2468";
const SAM: SamId = SamId { a: 5, b: 1, c: 20_240_101, d: 88, e: 1_234_567_890 };

/// The agent on a thread of its own, as the separate `kiosk-sync` process it is on a kiosk.
struct AgentTask {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

/// The kiosk's network cable: a TCP relay between the agent and the gateway that the demo panel
/// unplugs. Unplugged, new connections are cut at once and open ones are dropped, as a pulled
/// cable or a dead uplink does; the agent notices as it would on a kiosk.
struct Cable {
    addr: SocketAddr,
    plugged: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Cable {
    fn lay(runtime: &tokio::runtime::Runtime, to: SocketAddr) -> Result<Self> {
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let plugged = Arc::new(AtomicBool::new(true));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (p, o) = (plugged.clone(), open.clone());
        runtime.spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !p.load(Ordering::SeqCst) {
                    continue;
                }
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                o.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(relay.abort_handle());
            }
        });
        Ok(Self { addr, plugged, open })
    }

    fn plug(&self, plugged: bool) {
        self.plugged.store(plugged, Ordering::SeqCst);
        if !plugged {
            for relay in self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner).drain(..) {
                relay.abort();
            }
        }
    }
}

pub struct DemoRig {
    pub dir: PathBuf,
    runtime: tokio::runtime::Runtime,
    reader: Mutex<Option<PtySim>>,
    reader_link: PathBuf,
    pub printer: SimServer,
    scanner: Mutex<TTYPort>,
    scanner_path: String,
    _scanner_device: TTYPort,
    pub gateway: Running,
    cable: Cable,
    agent_config: PathBuf,
    agent: Mutex<Option<AgentTask>>,
    keys: PathBuf,
    repo: PathBuf,
    releases: Mutex<u32>,
}

impl std::fmt::Debug for DemoRig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoRig").field("dir", &self.dir).finish_non_exhaustive()
    }
}

fn progress(_: repo::Step) {}

impl DemoRig {
    /// Starts everything under `dir` (emptied first).
    pub fn start(dir: &Path) -> Result<Self> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;

        // The reader behind a stable name, as udev's /dev/serial/by-id links are.
        let reader_link = dir.join("usb-Demo_SAM_Reader-if00");
        let reader = PtySim::start(Simulator::new(SAM))?;
        reader.link_as(&reader_link)?;
        let printer = SimServer::pty(PrinterSim::new())?;
        let (scanner, scanner_device) = TTYPort::pair()?;
        let scanner_path = scanner_device.name().context("the scanner pty has no name")?;

        // Signed catalogue releases, served by the gateway like any static web server would.
        let keys = dir.join("catalogue-keys");
        let repo_dir = dir.join("catalogue-repo");
        let sample = kiosk_catalogue::sample();
        runtime.block_on(async {
            repo::init_repo(&keys, &repo_dir, &repo::InitOptions::default()).await?;
            repo::publish(&sample, &keys, &repo_dir, repo::Lifetimes::default(), progress).await
        })?;
        // The image ships the catalogue of its build; later releases come through the agent.
        let install = dir.join("catalogue");
        std::fs::create_dir_all(&install)?;
        std::fs::write(install.join(kiosk_update::TARGET), kiosk_catalogue::to_bundle(&sample))?;

        let secret = format!("{:032x}", fastrand::u128(..));
        kiosk_gateway::certs::write_private(&dir.join("app-secret"), &secret)?;
        let gateway = runtime.block_on(kiosk_gateway::start_dev(
            dir,
            &[KIOSK_ID.to_owned()],
            "kiosk-demo",
            secret.as_bytes(),
            Faults::default(),
            7,
            Some(repo_dir.clone()),
        ))?;
        let cable = Cable::lay(&runtime, gateway.api)?;
        let (cert, key) = certs::kiosk_files(Path::new("certs"), KIOSK_ID);
        let agent_config = dir.join("kiosk-sync.toml");
        std::fs::write(
            &agent_config,
            format!(
                "kiosk_id = \"{KIOSK_ID}\"\ngateway = \"https://127.0.0.1:{}\"\napp_key = \"kiosk-demo\"\n\
                 app_secret_file = \"app-secret\"\nca = \"certs/ca.pem\"\nclient_cert = \"{}\"\nclient_key = \"{}\"\n\
                 outbox = \"kiosk.db\"\npayload_key = \"payload.key\"\n\
                 [upload]\nbackoff_base_ms = 200\nbackoff_cap_ms = 2000\npoll_ms = 100\nheartbeat_secs = 5\n\
                 [catalogue]\ntrusted_root = \"catalogue-repo/root.json\"\ndatastore = \"catalogue-datastore\"\n\
                 install_dir = \"catalogue\"\npoll_secs = 3\n\
                 [local]\nsocket = \"sync.sock\"\n",
                cable.addr.port(),
                cert.display(),
                key.display()
            ),
        )?;
        let rig = Self {
            dir: dir.to_owned(),
            runtime,
            reader: Mutex::new(Some(reader)),
            reader_link,
            printer,
            scanner: Mutex::new(scanner),
            scanner_path,
            _scanner_device: scanner_device,
            gateway,
            cable,
            agent_config,
            agent: Mutex::new(None),
            keys,
            repo: repo_dir,
            releases: Mutex::new(1),
        };
        rig.start_agent()?;
        Ok(rig)
    }

    pub fn outbox_path(&self) -> PathBuf {
        self.dir.join("kiosk.db")
    }

    pub fn payload_key_path(&self) -> PathBuf {
        self.dir.join("payload.key")
    }

    /// The agent's local API, for live services.
    pub fn live_socket(&self) -> PathBuf {
        self.dir.join("sync.sock")
    }

    pub fn catalogue_path(&self) -> PathBuf {
        self.dir.join("catalogue").join(kiosk_update::TARGET)
    }

    pub fn device_config(&self) -> DeviceConfig {
        DeviceConfig {
            reader: Some(ReaderPort::Serial {
                path: self.reader_link.to_string_lossy().into_owned(),
                baud: None,
            }),
            printer: Some(self.printer.device.parse().expect("the simulator names a valid device")),
            scanner: Some((
                kiosk_scanner::Device::Serial { path: self.scanner_path.clone(), baud: 9600 },
                Mode::Serial(Suffix::Cr),
                ScanConfig { login_prefix: Some(LOGIN_PREFIX.into()), ..ScanConfig::default() },
            )),
        }
    }

    fn start_agent(&self) -> Result<()> {
        let config = AgentConfig::load(&self.agent_config)?;
        let mut agent = Agent::new(config)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let thread = std::thread::Builder::new().name("demo-sync-agent".into()).spawn(move || {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = runtime.block_on(agent.run(shutdown)) {
                tracing::error!(error = %e, "demo sync agent stopped");
            }
        })?;
        *self.agent.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(AgentTask { stop, thread });
        Ok(())
    }

    fn stop_agent(&self) {
        if let Some(a) = self.agent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            let _ = a.stop.send(());
            let _ = a.thread.join();
        }
    }

    fn scan(&self, text: &[u8]) -> Result<()> {
        let mut port = self.scanner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        port.write_all(&serial_bytes(text, Suffix::Cr))?;
        port.flush()?;
        Ok(())
    }

    fn with_reader(&self, f: impl FnOnce(&mut Simulator)) -> Result<()> {
        let reader = self.reader.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let reader = reader.as_ref().context("the demo card reader is unplugged")?;
        f(&mut reader.sim());
        Ok(())
    }

    /// A sample card by its fixture name (`resident`, `hmt_permit`, ...).
    pub fn place_card(&self, name: &str) -> Result<()> {
        let card = sample_cards().into_iter().find(|(n, _)| *n == name).context("no such sample card")?.1;
        self.with_reader(|sim| {
            sim.lift_card();
            sim.place_card(card);
        })
    }

    /// What a button of the demo panel does.
    pub fn act(&self, action: &str) -> Result<()> {
        tracing::info!(action, "demo action");
        match action.split_once(':') {
            Some(("card", "bad")) => {
                self.with_reader(|sim| sim.faults.lift_during_read = true)?;
                self.place_card("resident")
            }
            Some(("card", name)) => self.place_card(name),
            Some(("scan", "login")) => {
                self.scan(b"GDZWFW:eyJ0eXAiOiJKV1QiLCJraW9zayI6ImRlbW8ifQ.c2lnbmF0dXJl")
            }
            Some(("scan", "garbage")) => self.scan(b"\x1b[2J\x00\x01garbled"),
            // The resident holds the last slip the printer printed under the scanner.
            Some(("scan", "slip")) => {
                let code = self.printer.sim().printed().iter().rev().find_map(|p| match p {
                    kiosk_escpos::sim::Printed::Qr { data, .. } => Some(data.clone()),
                    _ => None,
                });
                self.scan(&code.context("no slip with a QR code has been printed yet")?)
            }
            Some(("reader", _)) => {
                let mut reader = self.reader.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if reader.take().is_none() {
                    let sim = PtySim::start(Simulator::new(SAM))?;
                    sim.link_as(&self.reader_link)?;
                    *reader = Some(sim);
                }
                Ok(())
            }
            Some(("printer", "paper-out")) => {
                self.printer.sim().run_out_of_paper();
                Ok(())
            }
            Some(("printer", "paper-in")) => {
                self.printer.sim().load_paper();
                Ok(())
            }
            Some(("network", "down")) => {
                self.cable.plug(false);
                Ok(())
            }
            Some(("network", "up")) => {
                self.cable.plug(true);
                Ok(())
            }
            Some(("catalogue", "publish")) => self.publish_update().map(|_| ()),
            _ => anyhow::bail!("unknown demo action {action:?}"),
        }
    }

    /// An admin publishes a new signed release (one item more); the agent installs it and the
    /// kiosk switches to it when no resident is using it.
    pub fn publish_update(&self) -> Result<String> {
        let mut n = self.releases.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *n += 1;
        let mut cat = kiosk_catalogue::sample();
        cat.catalogue_version = format!("{}-demo.{}", cat.catalogue_version, *n);
        let mut extra = cat.items[0].clone();
        extra.task_name = format!("（演示）新增事项 第 {} 版", *n);
        extra.catalog_code = format!("ZZ00000009{:02}", *n % 100);
        extra.task_code = format!("ZZ440605SB0000001Z4{}", extra.catalog_code);
        extra.synonyms = vec!["演示新增".into()];
        cat.items.push(extra);
        let version = cat.catalogue_version.clone();
        self.runtime.block_on(repo::publish(
            &cat,
            &self.keys,
            &self.repo,
            repo::Lifetimes::default(),
            progress,
        ))?;
        tracing::info!(%version, "demo catalogue release published");
        Ok(version)
    }

    /// Waits until the agent has uploaded everything queued (for tests).
    pub fn wait_uploaded(&self, timeout: Duration) -> Result<()> {
        let deadline = std::time::Instant::now() + timeout;
        let outbox =
            kiosk_outbox::Outbox::open_for_inspection(&self.outbox_path(), kiosk_outbox::Options::default())?;
        loop {
            let stats = outbox.stats(kiosk_outbox::now_ms())?;
            if stats.pending + stats.in_flight == 0 {
                return Ok(());
            }
            anyhow::ensure!(std::time::Instant::now() < deadline, "uploads still pending after {timeout:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for DemoRig {
    fn drop(&mut self) {
        self.stop_agent();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
