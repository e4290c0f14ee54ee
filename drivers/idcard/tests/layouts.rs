//! Card layouts checked against frames built by hand from the reference offsets, independently of
//! the simulator's encoder, so a mistake shared by encoder and decoder cannot hide.

use kiosk_idcard::card::{self, CardKind, IdNumberCheck, Sex, parse_any_base_message};
use kiosk_idcard::command::Response;
use kiosk_idcard::frame::{Frame, FrameCodec};

fn put(text: &mut [u8], at: usize, value: &str) {
    for (i, unit) in value.encode_utf16().enumerate() {
        text[at + 2 * i..at + 2 * i + 2].copy_from_slice(&unit.to_le_bytes());
    }
}

fn blank_text() -> Vec<u8> {
    [0x20u8, 0x00].repeat(128)
}

/// A complete 30 01 answer around a text block, with the header quoted in the reference.
fn frame_30_01(text: &[u8]) -> Vec<u8> {
    let mut f = vec![0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x05, 0x08, 0x00, 0x00, 0x90, 0x01, 0x00, 0x04, 0x00];
    f.extend_from_slice(text);
    f.extend_from_slice(&card::WLT_MAGIC);
    f.resize(14 + 256 + 1024, 0x11);
    let chk = f[5..].iter().fold(0u8, |a, b| a ^ b);
    f.push(chk);
    f
}

fn decode(frame: &[u8]) -> kiosk_idcard::IdCard {
    let mut buf = bytes::BytesMut::from(frame);
    let frame: Frame = FrameCodec.decode(&mut buf).unwrap().unwrap();
    let response = Response::parse(&frame).unwrap();
    assert_eq!(response.status, kiosk_idcard::Status::Success);
    parse_any_base_message(&response.data).unwrap()
}

#[test]
fn resident_card_from_the_reference_offsets() {
    let mut t = blank_text();
    put(&mut t, 0, "张三丰");
    put(&mut t, 30, "1");
    put(&mut t, 32, "08");
    put(&mut t, 36, "19491231");
    put(&mut t, 52, "广东省佛山市南海区桂城街道1号");
    put(&mut t, 122, "11010519491231002X");
    put(&mut t, 158, "佛山市公安局南海分局");
    put(&mut t, 188, "20100101");
    // "长期" is 7F 95 1F 67 followed by spaces, as on a real capture.
    t[204..208].copy_from_slice(&[0x7F, 0x95, 0x1F, 0x67]);
    let frame = frame_30_01(&t);
    assert_eq!(frame.len(), 1295);
    let c = decode(&frame);
    assert_eq!(c.kind, CardKind::Resident);
    assert_eq!(c.name, "张三丰");
    assert_eq!(c.sex, Sex::Male);
    assert_eq!(card::ethnicity_name(c.ethnicity.unwrap()), "壮");
    assert_eq!(c.birth_date.to_string(), "1949-12-31");
    assert_eq!(c.address.as_deref(), Some("广东省佛山市南海区桂城街道1号"));
    assert_eq!(c.id_number, "11010519491231002X");
    assert_eq!(c.id_number_check(), IdNumberCheck::Valid);
    assert_eq!(c.issuer.as_deref(), Some("佛山市公安局南海分局"));
    assert_eq!(c.valid_until, None);
    assert_eq!(c.photo.0.len(), 1024);
    assert!(c.photo.looks_valid());
}

#[test]
fn a_wrong_check_character_is_reported_not_fatal() {
    let mut t = blank_text();
    put(&mut t, 0, "李四");
    put(&mut t, 30, "2");
    put(&mut t, 32, "01");
    put(&mut t, 36, "19800101");
    put(&mut t, 122, "110105198001010021");
    put(&mut t, 188, "20100101");
    put(&mut t, 204, "20300101");
    let c = decode(&frame_30_01(&t));
    assert_eq!(c.id_number_check(), IdNumberCheck::WrongCheckCharacter);
    assert_eq!(c.sex, Sex::Female);
}

#[test]
fn foreigner_2017_card_from_the_reference_offsets() {
    let mut t = blank_text();
    put(&mut t, 0, "SMITH, JOHN");
    put(&mut t, 120, "1");
    put(&mut t, 122, "USA440670010112");
    put(&mut t, 152, "USA");
    put(&mut t, 158, "史密斯");
    put(&mut t, 188, "20170901");
    put(&mut t, 204, "20270901");
    put(&mut t, 220, "19700101");
    put(&mut t, 236, "01");
    put(&mut t, 240, "1500");
    t[248] = b'I';
    let c = decode(&frame_30_01(&t));
    assert_eq!(c.kind, CardKind::Foreigner2017);
    assert_eq!(c.name_en.as_deref(), Some("SMITH, JOHN"));
    assert_eq!(c.name, "史密斯");
    assert_eq!(c.birth_date.to_string(), "1970-01-01");
    assert_eq!(c.nationality.as_deref(), Some("USA"));
    assert_eq!(c.issuer.as_deref(), Some("1500"));
    assert_eq!(c.card_version.as_deref(), Some("01"));
    assert!(c.id_number_check().is_valid());
}

#[test]
fn residence_permit_and_2023_card_from_the_reference_offsets() {
    let mut t = blank_text();
    put(&mut t, 0, "陈大文");
    put(&mut t, 30, "1");
    put(&mut t, 36, "19900101");
    put(&mut t, 52, "广东省佛山市南海区");
    put(&mut t, 122, "810000199001010018");
    put(&mut t, 188, "20200101");
    put(&mut t, 204, "20250101");
    put(&mut t, 220, "H00000001");
    put(&mut t, 238, "02");
    t[248] = b'J';
    let c = decode(&frame_30_01(&t));
    assert_eq!(c.kind, CardKind::HmtPermit);
    assert_eq!(c.ethnicity, None);
    assert_eq!(c.pass_number.as_deref(), Some("H00000001"));
    assert_eq!(c.issue_count.as_deref(), Some("02"));

    let mut t = blank_text();
    put(&mut t, 0, "阿里");
    put(&mut t, 30, "1");
    put(&mut t, 32, "01");
    put(&mut t, 36, "19800101");
    put(&mut t, 52, "ALI, MUHAMMAD ABDULLAH BIN RASHID A"); // 35 characters
    put(&mut t, 122, "931586198001010028");
    put(&mut t, 188, "20231201");
    put(&mut t, 204, "20331201");
    put(&mut t, 220, "L-KHALIFA");
    put(&mut t, 242, "PAK");
    put(&mut t, 250, "000");
    t[248] = b'Y';
    let c = decode(&frame_30_01(&t));
    assert_eq!(c.kind, CardKind::Foreigner2023);
    assert_eq!(c.name_en.as_deref(), Some("ALI, MUHAMMAD ABDULLAH BIN RASHID AL-KHALIFA"));
    assert_eq!(c.renewal_count.as_deref(), Some("01"));
    assert_eq!(c.nationality.as_deref(), Some("PAK"));
    assert_eq!(c.previous_number_link.as_deref(), Some("000"));
    assert!(c.id_number_check().is_valid());
}

#[test]
fn broken_card_data_gets_a_clear_error_naming_the_field() {
    let mut t = blank_text();
    t[248] = b'Q';
    let data = &frame_30_01(&t)[10..1294];
    assert_eq!(
        parse_any_base_message(data).unwrap_err().to_string(),
        "card type character 0x51 at text offset 248 is not a known layout (resident, J, I, Y)"
    );
    let mut t = blank_text();
    put(&mut t, 30, "1");
    put(&mut t, 32, "01");
    put(&mut t, 36, "19801301");
    put(&mut t, 122, "110105198001010021");
    put(&mut t, 188, "20100101");
    put(&mut t, 204, "20300101");
    let err = parse_any_base_message(&frame_30_01(&t)[10..1294]).unwrap_err();
    assert_eq!(err.to_string(), "field birth_date: not a valid YYYYMMDD date");
    assert!(parse_any_base_message(&frame_30_01(&t)[10..1000]).is_err());
}
