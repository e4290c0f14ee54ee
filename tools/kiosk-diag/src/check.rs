//! `kiosk-diag check`: the technician's one command in front of a kiosk. It finds the devices
//! (from the kiosk's configuration, by USB VID:PID, by `/dev/serial/by-id`), then works through
//! a checklist; every step says pass, fail or skip, why, and what to try. The JSON report is what
//! the maintenance screen and the heartbeat carry.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use kiosk_config::{Config, ConfigError};
use kiosk_escpos::{Paper, Printer};
use kiosk_idcard::reader::SAM_USB_ID;
use kiosk_idcard::{Reader, ReaderPort};
use kiosk_outbox::{Options, Outbox, Program};
use kiosk_scanner::{ScanEvent, Scanner};
use serde::Serialize;

use crate::exit;

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The kiosk's configuration (devices, outbox): the file kiosk-ui reads.
    #[arg(long, default_value = "/etc/kiosk/kiosk-ui.toml")]
    config: PathBuf,
    /// The sync agent's configuration (gateway, certificate); the gateway step is skipped without it.
    #[arg(long, default_value = "/etc/kiosk/kiosk-sync.toml")]
    sync_config: PathBuf,
    /// Wait this many seconds for a card on the reader (0: skip the card step).
    #[arg(long, default_value_t = 0)]
    card_secs: u64,
    /// Print a test slip.
    #[arg(long)]
    print: bool,
    /// Wait this many seconds for a test scan (0: only check that the scanner answers).
    #[arg(long, default_value_t = 0)]
    scan_secs: u64,
    /// The report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// The health check after boot, before the OS slot is marked good: the kiosk's processes
    /// must run and its data must be sound, while devices and the gateway are only reported (a
    /// printer out of paper or a network outage is not the new system's fault, and rolling back
    /// for it would not help).
    #[arg(long)]
    boot: bool,
}

/// Steps whose failure `--boot` reports without failing the check.
const NOT_THE_SYSTEMS_FAULT: [&str; 9] =
    ["reader", "card", "printer", "test_slip", "scanner", "gateway", "clock_offset", "quarantine", "live"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

#[derive(Debug, Serialize)]
pub struct Step {
    pub id: &'static str,
    pub title: &'static str,
    pub status: Status,
    /// Whether a failure here fails the whole check.
    pub required: bool,
    pub detail: String,
    /// What to try, when it did not pass.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub kiosk_id: Option<String>,
    pub passed: bool,
    pub steps: Vec<Step>,
}

struct Checklist(Vec<Step>);

impl Checklist {
    fn pass(&mut self, id: &'static str, title: &'static str, detail: impl Into<String>) {
        self.0.push(Step {
            id,
            title,
            status: Status::Pass,
            required: true,
            detail: detail.into(),
            fix: String::new(),
        });
    }

    fn fail(&mut self, id: &'static str, title: &'static str, detail: impl Into<String>, fix: &str) {
        self.0.push(Step {
            id,
            title,
            status: Status::Fail,
            required: true,
            detail: detail.into(),
            fix: fix.into(),
        });
    }

    fn skip(&mut self, id: &'static str, title: &'static str, detail: impl Into<String>) {
        self.0.push(Step {
            id,
            title,
            status: Status::Skip,
            required: false,
            detail: detail.into(),
            fix: String::new(),
        });
    }
}

/// Known USB devices, for discovery without a configuration.
const KNOWN_USB: [(u16, u16, &str); 4] = [
    (SAM_USB_ID.vid, SAM_USB_ID.pid, "ID card reader (SAM USB module)"),
    (0x0416, 0x5011, "receipt printer (Winbond-based, printer class)"),
    (0x0fe6, 0x811e, "receipt printer (ICS, printer class)"),
    (0x05e0, 0x1200, "QR scanner (Symbol/Zebra HID)"),
];

fn discover() -> Vec<String> {
    let mut found = Vec::new();
    // A context of our own: the global one panics where libusb cannot start (no USB at all).
    use rusb::UsbContext;
    if let Ok(devices) = rusb::Context::new().and_then(|c| c.devices()) {
        for d in devices.iter() {
            if let Ok(desc) = d.device_descriptor()
                && let Some((_, _, what)) =
                    KNOWN_USB.iter().find(|(v, p, _)| *v == desc.vendor_id() && *p == desc.product_id())
            {
                found.push(format!(
                    "usb {:04x}:{:04x} bus {} device {}: {what}",
                    desc.vendor_id(),
                    desc.product_id(),
                    d.bus_number(),
                    d.address()
                ));
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir("/dev/serial/by-id") {
        found.extend(entries.flatten().map(|e| format!("serial {}", e.path().display())));
    }
    found.sort();
    found
}

/// A device the configuration names; none without a configuration.
fn setting<T>(
    config: Option<&Config>,
    read: fn(&Config) -> Result<Option<T>, ConfigError>,
) -> Result<Option<T>, ConfigError> {
    config.map(read).transpose().map(Option::flatten)
}

fn check_reader(list: &mut Checklist, config: Option<&Config>, card_secs: u64) {
    const TITLE: &str = "身份证阅读器 ID card reader";
    const FIX: &str = "check the reader's USB cable and power LED, then the port in the configuration \
                       (ls -l /dev/serial/by-id); a reader that answers but fails its SAM self-test needs replacing";
    let port = match setting(config, Config::reader_port) {
        Ok(p) => p.unwrap_or(ReaderPort::Usb(SAM_USB_ID)),
        Err(e) => return list.fail("reader", TITLE, e.to_string(), FIX),
    };
    let mut reader = match Reader::open(&port) {
        Ok((reader, info)) => {
            list.pass(
                "reader",
                TITLE,
                format!(
                    "{} answers{}, SAM ID {}",
                    info.device,
                    info.baud.map(|b| format!(" at {b} baud")).unwrap_or_default(),
                    info.sam_id
                ),
            );
            reader
        }
        Err(e) => {
            list.fail("reader", TITLE, format!("{port}: {e}"), FIX);
            list.skip("card", "读卡 card read", "the reader does not answer");
            return;
        }
    };
    const CARD: &str = "读卡 card read";
    if card_secs == 0 {
        return list.skip("card", CARD, "run with --card-secs 20 and place a card to test a read");
    }
    let deadline = Instant::now() + Duration::from_secs(card_secs);
    loop {
        match reader.find_card() {
            Ok(true) => {
                match reader.read_found_card(kiosk_idcard::ReadOptions::default()) {
                    Ok(card) => list.pass(
                        "card",
                        CARD,
                        format!("{} read: {}", card.kind.name_zh(), kiosk_pii::mask_name(&card.name)),
                    ),
                    Err(e) => list.fail(
                        "card",
                        CARD,
                        e.to_string(),
                        "lift the card and place it flat again; if other cards read, this card is damaged",
                    ),
                }
                return;
            }
            Ok(false) if Instant::now() < deadline => {
                std::thread::sleep(kiosk_idcard::reader::MIN_POLL_INTERVAL)
            }
            Ok(false) => {
                return list.fail(
                    "card",
                    CARD,
                    format!("no card found within {card_secs} s"),
                    "place a card flat on the reader's marked area; if one was there, the antenna or SAM may be faulty",
                );
            }
            Err(e) => return list.fail("card", CARD, e.to_string(), FIX),
        }
    }
}

fn check_printer(list: &mut Checklist, config: Option<&Config>, print: bool) {
    const TITLE: &str = "凭条打印机 receipt printer";
    let device = match setting(config, Config::printer_device) {
        Ok(Some(device)) => Ok(device),
        Ok(None) => {
            list.skip("printer", TITLE, "no printer in the configuration");
            return list.skip("test_slip", "测试单 test slip", "no printer");
        }
        Err(e) => Err(anyhow::Error::from(e)),
    };
    let opened = device.and_then(|d| Ok(Printer::open(&d, None)?));
    let mut printer = match opened {
        Ok(p) => p,
        Err(e) => {
            list.fail(
                "printer",
                TITLE,
                format!("{}: {e:#}", config.and_then(|c| c.printer.as_deref()).unwrap_or_default()),
                "check the printer's power, cable and that it is online (its LED); then `kiosk-diag printer status`",
            );
            return list.skip("test_slip", "测试单 test slip", "the printer does not answer");
        }
    };
    match printer.status() {
        Ok(s) if s.ready() => list.pass(
            "printer",
            TITLE,
            format!(
                "{} ready{}",
                printer.describe(),
                if s.paper == Paper::NearEnd { "; paper running low: bring a new roll" } else { "" }
            ),
        ),
        Ok(s) => {
            let fix = if s.paper == Paper::End {
                "load a new paper roll (80 mm thermal) and close the cover"
            } else if s.cover_open {
                "close the printer cover until it clicks"
            } else if s.cutter_error {
                "open the cover, clear the paper jam at the cutter, close it"
            } else {
                "power-cycle the printer; if the fault stays, replace it"
            };
            list.fail("printer", TITLE, format!("{}: {}", printer.describe(), s.problems().join("; ")), fix);
        }
        Err(e) => list.fail("printer", TITLE, e.to_string(), "check the cable; then power-cycle the printer"),
    }
    if !print {
        return list.skip("test_slip", "测试单 test slip", "run with --print to print a test slip");
    }
    let slip = kiosk_escpos::test_slip(printer.profile(), &printer.describe());
    match printer.print(&slip) {
        Ok(report) => list.pass(
            "test_slip",
            "测试单 test slip",
            format!("{} bytes printed and confirmed", report.bytes),
        ),
        Err(e) => list.fail(
            "test_slip",
            "测试单 test slip",
            e.to_string(),
            "see the printer step; then print again",
        ),
    }
}

fn check_scanner(list: &mut Checklist, config: Option<&Config>, scan_secs: u64) {
    const TITLE: &str = "扫码器 QR scanner";
    let opened = match setting(config, Config::scanner) {
        Ok(Some((device, mode, scan))) => Scanner::open(&device, mode, scan).map_err(anyhow::Error::from),
        Ok(None) => return list.skip("scanner", TITLE, "no scanner in the configuration"),
        Err(e) => Err(anyhow::Error::from(e)),
    };
    let mut scanner = match opened {
        Ok(sc) => sc,
        Err(e) => {
            return list.fail(
                "scanner",
                TITLE,
                format!(
                    "{}: {e:#}",
                    config.and_then(|c| c.scanner.as_ref()).map_or("", |s| s.device.as_str())
                ),
                "check the scanner's cable and that it is in the configured mode (scan its setup code)",
            );
        }
    };
    if scan_secs == 0 {
        return list.pass(
            "scanner",
            TITLE,
            format!("{} opened (run with --scan-secs 20 to test a scan)", scanner.describe()),
        );
    }
    let deadline = Instant::now() + Duration::from_secs(scan_secs);
    while Instant::now() < deadline {
        match scanner.poll(Duration::from_millis(200)).map(|events| events.into_iter().next()) {
            Ok(None) => {}
            Ok(Some(ScanEvent::Scan(scan))) => {
                return list.pass(
                    "scanner",
                    TITLE,
                    format!(
                        "{}: scanned {:?}, {} characters",
                        scanner.describe(),
                        scan.kind,
                        scan.text.chars().count()
                    ),
                );
            }
            Ok(Some(ScanEvent::Rejected(why))) => {
                return list.fail(
                    "scanner",
                    TITLE,
                    why.to_string(),
                    "scan a clean printed QR code; clean the scanner window",
                );
            }
            Err(e) => return list.fail("scanner", TITLE, e.to_string(), "check the scanner's cable"),
        }
    }
    list.fail(
        "scanner",
        TITLE,
        format!("no scan within {scan_secs} s"),
        "hold a QR code 10–20 cm under the scanner window",
    )
}

fn check_outbox(list: &mut Checklist, config: Option<&Config>) {
    const TITLE: &str = "待上传队列 outbox";
    let Some(path) = config.map(|c| &c.outbox) else {
        return list.skip("outbox", TITLE, "no outbox in the configuration");
    };
    if !path.exists() {
        // Looking must not create it: kiosk-ui does, at its first start.
        return list.skip(
            "outbox",
            TITLE,
            format!("{}: not created yet (kiosk-ui creates it at its first start)", path.display()),
        );
    }
    let outbox = match Outbox::open_for_inspection(path, Options::default()) {
        Ok(o) => o,
        Err(e @ kiosk_outbox::OutboxError::Corrupt { .. }) => {
            return list.fail(
                "outbox",
                TITLE,
                e.to_string(),
                "stop kiosk-ui and kiosk-sync, run `kioskctl outbox salvage --config /etc/kiosk/kiosk-sync.toml --yes`, start them again",
            );
        }
        Err(e) => {
            return list.fail(
                "outbox",
                TITLE,
                e.to_string(),
                "do not delete it: copy the file off for the vendor, then `kioskctl outbox status` for details",
            );
        }
    };
    let stats = match outbox.stats(kiosk_outbox::now_ms()) {
        Ok(s) => s,
        Err(e) => return list.fail("outbox", TITLE, e.to_string(), "`kioskctl outbox status` for details"),
    };
    if let Some(key) = config.map(|c| &c.payload_key)
        && let Err(e) = outbox.check_key_file(key)
    {
        return list.fail(
            "outbox",
            TITLE,
            e.to_string(),
            "put the kiosk's own payload key back from the provisioning backup (mode 0600); never let the kiosk make a new one while submissions wait",
        );
    }
    list.pass(
        "outbox",
        TITLE,
        format!(
            "{} healthy: pending {}, acknowledged {}, refused {}, quarantined {}{}",
            path.display(),
            stats.pending + stats.in_flight,
            stats.acked,
            stats.dead,
            stats.quarantined,
            if stats.dead > 0 { " (see `kioskctl outbox list --state dead`)" } else { "" }
        ),
    );
    if stats.quarantined > 0 {
        list.fail(
            "quarantine",
            "隔离的申请 quarantined submissions",
            format!("{} submission(s) whose payload this kiosk's key cannot open were set aside", stats.quarantined),
            "`kioskctl outbox list --state quarantined`; if the kiosk's key file was replaced, restore the original and run `kioskctl outbox retry --all`",
        );
    }
}

fn check_disk(list: &mut Checklist, config: Option<&Config>) {
    const TITLE: &str = "磁盘空间 disk space";
    let dir = config
        .and_then(|c| c.outbox.parent())
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("/"));
    match rustix::fs::statvfs(dir) {
        Ok(st) => {
            let free = st.f_bavail * st.f_frsize;
            let total = st.f_blocks * st.f_frsize;
            let detail =
                format!("{}: {} MB free of {} MB", dir.display(), free / 1_000_000, total / 1_000_000);
            // Under 100 MB, or a nearly full small card: SQLite needs room for its journal.
            if free < 100_000_000 || (free * 20 < total && free < 1_000_000_000) {
                list.fail(
                    "disk",
                    TITLE,
                    detail,
                    "free space on the data partition (old logs); submissions wait on it",
                );
            } else {
                list.pass("disk", TITLE, detail);
            }
        }
        Err(e) => list.fail(
            "disk",
            TITLE,
            format!("{}: {e}", dir.display()),
            "check that the data partition is mounted",
        ),
    }
}

fn check_clock(list: &mut Checklist) {
    const TITLE: &str = "系统时钟 clock";
    // Before this software was built the clock cannot be right: certificates and signed
    // catalogues would all look "not yet valid".
    let floor = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600); // 2026-01-01
    let now = SystemTime::now();
    let shown = time::OffsetDateTime::from(now);
    if now < floor {
        list.fail(
            "clock",
            TITLE,
            format!("{shown} is before 2026"),
            "set the time (timedatectl) and check NTP and the RTC battery",
        );
    } else {
        list.pass("clock", TITLE, format!("{shown}"));
    }
}

/// The clock against the gateway's (its `Date` header, seen by the heartbeat).
fn check_clock_offset(list: &mut Checklist, offset_ms: Option<i64>) {
    const TITLE: &str = "时钟偏差 clock offset";
    match offset_ms {
        None => list.skip("clock_offset", TITLE, "the gateway's answer carried no Date header"),
        Some(ms) => {
            let state = kiosk_sync::clock_state(ms);
            if state.health == kiosk_outbox::Health::Ok {
                list.pass("clock_offset", TITLE, state.detail);
            } else {
                list.fail(
                    "clock_offset",
                    TITLE,
                    state.detail,
                    "check NTP (`timedatectl`), the network's time server and the RTC battery",
                );
            }
        }
    }
}

/// Whether the kiosk's own programs run: each holds a lock beside the outbox for its life
/// (`kiosk_outbox::Program`), so this asks the kiosk, not the machine's process names.
fn check_processes(list: &mut Checklist, config: Option<&Config>) {
    const TITLE: &str = "终端程序 kiosk processes";
    let Some(outbox) = config.map(|c| &c.outbox) else {
        return list.fail(
            "processes",
            TITLE,
            "no outbox in the configuration: nothing to ask",
            "re-provision the kiosk (kioskctl provision)",
        );
    };
    let (mut running, mut missing) = (Vec::new(), Vec::new());
    for program in [Program::Ui, Program::Agent] {
        match program.holder(outbox) {
            Some(pid) => running.push(format!(
                "{}{}",
                program.name(),
                pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
            )),
            None => missing.push(program.name()),
        }
    }
    if missing.is_empty() {
        list.pass("processes", TITLE, format!("{} running on {}", running.join(", "), outbox.display()));
    } else {
        list.fail(
            "processes",
            TITLE,
            format!("not running: {}", missing.join(", ")),
            "`journalctl -u kiosk-ui -u kiosk-sync` says why; the slot stays unconfirmed and is rolled back after three boots",
        );
    }
}

fn check_gateway(list: &mut Checklist, sync_config: &Path) {
    const TITLE: &str = "政务服务网 gateway";
    if !sync_config.exists() {
        return list.skip("gateway", TITLE, format!("{} not found", sync_config.display()));
    }
    // Observes only: a heartbeat from the outbox opened for inspection. No lock, key or lease
    // is taken, so a running agent is never disturbed.
    let result = (|| -> Result<Option<i64>> {
        let config = kiosk_sync::Config::load(sync_config)?;
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(kiosk_sync::probe_gateway(&config))
    })();
    match result {
        Ok(offset) => {
            list.pass("gateway", TITLE, "reachable with the kiosk's certificate; a heartbeat was accepted");
            check_clock_offset(list, offset);
        }
        Err(e) => list.fail(
            "gateway",
            TITLE,
            format!("{e:#}"),
            "check the network cable and the gateway address; a certificate error needs the kiosk re-provisioned",
        ),
    }
}

/// The agent's local API, which the UI asks for live services: it must answer; whether the
/// service network is reachable is the gateway step's question, said here as the agent sees it.
fn check_live(list: &mut Checklist, config: Option<&Config>) {
    const TITLE: &str = "在线服务 live services";
    let Some(socket) = config.and_then(|c| c.live_socket.as_ref()) else {
        return list.skip(
            "live",
            TITLE,
            "no live_socket in the configuration: the kiosk offers no live services",
        );
    };
    match kiosk_live::LocalClient::new(socket, std::time::Duration::from_secs(3)).status() {
        Ok(status) => list.pass(
            "live",
            TITLE,
            format!(
                "the sync agent answers on {}; it {} the service network",
                socket.display(),
                if status.online { "reaches" } else { "does not reach" }
            ),
        ),
        Err(e) => list.fail(
            "live",
            TITLE,
            e.to_string(),
            "is kiosk-sync running with [local] socket set to the same path, and kiosk-ui in its group? `journalctl -u kiosk-sync`",
        ),
    }
}

pub fn run(args: &CheckArgs) -> Result<u8> {
    let mut list = Checklist(Vec::new());
    let config = match Config::load(&args.config) {
        Ok(c) => {
            list.pass("config", "配置 configuration", args.config.display().to_string());
            Some(c)
        }
        Err(ConfigError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            list.skip(
                "config",
                "配置 configuration",
                format!("{}: {source}; looking for devices by USB ID", args.config.display()),
            );
            None
        }
        Err(e) => {
            list.fail(
                "config",
                "配置 configuration",
                e.to_string(),
                "fix the file; see the kiosk image's template",
            );
            None
        }
    };
    let config = config.as_ref();
    let found = discover();
    list.0.push(Step {
        id: "discovery",
        title: "设备发现 discovery",
        status: Status::Pass,
        required: false,
        detail: if found.is_empty() {
            "no known USB device or /dev/serial/by-id link".into()
        } else {
            found.join("; ")
        },
        fix: String::new(),
    });
    check_reader(&mut list, config, args.card_secs);
    check_printer(&mut list, config, args.print);
    check_scanner(&mut list, config, args.scan_secs);
    check_outbox(&mut list, config);
    check_gateway(&mut list, &args.sync_config);
    check_live(&mut list, config);
    check_disk(&mut list, config);
    check_clock(&mut list);
    if args.boot {
        check_processes(&mut list, config);
        for s in list.0.iter_mut().filter(|s| NOT_THE_SYSTEMS_FAULT.contains(&s.id)) {
            s.required = false;
        }
    }
    let passed = list.0.iter().all(|s| s.status != Status::Fail || !s.required);
    let report = Report { kiosk_id: config.map(|c| c.kiosk_id.clone()), passed, steps: list.0 };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).context("the report serialises")?);
    } else {
        for s in &report.steps {
            let mark = match s.status {
                Status::Pass => "通过 PASS",
                Status::Fail if s.required => "失败 FAIL",
                Status::Fail => "注意 WARN",
                Status::Skip => "跳过 SKIP",
            };
            println!("{mark}  {}: {}", s.title, s.detail);
            if !s.fix.is_empty() {
                println!("           → {}", s.fix);
            }
        }
        println!(
            "{}",
            if passed {
                "\n全部通过 all required checks passed"
            } else {
                "\n有检查未通过 some checks failed"
            }
        );
    }
    Ok(if passed { exit::OK } else { exit::FAILURE })
}
