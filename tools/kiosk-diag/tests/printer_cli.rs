//! `kiosk-diag printer …` against the printer simulator on loopback TCP and a pseudo-terminal.

use std::process::{Command, Output};

use kiosk_escpos::sim::{PrinterSim, SimServer};

const BIN: &str = env!("CARGO_BIN_EXE_kiosk-diag");

fn diag(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("RUST_LOG").output().expect("kiosk-diag runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn status_reports_ready_and_problems() {
    let server = SimServer::tcp(PrinterSim::new()).unwrap();
    let out = diag(&["printer", "status", "--device", &server.device, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ready"], true);
    assert_eq!(v["status"]["paper"], "ok");
    assert_eq!(v["profile"], "gbk-80mm");

    server.sim().run_out_of_paper();
    let out = diag(&["printer", "status", "--device", &server.device]);
    assert_eq!(out.status.code(), Some(4));
    assert!(stdout(&out).contains("缺纸 / out of paper"), "{}", stdout(&out));
}

#[test]
fn test_slip_prints_with_the_chosen_profile() {
    let server = SimServer::pty(PrinterSim::new()).unwrap();
    let out = diag(&["printer", "test-slip", "--device", &server.device, "--profile", "gb2312-58mm"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert!(text.contains("printed as an image (font lacks U+5586 U+5803 U+9555)"), "{text}");
    assert!(text.contains("QR code printed as an image"), "{text}");
    let sim = server.sim();
    assert!(sim.lines().iter().any(|l| l.contains("配置 Profile：gb2312-58mm")));
    assert!(matches!(sim.printed().last(), Some(kiosk_escpos::sim::Printed::Cut { partial: true })));
}

#[test]
fn test_slip_refuses_a_printer_without_paper() {
    let server = SimServer::tcp(PrinterSim::new()).unwrap();
    server.sim().open_cover();
    let out = diag(&["printer", "test-slip", "--device", &server.device]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cover open"));
}

#[test]
fn test_slip_to_a_file_and_status_there() {
    let path = std::env::temp_dir().join(format!("kiosk-diag-slip-{}.bin", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let device = format!("file:{}", path.display());
    let out = diag(&["printer", "test-slip", "--device", &device]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("cannot answer"));
    let mut sim = PrinterSim::new();
    sim.feed(&std::fs::read(&path).unwrap());
    assert_eq!(sim.lines()[0], "打印机测试单");
    let out = diag(&["printer", "status", "--device", &device]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("never answers"));
}

#[test]
fn preview_writes_a_png_whose_codes_decode() {
    let path = std::env::temp_dir().join(format!("kiosk-diag-preview-{}.png", std::process::id()));
    let out = diag(&["printer", "preview", "--out", path.to_str().unwrap(), "--profile", "gb2312-58mm"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let img = image::open(&path).unwrap().to_luma8();
    assert_eq!(img.width(), 384);
    let (w, h) = img.dimensions();
    let qr =
        rxing::helpers::detect_in_luma(img.clone().into_raw(), w, h, Some(rxing::BarcodeFormat::QR_CODE))
            .unwrap();
    assert!(qr.getText().starts_with("https://"));
    let bar =
        rxing::helpers::detect_in_luma(img.into_raw(), w, h, Some(rxing::BarcodeFormat::CODE_128)).unwrap();
    assert_eq!(bar.getText(), "20261127000123");
}

#[test]
fn bad_devices_and_profiles_are_usage_errors() {
    assert_eq!(diag(&["printer", "status", "--device", "printer0"]).status.code(), Some(2));
    let out = diag(&["printer", "preview", "--out", "/tmp/x.png", "--profile", "epson"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gbk-80mm"));
}
