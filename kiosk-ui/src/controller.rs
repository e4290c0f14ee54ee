//! Wires the screens' callbacks to the app core and keeps the screens current. Each callback
//! is one call into the session followed by one render; a device event wakes the event loop
//! ([`wake`]), and a timer keeps the idle clock, the outbox and the catalogue watch current.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use kiosk_app::view::SelfTestKind;
use slint::{ComponentHandle, Timer, TimerMode};

use crate::app::App;
use crate::ui::{AppWindow, Application, Demo, Live, Maintenance, Navigation, Progress, Search};
use crate::view::{View, lang};

/// How often the idle clock, the outbox and (should a wake-up be lost) device events are looked at.
pub const PUMP_EVERY: Duration = Duration::from_millis(100);

thread_local! {
    /// The running kiosk's pump, on the UI thread, for [`wake`].
    static PUMP: RefCell<Option<Box<dyn Fn()>>> = RefCell::new(None);
}

/// Has the UI's event loop take device events now, from any thread. Without an event loop
/// (tests, screenshots) it does nothing, and the next pump takes them.
pub fn wake() {
    let _ = slint::invoke_from_event_loop(|| {
        PUMP.with(|pump| {
            if let Some(pump) = &*pump.borrow() {
                pump();
            }
        });
    });
}

/// What a demo rig does when the on-screen demo panel is used.
pub type DemoHook = Box<dyn Fn(&str)>;

/// systemd's watchdog (`WatchdogSec=` in kiosk-ui.service), petted from the UI's own timer: if
/// the UI thread hangs, the pets stop and systemd restarts the kiosk. Without a watchdog
/// configured nothing is sent.
struct Watchdog {
    every: Option<Duration>,
    next: Instant,
}

impl Watchdog {
    fn from_env() -> Self {
        // Not `sd_notify::watchdog_enabled`: it also wants WATCHDOG_PID to be this process, but
        // under cage the unit's main process is cage and kiosk-ui its child, which the unit
        // allows to pet (NotifyAccess=all). Found by the image's smoke test: unpetted, systemd
        // restarted the kiosk every 30 s.
        let every = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|&usec| usec > 0)
            .map(|usec| Duration::from_micros(usec / 2));
        Self { every, next: Instant::now() }
    }

    fn pet(&mut self) {
        if let Some(every) = self.every
            && Instant::now() >= self.next
        {
            let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
            self.next = Instant::now() + every;
        }
    }
}

/// Tells systemd the kiosk is up (`Type=notify`), once its window exists.
pub fn notify_ready() {
    // Outside systemd there is no socket and nothing to tell.
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    match sd_notify::notify(false, &[sd_notify::NotifyState::Ready]) {
        Ok(()) => tracing::info!("told systemd the kiosk is up"),
        Err(e) => {
            tracing::error!(error = %e, "could not tell systemd the kiosk is up; it will restart the kiosk")
        }
    }
}

/// The window, the app behind it, and the timer that keeps them in step.
pub struct Kiosk {
    pub ui: AppWindow,
    pub app: Rc<RefCell<App>>,
    view: Rc<RefCell<View>>,
    timer: Timer,
}

impl std::fmt::Debug for Kiosk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kiosk").field("app", &self.app).finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct Handle {
    ui: slint::Weak<AppWindow>,
    app: Rc<RefCell<App>>,
    view: Rc<RefCell<View>>,
}

impl Handle {
    fn run(&self, f: impl FnOnce(&mut App, Instant)) {
        let Some(ui) = self.ui.upgrade() else { return };
        let mut app = self.app.borrow_mut();
        f(&mut app, Instant::now());
        self.view.borrow_mut().render(&app.view(), &ui);
    }

    fn cb(&self, f: impl Fn(&mut App, Instant) + 'static) -> impl Fn() + 'static {
        let h = self.clone();
        move || h.run(&f)
    }

    fn cb_str(
        &self,
        f: impl Fn(&mut App, &str, Instant) + 'static,
    ) -> impl Fn(slint::SharedString) + 'static {
        let h = self.clone();
        move |s| h.run(|a, now| f(a, s.as_str(), now))
    }

    fn cb_int(&self, f: impl Fn(&mut App, usize, Instant) + 'static) -> impl Fn(i32) + 'static {
        let h = self.clone();
        move |i| h.run(|a, now| f(a, usize::try_from(i).unwrap_or_default(), now))
    }
}

impl Kiosk {
    pub fn new(app: App, demo: Option<DemoHook>) -> Result<Self, slint::PlatformError> {
        let ui = AppWindow::new()?;
        let app = Rc::new(RefCell::new(app));
        let view = Rc::new(RefCell::new(View::default()));
        let h = Handle { ui: ui.as_weak(), app: app.clone(), view: view.clone() };
        let nav = ui.global::<Navigation>();
        nav.on_start(h.cb(|a, now| a.session.start(now)));
        {
            let h = h.clone();
            nav.on_set_language(move |l| h.run(|a, now| a.session.set_language(lang(l), now)));
        }
        {
            let h = h.clone();
            nav.on_set_elder(move |on| h.run(|a, now| a.session.set_elder(on, now)));
        }
        nav.on_proceed(h.cb(|a, now| a.session.proceed(now)));
        nav.on_finish(h.cb(|a, now| a.session.finish(now)));
        nav.on_finish_confirmed(h.cb(|a, now| a.session.finish_confirmed(now)));
        nav.on_back(h.cb(|a, now| a.session.back(now)));
        nav.on_home(h.cb(|a, now| a.session.home(now)));
        nav.on_keep_going(h.cb(|a, now| a.session.keep_going(now)));
        nav.on_touched(h.cb(|a, now| a.session.touch(now)));

        let search = ui.global::<Search>();
        search.on_open_topic(h.cb_str(|a, code, now| a.session.open_topic(code, now)));
        search.on_open_department(h.cb_str(|a, code, now| a.session.open_department(code, now)));
        search.on_open_search(h.cb(|a, now| a.session.open_search(now)));
        search.on_search_key(h.cb_str(|a, key, now| a.session.search_type(key, now)));
        search.on_search_backspace(h.cb(|a, now| a.session.search_backspace(now)));
        search.on_next_page(h.cb(|a, now| a.session.next_page(now)));
        search.on_previous_page(h.cb(|a, now| a.session.previous_page(now)));
        search.on_open_item(h.cb_int(|a, i, now| a.session.open_item(i, now)));

        let application = ui.global::<Application>();
        application.on_begin_form(h.cb(|a, now| a.session.begin_form(now)));
        application.on_focus_field(h.cb_int(|a, i, now| a.session.focus_field(i, now)));
        application.on_form_key(h.cb_str(|a, key, now| a.session.form_key(key, now)));
        application.on_form_backspace(h.cb(|a, now| a.session.form_backspace(now)));
        application.on_pick_candidate(h.cb_int(|a, i, now| a.session.pick_candidate(i, now)));
        application.on_next_candidates(h.cb(|a, now| a.session.next_candidates(now)));
        {
            let h = h.clone();
            application.on_choose(move |field, choice| {
                h.run(|a, now| a.session.choose(usize::try_from(field).unwrap_or_default(), &choice, now));
            });
        }
        application.on_review(h.cb(|a, now| a.session.review(now)));
        application.on_submit(h.cb(|a, now| {
            if let Err(e) = a.submit(now) {
                tracing::error!(error = %e, "submit failed");
            }
        }));

        application.on_rate(h.cb_int(|a, level, now| a.session.rate(u8::try_from(level).unwrap_or(0), now)));
        {
            let h = h.clone();
            application.on_toggle_reason(move |r| {
                h.run(|a, now| a.session.toggle_reason(crate::view::reason(r).code(), now));
            });
        }
        application.on_send_rating(h.cb(|a, now| a.send_rating(now)));
        application.on_skip_rating(h.cb(|a, now| a.session.skip_rating(now)));

        let live = ui.global::<Live>();
        live.on_open_records(h.cb(|a, now| a.open_records(now)));
        live.on_cancel(h.cb(|a, now| a.session.back(now)));
        live.on_next_page(h.cb(|a, now| a.records_page(true, now)));
        live.on_previous_page(h.cb(|a, now| a.records_page(false, now)));
        live.on_retry(h.cb(|a, now| a.retry_records(now)));
        live.on_print(h.cb(|a, now| a.print_records(now)));

        let progress = ui.global::<Progress>();
        progress.on_open_mine(h.cb(|a, now| a.open_progress(now)));
        progress.on_open_slip(h.cb(|a, now| a.session.open_progress_by_slip(now)));
        progress.on_key(h.cb_str(|a, key, now| a.session.progress_key(key, now)));
        progress.on_backspace(h.cb(|a, now| a.session.progress_backspace(now)));
        {
            let h = h.clone();
            progress.on_focus(move |entry| {
                let entry = match entry {
                    crate::ui::SlipEntry::Reference => kiosk_app::progress::Entry::Reference,
                    crate::ui::SlipEntry::Password => kiosk_app::progress::Entry::Password,
                };
                h.run(|a, now| a.session.progress_focus(entry, now));
            });
        }
        progress.on_search(h.cb(|a, now| a.progress_search(now)));
        progress.on_open_case(h.cb_int(|a, i, now| a.session.open_case(i, now)));
        progress.on_retry(h.cb(|a, now| a.retry_progress(now)));
        progress.on_cancel(h.cb(|a, now| a.session.back(now)));

        let maintenance = ui.global::<Maintenance>();
        maintenance.on_open_pin(h.cb(|a, now| a.session.open_pin(now)));
        maintenance.on_pin_key(h.cb_str(|a, d, now| a.session.pin_key(d, now)));
        maintenance.on_pin_clear(h.cb(|a, now| a.session.pin_clear(now)));
        maintenance.on_pin_submit(h.cb(|a, now| a.submit_pin(now)));
        maintenance.on_close(h.cb(|a, now| a.session.close_maintenance(now)));
        {
            let h = h.clone();
            maintenance.on_self_test(move |kind| {
                let kind = match kind {
                    crate::ui::SelfTestKind::Printer => SelfTestKind::Printer,
                    crate::ui::SelfTestKind::Reader => SelfTestKind::Reader,
                    crate::ui::SelfTestKind::Scanner => SelfTestKind::Scanner,
                };
                h.run(|a, _| a.self_test(kind));
            });
        }

        let demo_global = ui.global::<Demo>();
        demo_global.set_enabled(demo.is_some());
        if let Some(hook) = demo {
            let h = h.clone();
            demo_global.on_act(move |action| {
                hook(action.as_str());
                h.run(|a, now| a.session.touch(now));
            });
        }

        let timer = Timer::default();
        let pump = h.clone();
        let mut watchdog = Watchdog::from_env();
        timer.start(TimerMode::Repeated, PUMP_EVERY, move || {
            pump.run(|a, now| a.pump(now));
            watchdog.pet();
        });
        h.run(|a, now| a.pump(now));
        let woken = h.clone();
        PUMP.with(|pump| *pump.borrow_mut() = Some(Box::new(move || woken.run(|a, now| a.pump(now)))));
        Ok(Self { ui, app, view, timer })
    }

    /// One pump and render now, as the timer would do (for tests and screenshots, which have
    /// no event loop).
    pub fn pump(&self) {
        let mut app = self.app.borrow_mut();
        app.pump(Instant::now());
        self.view.borrow_mut().render(&app.view(), &self.ui);
    }

    /// Renders after the session was changed directly.
    pub fn render(&self) {
        self.view.borrow_mut().render(&self.app.borrow().view(), &self.ui);
    }

    pub fn stop(&self) {
        self.timer.stop();
    }
}

impl Drop for Kiosk {
    fn drop(&mut self) {
        PUMP.with(|pump| pump.borrow_mut().take());
    }
}
