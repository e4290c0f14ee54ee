//! A resident's whole journey on the real screens, through Slint's testing backend with the
//! software renderer: elements are found by what they say and pressed through their
//! accessibility action, as a screen reader would. Behind the screens everything is real: the
//! demo rig's card reader, printer and scanner simulators on pseudo-terminals, the kiosk's
//! drivers, the outbox file, the sync agent and the reference gateway over mutual TLS.
//!
//! One test function: the testing backend is set once per process.

use std::rc::Rc;
use std::time::{Duration, Instant};

mod common;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery};
use kiosk_app::{Config, Library, Screen, Session};
use kiosk_outbox::{Options, Outbox, State};
use kiosk_ui::demo::DemoRig;
use kiosk_ui::devices::Devices;
use kiosk_ui::logbuf::LogBuffer;
use kiosk_ui::ui::{
    Application, DeviceKey, FieldError, FigureKey, Live, LookupState, Maintenance, Navigation, Notice,
    PrintProblem, PrintState, Progress, RowHealth, ScreenId, Search, SelfTestCode, StepKind,
};
use kiosk_ui::{App, Kiosk};
use slint::{ComponentHandle, Model};
use tracing_subscriber::prelude::*;

fn until(kiosk: &Kiosk, what: &str, done: impl Fn(&Kiosk) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        kiosk.pump();
        if done(kiosk) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn screen(kiosk: &Kiosk) -> ScreenId {
    kiosk.ui.global::<Navigation>().get_screen()
}

/// The button or input field labelled `label`: what a finger can press, not a text that
/// happens to say the same.
fn pressable(kiosk: &Kiosk, label: &str) -> Option<ElementHandle> {
    let label = label.to_owned();
    ElementQuery::from_root(&kiosk.ui)
        .match_descendants()
        .match_predicate(move |e| {
            matches!(e.accessible_role(), Some(AccessibleRole::Button | AccessibleRole::TextInput))
                && e.accessible_label().is_some_and(|l| l == label.as_str())
        })
        .find_first()
}

/// Presses the element labelled `label` (waiting for it to appear).
fn press(kiosk: &Kiosk, label: &str) {
    until(kiosk, label, |k| pressable(k, label).is_some());
    pressable(kiosk, label).unwrap().invoke_accessible_default_action();
    kiosk.pump();
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_resident_applies_on_screen_and_is_wiped() {
    common::testing_platform();
    // Everything the kiosk's own crates log, at TRACE, for the personal-data check at the end.
    let log = LogBuffer::keeping(1_000_000);
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new(
            "kiosk_ui=trace,kiosk_app=trace,kiosk_idcard=trace,kiosk_escpos=trace,kiosk_scanner=trace,\
             kiosk_outbox=trace,kiosk_sync=trace,kiosk_gateway=trace,kiosk_update=trace",
        ))
        .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(log.clone()))
        .init();
    let font_dir = kiosk_ui::font::find(None).expect("scripts/setup fetches the CJK font");
    kiosk_ui::font::register(&font_dir).unwrap();
    assert!(
        kiosk_ui::font::covers(&font_dir, "𠮷䶮喆堃镕市民之窗").unwrap(),
        "the font covers GB18030 name characters"
    );

    let dir = std::env::temp_dir().join(format!("kiosk-ui-journey-{}", std::process::id()));
    let rig = Rc::new(DemoRig::start(&dir).unwrap());
    let devices = Devices::start(&rig.device_config(), kiosk_ui::controller::wake).unwrap();
    let outbox =
        Outbox::open_with_key_file(&rig.outbox_path(), &rig.payload_key_path(), Options::default()).unwrap();
    let bytes = std::fs::read(rig.catalogue_path()).unwrap();
    let library = Library::new(kiosk_catalogue::Bundle::open(&bytes).unwrap());
    let mut config = Config::new(kiosk_ui::demo::KIOSK_ID);
    config.receipt_wait = Duration::from_secs(20);
    config.pin_hash = Some(kiosk_ui::pin::hash_new(kiosk_ui::demo::DEMO_PIN).unwrap());
    let session = Session::new(config, std::sync::Arc::new(library), Instant::now());
    let app = App::new(session, outbox, devices, Some(rig.catalogue_path()))
        .with_log(log.clone())
        .with_live(Some(rig.live_socket()));
    let hook = rig.clone();
    let kiosk = Kiosk::new(app, Some(Box::new(move |action| hook.act(action).unwrap()))).unwrap();
    kiosk.ui.show().unwrap();
    kiosk.ui.window().set_size(slint::PhysicalSize::new(1080, 1920));

    // Attract → welcome → identify, in Chinese.
    assert_eq!(screen(&kiosk), ScreenId::Attract);
    press(&kiosk, "轻触开始办理 · Touch to start");
    assert_eq!(screen(&kiosk), ScreenId::Welcome);
    press(&kiosk, "同意并继续");
    assert_eq!(screen(&kiosk), ScreenId::Identify);

    // A card placed badly is asked to be placed again; then it is read by the real driver.
    press(&kiosk, "证件放置不当");
    until(&kiosk, "the re-place prompt", |k| k.ui.global::<Navigation>().get_notice() == Notice::LiftCard);
    press(&kiosk, "放置居民身份证");
    until(&kiosk, "the card to be read", |k| screen(k) == ScreenId::Home);
    let card = kiosk_idcard::sim::sample_cards().into_iter().find(|(n, _)| *n == "resident").unwrap().1;

    // My records, asked live: UI → the agent's local API → the gateway over mutual TLS.
    press(&kiosk, "搜索事项");
    for key in ["g", "j", "j"] {
        press(&kiosk, key);
    }
    press(&kiosk, "住房公积金余额及明细查询");
    press(&kiosk, "查看本人记录");
    assert_eq!(screen(&kiosk), ScreenId::Records);
    until(&kiosk, "the provident fund record", |k| k.ui.global::<Live>().get_state() != LookupState::Waiting);
    let live = kiosk.ui.global::<Live>();
    assert_eq!(live.get_state(), LookupState::Shown);
    assert_eq!(live.get_holder(), kiosk_pii::mask_name(&card.name));
    assert!(live.get_rows().row_count() > 0 && live.get_pages() >= 1);
    assert!(live.get_summary().iter().any(|f| f.key == FigureKey::Balance));
    let printed_before = rig.printer.sim().printed().len();
    press(&kiosk, "打印本页（姓名和号码已隐藏）");
    until(&kiosk, "the records slip", |k| k.ui.global::<Live>().get_print_state() == PrintState::Printed);
    assert!(rig.printer.sim().printed().len() > printed_before);
    let lines = rig.printer.sim().lines().join("\n");
    assert!(
        lines.contains("住房公积金余额及明细") && lines.contains(&kiosk_pii::mask_name(&card.name)),
        "{lines}"
    );
    assert!(!lines.contains(&card.id_number), "the slip shows the number masked");
    press(&kiosk, "下一页");
    until(&kiosk, "page 2", |k| {
        k.ui.global::<Live>().get_page() == 1 && k.ui.global::<Live>().get_state() == LookupState::Shown
    });
    // The demo panel unplugs the network: the agent says so, the screen words it; plugged back
    // in, "try again" gets the page.
    rig.act("network:down").unwrap();
    press(&kiosk, "下一页");
    until(&kiosk, "the offline answer", |k| k.ui.global::<Live>().get_state() != LookupState::Waiting);
    assert_eq!(kiosk.ui.global::<Live>().get_state(), LookupState::NetworkUnavailable);
    rig.act("network:up").unwrap();
    press(&kiosk, "重试");
    until(&kiosk, "page 3", |k| {
        k.ui.global::<Live>().get_page() == 2 && k.ui.global::<Live>().get_state() == LookupState::Shown
    });
    press(&kiosk, "首页");
    assert_eq!(screen(&kiosk), ScreenId::Home);
    assert_eq!(
        kiosk.ui.global::<Live>().get_rows().row_count(),
        0,
        "the record left the screens with the page"
    );
    assert!(kiosk.app.borrow().session.lookup().is_none());

    // Search by initials on the on-screen keyboard.
    press(&kiosk, "搜索事项");
    for key in ["s", "b", "c", "x"] {
        press(&kiosk, key);
    }
    assert_eq!(kiosk.ui.global::<Search>().get_query(), "sbcx");
    press(&kiosk, "个人参保证明打印");
    assert_eq!(screen(&kiosk), ScreenId::Detail);
    press(&kiosk, "开始申请");
    assert_eq!(screen(&kiosk), ScreenId::Form);
    let fields = kiosk.ui.global::<Application>().get_fields();
    let name = fields.iter().find(|f| f.label_zh == "姓名").unwrap();
    assert!(name.prefilled && name.value == kiosk_pii::mask_name(&card.name), "pre-filled and masked");
    // Nothing chosen yet: the form says what is missing, in plain words.
    press(&kiosk, "下一步：核对并提交");
    assert_eq!(screen(&kiosk), ScreenId::Form);
    assert!(kiosk.ui.global::<Application>().get_fields().iter().any(|f| f.error == FieldError::Required));
    press(&kiosk, "2025");
    press(&kiosk, "下一步：核对并提交");
    assert_eq!(screen(&kiosk), ScreenId::Confirm);
    let shown: String =
        kiosk.ui.global::<Application>().get_confirm_rows().iter().map(|r| r.value.to_string()).collect();
    assert!(shown.contains(&kiosk_pii::mask_id_number(&card.id_number)), "{shown}");
    assert!(!shown.contains(&card.id_number) && !shown.contains(&card.name));

    press(&kiosk, "确认提交");
    until(&kiosk, "the slip", |k| screen(k) == ScreenId::Done);
    let api = kiosk.ui.global::<Application>();
    assert!(api.get_filed(), "the agent uploaded it and the case number came back before printing");
    assert_eq!(api.get_print_state(), PrintState::Printed);
    let case = api.get_reference().to_string();
    assert!(api.get_tracking_qr().size().width > 0 && api.get_slip_preview().size().height > 0);

    // The outbox row: acknowledged with the same case number, the personal data deleted.
    let inspect = Outbox::open_for_inspection(&rig.outbox_path(), Options::default()).unwrap();
    let rows = inspect.list(Some(State::Acked), 10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].case_number.as_deref(), Some(case.as_str()));
    assert_eq!(rows[0].item_code, "ZZ440605SB0000001Z4ZZ0000000101");
    assert_eq!(rig.gateway.gateway.store().counts().unwrap().accepted, 1);

    // The slip as the printer received it: masked, with the case number and the password.
    let lines = rig.printer.sim().lines().join("\n");
    assert!(lines.contains(&case) && lines.contains("申请回执"), "{lines}");
    assert!(
        lines.contains(&kiosk_pii::mask_name(&card.name))
            && lines.contains(&kiosk_pii::mask_id_number(&card.id_number))
    );
    assert!(!lines.contains(&card.name) && !lines.contains(&card.id_number), "{lines}");
    let printed = rig.printer.sim().printed().to_vec();
    assert!(printed.iter().any(|p| matches!(p, kiosk_escpos::sim::Printed::Qr { .. })), "{printed:?}");
    assert!(printed.iter().any(|p| matches!(p, kiosk_escpos::sim::Printed::Cut { .. })), "{printed:?}");

    // Finish: the rating (好差评, queued and delivered by the agent), the thank-you screen, then
    // back to the start with everything wiped.
    press(&kiosk, "完成");
    assert_eq!(screen(&kiosk), ScreenId::Evaluate);
    assert!(kiosk.app.borrow().session.identity().is_none(), "nothing that names the resident is left");
    press(&kiosk, "非常满意");
    press(&kiosk, "提交评价");
    assert_eq!(screen(&kiosk), ScreenId::ThankYou);
    press(&kiosk, "返回首页");
    assert_eq!(screen(&kiosk), ScreenId::Attract);
    {
        let app = kiosk.app.borrow();
        assert_eq!(app.session.screen(), Screen::Attract);
        assert!(
            app.session.identity().is_none()
                && app.session.form().is_none()
                && app.session.submission().is_none()
        );
    }
    let api = kiosk.ui.global::<Application>();
    assert_eq!(api.get_fields().row_count(), 0, "no form values left in the screens' models");
    assert_eq!(api.get_confirm_rows().row_count(), 0);
    assert!(api.get_reference().is_empty());
    let raw = std::fs::read(rig.outbox_path()).unwrap();
    assert!(!contains(&raw, &card.name) && !contains(&raw, &card.id_number));

    // The same resident comes back with the slip: its QR code under the scanner opens the
    // progress lookup without a card; the query password is typed from the slip.
    let password: String = lines
        .lines()
        .find(|l| l.contains("查询密码"))
        .map(|l| l.chars().filter(char::is_ascii_digit).collect())
        .unwrap();
    assert_eq!(password.len(), 6, "{lines}");
    rig.act("scan:slip").unwrap();
    until(&kiosk, "the progress screen", |k| screen(k) == ScreenId::Progress);
    let progress = kiosk.ui.global::<Progress>();
    assert!(progress.get_entering() && progress.get_scanned());
    assert_eq!(progress.get_reference(), case.as_str(), "the slip's QR code carries its case number");
    let wrong = if password == "000000" { "111111" } else { "000000" };
    for d in wrong.chars() {
        press(&kiosk, &d.to_string());
    }
    press(&kiosk, "查询");
    until(&kiosk, "the wrong password's answer", |k| {
        let p = k.ui.global::<Progress>();
        !p.get_entering() && p.get_state() != LookupState::Waiting
    });
    assert_eq!(
        kiosk.ui.global::<Progress>().get_state(),
        LookupState::NotFound,
        "a wrong password finds nothing"
    );
    press(&kiosk, "返回");
    assert!(kiosk.ui.global::<Progress>().get_entering(), "back to the slip's numbers");
    for _ in 0..6 {
        press(&kiosk, "删除");
    }
    for d in password.chars() {
        press(&kiosk, &d.to_string());
    }
    press(&kiosk, "查询");
    until(&kiosk, "the case", |k| k.ui.global::<Progress>().get_state() == LookupState::Shown);
    let cases: Vec<_> = kiosk.ui.global::<Progress>().get_cases().iter().collect();
    assert_eq!(cases.len(), 1, "by slip: that case only");
    assert_eq!(cases[0].case_number, case.as_str());
    press(&kiosk, "个人参保证明打印");
    let detail = kiosk.ui.global::<Progress>().get_case();
    assert!(kiosk.ui.global::<Progress>().get_case_open());
    let steps: Vec<_> = detail.steps.iter().collect();
    assert_eq!(steps[0].kind, StepKind::Submitted);
    assert_eq!(steps.iter().filter(|s| s.current).count(), 1, "one current step: {steps:?}");
    assert!(steps.last().is_some_and(|s| s.kind == StepKind::Concluded && s.at.is_empty()));
    press(&kiosk, "返回");
    assert!(!kiosk.ui.global::<Progress>().get_case_open());
    press(&kiosk, "结束办理");
    assert_eq!(screen(&kiosk), ScreenId::Attract);
    assert_eq!(kiosk.ui.global::<Progress>().get_cases().row_count(), 0, "the case left the screens");

    // By card, offline: an application of this resident's waits in the outbox (filed as the UI
    // files one), and the progress screen says so while the network cannot be reached; back
    // online, the service network's cases include the one filed above.
    rig.act("network:down").unwrap();
    {
        let mut waiting = kiosk_sync_proto::Submission::default();
        waiting.item_code = "ZZ440605MZ0000001Z4ZZ0000001601".into();
        waiting.item_name = "高龄老人津贴申领".into();
        waiting.submitted_at = "2026-12-01 10:00:00".into();
        waiting
            .form
            .0
            .push(kiosk_sync_proto::FormValue { key: "id_number".into(), value: card.id_number.clone() });
        let payload = serde_json::to_vec(&waiting).unwrap();
        let sub =
            kiosk_outbox::NewSubmission { item_code: &waiting.item_code, stream_key: "", payload: &payload };
        kiosk.app.borrow_mut().outbox.enqueue(&sub, kiosk_outbox::now_ms()).unwrap();
    }
    press(&kiosk, "轻触开始办理 · Touch to start");
    press(&kiosk, "同意并继续");
    press(&kiosk, "放置居民身份证");
    until(&kiosk, "the card to be read", |k| screen(k) == ScreenId::Home);
    press(&kiosk, "我的办件");
    assert_eq!(screen(&kiosk), ScreenId::Progress);
    until(&kiosk, "the offline answer", |k| k.ui.global::<Progress>().get_state() != LookupState::Waiting);
    let progress = kiosk.ui.global::<Progress>();
    assert_eq!(progress.get_state(), LookupState::NetworkUnavailable);
    assert_eq!(progress.get_holder(), kiosk_pii::mask_name(&card.name));
    let waiting: Vec<_> = progress.get_waiting().iter().collect();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0].item_name, "高龄老人津贴申领");
    rig.act("network:up").unwrap();
    press(&kiosk, "重试");
    until(&kiosk, "the cases", |k| k.ui.global::<Progress>().get_state() == LookupState::Shown);
    let cases: Vec<_> = kiosk.ui.global::<Progress>().get_cases().iter().collect();
    assert!(cases.iter().any(|c| c.case_number == case.as_str()), "{cases:?}");
    assert!(cases.len() >= 4, "the filed case and the person's earlier ones: {cases:?}");
    let shown_waiting = kiosk.ui.global::<Progress>().get_waiting().row_count();
    // Uploaded meanwhile or not, it is shown once: as waiting here, or as filed.
    let filed_too = cases.iter().filter(|c| c.item_name == "高龄老人津贴申领").count();
    assert_eq!(shown_waiting + filed_too, 1, "waiting {shown_waiting}, cases {cases:?}");
    press(&kiosk, "首页");
    assert!(kiosk.app.borrow().session.progress().is_none(), "the answer went with the screen");
    press(&kiosk, "结束办理");
    assert_eq!(screen(&kiosk), ScreenId::Attract);

    // A second resident: the printer runs out of paper, the slip's number and QR stay on screen.
    press(&kiosk, "轻触开始办理 · Touch to start");
    press(&kiosk, "同意并继续");
    press(&kiosk, "扫描登录码");
    until(&kiosk, "the login code", |k| screen(k) == ScreenId::Home);
    press(&kiosk, "搜索事项");
    for key in ["s", "b", "c", "x"] {
        press(&kiosk, key);
    }
    press(&kiosk, "个人参保证明打印");
    press(&kiosk, "开始申请");
    assert!(
        kiosk.ui.global::<Application>().get_fields().iter().all(|f| !f.prefilled),
        "no pre-fill from a login code"
    );
    press(&kiosk, "姓名");
    for key in ["z", "h", "a", "n", "g"] {
        press(&kiosk, key);
    }
    assert_eq!(kiosk.ui.global::<Application>().get_composing(), "zhang");
    press(&kiosk, "张");
    press(&kiosk, "s");
    press(&kiosk, "a");
    press(&kiosk, "n");
    // 三 is among the candidates for "san".
    press(&kiosk, "三");
    press(&kiosk, "证件号码");
    for key in "11010519491231002X".chars() {
        press(&kiosk, &key.to_string());
    }
    press(&kiosk, "年度");
    press(&kiosk, "2026");
    press(&kiosk, "下一步：核对并提交");
    assert_eq!(
        screen(&kiosk),
        ScreenId::Confirm,
        "{:?}",
        kiosk.ui.global::<Application>().get_fields().iter().map(|f| (f.value, f.error)).collect::<Vec<_>>()
    );
    let shown: String =
        kiosk.ui.global::<Application>().get_confirm_rows().iter().map(|r| r.value.to_string()).collect();
    assert!(shown.contains("张*") && shown.contains("1101**********002X"), "{shown}");
    press(&kiosk, "打印机缺纸");
    press(&kiosk, "确认提交");
    until(&kiosk, "the done screen", |k| screen(k) == ScreenId::Done);
    let api = kiosk.ui.global::<Application>();
    assert_eq!(api.get_print_state(), PrintState::Failed);
    assert_eq!(api.get_print_problem(), PrintProblem::Paper);
    assert!(!api.get_reference().is_empty() && api.get_tracking_qr().size().width > 0);
    let devices = kiosk.app.borrow().outbox.part_states().unwrap();
    assert!(
        devices.iter().any(|(p, _)| *p == kiosk_outbox::Part::Idcard),
        "device health reaches the heartbeat: {devices:?}"
    );
    // Rated while the network is down: queued, and delivered once when it is back.
    rig.act("network:down").unwrap();
    press(&kiosk, "完成");
    press(&kiosk, "不满意");
    press(&kiosk, "☐ 办理时间太长");
    press(&kiosk, "提交评价");
    assert_eq!(screen(&kiosk), ScreenId::ThankYou);
    rig.act("network:up").unwrap();
    until(&kiosk, "both ratings at the gateway", |_| {
        rig.gateway.gateway.store().counts().unwrap().evaluations == 2
    });
    let ratings = rig.gateway.gateway.store().ratings().unwrap();
    assert_eq!(ratings.by_kiosk[kiosk_ui::demo::KIOSK_ID], [1, 0, 0, 1, 0], "each once, at its level");

    // The technician: a 3-second press in the top-right corner, the PIN, the maintenance screen.
    press(&kiosk, "返回首页");
    assert_eq!(screen(&kiosk), ScreenId::Attract);
    let corner = slint::LogicalPosition::new(1060.0, 20.0);
    kiosk.ui.window().dispatch_event(slint::platform::WindowEvent::PointerPressed {
        position: corner,
        button: slint::platform::PointerEventButton::Left,
    });
    i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(3100));
    kiosk.ui.window().dispatch_event(slint::platform::WindowEvent::PointerReleased {
        position: corner,
        button: slint::platform::PointerEventButton::Left,
    });
    kiosk.pump();
    assert_eq!(screen(&kiosk), ScreenId::Pin, "the long press opens the PIN pad");
    for d in kiosk_ui::demo::DEMO_PIN.chars() {
        press(&kiosk, &d.to_string());
    }
    assert_eq!(kiosk.ui.global::<Maintenance>().get_pin_length(), 4);
    press(&kiosk, "确定");
    until(&kiosk, "the PIN check", |k| screen(k) == ScreenId::Maintenance);
    let rows: Vec<_> = kiosk.ui.global::<Maintenance>().get_device_rows().iter().collect();
    let health = |key: DeviceKey| rows.iter().find(|r| r.key == key).map(|r| r.health);
    assert_eq!(health(DeviceKey::Reader), Some(RowHealth::Ok), "{rows:?}");
    assert_eq!(health(DeviceKey::Scanner), Some(RowHealth::Ok), "{rows:?}");
    let uploads = rows.iter().find(|r| r.key == DeviceKey::Uploads).unwrap();
    assert!(!uploads.note.is_empty(), "the last upload's time is shown: {uploads:?}");
    let logs: Vec<String> =
        kiosk.ui.global::<Maintenance>().get_log_lines().iter().map(|l| l.to_string()).collect();
    for line in &logs {
        assert!(
            !line.contains(&card.name) && !line.contains(&card.id_number),
            "personal data in the log view: {line}"
        );
    }
    rig.printer.sim().load_paper();
    let printed_before = rig.printer.sim().printed().len();
    press(&kiosk, "打印测试单");
    until(&kiosk, "the test slip", |k| {
        k.ui.global::<Maintenance>().get_self_test_result().code == SelfTestCode::SlipPrinted
    });
    assert!(rig.printer.sim().printed().len() > printed_before);
    press(&kiosk, "关闭");
    assert_eq!(screen(&kiosk), ScreenId::Attract);

    // Rare name characters are drawn: with the font they change the pixels, without it they
    // would render as nothing at all.
    kiosk.ui.global::<Navigation>().set_screen(ScreenId::Confirm);
    let api = kiosk.ui.global::<Application>();
    api.set_item_name("".into());
    let blank = kiosk.ui.window().take_snapshot().unwrap();
    api.set_item_name("𠮷䶮".into());
    let rare = kiosk.ui.window().take_snapshot().unwrap();
    assert_ne!(blank.as_bytes(), rare.as_bytes(), "𠮷 and 䶮 were not drawn");

    // An admin publishes a signed catalogue release; the agent verifies and installs it, and the
    // kiosk switches to it at once while nobody uses it...
    let version = |k: &Kiosk| k.app.borrow().session.library().version().to_owned();
    kiosk.app.borrow_mut().session.wipe(Instant::now());
    let v2 = rig.publish_update().unwrap();
    until(&kiosk, "the new release on the idle kiosk", |k| version(k) == v2);
    assert_eq!(kiosk.ui.global::<Navigation>().get_catalogue_version(), v2.as_str());
    // ...but not under a resident's finger: the next one waits for the session to end.
    press(&kiosk, "轻触开始办理 · Touch to start");
    let v3 = rig.publish_update().unwrap();
    until(&kiosk, "the release to arrive", |k| k.app.borrow().session.pending_version() == Some(v3.as_str()));
    assert_eq!(version(&kiosk), v2, "no switch mid-session");
    press(&kiosk, "取消");
    assert_eq!(screen(&kiosk), ScreenId::Attract);
    assert_eq!(version(&kiosk), v3, "switched when the session ended");
    drop(kiosk);
    let lines = log.all();
    assert!(lines.len() > 50, "the kiosk logged {} lines", lines.len());
    for line in &lines {
        assert!(
            !line.contains(&card.name)
                && !line.contains(&card.id_number)
                && !line.contains(card.address.as_deref().unwrap_or("\u{0}"))
                && !line.contains("11010519491231002X"),
            "personal data in the log: {line}"
        );
    }
}
