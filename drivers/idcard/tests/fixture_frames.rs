//! The saved answer frames in `fixtures/frames` (what `kiosk-diag idcard decode` is tried on, in
//! the README) are exactly what the simulator sends for the sample cards. Run with
//! `UPDATE_FIXTURES=1` after changing a sample card to rewrite them.

use bytes::BytesMut;
use kiosk_idcard::Status;
use kiosk_idcard::card::encode_base_message;
use kiosk_idcard::command::Response;
use kiosk_idcard::frame;
use kiosk_idcard::sim::sample_cards;

fn hex_lines(bytes: &[u8]) -> String {
    bytes
        .chunks(32)
        .map(|row| row.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ") + "\n")
        .collect()
}

#[test]
fn saved_frames_match_the_sample_cards() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/frames");
    let update = std::env::var_os("UPDATE_FIXTURES").is_some();
    for (name, card) in sample_cards() {
        let fingerprint = card.fingerprint.is_some();
        let mut wire = BytesMut::new();
        frame::encode(
            &Response::payload(Status::Success, &encode_base_message(&card, fingerprint).unwrap()),
            &mut wire,
        );
        let (bin, hex) = (dir.join(format!("{name}.bin")), dir.join(format!("{name}.hex")));
        if update {
            std::fs::write(&bin, &wire).unwrap();
            std::fs::write(&hex, hex_lines(&wire)).unwrap();
        }
        assert_eq!(
            std::fs::read(&bin).expect("fixture exists (UPDATE_FIXTURES=1 writes it)"),
            &wire[..],
            "{name}.bin"
        );
        assert_eq!(std::fs::read_to_string(&hex).unwrap(), hex_lines(&wire), "{name}.hex");
        assert_eq!(wire.len(), if fingerprint { 2321 } else { 1295 }, "{name}");
    }
}
