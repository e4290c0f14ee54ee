//! `kiosk-ui --screenshots DIR` renders every screen in both languages and in elder mode,
//! without a display, and the pictures differ where they must: the languages, the modes.

use std::collections::HashMap;
use std::process::Command;

#[test]
fn every_screen_is_rendered_in_both_languages_and_elder_mode() {
    let dir = std::env::temp_dir().join(format!("kiosk-ui-shots-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_kiosk-ui"))
        .arg("--screenshots")
        .arg(&dir)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut shots: HashMap<String, image::RgbImage> = HashMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "png") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            shots.insert(name, image::open(&path).unwrap().to_rgb8());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let screens = [
        "01-attract",
        "02-welcome",
        "03-identify",
        "04-identify-lift-card",
        "05-identify-no-reader",
        "06-home",
        "07-topic",
        "08-search",
        "09-detail",
        "10-form",
        "11-form-errors",
        "12-form-pinyin",
        "13-confirm",
        "14-submitting",
        "15-done",
        "16-done-no-paper-offline",
        "17-thank-you",
        "18-idle-warning",
        "19-pin",
        "20-maintenance",
        "30-records",
        "31-records-offline",
        "32-progress",
        "33-progress-case",
        "34-progress-slip",
        "35-progress-slip-not-found",
        "36-evaluation",
    ];
    for variant in ["zh", "en", "zh-elder", "en-elder"] {
        for screen in screens {
            let name = format!("{variant}-{screen}");
            let img = shots.get(&name).unwrap_or_else(|| panic!("{name}.png missing"));
            assert_eq!(img.dimensions(), (1080, 1920), "{name}");
            let colours: std::collections::HashSet<_> = img.pixels().step_by(97).map(|p| p.0).collect();
            assert!(colours.len() > 8, "{name} looks blank");
        }
    }
    // The tracking QR code on the done screen reads back as the tracking address.
    let done = image::DynamicImage::ImageRgb8(shots["zh-15-done"].clone()).to_luma8();
    let (w, h) = done.dimensions();
    let found = rxing::helpers::detect_in_luma(done.into_raw(), w, h, Some(rxing::BarcodeFormat::QR_CODE))
        .expect("the QR code on the done screen reads");
    assert_eq!(found.getText(), format!("{}NH20261127000123", kiosk_app::receipt::TRACKING_BASE));
    // The attract screen is bilingual by design; every other screen changes with the language.
    for screen in &screens[1..] {
        assert_ne!(
            shots[&format!("zh-{screen}")],
            shots[&format!("en-{screen}")],
            "{screen}: zh and en look the same"
        );
        assert_ne!(
            shots[&format!("zh-{screen}")],
            shots[&format!("zh-elder-{screen}")],
            "{screen}: elder mode looks the same"
        );
    }
    // Screens differ from each other (the walk really moved).
    for pair in screens.windows(2) {
        assert_ne!(shots[&format!("zh-{}", pair[0])], shots[&format!("zh-{}", pair[1])], "{pair:?}");
    }
}
