//! `kiosk-ui --probe BUNDLE` (hidden): what the UI benchmark measures from outside the process.
//! It starts as the kiosk does, headless, with the given catalogue: prints `first-frame` as soon
//! as the first frame is drawn, then walks to the screens that list the most, times full-frame
//! renders, and prints one JSON line with the figures and the memory the process holds.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use kiosk_app::{Config, Library, Session};
use kiosk_outbox::{Options, Outbox};
use slint::ComponentHandle;

use crate::app::App;
use crate::controller::Kiosk;
use crate::devices::Devices;
use crate::headless::Screen;
use crate::screenshots::{HEIGHT, WIDTH};
use kiosk_config::DeviceConfig;

/// One move of the walk through the screens.
type Step<'a> = dyn Fn(&mut App, Instant) + 'a;

/// `Pss:` and `Rss:` of this process in kB (`/proc/self/smaps_rollup`).
pub fn memory_kb() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("Pss:"), field("Rss:"))
}

pub fn run(bundle: &std::path::Path, font_dir: Option<&std::path::Path>) -> Result<()> {
    let mut marks = serde_json::Map::new();
    let mut mark = |what: &str| {
        marks.insert(what.to_owned(), memory_kb().0.into());
    };
    mark("start");
    let screen = Screen::install(WIDTH, HEIGHT)?;
    crate::font::register(&crate::font::find(font_dir)?)?;
    mark("font");
    // `sample`: the invented sample catalogue, for a baseline.
    let bytes: kiosk_catalogue::BundleBytes = if bundle.as_os_str() == "sample" {
        std::sync::Arc::new(kiosk_catalogue::to_bundle(&kiosk_catalogue::sample()))
    } else {
        crate::mapped::bundle(bundle).with_context(|| format!("reading {}", bundle.display()))?
    };
    let library = Library::new(kiosk_catalogue::Bundle::open_shared(bytes)?);
    let work = std::env::temp_dir().join(format!("kiosk-ui-probe-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let outbox =
        Outbox::open_with_key_file(&work.join("kiosk.db"), &work.join("payload.key"), Options::default())?;
    let devices = Devices::start(&DeviceConfig::default(), crate::controller::wake)?;
    let items = library.len();
    mark("catalogue");
    let session = Session::new(Config::new("NH-BENCH-0001"), std::sync::Arc::new(library), Instant::now());
    let kiosk = Kiosk::new(App::new(session, outbox, devices, None), None)?;
    kiosk.stop();
    kiosk.ui.show()?;
    screen.render();
    mark("first_frame");
    println!("first-frame");
    std::io::stdout().flush()?;

    let mut frames: Vec<(String, Vec<Duration>)> = Vec::new();
    let card = kiosk_idcard::sim::sample_cards().remove(0).1;
    let steps: [(&str, &Step<'_>); 4] = [
        ("attract", &|_, _| {}),
        ("home", &|a, now| a.session.card_read(&card, now)),
        ("search", &|a, now| {
            a.session.open_search(now);
            a.session.search_type("sbcx", now);
        }),
        ("detail", &|a, now| {
            let first = a.session.hits().first().copied().unwrap_or(0);
            a.session.open_item(first, now);
        }),
    ];
    for (name, step) in steps {
        step(&mut kiosk.app.borrow_mut(), Instant::now());
        kiosk.render();
        let mut times = Vec::new();
        for _ in 0..15 {
            let t = Instant::now();
            std::hint::black_box(&*screen.render());
            times.push(t.elapsed());
        }
        frames.push((name.to_owned(), times));
    }
    // A live answer arriving until the screen shows it: the core takes it, the view maps it,
    // a frame is drawn (the answer itself is what the reference gateway gives this card).
    let mut answer_to_screen = Vec::new();
    let query = {
        let app = kiosk.app.borrow();
        let library = app.session.library();
        (0..library.len()).find(|&i| matches!(library.summary(i).kind, kiosk_catalogue::Kind::Query(_)))
    };
    if let Some(item) = query {
        kiosk.app.borrow_mut().session.open_item(item, Instant::now());
        for _ in 0..15 {
            let Some(ask) = kiosk.app.borrow_mut().session.open_records(Instant::now()) else { break };
            let kiosk_app::lookup::Question::Records(q) = &ask.question else { break };
            let answer = kiosk_gateway::live::records(q, time::macros::date!(2026 - 11 - 30));
            let t = Instant::now();
            kiosk.app.borrow_mut().session.live_answer(
                ask.id,
                Ok(kiosk_app::lookup::Reply::Records(answer)),
                Instant::now(),
            );
            kiosk.render();
            std::hint::black_box(&*screen.render());
            answer_to_screen.push(t.elapsed().as_secs_f64() * 1000.0);
            kiosk.app.borrow_mut().session.back(Instant::now());
            kiosk.render();
        }
    }
    mark("screens");
    let (pss, rss) = memory_kb();
    let frames: serde_json::Map<String, serde_json::Value> = frames
        .into_iter()
        .map(|(name, times)| (name, times.iter().map(|d| d.as_secs_f64() * 1000.0).collect()))
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "items": items, "pss_kb": pss, "rss_kb": rss, "pss_kb_after": marks, "frames_ms": frames,
            "answer_to_screen_ms": answer_to_screen,
        })
    );
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
