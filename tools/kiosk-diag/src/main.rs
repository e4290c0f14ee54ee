//! `kiosk-diag`: what a field technician runs in front of a kiosk to see which device works and
//! which to replace.

mod card_text;
mod check;
#[cfg(feature = "demo")]
mod demo;
mod idcard;
mod printer;
mod scanner;

use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};

/// Exit codes, so scripts can tell a missing card from a broken reader.
pub mod exit {
    pub const OK: u8 = 0;
    /// A device, file or data error; the message on stderr says which.
    pub const FAILURE: u8 = 1;
    // 2 is clap's code for a usage error.
    /// The check needed a card or a scan and none was presented in time.
    pub const NOTHING_PRESENTED: u8 = 3;
    /// The device answered and reports a problem (printer out of paper, cover open…).
    pub const NOT_READY: u8 = 4;
}

#[derive(Parser, Debug)]
#[command(
    name = "kiosk-diag",
    version,
    about = "Diagnostics for the citizen-window kiosk's devices (市民之窗设备诊断)",
    after_help = "Exit codes: 0 success, 1 device or data error, 2 usage error, 3 no card placed or code scanned in time,\n\
                  4 the device answered and reports a problem (printer out of paper, cover open).\n\
                  Personal data is masked on output unless --unmasked is given; logs never contain it."
)]
struct Cli {
    /// More log detail on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The technician's checklist: devices, a card read, a test slip, a scan, the outbox, the
    /// gateway, disk and clock; pass/fail/skip with what to try. Exit 0 only when every required
    /// step passes.
    Check(check::CheckArgs),
    /// Every device against its simulator through the real drivers: ID card reader, receipt
    /// printer (with a slip preview PNG), QR scanner. Needs no hardware.
    #[cfg(feature = "demo")]
    Demo {
        /// Where to write the slip preview.
        #[arg(long, default_value = "target/demo")]
        out: std::path::PathBuf,
    },
    /// Second-generation ID card reader (身份证阅读器).
    #[command(subcommand)]
    Idcard(idcard::IdcardCommand),
    /// Receipt printer (凭条打印机).
    #[command(subcommand)]
    Printer(printer::PrinterCommand),
    /// QR/barcode scanner (扫码器).
    #[command(subcommand)]
    Scanner(scanner::ScannerCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default = ["warn", "info", "debug", "trace"][usize::from(cli.verbose.min(3))];
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = match cli.command {
        Command::Check(args) => check::run(&args),
        #[cfg(feature = "demo")]
        Command::Demo { out } => demo::run(&out).map(|()| exit::OK),
        Command::Idcard(cmd) => idcard::run(cmd),
        Command::Printer(cmd) => printer::run(cmd),
        Command::Scanner(cmd) => scanner::run(cmd),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("kiosk-diag: error: {e:#}");
            ExitCode::from(exit::FAILURE)
        }
    }
}
