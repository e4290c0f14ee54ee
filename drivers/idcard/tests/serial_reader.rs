//! The blocking driver against the simulator over pseudo-terminals.

mod common;

use std::time::Duration;

use common::{SAM, card};
use kiosk_idcard::card::CardJson;
use kiosk_idcard::command::{BaudRate, Command};
use kiosk_idcard::sim::{Simulator, sample_cards};
use kiosk_idcard::{ReadOptions, Reader, ReaderError, Status};

fn open(rig: &kiosk_idcard::sim::PtySim) -> Reader {
    let (reader, info) = Reader::open(&common::port(rig)).expect("reader opens");
    assert_eq!(info.sam_id, SAM);
    assert_eq!(info.sam_id.to_string(), "05.01-20240612-0000012345-1234567890");
    reader
}

#[test]
fn reads_every_sample_card_with_its_fields() {
    for (name, expected) in sample_cards() {
        let rig = common::with_card(expected.clone());
        let mut reader = open(&rig);
        let fingerprint = expected.fingerprint.is_some();
        let got = reader
            .read_card(ReadOptions { fingerprint, appended_addresses: true })
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .expect("a card is on the reader");
        assert_eq!(got, expected, "{name}");
        assert!(got.id_number_check().is_valid(), "{name}");
        assert!(got.photo.looks_valid(), "{name}");
    }
}

#[test]
fn decoded_fields_match_the_fixture_json() {
    let rig = common::with_card(card("foreigner_2023"));
    let got = open(&rig).read_card(ReadOptions::default()).unwrap().unwrap();
    let json = CardJson::from(&got);
    assert_eq!(json.card_type, "foreigner_2023");
    // 44 characters: the name continues in the second slot of the 2023 layout.
    assert_eq!(json.name_en.as_deref(), Some("VAN DER BERG-MONTGOMERY, ALEXANDRA CATHERINE"));
    assert_eq!(json.nationality.as_deref(), Some("CAN"));
    assert_eq!(json.birth_date, "1985-03-12");
    assert!(json.address.is_none());
}

#[test]
fn fingerprint_answers_have_the_three_sizes() {
    for fp in [0usize, 512, 1024] {
        let mut c = card("resident");
        c.fingerprint = (fp > 0).then(|| vec![0x43; fp]);
        let rig = common::with_card(c);
        let mut reader = open(&rig);
        let before = reader.wire_bytes();
        let got =
            reader.read_card(ReadOptions { fingerprint: true, appended_addresses: false }).unwrap().unwrap();
        assert_eq!(got.fingerprint.as_ref().map_or(0, Vec::len), fp);
        // find (10 + 15) + select (10 + 19) + read (10 + answer)
        let answer = (reader.wire_bytes() - before) as usize - 10 - 15 - 10 - 19 - 10;
        assert_eq!(answer, [1297, 1809, 2321][fp / 512], "fingerprint {fp}");
    }
}

#[test]
fn probes_the_baud_rate_and_follows_a_change() {
    let mut sim = Simulator::new(SAM).with_baud(BaudRate::B19200);
    sim.place_card(card("resident"));
    let rig = common::start(sim);
    let (mut reader, info) = Reader::open(&common::port(&rig)).unwrap();
    assert_eq!(info.baud, Some(19_200));
    reader.set_baud(BaudRate::B57600).unwrap();
    assert_eq!(rig.sim().baud(), BaudRate::B57600);
    assert!(reader.read_card(ReadOptions::default()).unwrap().is_some());
    drop(reader);
    // A fixed rate that is wrong does not find the reader; probing again does.
    let wrong = kiosk_idcard::ReaderPort::Serial { path: rig.path.clone(), baud: Some(115_200) };
    assert!(matches!(Reader::open(&wrong), Err(ReaderError::NoReader { .. })));
    assert_eq!(Reader::open(&common::port(&rig)).unwrap().1.baud, Some(57_600));
}

#[test]
fn survives_noise_split_frames_and_a_bad_checksum() {
    let rig = common::with_card(card("hmt_permit"));
    {
        let mut sim = rig.sim();
        sim.faults.noise_before_preamble = true;
        sim.faults.chunk_size = Some(7);
        sim.faults.chunk_pause = Duration::from_millis(1);
        sim.faults.bad_checksums = 1;
    }
    let mut reader = open(&rig);
    let got = reader.read_card(ReadOptions::default()).unwrap().unwrap();
    assert_eq!(got.name, "黎嘉欣");
    assert_eq!(rig.sim().faults.bad_checksums, 0, "the corrupted answer was sent");
}

#[test]
fn repeated_bad_checksums_are_reported_as_such() {
    let rig = common::with_card(card("resident"));
    let mut reader = open(&rig);
    rig.sim().faults.bad_checksums = 2;
    let err = reader.read_card(ReadOptions::default()).unwrap_err();
    assert!(matches!(err, ReaderError::Frame { .. }), "{err}");
    assert!(err.to_string().contains("checksum"), "{err}");
}

#[test]
fn every_error_status_becomes_a_typed_error() {
    let rig = common::with_card(card("resident"));
    let mut reader = open(&rig);
    for status in Status::all_known().filter(|s| !matches!(s, Status::Success | Status::FindSuccess)) {
        rig.sim().faults.status_override = Some((Command::SamId, status));
        match reader.sam_id() {
            Err(ReaderError::Status { command: "SAM ID", status: got }) => assert_eq!(got, status),
            other => panic!("{status}: {other:?}"),
        }
    }
    rig.sim().faults.status_override = Some((Command::ReadBase, Status::from_byte(0x7E)));
    let err = reader.read_card(ReadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("SW3 0x7E"), "{err}");
}

#[test]
fn no_card_and_spurious_failures() {
    let rig = common::start(Simulator::new(SAM));
    let mut reader = open(&rig);
    assert!(reader.read_card(ReadOptions::default()).unwrap().is_none());

    rig.sim().place_card(card("resident"));
    rig.sim().faults.spurious_find_failures = 1;
    rig.sim().faults.spurious_select_failures = 1;
    assert!(reader.read_card(ReadOptions::default()).unwrap().is_some());

    // Read once, the same card is not found again until it is lifted and re-placed.
    assert!(reader.read_card(ReadOptions::default()).unwrap().is_none());
    rig.sim().lift_card();
    rig.sim().place_card(card("resident"));
    assert!(reader.read_card(ReadOptions::default()).unwrap().is_some());
}

#[test]
fn a_card_lifted_mid_read_asks_for_re_placement() {
    let rig = common::with_card(card("resident"));
    let mut reader = open(&rig);
    rig.sim().faults.lift_during_read = true;
    let err = reader.read_card(ReadOptions::default()).unwrap_err();
    assert_eq!(err.card_placement_status(), Some(Status::ReadFailed), "{err}");
}

#[test]
fn slow_answers_are_waited_for_and_silence_times_out() {
    let rig = common::with_card(card("resident"));
    let mut reader = open(&rig);
    rig.sim().faults.reply_delay = Duration::from_millis(150);
    assert!(reader.read_card(ReadOptions::default()).unwrap().is_some());
    rig.sim().faults.silent = true;
    let err = reader.sam_status().unwrap_err();
    assert!(matches!(err, ReaderError::Timeout { command: "SAM status", .. }), "{err}");
    assert!(err.to_string().contains(&rig.path), "names the port: {err}");
}

#[test]
fn missing_address_and_self_test_failure() {
    let mut c = card("resident");
    c.appended_addresses.clear();
    let rig = common::with_card(c);
    let mut reader = open(&rig);
    assert_eq!(
        reader.read_card(ReadOptions::default()).unwrap().unwrap().appended_addresses,
        Vec::<String>::new()
    );
    reader.set_max_rf_bytes(0x50).unwrap();
    reader.reset().unwrap();
    let busy = Reader::open(&common::port(&rig)).unwrap_err();
    assert!(!busy.is_disconnect() && busy.to_string().contains("another program"), "{busy}");
    drop(reader);
    rig.sim().set_self_test_ok(false);
    let err = Reader::open(&common::port(&rig)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "SAM status: SW3 0x60 SAM_V自检失败，不能接收命令 (SAM self-test failed): power-cycle the reader; replace it if this repeats"
    );
}

#[test]
fn a_missing_port_is_a_disconnect_not_a_fault() {
    let err = Reader::open(&kiosk_idcard::ReaderPort::Serial {
        path: "/dev/does-not-exist-kiosk".into(),
        baud: None,
    })
    .unwrap_err();
    assert!(err.is_disconnect(), "{err}");
}
