//! Property tests in place of a fuzzer: the status parser and the printer simulator take any
//! bytes without panicking; any text encodes and prints back as itself where the font has it.

use kiosk_escpos::profile::{self, GB18030_80};
use kiosk_escpos::sim::PrinterSim;
use kiosk_escpos::status::{Reply, ReplyParser};
use kiosk_escpos::{Slip, encode};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn status_parser_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let replies = ReplyParser::default().push(&bytes);
        // Every byte is accounted for: nothing is silently swallowed except an unfinished ASB block.
        let counted: usize = replies.iter().map(|r| if matches!(r, Reply::Asb(_)) { 4 } else { 1 }).sum();
        prop_assert!(counted <= bytes.len() && bytes.len() - counted < 4);
    }

    #[test]
    fn simulator_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048), split in 1usize..64) {
        let mut sim = PrinterSim::new();
        for chunk in bytes.chunks(split) {
            sim.feed(chunk);
        }
        let _ = sim.take_output();
    }

    #[test]
    fn any_text_prints_back_on_a_gb18030_printer(text in "[ -~\u{4E00}-\u{9FA5}，。：（）]{0,60}") {
        let slip = Slip::new().text(&text);
        let mut sim = PrinterSim::new();
        sim.feed(&encode::encode(&slip, &GB18030_80).unwrap().bytes);
        let printed = sim.lines().join("");
        let expected: String = text.chars().filter(|c| *c != ' ').collect();
        prop_assert_eq!(printed.replace(' ', ""), expected);
    }

    #[test]
    fn any_slip_encodes_or_fails_cleanly(text in "\\PC{0,80}", code in "\\PC{0,20}") {
        for p in profile::ALL {
            let _ = encode::encode(&Slip::new().text(&text).kv(&text, &text).qr(&text).barcode(&code).cut(), p);
        }
    }
}
