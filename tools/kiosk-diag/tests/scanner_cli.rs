//! `kiosk-diag scanner listen` against a simulated serial scanner on a pseudo-terminal.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use kiosk_scanner::Suffix;
use kiosk_scanner::sim::serial_bytes;
use serialport::{SerialPort, TTYPort};

const BIN: &str = env!("CARGO_BIN_EXE_kiosk-diag");

#[test]
fn listen_prints_each_scan_typed_and_masks_login_codes() {
    let (mut master, slave) = TTYPort::pair().unwrap();
    let device = format!("serial:{}", slave.name().unwrap());
    let mut child = Command::new(BIN)
        .args([
            "scanner",
            "listen",
            "--device",
            &device,
            "--json",
            "--count",
            "3",
            "--seconds",
            "20",
            "--login-prefix",
            "GDZWFW:",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["event"], "connected");
    for scan in
        [&b"https://zwfw.nanhai.example/t/1"[..], b"\x00\x01\x02", b"GDZWFW:secret-token", b"20261127000123"]
    {
        master.write_all(&serial_bytes(scan, Suffix::Cr)).unwrap();
    }
    let rest: Vec<serde_json::Value> = lines.map(|l| serde_json::from_str(&l.unwrap()).unwrap()).collect();
    assert!(child.wait().unwrap().success());
    assert_eq!(rest[0]["kind"], "url");
    assert_eq!(rest[1]["event"], "rejected");
    assert_eq!(rest[1]["reason"], "binary");
    assert_eq!(rest[2]["kind"], "login_code");
    assert_eq!(rest[2]["text"], "GDZWFW:…(19 chars)");
    assert!(!rest.iter().any(|v| v.to_string().contains("secret-token")));
    assert_eq!(rest[3]["text"], "20261127000123");
    assert_eq!(rest.len(), 4, "stops after three scans");
    drop(slave);
}

#[test]
fn listen_gives_up_after_its_time_with_code_3() {
    let (_master, slave) = TTYPort::pair().unwrap();
    let device = format!("serial:{}", slave.name().unwrap());
    let out = Command::new(BIN)
        .args(["scanner", "listen", "--device", &device, "--count", "1", "--seconds", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("connected"));
}
