//! The touchscreen app against DESIGN.md §5: process start to first frame ≤ 140 ms (release,
//! x86-64), memory (PSS) with a 10,000-item catalogue and the CJK fonts ≤ 40 MB, and a
//! full-screen software render at 1080×1920 ≤ 16 ms a frame, and a live answer (a records
//! page) shown within one frame of its arrival. The app runs as its own process
//! (`kiosk-ui --probe`), as on a kiosk; figures only, never a failure on a timing.
//! Run: `cargo bench -p kiosk-ui --bench ui`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kiosk_benchkit::{Samples, ms, running_as_bench};

const ITEMS: usize = 10_000;
const RUNS: usize = 7;

fn main() {
    if !running_as_bench("ui") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("kiosk-ui-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = dir.join("catalogue.bundle");
    std::fs::write(&bundle, kiosk_catalogue::to_bundle(&kiosk_catalogue::synthetic::catalogue(ITEMS)))
        .unwrap();

    let mut starts = Vec::new();
    let mut report = serde_json::Value::Null;
    for _ in 0..RUNS {
        let t = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_kiosk-ui"))
            .arg("--probe")
            .arg(&bundle)
            .stdout(Stdio::piped())
            .spawn()
            .expect("kiosk-ui starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "first-frame");
        starts.push(t.elapsed());
        report = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        assert!(child.wait().unwrap().success());
    }
    let _ = std::fs::remove_dir_all(&dir);

    let starts = Samples::from(starts);
    println!("kiosk-ui, {ITEMS}-item catalogue, 1080×1920, software renderer");
    println!(
        "  process start to first frame ({RUNS} runs): {}  (budget 140 ms: {})",
        starts.summary(),
        if starts.median() <= Duration::from_millis(140) { "within" } else { "OVER" }
    );
    let pss = report["pss_kb"].as_u64().unwrap_or(0) as f64 / 1024.0;
    let rss = report["rss_kb"].as_u64().unwrap_or(0) as f64 / 1024.0;
    println!(
        "  memory after rendering home, search and detail: PSS {pss:.1} MB, RSS {rss:.1} MB  (budget PSS 40 MB: {})",
        if pss <= 40.0 { "within" } else { "OVER" }
    );
    let marks = report["pss_kb_after"].as_object().unwrap();
    println!(
        "  PSS by stage: {}",
        marks
            .iter()
            .map(|(k, v)| format!("{k} {:.1} MB", v.as_f64().unwrap() / 1024.0))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (screen, frames) in report["frames_ms"].as_object().unwrap() {
        let samples = Samples::from(
            frames
                .as_array()
                .unwrap()
                .iter()
                .map(|v| Duration::from_secs_f64(v.as_f64().unwrap() / 1000.0))
                .collect::<Vec<_>>(),
        );
        println!(
            "  full-frame render, {screen:<8} {}  {}",
            samples.summary(),
            samples.verdict(Duration::from_millis(16))
        );
    }
    let answers: Vec<Duration> = report["answer_to_screen_ms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Duration::from_secs_f64(v.as_f64().unwrap() / 1000.0))
        .collect();
    if !answers.is_empty() {
        let answers = Samples::from(answers);
        // One frame at 60 Hz.
        println!(
            "  a live answer to the screen showing it (records page): {}  {}",
            answers.summary(),
            answers.verdict(Duration::from_micros(16_667))
        );
    }
    println!("  (figures from the last run; the median start is {})", ms(starts.median()));
}
