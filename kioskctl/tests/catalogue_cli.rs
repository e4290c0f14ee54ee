//! `kioskctl catalogue search` on the sample catalogue, as JSON and as a kiosk bundle.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kioskctl");

fn sample_path() -> String {
    format!("{}/../catalogue/data/sample.json", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn admins_see_what_residents_will_find() {
    let out = Command::new(BIN)
        .args(["catalogue", "search", "sbcx", "--catalogue", &sample_path(), "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["name"], "个人参保证明打印");
    assert_eq!(rows[0]["task_code"], "ZZ440605SB0000001Z4ZZ0000000101");

    // The same from the kiosk's binary bundle.
    let bundle = std::env::temp_dir().join(format!("kioskctl-bundle-{}.bin", std::process::id()));
    let (cat, _) = kiosk_catalogue::load(&std::fs::read(sample_path()).unwrap()).unwrap();
    std::fs::write(&bundle, kiosk_catalogue::to_bundle(&cat)).unwrap();
    let out = Command::new(BIN)
        .args(["catalogue", "search", "公积金", "--catalogue", bundle.to_str().unwrap(), "--limit", "3"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.lines().all(|l| l.contains("公积金")), "{text}");

    let none = Command::new(BIN)
        .args(["catalogue", "search", "qqqqzzzz", "--catalogue", &sample_path()])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(3), "nothing found");
    let bad = Command::new(BIN)
        .args(["catalogue", "search", "x", "--catalogue", "/nonexistent.json"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
}
