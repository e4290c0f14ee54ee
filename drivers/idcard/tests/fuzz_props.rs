//! Property tests standing in for a fuzzer (they run on stable Rust in CI): the frame decoder,
//! the card parsers and the simulator's command parser never panic and never buffer without
//! bound, whatever bytes arrive; valid frames survive noise and arbitrary splitting; every card
//! the layouts can hold survives an encode/decode round trip.

use bytes::BytesMut;
use kiosk_idcard::SamId;
use kiosk_idcard::card::{self, CardDate, CardKind, IdCard, Sex, WltPhoto};
use kiosk_idcard::frame::{self, FrameCodec, HEADER_LEN, MAX_LEN};
use kiosk_idcard::sim::Simulator;
use proptest::prelude::*;

fn decode_in_chunks(input: &[u8], chunk: usize) -> Vec<Result<Vec<u8>, String>> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        while let Some(item) = FrameCodec.decode(&mut buf) {
            out.push(item.map(|f| f.payload().to_vec()).map_err(|e| e.to_string()));
        }
        // Whatever is left is less than one maximal frame: nothing accumulates without bound.
        assert!(buf.len() < HEADER_LEN + MAX_LEN, "holding {} bytes", buf.len());
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Failing inputs are kept beside this file and replayed first on the next run.
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::Direct(
            "tests/fuzz_props.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn decoder_survives_any_bytes(input in proptest::collection::vec(any::<u8>(), 0..6000), chunk in 1usize..700) {
        decode_in_chunks(&input, chunk);
    }

    #[test]
    fn decoder_survives_preamble_heavy_garbage(
        parts in proptest::collection::vec(prop_oneof![
            Just(vec![0xAA, 0xAA, 0xAA, 0x96, 0x69]),
            proptest::collection::vec(any::<u8>(), 0..4),
            Just(vec![0x09, 0x0A]),
            Just(vec![0xFF, 0xFF]),
        ], 0..200),
        chunk in 1usize..64,
    ) {
        decode_in_chunks(&parts.concat(), chunk);
    }

    #[test]
    fn valid_frames_survive_noise_and_splitting(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 2..300), 1..6),
        noise in proptest::collection::vec(proptest::collection::vec(any::<u8>().prop_filter("no preamble byte", |b| *b != 0xAA), 0..20), 6),
        chunk in 1usize..100,
    ) {
        let mut wire = BytesMut::new();
        for (p, n) in payloads.iter().zip(&noise) {
            wire.extend_from_slice(n);
            frame::encode(p, &mut wire);
        }
        let got = decode_in_chunks(&wire, chunk);
        let want: Vec<Result<Vec<u8>, String>> = payloads.into_iter().map(Ok).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn card_parsers_survive_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..2400)) {
        let _ = card::parse_any_base_message(&data);
        let _ = card::parse_base_message(&data, true);
        let _ = card::parse_addresses(&data);
    }

    #[test]
    fn text_layouts_survive_any_text(mut text in proptest::collection::vec(any::<u8>(), 256), kind in 0usize..5) {
        text[248] = [b' ', b'I', b'J', b'Y', text[248]][kind];
        text[249] = 0;
        let mut data = vec![0x01, 0x00, 0x04, 0x00];
        data.extend_from_slice(&text);
        data.resize(4 + 256 + 1024, 0);
        let _ = card::parse_base_message(&data, false);
    }

    #[test]
    fn simulator_survives_any_host_bytes(input in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let mut sim = Simulator::new(SamId { a: 5, b: 1, c: 1, d: 2, e: 3 });
        for reply in sim.feed(&input, None) {
            // Every reply is a well-formed frame.
            let mut buf = BytesMut::from(&reply.bytes[..]);
            prop_assert!(FrameCodec.decode(&mut buf).unwrap().is_ok());
        }
    }

    #[test]
    fn cards_round_trip(card in arb_card()) {
        let with_fp = card.fingerprint.is_some();
        let data = card::encode_base_message(&card, with_fp).unwrap();
        let back = card::parse_base_message(&data, with_fp).unwrap();
        let mut expected = card.clone();
        expected.appended_addresses.clear();
        prop_assert_eq!(back, expected);
        let addresses = card::encode_addresses(&card.appended_addresses).unwrap();
        prop_assert_eq!(card::parse_addresses(&addresses).unwrap(), card.appended_addresses.clone());
    }
}

/// Text that fits `max_units` UTF-16 units, with CJK, rare (astral) characters and Latin.
fn arb_text(max_units: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            proptest::char::range('\u{4E00}', '\u{9FA5}'),
            proptest::char::range('A', 'Z'),
            proptest::char::range('\u{20000}', '\u{2A6DF}'),
        ],
        1..=max_units / 2,
    )
    .prop_map(|chars| chars.into_iter().collect::<String>())
    .prop_filter("fits", move |s| s.encode_utf16().count() <= max_units)
}

fn arb_date() -> impl Strategy<Value = CardDate> {
    (1900u16..2100, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| CardDate::new(y, m, d).unwrap())
}

fn arb_digits(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::char::range('0', '9'), n).prop_map(|v| v.into_iter().collect())
}

fn arb_card() -> impl Strategy<Value = IdCard> {
    (
        0usize..4,
        arb_text(15),
        arb_text(46),
        arb_text(35),
        (arb_date(), arb_date(), proptest::option::of(arb_date())),
        arb_digits(17),
        proptest::sample::select(vec![Sex::Male, Sex::Female, Sex::Unknown, Sex::Unspecified]),
        1u8..=56,
        proptest::collection::vec(arb_text(35), 0..4),
        proptest::sample::select(vec![0usize, 512, 1024]),
    )
        .prop_map(|(k, name, latin, address, (birth, from, until), digits, sex, eth, appended, fp)| {
            let kind = CardKind::ALL[k];
            let id_number = match kind {
                CardKind::Foreigner2017 => format!("CAN{}", &digits[..12]),
                _ => format!("{digits}{}", card::check_character(&digits).unwrap()),
            };
            let latin: String = latin.chars().filter(char::is_ascii_uppercase).collect();
            let latin = if latin.is_empty() { "A".to_owned() } else { latin };
            let only = |k: CardKind, v: String| (kind == k).then_some(v);
            IdCard {
                kind,
                name: name.clone(),
                name_en: matches!(kind, CardKind::Foreigner2017 | CardKind::Foreigner2023).then_some(latin),
                sex,
                ethnicity: (kind == CardKind::Resident).then_some(eth),
                birth_date: birth,
                address: matches!(kind, CardKind::Resident | CardKind::HmtPermit).then_some(address),
                id_number,
                issuer: (kind != CardKind::Foreigner2023).then(|| "1500".to_owned()),
                valid_from: from,
                valid_until: until,
                nationality: matches!(kind, CardKind::Foreigner2017 | CardKind::Foreigner2023)
                    .then(|| "CAN".into()),
                pass_number: only(CardKind::HmtPermit, "H12345678".into()),
                issue_count: only(CardKind::HmtPermit, "03".into()),
                card_version: only(CardKind::Foreigner2017, "01".into()),
                renewal_count: only(CardKind::Foreigner2023, "02".into()),
                previous_number_link: only(CardKind::Foreigner2023, "011".into()),
                appended_addresses: appended,
                photo: WltPhoto(card::WLT_MAGIC.repeat(94)[..1024].to_vec()),
                fingerprint: (fp > 0).then(|| vec![0x43; fp]),
            }
        })
}
