//! The app core does no I/O: it has no SQLite, no wall clock and no random source of its own.
//! The shell (kiosk-ui) carries out its effects and hands in time and random bits, so the
//! core's behaviour is the same on every run and testable without a kiosk around it.

use std::path::Path;

#[test]
fn the_core_depends_on_no_storage_clock_or_random_source() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let dependencies = manifest.split("[dependencies]").nth(1).unwrap().split("\n[").next().unwrap();
    for crate_name in ["rusqlite", "kiosk-outbox", "getrandom", "rand", "uuid", "tokio", "argon2"] {
        assert!(
            !dependencies.lines().any(|l| l.trim_start().starts_with(&format!("{crate_name} "))
                || l.trim_start().starts_with(&format!("{crate_name}."))),
            "kiosk-app depends on {crate_name}"
        );
    }
    for entry in std::fs::read_dir(root.join("src")).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        // Unit tests may time themselves.
        let source = source.split("#[cfg(test)]").next().unwrap();
        for call in
            ["now_utc(", "SystemTime::now", "Instant::now", "getrandom::", "OsRng", "std::fs::", "std::net::"]
        {
            assert!(!source.contains(call), "{} calls {call}", path.display());
        }
    }
}

/// Not through another crate either: the resolved graph of what the core links holds no
/// storage or random source (the drivers it takes card, scan and slip types from included).
#[test]
fn nothing_the_core_links_brings_storage_or_a_random_source() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(env!("CARGO"))
        .args(["tree", "-p", "kiosk-app", "-e", "normal", "--prefix", "none", "--offline"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8(out.stdout).unwrap();
    assert!(tree.lines().any(|l| l.starts_with("kiosk-idcard ")), "not the graph: {tree}");
    for crate_name in ["rusqlite", "libsqlite3-sys", "getrandom", "rand_core", "uuid", "argon2"] {
        assert!(
            !tree.lines().any(|l| l.starts_with(&format!("{crate_name} "))),
            "kiosk-app links {crate_name}:\n{tree}"
        );
    }
}
