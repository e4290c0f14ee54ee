//! Enqueue latency with the commit fsync'd (`synchronous=FULL`), against the budget of
//! DESIGN.md §5: p99 ≤ 20 ms. The database sits under the target directory, on the real disk,
//! not on a tmpfs. Figures only. Run: `cargo bench -p kiosk-outbox --bench enqueue`.

use std::time::{Duration, Instant};

use kiosk_outbox::{NewSubmission, Options, Outbox, PayloadKey, now_ms};

const BUDGET: Duration = Duration::from_millis(20);
const ROUNDS: usize = 1000;
const BACKLOG: usize = 50_000;

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("enqueue: run with `cargo bench` for figures");
        return;
    }
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-enqueue");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut ob = Outbox::open(
        &dir.join("kiosk.db"),
        PayloadKey::generate(),
        Options { max_pending: u64::MAX, ..Options::default() },
    )
    .unwrap();
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
        let mut samples: Vec<Duration> = (0..ROUNDS + 20)
            .map(|_| {
                let t = Instant::now();
                ob.enqueue(&sub, now_ms()).unwrap();
                t.elapsed()
            })
            .skip(20)
            .collect();
        samples.sort();
        let p = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
        println!(
            "  with {backlog:>6} queued: median {}  p99 {}  max {}",
            ms(p(0.5)),
            ms(p(0.99)),
            ms(*samples.last().unwrap())
        );
        println!("    budget p99 <= {}: {}", ms(BUDGET), if p(0.99) <= BUDGET { "within" } else { "OVER" });
    }
    let _ = std::fs::remove_dir_all(&dir);
}
