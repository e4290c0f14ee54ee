//! Scanners in each mode through real I/O: a pseudo-terminal for CDC serial scanners and a FIFO
//! standing in for a hidraw node (one write per report keeps report boundaries, as hidraw does).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use kiosk_scanner::sim::{keyboard_reports, pos_reports, serial_bytes, write_reports};
use kiosk_scanner::{
    Device, Mode, Rejection, ScanConfig, ScanEvent, ScanKind, Scanner, ScannerEvent, ScannerService, Suffix,
};
use serialport::{SerialPort, TTYPort};

fn config() -> ScanConfig {
    ScanConfig { login_prefix: Some("GDZWFW:".into()), max_len: 512, ..ScanConfig::default() }
}

/// Polls until `n` events arrived (or two seconds passed).
fn collect(scanner: &mut Scanner, n: usize) -> Vec<ScanEvent> {
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while out.len() < n && std::time::Instant::now() < deadline {
        out.extend(scanner.poll(Duration::from_millis(50)).unwrap());
    }
    out
}

fn summary(events: &[ScanEvent]) -> Vec<Result<(ScanKind, String), Rejection>> {
    events
        .iter()
        .map(|e| match e {
            ScanEvent::Scan(s) => Ok((s.kind, s.text.clone())),
            ScanEvent::Rejected(r) => Err(*r),
        })
        .collect()
}

fn fifo(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("kiosk-scanner-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let status = std::process::Command::new("mkfifo").arg(&path).status().expect("mkfifo runs");
    assert!(status.success());
    path
}

#[test]
fn serial_scanner_types_scans_and_refuses_garbage() {
    let (mut master, slave) = TTYPort::pair().unwrap();
    let path = slave.name().unwrap();
    let mut scanner =
        Scanner::open(&Device::Serial { path, baud: 9600 }, Mode::Serial(Suffix::CrLf), config()).unwrap();
    let mut send = |bytes: &[u8]| {
        master.write_all(&serial_bytes(bytes, Suffix::CrLf)).unwrap();
        master.flush().unwrap();
    };
    send(b"https://zwfw.nanhai.example/t/NH1");
    send(b"https://zwfw.nanhai.example/t/NH1"); // held under the scanner: merged
    send(b"20261127000123");
    send(b"GDZWFW:opaque-token-123");
    send("南海区 社保查询".as_bytes());
    send(&[0xC3, 0x28, 0x41]);
    send(b"\x01\x02binary\x7f");
    send(&[b'9'; 600]);
    send(b"20261127000123");
    let got = summary(&collect(&mut scanner, 8));
    assert_eq!(
        got,
        [
            Ok((ScanKind::Url, "https://zwfw.nanhai.example/t/NH1".into())),
            Ok((ScanKind::Digits, "20261127000123".into())),
            Ok((ScanKind::LoginCode, "GDZWFW:opaque-token-123".into())),
            Ok((ScanKind::Text, "南海区 社保查询".into())),
            Err(Rejection::InvalidUtf8),
            Err(Rejection::Binary),
            Err(Rejection::TooLong),
            Ok((ScanKind::Digits, "20261127000123".into())),
        ]
    );
    drop(slave);
}

#[test]
fn keyboard_scanner_reports_through_a_hid_node() {
    let path = fifo("kbd");
    let mut scanner =
        Scanner::open(&Device::Hidraw(path.to_string_lossy().into()), Mode::Keyboard, config()).unwrap();
    let mut hid = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    hid.write_all(&[]).unwrap(); // a zero-length transfer
    write_reports(&mut hid, &keyboard_reports("https://X.example/t?id=42&k=A_b").unwrap()).unwrap();
    write_reports(&mut hid, &keyboard_reports("GDZWFW:Tok3n").unwrap()).unwrap();
    let got = summary(&collect(&mut scanner, 2));
    assert_eq!(
        got,
        [
            Ok((ScanKind::Url, "https://X.example/t?id=42&k=A_b".into())),
            Ok((ScanKind::LoginCode, "GDZWFW:Tok3n".into()))
        ]
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn hid_pos_scanner_reassembles_long_codes() {
    let path = fifo("pos");
    let mut scanner =
        Scanner::open(&Device::Hidraw(path.to_string_lossy().into()), Mode::HidPos, config()).unwrap();
    let mut hid = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let long = format!("https://zwfw.nanhai.example/apply?item=44060500123&lang=zh-CN&{}", "x".repeat(150));
    write_reports(&mut hid, &pos_reports(long.as_bytes(), *b"]Q1")).unwrap();
    write_reports(&mut hid, &pos_reports(&[0xFF; 20], *b"]Q1")).unwrap();
    let got = summary(&collect(&mut scanner, 2));
    assert_eq!(got, [Ok((ScanKind::Url, long)), Err(Rejection::InvalidUtf8)]);
    let _ = std::fs::remove_file(&path);
}

async fn next(s: &mut ScannerService) -> ScannerEvent {
    tokio::time::timeout(Duration::from_secs(10), s.next_event()).await.expect("an event").expect("running")
}

#[tokio::test]
async fn the_service_follows_a_scanner_that_is_replugged() {
    let link = std::env::temp_dir().join(format!("kiosk-scanner-{}-byid", std::process::id()));
    let plug = |link: &PathBuf| {
        let (master, slave) = TTYPort::pair().unwrap();
        let _ = std::fs::remove_file(link);
        std::os::unix::fs::symlink(slave.name().unwrap(), link).unwrap();
        (master, slave)
    };
    let (master, slave) = plug(&link);
    let device = Device::Serial { path: link.to_string_lossy().into(), baud: 9600 };
    let mut service = ScannerService::spawn(device, Mode::Serial(Suffix::Cr), config()).unwrap();
    assert!(matches!(next(&mut service).await, ScannerEvent::Connected { .. }));
    drop((master, slave));
    std::fs::remove_file(&link).unwrap();
    assert!(matches!(next(&mut service).await, ScannerEvent::Disconnected { .. }));

    let (mut master, _slave) = plug(&link);
    assert!(matches!(next(&mut service).await, ScannerEvent::Connected { .. }));
    master.write_all(&serial_bytes(b"20261127000999", Suffix::Cr)).unwrap();
    match next(&mut service).await {
        ScannerEvent::Scan(s) => assert_eq!(s.text, "20261127000999"),
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_file(&link);
}
