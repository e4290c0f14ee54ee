//! Upload throughput and memory against DESIGN.md §5: drain to the loopback gateway at
//! ≥ 500 submissions/s, memory flat with a 100,000-submission backlog. The gateway runs in this
//! process on loopback, over mutual TLS, without faults. Figures only.
//! Run: `cargo bench -p kiosk-sync --bench drain`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use kiosk_gateway::Faults;
use kiosk_sync::{Agent, Config};

const BACKLOG: usize = 100_000;
const MEASURED: usize = 20_000;

/// Resident set size of this process, from /proc, in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn main() {
    if !kiosk_benchkit::running_as_bench("drain") {
        return;
    }
    let rig = common::Rig::start("bench-drain", Faults::default());
    let t = Instant::now();
    rig.enqueue(BACKLOG);
    println!(
        "Backlog: {BACKLOG} submissions queued in {:.1} s (durable enqueues)",
        t.elapsed().as_secs_f64()
    );
    let mut config = Config::load(&rig.config(None)).unwrap();
    config.upload.concurrency = 32;
    let mut agent = Agent::new(config).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let rss_start = rss_mib();
    let mut samples = Vec::new();
    let started = Instant::now();
    let mut done = 0;
    runtime.block_on(async {
        while done < MEASURED {
            done += agent.round().await.unwrap().accepted;
            if done % 5_000 < 32 {
                samples.push((done, rss_mib()));
            }
        }
    });
    let secs = started.elapsed().as_secs_f64();
    let rate = done as f64 / secs;
    println!("Drain to the loopback gateway (mTLS, signed, keep-alive, 32 in flight):");
    println!(
        "  {done} submissions in {secs:.2} s = {rate:.0} submissions/s (budget ≥ 500: {})",
        if rate >= 500.0 { "within" } else { "UNDER" }
    );
    println!("Memory while draining, with {} still queued behind:", BACKLOG - done);
    println!("  start {rss_start:.1} MiB");
    for (n, rss) in samples {
        println!("  after {n:>6}: {rss:.1} MiB");
    }
    println!(
        "  (this process also runs the gateway; the agent holds at most one round of submissions in memory)"
    );
}
