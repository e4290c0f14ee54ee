//! What residents found when they tried the screens, checked on Slint's testing backend with the
//! real renderer's layout: the top bar's labels stay whole in English elder mode, the field being
//! typed into stays above the keyboard, "finish" asks before wiping typed input, the done page
//! says what happened, and a business that ends with a slip warns when no printer can print it.

mod common;

use std::time::Instant;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery};
use kiosk_app::{Config, Device, Health, Lang, Session};
use kiosk_catalogue::model::FieldKind;
use kiosk_config::DeviceConfig;
use kiosk_escpos::PrintProblem;
use kiosk_outbox::{Options, Outbox};
use kiosk_ui::devices::Devices;
use kiosk_ui::ui::ScreenId;
use kiosk_ui::{App, Kiosk};
use slint::ComponentHandle;

fn elements(kiosk: &Kiosk, label: &str) -> Vec<ElementHandle> {
    let label = label.to_owned();
    ElementQuery::from_root(&kiosk.ui)
        .match_descendants()
        .match_predicate(move |e| e.accessible_label().is_some_and(|l| l == label.as_str()))
        .find_all()
}

fn element(kiosk: &Kiosk, label: &str) -> ElementHandle {
    elements(kiosk, label)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("nothing labelled {label:?} on screen"))
}

fn shows(kiosk: &Kiosk, label: &str) -> bool {
    !elements(kiosk, label).is_empty()
}

/// Changes the session and lets the screens catch up as the kiosk's event loop would: Slint runs
/// `changed` handlers before it draws, so a frame is drawn.
fn change(kiosk: &Kiosk, f: impl FnOnce(&mut App, Instant)) {
    f(&mut kiosk.app.borrow_mut(), Instant::now());
    kiosk.render();
    kiosk.ui.window().take_snapshot().unwrap();
}

#[test]
fn screens_hold_up_as_residents_use_them() {
    common::testing_platform();
    let font_dir = kiosk_ui::font::find(None).expect("scripts/setup fetches the CJK font");
    kiosk_ui::font::register(&font_dir).unwrap();
    let dir = std::env::temp_dir().join(format!("kiosk-ui-screens-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let outbox =
        Outbox::open_with_key_file(&dir.join("kiosk.db"), &dir.join("payload.key"), Options::default())
            .unwrap();
    let library = kiosk_ui::screenshots::sample_library();
    let session = Session::new(Config::new("NH-GC-0007"), library, Instant::now());
    let devices = Devices::start(&DeviceConfig::default(), kiosk_ui::controller::wake).unwrap();
    let kiosk = Kiosk::new(App::new(session, outbox, devices, None), None).unwrap();
    kiosk.stop();
    kiosk.ui.show().unwrap();
    kiosk.ui.window().set_size(slint::PhysicalSize::new(1080, 1920));
    let card = kiosk_idcard::sim::sample_cards().remove(0).1;

    // English elder mode: every label of the top bar on one line, none broken inside a word.
    change(&kiosk, |a, now| {
        a.session.start(now);
        a.session.set_language(Lang::En, now);
        a.session.set_elder(true, now);
        a.session.card_read(&card, now);
        a.session.open_item(0, now);
    });
    assert_eq!(kiosk.ui.global::<kiosk_ui::ui::Navigation>().get_screen(), ScreenId::Detail);
    let line = element(&kiosk, "Back").size().height;
    for label in ["Back", "Home", "中文", "Standard mode", "Finish"] {
        let texts: Vec<_> = elements(&kiosk, label)
            .into_iter()
            .filter(|e| e.accessible_role() == Some(AccessibleRole::Text))
            .collect();
        assert!(!texts.is_empty(), "no text {label:?} in the top bar");
        for t in texts {
            // Elder body text is 34 px: one line is under 60 px, two are over 80.
            assert!(t.size().height < 60.0, "{label:?} wraps: {:?} (a line: {line})", t.size());
        }
    }

    // The item with the most fields: focus the last free-text field and type; it stays visible
    // above the keyboard.
    // The same catalogue the session holds.
    let library = kiosk_ui::screenshots::sample_library();
    let item = (0..library.len())
        .max_by_key(|&i| library.item(i).ok().and_then(|it| it.form).map_or(0, |f| f.fields.len()))
        .unwrap();
    change(&kiosk, |a, now| {
        a.session.open_item(item, now);
        a.session.begin_form(now);
    });
    let fields = kiosk.app.borrow().session.form().unwrap().fields().to_vec();
    let last = fields.iter().rposition(|f| f.kind != FieldKind::Choice && f.prefill.is_none()).unwrap();
    change(&kiosk, |a, now| {
        // "Next" with nothing filled in: every required field shows its error, the form grows.
        a.session.review(now);
        a.session.focus_field(last, now);
        a.session.form_key("1", now);
    });
    let field = elements(&kiosk, &fields[last].label_en)
        .into_iter()
        .find(|e| e.accessible_role() == Some(AccessibleRole::TextInput))
        .expect("the field's input box");
    let keyboard_top = element(&kiosk, "Keyboard").absolute_position().y;
    let bottom = field.absolute_position().y + field.size().height;
    assert!(
        field.absolute_position().y >= 0.0 && bottom <= keyboard_top,
        "the field being typed into ({bottom} px) is under the keyboard ({keyboard_top} px)"
    );

    // "Finish" with typed input asks; "keep filling in" keeps it.
    change(&kiosk, |a, now| a.session.finish(now));
    assert!(shows(&kiosk, "Keep filling in"), "finish asks first");
    element(&kiosk, "Keep filling in").invoke_accessible_default_action();
    kiosk.render();
    assert!(!shows(&kiosk, "Keep filling in"));
    assert!(kiosk.app.borrow().session.form().is_some_and(|f| f.has_input()), "nothing was wiped");

    // No printer: the details say so before the resident starts.
    change(&kiosk, |a, now| {
        a.session.back(now);
        a.session.back(now);
        a.session.set_language(Lang::Zh, now);
        a.session.device_changed(Device::Printer, Health::Down, "usb:0fe6:811e: 缺纸".into());
        a.session.open_item(item, now);
    });
    let warning =
        "凭条打印机暂时无法使用。您仍可申请：办理完成后屏幕将显示编号和二维码，请拍照留存，不会打印凭条。";
    assert!(shows(&kiosk, warning), "no printer warning on the details");
    change(&kiosk, |a, _| a.session.device_changed(Device::Printer, Health::Ok, String::new()));
    assert!(!shows(&kiosk, warning));

    // The done page says what happened: never 受理, which is the department's act.
    let done_title = |kiosk: &Kiosk| {
        ["申请已送达", "申请已提交", "申请已保存在本机", "申请已受理"]
            .into_iter()
            .find(|t| shows(kiosk, t))
            .map(str::to_owned)
    };
    change(&kiosk, |a, now| {
        a.session.finish(now);
        a.session.finish_confirmed(now);
        a.session.card_read(&card, now);
    });
    let walk_to_done = |kiosk: &Kiosk, case: Option<&str>| {
        change(kiosk, |a, now| {
            let index = (0..library.len())
                .find(|&i| {
                    library.item(i).is_ok_and(|it| {
                        it.form.is_some_and(|f| {
                            f.fields.iter().all(|x| x.prefill.is_some() || x.kind == FieldKind::Choice)
                        })
                    })
                })
                .expect("an item whose form the card and a choice fill");
            a.session.open_item(index, now);
            a.session.begin_form(now);
            let fields = a.session.form().unwrap().fields().to_vec();
            for (i, f) in fields.iter().enumerate().filter(|(_, f)| f.kind == FieldKind::Choice) {
                a.session.choose(i, &f.choices[0], now);
            }
            a.session.review(now);
            a.submit(now).unwrap();
            let _slip = a.session.receipt_ready(case.map(str::to_owned));
            a.session.printed(Err(PrintProblem::Paper), now);
        });
    };
    walk_to_done(&kiosk, Some("NH20261130000001"));
    assert_eq!(done_title(&kiosk).as_deref(), Some("申请已送达"));
    change(&kiosk, |a, now| {
        a.session.finish(now);
        a.session.wipe(now);
        a.session.card_read(&card, now);
        let queue =
            kiosk_app::view::Queue { pending: 1, oldest_pending_ms: Some(120_000), ..Default::default() };
        a.session.queue_read(queue);
    });
    walk_to_done(&kiosk, None);
    assert_eq!(done_title(&kiosk).as_deref(), Some("申请已保存在本机"), "offline: saved here, sent later");

    let _ = std::fs::remove_dir_all(&dir);
}
