//! `kiosk-gateway` as developers and CI run it.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_kiosk-gateway");

#[test]
fn dev_certs_then_serve_and_count() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("gateway-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let certs = dir.join("certs");
    let out = Command::new(BIN)
        .args(["dev-certs", "--out", certs.to_str().unwrap(), "--kiosk", "NH-1", "--kiosk", "NH-2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in ["ca.pem", "server.pem", "kiosk-NH-1.pem", "kiosk-NH-2.pem"] {
        assert!(
            std::fs::read_to_string(certs.join(f)).unwrap().starts_with("-----BEGIN CERTIFICATE-----"),
            "{f}"
        );
    }
    for key in ["server-key.pem", "kiosk-NH-1-key.pem"] {
        let mode = std::fs::metadata(certs.join(key)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{key} is private");
    }

    std::fs::write(dir.join("secret"), "s").unwrap();
    let secret_arg = format!("kiosk-dev={}", dir.join("secret").display());
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--app-secret-file", &secret_arg])
        .args([
            "--db",
            dir.join("g.db").to_str().unwrap(),
            "--certs",
            certs.to_str().unwrap(),
            "--fail-5xx",
            "0.2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let api = lines.next().unwrap().unwrap();
    let admin = lines.next().unwrap().unwrap();
    assert!(api.starts_with("api https://127.0.0.1:"), "{api}");
    let admin = admin.strip_prefix("admin http://").expect("the admin address");
    let mut conn = std::net::TcpStream::connect(admin).unwrap();
    conn.write_all(b"GET /admin/counts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body: serde_json::Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["accepted"], 0);
}

#[test]
fn impossible_fault_rates_are_refused() {
    let out = Command::new(BIN)
        .args(["--fail-5xx", "0.8", "--fail-drop", "0.5", "--db", "/nonexistent/x.db"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("add up to at most 1"));
    assert!(Command::new(BIN).arg("--help").output().unwrap().status.success());
}
