//! Property tests in place of a fuzzer: whatever a scanner sends, in any mode, the pipeline does
//! not panic and hands over only clean text.

use std::time::Instant;

use kiosk_scanner::{Mode, Pipeline, ScanConfig, ScanEvent, Suffix};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_input_yields_only_clean_scans(
        data in proptest::collection::vec(any::<u8>(), 0..3000),
        chunk in 1usize..70,
        mode in prop_oneof![Just(Mode::Serial(Suffix::Cr)), Just(Mode::Serial(Suffix::CrLf)), Just(Mode::Keyboard), Just(Mode::HidPos)],
    ) {
        let mut p = Pipeline::new(mode, ScanConfig { max_len: 256, ..ScanConfig::default() });
        for piece in data.chunks(chunk) {
            for event in p.push(piece, Instant::now()) {
                if let ScanEvent::Scan(s) = event {
                    prop_assert!(!s.text.is_empty() && s.text.len() <= 256);
                    prop_assert!(!s.text.chars().any(|c| c.is_control() && c != '\t'));
                }
            }
        }
    }
}
