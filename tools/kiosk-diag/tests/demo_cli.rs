//! `kiosk-diag demo` (what `scripts/demo` runs): every device through the real drivers, masked.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_kiosk-diag");

fn diag(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("RUST_LOG").output().expect("kiosk-diag runs")
}

#[test]
fn the_demo_runs_every_device_and_shows_only_masked_data() {
    let out_dir = std::env::temp_dir().join(format!("kiosk-diag-demo-{}", std::process::id()));
    let out = diag(&["demo", "--out", out_dir.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for expected in [
        "57600 baud",
        "陈*",
        "请拿起身份证后重新放置",
        "读卡器未连接",
        "读卡演示结束",
        "证件号码：4406**********1237",
        "slip interrupted",
        "补打完成 reprinted",
        "[LoginCode] GDZWFW:…(43 chars)",
        "拒绝 rejected",
        "全部演示结束",
        "10 submissions queued",
        "personal data in plaintext on disk: no",
        "filed 10 cases",
        "no second case filed",
    ] {
        assert!(text.contains(expected), "demo lacks {expected:?}:\n{text}");
    }
    for secret in ["陈喆", "440605199005171237", "桂城街道南海大道北88号", "eyJ0eXAiOiJKV1Qi"] {
        assert!(!text.contains(secret), "demo shows {secret:?}");
    }
    // The slip carries the case number the gateway gave.
    let case_line = text.lines().find(|l| l.contains("办件编号 case number NH")).expect("a case number line");
    let case: String = case_line
        .split("case number ")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    assert_eq!(case.len(), 16, "NH + date + sequence: {case}");
    assert!(text.contains(&format!("业务编号：{case}")), "the slip shows {case}");
    let png = std::fs::read(out_dir.join("slip-gbk-80mm.png")).expect("the slip preview is written");
    assert!(png.starts_with(b"\x89PNG"));
}
