//! Enqueue latency with the commit fsync'd (`synchronous=FULL`), against the budget of
//! DESIGN.md §5: p99 ≤ 20 ms, with an empty queue and with a backlog. The database sits under
//! the target directory, on the real disk, not on a tmpfs. Figures only.
//! Run: `cargo bench -p kiosk-outbox --bench enqueue`.

use std::time::Duration;

use kiosk_benchkit::{Samples, running_as_bench};
use kiosk_outbox::{NewSubmission, Options, Outbox, PayloadKey, now_ms};

const BUDGET: Duration = Duration::from_millis(20);
const ROUNDS: usize = 1000;
const BACKLOG: usize = 50_000;

fn main() {
    if !running_as_bench("enqueue") {
        return;
    }
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-enqueue");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let options = Options { max_pending: u64::MAX, ..Options::default() };
    let key = PayloadKey::generate();
    let mut ob = Outbox::open(&dir.join("kiosk.db"), key.clone(), options.clone()).unwrap();
    // A realistic form: about 1.5 KB of JSON with the applicant's details.
    let form = format!(
        r#"{{"name":"陈喆","id_number":"440605199005171237","fields":{{"note":"{}"}}}}"#,
        "x".repeat(1400)
    );
    let sub = NewSubmission { item_code: "440605-JZZ-001", stream_key: "", payload: form.as_bytes() };
    println!(
        "Outbox enqueue, durable (WAL, synchronous=FULL, fsync per commit), submissions of {} bytes",
        form.len()
    );
    for backlog in [0, BACKLOG] {
        while (ob.unsent().unwrap() as usize) < backlog {
            ob.enqueue(&sub, now_ms()).unwrap();
        }
        let samples = Samples::measure(20, ROUNDS, || {
            ob.enqueue(&sub, now_ms()).unwrap();
        });
        println!("  with {backlog:>6} queued: {}", samples.summary());
        println!("    {}", samples.verdict(BUDGET));
    }
    // Every process start checks the whole file (integrity_check) before using it: what that
    // costs with the backlog, part of kiosk-ui's time to its first frame (no budget of its own).
    drop(ob);
    let opens = Samples::measure(1, 5, || {
        drop(Outbox::open(&dir.join("kiosk.db"), key.clone(), options.clone()).unwrap());
    });
    println!(
        "Opening the outbox (integrity check) with {} queued: {}",
        BACKLOG + 2 * ROUNDS,
        opens.summary()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
