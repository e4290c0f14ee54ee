//! Slips through the encoder into the printer simulator, and through the preview into an
//! independent barcode decoder (rxing).

use kiosk_escpos::canvas::Canvas;
use kiosk_escpos::layout::Note;
use kiosk_escpos::profile::{self, GB2312_58, GB18030_80, GBK_80, Profile};
use kiosk_escpos::sim::{Printed, PrinterSim};
use kiosk_escpos::{Slip, encode, preview, test_slip};
use rxing::BarcodeFormat;

const URL: &str = "https://zwfw.nanhai.example/t/NH20261127000123?s=3f9a";

fn decode(canvas: &Canvas, format: BarcodeFormat) -> String {
    let img = canvas.to_image();
    let (w, h) = img.dimensions();
    rxing::helpers::detect_in_luma(img.into_raw(), w, h, Some(format))
        .expect("a standard decoder reads the code")
        .getText()
        .to_owned()
}

fn print(slip: &Slip, profile: &Profile) -> PrinterSim {
    let mut sim = PrinterSim::new();
    sim.feed(&encode::encode(slip, profile).unwrap().bytes);
    sim
}

#[test]
fn preview_codes_read_back_with_an_independent_decoder() {
    for p in profile::ALL {
        let page = preview::render(&test_slip(p, "file:x"), p).unwrap();
        assert_eq!(page.width, u32::from(p.dots));
        assert_eq!(decode(&page, BarcodeFormat::QR_CODE), URL, "{}", p.name);
        assert_eq!(decode(&page, BarcodeFormat::CODE_128), "20261127000123", "{}", p.name);
    }
    let png = preview::render_png(&test_slip(&GBK_80, "x"), &GBK_80).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn the_test_slip_prints_on_every_profile() {
    for p in profile::ALL {
        let sim = print(&test_slip(p, "file:x"), p);
        let lines = sim.lines();
        assert!(lines.iter().any(|l| l.contains("常用字：办事回执，请妥善保管。")), "{}: {lines:?}", p.name);
        assert!(lines.iter().any(|l| l.starts_with("配置 Profile：") && l.contains(p.name)), "{}", p.name);
        let barcodes: Vec<_> =
            sim.printed().iter().filter(|x| matches!(x, Printed::Barcode { .. })).collect();
        assert_eq!(barcodes, [&Printed::Barcode { text: "20261127000123".into(), module: 2 }]);
        assert!(matches!(sim.printed().last(), Some(Printed::Cut { .. })), "{}", p.name);
        if p.native_qr {
            assert!(
                sim.printed().iter().any(|x| matches!(x, Printed::Qr { data, .. } if data == URL.as_bytes()))
            );
        } else {
            // No native QR: sent as a raster image, which must still decode.
            let qr = sim.printed().iter().find_map(|x| match x {
                // Text lines are 24 or 48 dots high; the QR is far taller.
                Printed::Image(c) if c.height > 100 => Some(c.clone()),
                _ => None,
            });
            assert_eq!(decode(&qr.expect("a raster QR"), BarcodeFormat::QR_CODE), URL);
        }
    }
}

#[test]
fn rare_name_characters_are_printed_natively_or_as_images_never_as_garbage() {
    let slip = Slip::new().text("陈喆 黄堃 朱镕").text("𠮷野家𠀀").text("普通的字");
    let native = |sim: &PrinterSim, text: &str| sim.lines().iter().any(|l| l == text);
    let images = |sim: &PrinterSim| sim.printed().iter().filter(|x| matches!(x, Printed::Image(_))).count();

    // GB2312 font: the GBK-only names and the four-byte character become images.
    let sim = print(&slip, &GB2312_58);
    assert!(!native(&sim, "陈喆 黄堃 朱镕") && !native(&sim, "𠮷野家𠀀") && native(&sim, "普通的字"));
    assert_eq!(images(&sim), 2);
    let notes = encode::encode(&slip, &GB2312_58).unwrap().notes;
    assert_eq!(notes[0], Note::RasterLine { missing: vec!['喆', '堃', '镕'] });

    // GBK font: the names print as text; the four-byte character does not.
    let sim = print(&slip, &GBK_80);
    assert!(native(&sim, "陈喆 黄堃 朱镕") && !native(&sim, "𠮷野家𠀀"));
    assert_eq!(images(&sim), 1);

    // GB18030 font: all of it as text, the four-byte sequence included.
    let sim = print(&slip, &GB18030_80);
    assert!(native(&sim, "陈喆 黄堃 朱镕") && native(&sim, "𠮷野家𠀀"));
    assert_eq!(images(&sim), 0);
    let bytes = encode::encode(&slip, &GB18030_80).unwrap().bytes;
    assert!(bytes.windows(4).any(|w| w == [0x95, 0x32, 0x82, 0x36]), "U+20000 as its four GB18030 bytes");

    // What goes out as an image still shows the line: ink where the characters are.
    let sim = print(&Slip::new().text("朱镕"), &GB2312_58);
    let Some(Printed::Image(line)) = sim.printed().first() else { panic!("{:?}", sim.printed()) };
    let ink = (0..48).flat_map(|x| (0..24).map(move |y| (x, y))).filter(|&(x, y)| line.get(x, y)).count();
    assert!(ink > 80, "the characters are drawn ({ink} dots)");
}

#[test]
fn bytes_follow_the_reference_receipt() {
    let slip = Slip::new().title("办事回执").barcode("20240612000123").cut();
    let bytes = encode::encode(&slip, &GBK_80).unwrap().bytes;
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(bytes.starts_with(&[0x1B, 0x40, 0x1C, 0x26]), "ESC @ then FS &");
    assert!(has(&[0x1D, 0x21, 0x11, 0xB0, 0xEC, 0xCA, 0xC2, 0xBB, 0xD8, 0xD6, 0xB4, 0x0A]));
    assert!(has(&[0x1D, 0x6B, 0x49, 0x09, 0x7B, 0x43, 0x14, 0x18, 0x06, 0x0C, 0x00, 0x01, 0x17]));
    assert!(bytes.ends_with(&[0x1D, 0x56, 0x42, 0x00]), "GS V 66 0");
    let partial = encode::encode(&Slip::new().cut(), &GB2312_58).unwrap().bytes;
    assert!(partial.ends_with(&[0x1D, 0x56, 0x01]));
}

#[test]
fn qr_size_stays_within_profile_and_paper() {
    let slip = Slip::new().qr(URL);
    let qr = |p: &Profile| match print(&slip, p).printed().first() {
        Some(Printed::Qr { module, level, .. }) => (*module, *level),
        other => panic!("{other:?}"),
    };
    let (module, level) = qr(&GBK_80);
    assert!((4..=GBK_80.qr_module_max).contains(&module), "module {module}");
    assert_eq!(level, 0x31, "error correction M");
    let long = "x".repeat(3000);
    assert!(encode::encode(&Slip::new().qr(&long), &GBK_80).is_err(), "too long for a slip");
    assert!(encode::encode(&Slip::new().barcode("订单"), &GBK_80).is_err());
}
