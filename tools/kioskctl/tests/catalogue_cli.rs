//! `kioskctl catalogue search` on the sample catalogue, as JSON and as a kiosk bundle.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kioskctl");

fn sample_path() -> String {
    format!("{}/../../catalogue/data/sample.json", env!("CARGO_MANIFEST_DIR"))
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

fn kioskctl(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn admins_publish_signed_releases_that_kiosks_install() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("kioskctl-tuf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (keys, repo) = (dir.join("keys"), dir.join("repo"));
    let (keys_s, repo_s) = (keys.to_str().unwrap(), repo.to_str().unwrap());

    let init = json(&kioskctl(&["catalogue", "init-repo", "--keys", keys_s, "--repo", repo_s, "--json"]));
    assert_eq!(init["root_keys"].as_array().unwrap().len(), 2);
    let again = kioskctl(&["catalogue", "init-repo", "--keys", keys_s, "--repo", repo_s]);
    assert_eq!(again.status.code(), Some(1), "existing keys are never overwritten");

    let publish = |source: &str, json_out: bool| {
        let mut args = vec!["catalogue", "publish", source, "--keys", keys_s, "--repo", repo_s];
        args.extend(json_out.then_some("--json"));
        kioskctl(&args)
    };
    let first = json(&publish(&sample_path(), true));
    assert_eq!(first["version"], 1);
    assert_eq!(first["items"], kiosk_catalogue::sample().items.len());

    // A catalogue that fails validation is not published, and the repository is untouched.
    let mut broken: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sample_path()).unwrap()).unwrap();
    broken["items"][0]["task_name"] = "".into();
    let broken_path = dir.join("broken.json");
    std::fs::write(&broken_path, broken.to_string()).unwrap();
    let refused = publish(broken_path.to_str().unwrap(), false);
    assert_eq!(refused.status.code(), Some(1));
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("task_name"), "the error names the field: {why}");

    let second = json(&publish(&sample_path(), true));
    assert_eq!(second["version"], 2);
    // The provincial export, merged onto the current catalogue.
    let (items, materials) = kiosk_catalogue::import::to_tables(&kiosk_catalogue::sample());
    let (items_csv, materials_csv) = (dir.join("export.csv"), dir.join("export-materials.csv"));
    std::fs::write(&items_csv, kiosk_catalogue::import::write_csv(&items)).unwrap();
    std::fs::write(&materials_csv, kiosk_catalogue::import::write_csv(&materials)).unwrap();
    let (items_s, materials_s) = (items_csv.to_str().unwrap(), materials_csv.to_str().unwrap());
    let export = json(&kioskctl(&[
        "catalogue",
        "publish",
        items_s,
        "--base",
        &sample_path(),
        "--materials",
        materials_s,
        "--catalogue-version",
        "2026.12-export",
        "--keys",
        keys_s,
        "--repo",
        repo_s,
        "--json",
    ]));
    assert_eq!(
        (export["version"].as_u64(), export["catalogue_version"].as_str()),
        (Some(3), Some("2026.12-export"))
    );
    // The same export as a workbook (both tables as sheets), as the provincial system offers it.
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, table) in [("事项", &items), ("申请材料", &materials)] {
        let sheet = book.add_worksheet().set_name(name).unwrap();
        for (r, row) in std::iter::once(&table.header).chain(&table.rows).enumerate() {
            for (c, v) in row.iter().enumerate() {
                sheet.write_string(r as u32, c as u16, v).unwrap();
            }
        }
    }
    let xlsx = dir.join("export.xlsx");
    book.save(&xlsx).unwrap();
    let from_xlsx = json(&kioskctl(&[
        "catalogue",
        "publish",
        xlsx.to_str().unwrap(),
        "--base",
        &sample_path(),
        "--keys",
        keys_s,
        "--repo",
        repo_s,
        "--json",
    ]));
    assert_eq!(from_xlsx["items"], kiosk_catalogue::sample().items.len());
    let no_base = kioskctl(&["catalogue", "publish", items_s, "--keys", keys_s, "--repo", repo_s]);
    assert_eq!(no_base.status.code(), Some(1));

    let rotated = kioskctl(&["catalogue", "rotate-keys", "--keys", keys_s, "--repo", repo_s]);
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    assert!(String::from_utf8_lossy(&rotated.stdout).contains("root version 2"));
    let after = json(&publish(&sample_path(), true));
    assert_eq!(after["version"], 5, "publishing goes on with the new keys");

    let status = json(&kioskctl(&["catalogue", "status", "--repo", repo_s, "--json"]));
    assert_eq!((status["version"].as_u64(), status["expiring"].as_array().unwrap().len()), (Some(5), 0));

    // A timestamp about to run out is what the admin must hear about before kiosks refuse it.
    let short = kioskctl(&[
        "catalogue",
        "publish",
        &sample_path(),
        "--keys",
        keys_s,
        "--repo",
        repo_s,
        "--timestamp-days",
        "1",
    ]);
    assert!(short.status.success());
    let status = kioskctl(&["catalogue", "status", "--repo", repo_s]);
    assert_eq!(status.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&status.stdout).contains("timestamp"), "{status:?}");

    // An OS release beside the catalogue (any bytes: RAUC checks the bundle itself on the kiosk).
    let bundle = dir.join("kiosk-os-amd64.raucb");
    std::fs::write(&bundle, vec![0x5a; 300_000]).unwrap();
    let os = json(&kioskctl(&[
        "os",
        "publish",
        bundle.to_str().unwrap(),
        "--compatible",
        "nanhai-kiosk-amd64",
        "--version",
        "2026.12.01-1",
        "--keys",
        keys_s,
        "--repo",
        repo_s,
        "--json",
    ]));
    assert_eq!(
        (os["version"].as_u64(), os["target"].as_str()),
        (Some(7), Some("os-nanhai-kiosk-amd64.raucb"))
    );

    // The kiosk side, from the repository as written (here over file://, as from a USB stick).
    let client = kiosk_update::client::Client {
        trusted_root: repo.join("root.json"),
        repository: url::Url::from_directory_path(&repo).unwrap(),
        datastore: dir.join("kiosk/tuf"),
        install_dir: dir.join("kiosk/catalogue"),
        https: None,
    };
    match client.update().await.unwrap() {
        kiosk_update::client::Outcome::Applied(r) => assert_eq!(r.version, 7),
        other => panic!("expected an install, got {other:?}"),
    }
    let installed = std::fs::read(client.installed_path()).unwrap();
    kiosk_catalogue::verify_bundle(&installed).unwrap();
    let incoming = dir.join("kiosk/os-incoming");
    assert_eq!(
        client.stage_os("nanhai-kiosk-amd64", "2026.11.27-1", &incoming).await.unwrap(),
        kiosk_update::client::OsOutcome::Staged("2026.12.01-1".into())
    );
    assert_eq!(std::fs::read(incoming.join("update.raucb")).unwrap(), std::fs::read(&bundle).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}
