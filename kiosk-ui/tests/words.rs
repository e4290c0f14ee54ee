//! The words the screens make of what Rust hands them (time limits, the maintenance rows, the
//! self-tests), in each language: English mode says them in English, Chinese mode in Chinese.

mod common;

use kiosk_ui::ui::{
    AppWindow, CardKind, DayUnit, DeviceKey, DeviceRow, RowHealth, SelfTestCode, SelfTestResult, Texts,
    TimeLimit,
};
use slint::{ComponentHandle, ModelRc, VecModel};

fn has_han(s: &str) -> bool {
    s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

#[test]
fn the_screens_word_the_data_rust_hands_them() {
    common::testing_platform();
    let ui = AppWindow::new().unwrap();
    let texts = ui.global::<Texts>();
    let same_day = TimeLimit { known: true, days: 0, unit: DayUnit::Working, unit_text: "工作日".into() };
    let five = TimeLimit { days: 5, ..same_day.clone() };
    let outbox = DeviceRow {
        key: DeviceKey::Outbox,
        health: RowHealth::Ok,
        detail: "".into(),
        figures: ModelRc::new(VecModel::from(vec![3, 10, 0, 1, 42])),
        note: "".into(),
    };
    let reader = DeviceRow { key: DeviceKey::Reader, figures: ModelRc::default(), ..outbox.clone() };
    let test = SelfTestResult {
        code: SelfTestCode::CardRead,
        card: CardKind::Resident,
        detail: "张*".into(),
        ..SelfTestResult::default()
    };

    slint::select_bundled_translation("en").unwrap();
    assert_eq!(texts.invoke_time_limit(same_day.clone()), "Same day");
    assert_eq!(texts.invoke_time_limit(five.clone()), "5 working days");
    assert_eq!(texts.invoke_time_limit(TimeLimit { days: 1, ..five.clone() }), "1 working day");
    assert_eq!(texts.invoke_time_limit(TimeLimit::default()), "—");
    assert_eq!(
        texts.invoke_device_detail(outbox.clone()),
        "Pending 3 · acknowledged 10 · refused 0 · quarantined 1 · oldest 42 s"
    );
    assert_eq!(texts.invoke_device_detail(reader.clone()), "No answer yet (not configured or not connected)");
    assert_eq!(texts.invoke_self_test(test.clone()), "Card read: Resident ID card 张*");
    for english in [texts.invoke_time_limit(five.clone()), texts.invoke_device_detail(outbox.clone())] {
        assert!(!has_han(&english), "{english}");
    }

    slint::select_bundled_translation("zh_CN").unwrap();
    assert_eq!(texts.invoke_time_limit(same_day), "即办");
    assert_eq!(texts.invoke_time_limit(five), "5 个工作日");
    assert_eq!(
        texts.invoke_device_detail(outbox),
        "待上传 3 · 已确认 10 · 需人工处理 0 · 已隔离 1 · 最早 42 秒"
    );
    assert_eq!(texts.invoke_device_detail(reader), "尚未应答（未配置或未连接）");
    assert_eq!(texts.invoke_self_test(test), "读卡正常：居民身份证 张*");
}
