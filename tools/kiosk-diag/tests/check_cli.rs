//! `kiosk-diag check` against the simulators: a healthy kiosk passes every step (a card read, a
//! test slip, the outbox, a heartbeat to the gateway over mutual TLS); a kiosk with its printer
//! out of paper and its reader unplugged fails those steps with what to do, and exit code 1.

use std::path::Path;
use std::process::{Command, Output};

use kiosk_escpos::sim::{PrinterSim, SimServer};
use kiosk_gateway::{Faults, certs};
use kiosk_idcard::SamId;
use kiosk_idcard::sim::{PtySim, Simulator, sample_cards};
use kiosk_outbox::{Options, Outbox};
use serialport::{SerialPort, TTYPort};

const BIN: &str = env!("CARGO_BIN_EXE_kiosk-diag");
const KIOSK: &str = "NH-GC-0042";

fn check(dir: &Path, extra: &[&str]) -> (Output, serde_json::Value) {
    let out = Command::new(BIN)
        .args(["check", "--json", "--config"])
        .arg(dir.join("kiosk-ui.toml"))
        .arg("--sync-config")
        .arg(dir.join("kiosk-sync.toml"))
        .args(extra)
        .env_remove("RUST_LOG")
        .output()
        .expect("kiosk-diag runs");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out, report)
}

fn step<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id}: {report:#}"))
}

/// A development gateway with `faults`, and the agent's configuration for it in `dir`.
fn start_gateway(dir: &Path, runtime: &tokio::runtime::Runtime, faults: Faults) -> kiosk_gateway::Running {
    kiosk_gateway::certs::write_private(&dir.join("app-secret"), "s3cret-s3cret-s3cret").unwrap();
    let running = runtime
        .block_on(kiosk_gateway::start_dev(
            dir,
            &[KIOSK.to_owned()],
            "kiosk-app",
            b"s3cret-s3cret-s3cret",
            faults,
            1,
            None,
        ))
        .unwrap();
    let (cert, key) = certs::kiosk_files(Path::new("certs"), KIOSK);
    std::fs::write(
        dir.join("kiosk-sync.toml"),
        format!(
            "kiosk_id = \"{KIOSK}\"\ngateway = \"https://127.0.0.1:{}\"\napp_key = \"kiosk-app\"\napp_secret_file = \"app-secret\"\n\
             ca = \"certs/ca.pem\"\nclient_cert = \"{}\"\nclient_key = \"{}\"\noutbox = \"kiosk.db\"\npayload_key = \"payload.key\"\n",
            running.api.port(),
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    running
}

#[test]
fn a_healthy_kiosk_passes_and_a_broken_one_says_what_to_fix() {
    let dir = std::env::temp_dir().join(format!("kiosk-diag-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();

    let reader = PtySim::start(Simulator::new(SamId { a: 5, b: 1, c: 20_240_101, d: 88, e: 42 })).unwrap();
    let link = dir.join("usb-SAM_Reader-if00");
    reader.link_as(&link).unwrap();
    let printer = SimServer::pty(PrinterSim::new()).unwrap();
    let (_scanner_host, scanner_device) = TTYPort::pair().unwrap();
    let scanner_path = scanner_device.name().unwrap();
    let outbox = dir.join("kiosk.db");
    Outbox::open_with_key_file(&outbox, &dir.join("payload.key"), Options::default()).unwrap();
    std::fs::write(
        dir.join("kiosk-ui.toml"),
        format!(
            "kiosk_id = \"{KIOSK}\"\ncatalogue = \"catalogue.bundle\"\noutbox = \"{}\"\npayload_key = \"payload.key\"\n\
             printer = \"{}\"\n[reader]\nport = \"{}\"\n[scanner]\ndevice = \"serial:{scanner_path}\"\nmode = \"serial-cr\"\n",
            outbox.display(),
            printer.device,
            link.display()
        ),
    )
    .unwrap();

    let running = start_gateway(&dir, &runtime, Faults::default());

    // Healthy, with a card on the reader and a test slip.
    let card = sample_cards().remove(0).1;
    reader.sim().place_card(card.clone());
    let (out, report) = check(&dir, &["--card-secs", "10", "--print"]);
    assert!(out.status.success(), "{report:#}");
    assert_eq!(report["passed"], true);
    assert_eq!(report["kiosk_id"], KIOSK);
    for id in
        ["config", "reader", "card", "printer", "test_slip", "scanner", "outbox", "gateway", "disk", "clock"]
    {
        assert_eq!(step(&report, id)["status"], "pass", "{id}: {report:#}");
    }
    assert!(step(&report, "reader")["detail"].as_str().unwrap().contains("SAM ID 05.01-20240101"));
    let text = report.to_string();
    assert!(!text.contains(&card.name) && !text.contains(&card.id_number), "the report is masked");
    assert!(text.contains(&kiosk_pii::mask_name(&card.name)));
    assert!(printer.sim().lines().iter().any(|l| l.contains("打印机测试单")));
    let fleet = running.gateway.store().fleet().unwrap();
    assert!(fleet.iter().any(|k| k.kiosk_id == KIOSK), "the heartbeat reached the gateway");

    // Without a card, the card step is skipped (it needs the technician), and the check passes.
    let (out, report) = check(&dir, &[]);
    assert!(out.status.success());
    assert_eq!(step(&report, "card")["status"], "skip");
    assert_eq!(step(&report, "test_slip")["status"], "skip");

    // Out of paper, reader unplugged: those steps fail with the fix to try.
    printer.sim().run_out_of_paper();
    drop(reader);
    let (out, report) = check(&dir, &[]);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    assert_eq!(report["passed"], false);
    assert_eq!(step(&report, "printer")["status"], "fail");
    assert!(step(&report, "printer")["fix"].as_str().unwrap().contains("paper roll"));
    assert_eq!(step(&report, "reader")["status"], "fail");
    assert!(step(&report, "reader")["fix"].as_str().unwrap().contains("USB cable"));
    assert_eq!(step(&report, "outbox")["status"], "pass", "the rest is still checked");

    // After an OS update the same kiosk is healthy enough to keep its new system: devices are
    // reported, not decisive; what decides is that the kiosk's own programs run.
    let (out, report) = check(&dir, &["--boot"]);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    assert_eq!(step(&report, "processes")["status"], "fail");
    assert!(step(&report, "processes")["detail"].as_str().unwrap().contains("kiosk-ui, kiosk-sync"));
    assert_eq!(step(&report, "printer")["required"], false);
    // The kiosk's programs hold their locks beside this kiosk's outbox (here this test holds
    // them, as kiosk-ui and kiosk-sync do); other processes of the same names on the machine
    // play no part.
    let held = [kiosk_outbox::Program::Ui, kiosk_outbox::Program::Agent]
        .map(|program| kiosk_outbox::ProgramLock::acquire(&outbox, program).unwrap());
    let (out, report) = check(&dir, &["--boot"]);
    assert!(out.status.success(), "{report:#}");
    assert_eq!(step(&report, "processes")["status"], "pass");
    let running = step(&report, "processes")["detail"].as_str().unwrap().to_owned();
    assert!(running.contains(&format!("kiosk-ui (pid {})", std::process::id())), "{running}");
    assert_eq!(step(&report, "printer")["status"], "fail", "still reported");
    drop(held);

    // The same, for a person: pass/fail marks and the fix under each failure.
    let human = Command::new(BIN)
        .args(["check", "--config"])
        .arg(dir.join("kiosk-ui.toml"))
        .arg("--sync-config")
        .arg(dir.join("missing.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8(human.stdout).unwrap();
    assert_eq!(human.status.code(), Some(1));
    assert!(
        text.contains("失败 FAIL  凭条打印机 receipt printer") && text.contains("→ load a new paper roll"),
        "{text}"
    );
    assert!(text.contains("跳过 SKIP  政务服务网 gateway"), "{text}");

    // Live services: without a live socket there are none (skipped); with one where no agent
    // answers, the step says so and what to look at, and at boot it is reported, not decisive.
    assert!(text.contains("跳过 SKIP  在线服务 live services"), "{text}");
    let config = dir.join("kiosk-ui.toml");
    let body = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("live_socket = \"{}\"\n{body}", dir.join("nowhere.sock").display()))
        .unwrap();
    let (_, report) = check(&dir, &[]);
    assert_eq!(step(&report, "live")["status"], "fail", "{report:#}");
    assert!(step(&report, "live")["detail"].as_str().unwrap().contains("nowhere.sock"));
    assert!(step(&report, "live")["fix"].as_str().unwrap().contains("kiosk-sync"));
    let (_, report) = check(&dir, &["--boot"]);
    assert_eq!(step(&report, "live")["required"], false);
    drop(scanner_device);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_queues_own_failures_are_reported_with_what_to_do() {
    let dir = std::env::temp_dir().join(format!("kiosk-diag-queue-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let outbox = dir.join("kiosk.db");
    let mut ob = Outbox::open_with_key_file(&outbox, &dir.join("payload.key"), Options::default()).unwrap();
    for _ in 0..3 {
        let sub = kiosk_outbox::NewSubmission { item_code: "440605-JZZ-001", stream_key: "", payload: b"{}" };
        ob.enqueue(&sub, kiosk_outbox::now_ms()).unwrap();
    }
    std::fs::write(
        dir.join("kiosk-ui.toml"),
        format!(
            "kiosk_id = \"{KIOSK}\"\ncatalogue = \"catalogue.bundle\"\noutbox = \"{}\"\npayload_key = \"{}\"\n",
            outbox.display(),
            dir.join("payload.key").display()
        ),
    )
    .unwrap();
    // The gateway's clock runs ten minutes ahead of this kiosk's.
    let _running = start_gateway(&dir, &runtime, Faults { clock_skew_secs: 600, ..Faults::default() });

    // Clock skew: seen from the gateway's Date header, reported with the fix.
    let (_, report) = check(&dir, &[]);
    let clock = step(&report, "clock_offset");
    assert_eq!(clock["status"], "fail", "{report:#}");
    assert!(clock["detail"].as_str().unwrap().contains("behind the gateway"), "{clock}");
    assert!(clock["fix"].as_str().unwrap().contains("NTP"));
    assert_eq!(step(&report, "outbox")["status"], "pass");

    // A quarantined payload (one flipped bit, found when the agent leased it).
    let raw = rusqlite::Connection::open(&outbox).unwrap();
    let mut sealed: Vec<u8> =
        raw.query_row("SELECT payload FROM submission WHERE id = 1", [], |r| r.get(0)).unwrap();
    sealed[30] ^= 1;
    raw.execute("UPDATE submission SET payload = ?1 WHERE id = 1", [sealed]).unwrap();
    assert_eq!(
        ob.claim_due("agent", kiosk_outbox::now_ms(), 10, std::time::Duration::from_secs(60)).unwrap().len(),
        2
    );
    drop(ob);
    let (_, report) = check(&dir, &[]);
    let quarantine = step(&report, "quarantine");
    assert_eq!(quarantine["status"], "fail", "{report:#}");
    assert!(quarantine["fix"].as_str().unwrap().contains("kioskctl outbox retry --all"));

    // The payload key deleted while sealed submissions wait.
    let key_file = dir.join("payload.key");
    let key_bytes = std::fs::read(&key_file).unwrap();
    std::fs::remove_file(&key_file).unwrap();
    let (out, report) = check(&dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    let outbox_step = step(&report, "outbox");
    assert_eq!(outbox_step["status"], "fail", "{report:#}");
    assert!(outbox_step["detail"].as_str().unwrap().contains("payload.key is missing"), "{outbox_step}");
    assert!(outbox_step["fix"].as_str().unwrap().contains("provisioning backup"));
    assert!(!key_file.exists(), "the diagnostic made no new key");
    kiosk_gateway::certs::write_private(&key_file, "").unwrap();
    std::fs::write(&key_file, key_bytes).unwrap();

    // A damaged outbox: found by the integrity check, the salvage named.
    raw.execute_batch("PRAGMA ignore_check_constraints = ON; UPDATE submission SET state = 'x' WHERE id = 2")
        .unwrap();
    drop(raw);
    let (_, report) = check(&dir, &[]);
    let outbox_step = step(&report, "outbox");
    assert_eq!(outbox_step["status"], "fail", "{report:#}");
    assert!(outbox_step["fix"].as_str().unwrap().contains("kioskctl outbox salvage"), "{outbox_step}");
    let _ = std::fs::remove_dir_all(&dir);
}
