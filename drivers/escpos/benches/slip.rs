//! Encoding a full slip to ESC/POS and rendering its preview, per printer profile.
//! Run: `cargo bench -p kiosk-escpos --bench slip`. Figures only; no budget fails anything.

use std::hint::black_box;
use std::time::{Duration, Instant};

use kiosk_escpos::{encode, preview, profile, test_slip};

fn measure(rounds: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    (samples[rounds / 2], samples[rounds * 99 / 100])
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("slip: run with `cargo bench` for figures");
        return;
    }
    println!(
        "Receipt slip: encode to ESC/POS and render the preview (test slip: text, table, QR, CODE128, cut)\n"
    );
    for p in profile::ALL {
        let slip = test_slip(p, "bench");
        let size = encode::encode(&slip, p).unwrap().bytes.len();
        let (e50, e99) = measure(300, || {
            black_box(encode::encode(black_box(&slip), p).unwrap());
        });
        let (r50, r99) = measure(100, || {
            black_box(preview::render(black_box(&slip), p).unwrap());
        });
        let (g50, g99) = measure(50, || {
            black_box(preview::render_png(black_box(&slip), p).unwrap());
        });
        println!("{:<14} {size:>6} bytes", p.name);
        println!("  encode          p50 {}  p99 {}", ms(e50), ms(e99));
        println!("  preview canvas  p50 {}  p99 {}", ms(r50), ms(r99));
        println!("  preview PNG     p50 {}  p99 {}", ms(g50), ms(g99));
    }
}
