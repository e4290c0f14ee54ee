//! `kiosk-ui`: the touchscreen app. See `--help`.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use kiosk_app::{Config as SessionConfig, Library, Session};
use kiosk_config::Config;
use kiosk_outbox::{Options, Outbox};
use kiosk_ui::devices::Devices;
use kiosk_ui::logbuf::LogBuffer;
use kiosk_ui::{App, Kiosk};
use slint::ComponentHandle;
use tracing_subscriber::prelude::*;

/// 市民之窗 touchscreen app. Runs full screen on the kiosk (under cage); built with the `demo`
/// feature (as `cargo build` does), also in demo mode in a window on a developer's desktop, or
/// renders every screen to PNG without a display.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The kiosk's configuration file.
    #[arg(long, default_value = "/etc/kiosk/kiosk-ui.toml")]
    config: PathBuf,
    /// Demo mode: simulated card reader, printer and scanner, the sample catalogue, the reference
    /// gateway and the sync agent on loopback, the outbox in a temporary folder.
    #[cfg(feature = "demo")]
    #[arg(long)]
    demo: bool,
    /// Render every screen, in Chinese and English and in elder mode, to PNG files in DIR and exit.
    #[cfg(feature = "demo")]
    #[arg(long, value_name = "DIR")]
    screenshots: Option<PathBuf>,
    /// Where the CJK font files are (default: the image's, then scripts/setup's download).
    #[arg(long, value_name = "DIR")]
    font_dir: Option<PathBuf>,
    /// Read a technician PIN from standard input and print its Argon2 hash for `pin_hash`.
    #[arg(long)]
    hash_pin: bool,
    /// For the UI benchmark: start headless with this catalogue bundle and report figures.
    #[cfg(feature = "demo")]
    #[arg(long, hide = true, value_name = "BUNDLE")]
    probe: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiosk-ui: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to the maintenance screen's view, and to stderr (the journal) unless `quiet`.
fn init_logs(quiet: bool) -> LogBuffer {
    let buffer = LogBuffer::default();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::registry()
        .with(filter)
        .with((!quiet).then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr)))
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .without_time()
                .with_target(false)
                .with_writer(buffer.clone()),
        )
        .init();
    buffer
}

fn run(args: Args) -> Result<()> {
    if args.hash_pin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        println!("{}", kiosk_ui::pin::hash_new(line.trim())?);
        return Ok(());
    }
    #[cfg(feature = "demo")]
    {
        if let Some(bundle) = &args.probe {
            return kiosk_ui::probe::run(bundle, args.font_dir.as_deref());
        }
        if let Some(dir) = &args.screenshots {
            let log = init_logs(true);
            let files = kiosk_ui::screenshots::run(dir, args.font_dir.as_deref(), log)?;
            println!("{} screenshots in {}", files.len(), dir.display());
            return Ok(());
        }
        if args.demo {
            return run_demo(init_logs(false), args.font_dir);
        }
    }
    run_kiosk(init_logs(false), &args.config)
}

fn open_library(path: &std::path::Path) -> Result<Library> {
    let bytes = kiosk_ui::mapped::bundle(path)
        .with_context(|| format!("reading the catalogue {}", path.display()))?;
    let bundle =
        kiosk_catalogue::Bundle::open_shared(bytes).with_context(|| format!("opening {}", path.display()))?;
    Ok(Library::new(bundle))
}

/// Registers the CJK font; the default platform (winit: X11, or Wayland under cage) comes up on
/// the way, since fonts belong to it.
fn register_font(dir: Option<&std::path::Path>) -> Result<()> {
    kiosk_ui::font::register(&kiosk_ui::font::find(dir)?)?;
    Ok(())
}

fn run_kiosk(log: LogBuffer, path: &std::path::Path) -> Result<()> {
    let config = Config::load(path)?;
    register_font(config.font_dir.as_deref())?;
    let devices = Devices::start(&config.devices()?, kiosk_ui::controller::wake)?;
    // One kiosk-ui per outbox; `kiosk-diag check --boot` asks this lock whether the UI runs.
    let _ui_lock = kiosk_outbox::ProgramLock::acquire(&config.outbox, kiosk_outbox::Program::Ui)?;
    let outbox = Outbox::open_with_key_file(&config.outbox, &config.payload_key, Options::default())
        .with_context(|| format!("opening the outbox {}", config.outbox.display()))?;
    let library = open_library(&config.catalogue)?;
    let mut session_config = SessionConfig::new(&config.kiosk_id);
    session_config.pin_hash = config.pin_hash.clone();
    session_config.idle_after = std::time::Duration::from_secs(config.idle_secs);
    session_config.countdown = std::time::Duration::from_secs(config.countdown_secs);
    let session = Session::new(session_config, std::sync::Arc::new(library), Instant::now());
    let app = App::new(session, outbox, devices, Some(config.catalogue.clone()))
        .with_log(log)
        .with_live(config.live_socket);
    let kiosk = Kiosk::new(app, None)?;
    tracing::info!(kiosk = %config.kiosk_id, "kiosk-ui started");
    kiosk_ui::controller::notify_ready();
    kiosk.ui.run()?;
    Ok(())
}

#[cfg(feature = "demo")]
fn run_demo(log: LogBuffer, font_dir: Option<PathBuf>) -> Result<()> {
    register_font(font_dir.as_deref())?;
    let dir = std::env::temp_dir().join(format!("kiosk-demo-{}", std::process::id()));
    eprintln!(
        "demo: starting simulated devices, the reference gateway and the sync agent in {}",
        dir.display()
    );
    let rig = std::rc::Rc::new(kiosk_ui::demo::DemoRig::start(&dir)?);
    let devices = Devices::start(&rig.device_config(), kiosk_ui::controller::wake)?;
    let outbox = Outbox::open_with_key_file(&rig.outbox_path(), &rig.payload_key_path(), Options::default())?;
    let library = open_library(&rig.catalogue_path())?;
    let mut session_config = SessionConfig::new(kiosk_ui::demo::KIOSK_ID);
    session_config.pin_hash = Some(kiosk_ui::pin::hash_new(kiosk_ui::demo::DEMO_PIN)?);
    let session = Session::new(session_config, std::sync::Arc::new(library), Instant::now());
    let app = App::new(session, outbox, devices, Some(rig.catalogue_path()))
        .with_log(log)
        .with_live(Some(rig.live_socket()));
    let hook_rig = rig.clone();
    let kiosk = Kiosk::new(
        app,
        Some(Box::new(move |action| {
            if let Err(e) = hook_rig.act(action) {
                tracing::warn!(action, error = %e, "demo action failed");
            }
        })),
    )?;
    eprintln!(
        "demo: the kiosk is up. Fleet view: http://{}/fleet · technician PIN (long-press the top-right corner for 3 s): {}",
        rig.gateway.admin,
        kiosk_ui::demo::DEMO_PIN
    );
    kiosk.ui.run()?;
    Ok(())
}
