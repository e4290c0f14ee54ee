//! `kiosk-diag idcard …` as a technician runs it: the real binary, real files, and a simulated
//! reader on a pseudo-terminal started by `kiosk-diag idcard simulate --pty`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_kiosk-diag");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../drivers/idcard/fixtures")
}

fn diag(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("RUST_LOG").output().expect("kiosk-diag runs")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("kiosk-diag-test-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn one_line_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    err
}

#[test]
fn decode_json_has_the_documented_keys_for_every_layout() {
    let cases = [
        ("resident", "陈喆", Some("汉"), "2035-06-01", true),
        ("resident_long_term", "韦堃", Some("壮"), "long-term", true),
        ("hmt_permit", "黎嘉欣", None, "2026-04-01", true),
        ("foreigner_2017", "马克兰", None, "2027-09-01", false),
        ("foreigner_2023", "范德伯格", None, "2034-01-02", false),
    ];
    for (file, name, ethnicity, until, has_address) in cases {
        for ext in ["bin", "hex"] {
            let path = fixtures().join(format!("frames/{file}.{ext}"));
            let v = json(&diag(&["idcard", "decode", path.to_str().unwrap(), "--json"]));
            assert_eq!(v["card_type"], file.trim_end_matches("_long_term"), "{file}.{ext}");
            assert_eq!(v["name"], name);
            assert_eq!(v["ethnicity"].as_str(), ethnicity, "{file}");
            assert_eq!(v["valid_until"], until);
            assert_eq!(v["address"].is_string(), has_address, "{file}");
            assert_eq!(v["id_number_valid"], true);
            for key in ["sex", "birth_date", "id_number", "issuer", "valid_from"] {
                assert!(v.get(key).is_some(), "{file} lacks {key}");
            }
            assert_eq!(v.get("name_en").is_some(), file.starts_with("foreigner"), "{file}");
        }
    }
    let v = json(&diag(&[
        "idcard",
        "decode",
        fixtures().join("frames/resident.bin").to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(v["sex"], "male");
    assert_eq!(v["birth_date"], "1990-05-17");
    assert_eq!(v["id_number"], "440605199005171237");
    assert_eq!(v["issuer"], "佛山市公安局南海分局");
    assert_eq!(v["valid_from"], "2015-06-01");
}

#[test]
fn decode_reports_a_wrong_check_character() {
    let mut frame = std::fs::read(fixtures().join("frames/resident.bin")).unwrap();
    // The last digit of the number (text offset 122 + 17 × 2, 14-byte header): '7' → '8'.
    let at = 14 + 122 + 34;
    assert_eq!(frame[at], b'7');
    frame[at] = b'8';
    let last = frame.len() - 1;
    frame[last] ^= b'7' ^ b'8';
    let v = json(&diag(&["idcard", "decode", temp("wrongcheck.bin", &frame).to_str().unwrap(), "--json"]));
    assert_eq!(v["id_number_valid"], false);
}

#[test]
fn broken_frames_exit_non_zero_with_one_line() {
    let good = std::fs::read(fixtures().join("frames/resident.bin")).unwrap();
    let mut bad_sum = good.clone();
    bad_sum[100] ^= 0x01;
    let err = one_line_error(&diag(&[
        "idcard",
        "decode",
        temp("badsum.bin", &bad_sum).to_str().unwrap(),
        "--json",
    ]));
    assert!(err.contains("checksum"), "{err}");

    let err = one_line_error(&diag(&["idcard", "decode", temp("short.bin", &good[..700]).to_str().unwrap()]));
    assert!(err.contains("no complete SAM frame"), "{err}");

    let failed = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x41, 0x45];
    let err = one_line_error(&diag(&["idcard", "decode", temp("failed.bin", &failed).to_str().unwrap()]));
    assert!(err.contains("SW3 0x41"), "{err}");

    let err = one_line_error(&diag(&["idcard", "decode", "/nonexistent/frame.bin"]));
    assert!(err.contains("cannot read /nonexistent/frame.bin"), "{err}");
}

struct Simulate(Child, String);

impl Simulate {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(["idcard", "simulate", "--pty"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        Self(child, line.trim().to_owned())
    }
}

impl Drop for Simulate {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn read_against_the_simulator_masks_by_default() {
    let card = fixtures().join("cards/resident.json");
    let sim = Simulate::start(&["--card", card.to_str().unwrap(), "--baud", "38400"]);
    let v = json(&diag(&["idcard", "read", "--port", &sim.1, "--json", "--wait", "5"]));
    assert_eq!(v["sam_id"], "05.01-20240101-0000000001-0000000001");
    assert_eq!(v["baud"], 38400);
    assert_eq!(v["name"], "陈*");
    assert_eq!(v["id_number"], "4406**********1237");
    assert_eq!(v["birth_date"], "1990-**-**");
    assert_eq!(v["address"], "<address, 21 chars>");
    assert_eq!(v["id_number_valid"], true);
    let text = String::from_utf8(diag(&["idcard", "read", "--port", &sim.1, "--wait", "1"]).stdout).unwrap();
    assert!(!text.contains("陈喆"), "{text}");
}

#[test]
fn read_unmasked_and_a_card_already_read() {
    let sim = Simulate::start(&[]);
    let v = json(&diag(&["idcard", "read", "--port", &sim.1, "--json", "--unmasked", "--baud", "115200"]));
    assert_eq!(v["name"], "陈喆");
    assert_eq!(v["appended_addresses"][0], "广东省佛山市南海区大沥镇黄岐广佛路3号");
    // The same card is not found again until it is lifted: "no card" after the wait.
    let out = diag(&["idcard", "read", "--port", &sim.1, "--wait", "1"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Place the ID card"));
}

#[test]
fn read_without_a_reader_explains_itself() {
    let out = diag(&["idcard", "read", "--port", "/dev/null-kiosk-reader", "--wait", "1"]);
    let err = one_line_error(&out);
    assert!(err.contains("/dev/null-kiosk-reader") && err.contains("not connected"), "{err}");
    let out = diag(&["idcard", "read", "--port", "/dev/ttyS0", "--baud", "4800"]);
    assert!(one_line_error(&out).contains("4800 baud is not one a SAM module supports"));
}

#[test]
fn help_and_usage_follow_conventions() {
    let out = diag(&["--help"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Exit codes"));
    assert_eq!(diag(&["idcard", "read"]).status.code(), Some(2), "missing --port is a usage error");
    assert!(diag(&["--version"]).status.success());
}
