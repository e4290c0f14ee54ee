//! Encoding a full slip to ESC/POS and rendering its preview, per printer profile.
//! Run: `cargo bench -p kiosk-escpos --bench slip`. Figures only; no budget fails anything.

use std::hint::black_box;

use kiosk_benchkit::{Samples, running_as_bench};
use kiosk_escpos::{encode, preview, profile, test_slip};

fn main() {
    if !running_as_bench("slip") {
        return;
    }
    println!(
        "Receipt slip: encode to ESC/POS and render the preview (test slip: text, table, QR, CODE128, cut)\n"
    );
    for p in profile::ALL {
        let slip = test_slip(p, "bench");
        let size = encode::encode(&slip, p).unwrap().bytes.len();
        let encode = Samples::measure(10, 300, || {
            black_box(encode::encode(black_box(&slip), p).unwrap());
        });
        let canvas = Samples::measure(5, 100, || {
            black_box(preview::render(black_box(&slip), p).unwrap());
        });
        let png = Samples::measure(5, 50, || {
            black_box(preview::render_png(black_box(&slip), p).unwrap());
        });
        println!("{:<14} {size:>6} bytes", p.name);
        println!("  encode          {}", encode.summary());
        println!("  preview canvas  {}", canvas.summary());
        println!("  preview PNG     {}", png.summary());
    }
}
