//! `kiosk-diag printer …`: status, a test slip, and its preview.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand};
use kiosk_escpos::layout::Note;
use kiosk_escpos::profile::{self, Profile};
use kiosk_escpos::{Device, Printer, PrinterError, preview, test_slip};

use crate::exit;

#[derive(Subcommand, Debug)]
pub enum PrinterCommand {
    /// Ask the printer for its status: online, cover, paper, cutter.
    Status {
        #[command(flatten)]
        target: Target,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the test slip: Chinese text with rare name characters, a QR code, a CODE128
    /// barcode, the printer profile, and a cut.
    TestSlip {
        #[command(flatten)]
        target: Target,
    },
    /// Render the test slip to a PNG at the printer's dot width, without a printer.
    Preview {
        #[arg(long)]
        out: PathBuf,
        /// Printer profile (gb18030-80mm, gbk-80mm, gb2312-58mm).
        #[arg(long, default_value = "gbk-80mm", value_parser = parse_profile)]
        profile: &'static Profile,
    },
}

#[derive(Args, Debug)]
pub struct Target {
    /// usb:VID:PID, lp:/dev/usb/lp0, serial:/dev/ttyX[@baud], tcp:HOST:PORT or file:PATH.
    #[arg(long, value_parser = |s: &str| s.parse::<Device>())]
    device: Device,
    /// Printer profile; default: from the USB device ID, else gbk-80mm.
    #[arg(long, value_parser = parse_profile)]
    profile: Option<&'static Profile>,
}

fn parse_profile(name: &str) -> Result<&'static Profile, String> {
    profile::by_name(name).ok_or_else(|| {
        format!("unknown profile {name:?}; known: {}", profile::ALL.map(|p| p.name).join(", "))
    })
}

pub fn run(cmd: PrinterCommand) -> Result<u8> {
    match cmd {
        PrinterCommand::Status { target, json } => status(&target, json),
        PrinterCommand::TestSlip { target } => test(&target),
        PrinterCommand::Preview { out, profile } => {
            let png = preview::render_png(&test_slip(profile, "preview"), profile)?;
            std::fs::write(&out, png).with_context(|| format!("writing {}", out.display()))?;
            println!("{} ({}, {} dots wide)", out.display(), profile.name, profile.dots);
            Ok(exit::OK)
        }
    }
}

fn open(target: &Target) -> Result<Printer> {
    Printer::open(&target.device, target.profile).with_context(|| format!("printer {:?}", target.device))
}

fn status(target: &Target, json: bool) -> Result<u8> {
    let mut printer = open(target)?;
    let status = printer.status().with_context(|| format!("status of {}", printer.describe()))?;
    let port = printer.port_status().transpose().context("USB port status (GET_PORT_STATUS)")?;
    if json {
        let value = serde_json::json!({
            "device": printer.describe(),
            "profile": printer.profile().name,
            "device_id": printer.device_id(),
            "port_status": port,
            "ready": status.ready(),
            "status": status,
            "problems": status.problems(),
        });
        println!("{value}");
    } else {
        println!("打印机 Printer    {}", printer.describe());
        println!("配置 Profile      {}", printer.profile().name);
        if let Some(id) = printer.device_id() {
            println!("设备标识 Device ID {id}");
        }
        if let Some(p) = port {
            println!(
                "端口状态 USB port  paper empty {}, selected {}, error {}",
                p.paper_empty, p.selected, p.error
            );
        }
        let yes = |b: bool| if b { "是 yes" } else { "否 no" };
        println!("联机 Online       {}", yes(status.online));
        println!("纸仓盖开 Cover open {}", yes(status.cover_open));
        println!("纸 Paper          {:?}", status.paper);
        println!("切刀故障 Cutter error {}", yes(status.cutter_error));
        for p in status.problems() {
            println!("  ! {p}");
        }
    }
    Ok(if status.ready() { exit::OK } else { exit::NOT_READY })
}

fn test(target: &Target) -> Result<u8> {
    let mut printer = open(target)?;
    let slip = test_slip(printer.profile(), &printer.describe());
    match printer.print(&slip) {
        Ok(report) => {
            println!(
                "测试单已打印 / Test slip printed: {} bytes, profile {}",
                report.bytes,
                printer.profile().name
            );
            for note in &report.notes {
                match note {
                    Note::RasterLine { missing } => println!(
                        "  printed as an image (font lacks {}): {}",
                        missing
                            .iter()
                            .map(|c| format!("U+{:04X}", u32::from(*c)))
                            .collect::<Vec<_>>()
                            .join(" "),
                        missing.iter().collect::<String>()
                    ),
                    Note::RasterQr => {
                        println!("  QR code printed as an image (no native QR on this profile)")
                    }
                }
            }
            if report.status.is_none() {
                println!("  (no status from {}: it cannot answer)", printer.describe());
            }
            Ok(exit::OK)
        }
        Err(PrinterError::NotReady(s)) => {
            eprintln!("kiosk-diag: printer not ready: {}", s.problems().join("; "));
            Ok(exit::NOT_READY)
        }
        // The printer answered and stopped the slip (out of paper, cover opened): a problem it
        // reports, like not-ready, not a broken link.
        Err(e @ PrinterError::Interrupted { .. }) => {
            eprintln!("kiosk-diag: {e}");
            Ok(exit::NOT_READY)
        }
        Err(e) => Err(anyhow!(e)),
    }
}
