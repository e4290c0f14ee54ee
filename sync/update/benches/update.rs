//! What a catalogue release of 10,000 items costs: signing it on the admin's machine, and on the
//! kiosk checking the repository (nothing new), and verifying, validating and installing a new
//! release. DESIGN.md sets no budget for these (they run in the sync agent, off the UI thread);
//! the figures show an update never competes with the 50 ms load-and-index budget for long.
//! Run: `cargo bench -p kiosk-update --bench update`.

use std::time::Instant;

use kiosk_benchkit::{Samples, running_as_bench};
use kiosk_catalogue::synthetic;
use kiosk_update::client::{Client, Outcome};
use kiosk_update::repo::{self, InitOptions, Lifetimes};

const ITEMS: usize = 10_000;
const ROUNDS: usize = 10;

fn main() {
    if !running_as_bench("update") {
        return;
    }
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-update");
    let _ = std::fs::remove_dir_all(&dir);
    let (keys, repo_dir) = (dir.join("keys"), dir.join("repo"));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let init = runtime.block_on(repo::init_repo(&keys, &repo_dir, &InitOptions::default())).unwrap();
    let client = Client {
        trusted_root: init.root,
        repository: url::Url::from_directory_path(&repo_dir).unwrap(),
        datastore: dir.join("kiosk/tuf"),
        install_dir: dir.join("kiosk/catalogue"),
        https: None,
    };
    let mut cat = synthetic::catalogue(ITEMS);
    let (mut publish, mut apply, mut current) = (Vec::new(), Vec::new(), Vec::new());
    let mut bundle_len = 0;
    for round in 0..ROUNDS {
        cat.catalogue_version = format!("bench-{round}");
        let t = Instant::now();
        bundle_len = runtime
            .block_on(repo::publish(&cat, &keys, &repo_dir, Lifetimes::default(), |_| {}))
            .unwrap()
            .bundle_len;
        publish.push(t.elapsed());
        let t = Instant::now();
        assert!(matches!(runtime.block_on(client.update()).unwrap(), Outcome::Applied(_)));
        apply.push(t.elapsed());
        let t = Instant::now();
        assert!(matches!(runtime.block_on(client.update()).unwrap(), Outcome::Current(_)));
        current.push(t.elapsed());
    }
    println!(
        "Catalogue release of {ITEMS} items ({:.1} MB bundle), {ROUNDS} releases:",
        bundle_len as f64 / 1e6
    );
    println!("  admin: build, sign, write                    {}", Samples::from(publish).summary());
    println!("  kiosk: verify, validate, install a release   {}", Samples::from(apply).summary());
    println!("  kiosk: check, nothing new                    {}", Samples::from(current).summary());
    std::fs::remove_dir_all(&dir).unwrap();
}
