//! Host overhead of a card read, against the 5 ms budget of DESIGN.md §5.
//!
//! The simulator answers on a pseudo-terminal, which moves bytes instantly: the time a full
//! find/select/read takes there is the host's own work (plus the simulator's and the kernel's,
//! so it is an upper bound). A real reader adds the wire time of the same bytes at 115200 baud,
//! printed alongside, and the card's RF and crypto time. No figure here fails a test.
//!
//! Run: `cargo bench -p kiosk-idcard --bench read_overhead`

use std::hint::black_box;
use std::time::{Duration, Instant};

use kiosk_benchkit::{Samples, ms, running_as_bench};
use kiosk_idcard::card::{encode_base_message, parse_base_message};
use kiosk_idcard::command::Response;
use kiosk_idcard::frame::{self, FrameCodec};
use kiosk_idcard::sim::{PtySim, Simulator, sample_cards};
use kiosk_idcard::{ReadOptions, Reader, ReaderPort, SamId, Status};

const BUDGET: Duration = Duration::from_millis(5);
const BAUD: u32 = 115_200;
const ROUNDS: usize = 200;

fn full_reads(fingerprint: bool) {
    let (_, mut card) = sample_cards().into_iter().find(|(n, _)| *n == "resident_long_term").unwrap();
    if !fingerprint {
        card.fingerprint = None;
    }
    let rig = PtySim::start(Simulator::new(SamId { a: 5, b: 1, c: 1, d: 1, e: 1 })).unwrap();
    let (mut reader, _) =
        Reader::open(&ReaderPort::Serial { path: rig.path.clone(), baud: Some(BAUD) }).unwrap();
    let opts = ReadOptions { fingerprint, appended_addresses: false };
    let mut wire_bytes = 0;
    let mut timings = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS + 10 {
        rig.sim().place_card(card.clone());
        let before = reader.wire_bytes();
        let started = Instant::now();
        assert!(reader.find_card().unwrap());
        black_box(reader.read_found_card(opts).unwrap());
        let elapsed = started.elapsed();
        wire_bytes = reader.wire_bytes() - before;
        if round >= 10 {
            timings.push(elapsed);
        }
    }
    let samples = Samples::from(timings);
    // 10 bits a byte on an 8N1 line.
    let wire = Duration::from_secs_f64(wire_bytes as f64 * 10.0 / f64::from(BAUD));
    println!(
        "{}",
        if fingerprint {
            "find + select + read with fingerprint (30 10, 2321-byte answer)"
        } else {
            "find + select + read (30 01, 1295-byte answer)"
        }
    );
    println!("  bytes on the wire per read    {wire_bytes} ({} at {BAUD} baud)", ms(wire));
    println!("  host overhead over a pty      {}  ({} rounds)", samples.summary(), samples.len());
    println!("  {}", samples.verdict(BUDGET));
    println!("  read on a real reader ≈ wire {} + overhead + card RF/crypto time", ms(wire));
}

/// The codec and card parser alone, without I/O: the CPU part of the overhead.
fn decode_only() {
    let (_, card) = sample_cards().into_iter().next().unwrap();
    let mut wire = bytes::BytesMut::new();
    frame::encode(
        &Response::payload(Status::Success, &encode_base_message(&card, false).unwrap()),
        &mut wire,
    );
    let samples = Samples::measure(100, 10_000, || {
        let mut buf = bytes::BytesMut::from(&wire[..]);
        let frame = FrameCodec.decode(&mut buf).unwrap().unwrap();
        let response = Response::parse(&frame).unwrap();
        black_box(parse_base_message(&response.data, false).unwrap());
    });
    println!("frame decode + card parse of a 1295-byte answer, no I/O");
    println!("  {}", samples.summary());
}

fn main() {
    if !running_as_bench("read_overhead") {
        return;
    }
    println!("ID card read: host overhead against the {} budget (DESIGN.md §5)\n", ms(BUDGET));
    full_reads(false);
    println!();
    full_reads(true);
    println!();
    decode_only();
}
