//! `kiosk-rig-sim`: runs the project's device simulators on the gadget side of the virtual USB
//! rig (hw-tests/rig), so the kiosk's real drivers on the host side of the guest's USB stack
//! talk to them as to real devices: the ID card reader simulator on the CDC-ACM gadget's tty,
//! the ESC/POS printer simulator on the printer gadget, and scans typed as HID boot-keyboard or
//! HID POS reports. A control FIFO takes commands from the test script, one a line:
//! `card NAME`, `lift`, `scan TEXT`, `pos TEXT`, `paper-out`, `paper-out-after N`, `paper-in`.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use kiosk_escpos::sim::PrinterSim;
use kiosk_idcard::SamId;
use kiosk_idcard::sim::{SimLine, SimServer, Simulator, sample_cards};

#[derive(Debug, Parser)]
#[command(version, about = "Device simulators on the gadget side of the virtual USB rig")]
struct Args {
    /// The CDC-ACM gadget's tty (the card reader).
    #[arg(long)]
    reader: Option<PathBuf>,
    /// The printer gadget's device.
    #[arg(long)]
    printer: Option<PathBuf>,
    /// The boot-keyboard HID gadget's device.
    #[arg(long)]
    keyboard: Option<PathBuf>,
    /// The HID POS gadget's device.
    #[arg(long)]
    pos: Option<PathBuf>,
    /// The control FIFO (created if missing).
    #[arg(long)]
    control: PathBuf,
}

fn card(name: &str) -> Result<kiosk_idcard::IdCard> {
    Ok(sample_cards()
        .into_iter()
        .find(|(n, _)| *n == name)
        .with_context(|| format!("no sample card {name}"))?
        .1)
}

/// The printer gadget: bytes from the host go into the simulator, its answers go back. Reads are
/// non-blocking, so no read is pending in the kernel when the process ends or the device is
/// opened again after the gadget was unbound and bound (a killed blocking reader upsets the 6.1
/// kernel's f_printer). `reopen` asks for a fresh open after a re-plug.
fn serve_printer(path: &std::path::Path, sim: &Mutex<PrinterSim>, reopen: &AtomicBool) {
    loop {
        reopen.store(false, Ordering::SeqCst);
        if let Err(e) = pump_printer(path, sim, reopen) {
            eprintln!("kiosk-rig-sim: printer: {e:#}; opening it again");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn pump_printer(path: &std::path::Path, sim: &Mutex<PrinterSim>, reopen: &AtomicBool) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut device = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let mut buf = [0u8; 4096];
    while !reopen.load(Ordering::SeqCst) {
        let n = match device.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            continue;
        }
        let out = {
            let mut sim = sim.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            sim.feed(&buf[..n]);
            sim.take_output()
        };
        if !out.is_empty() {
            device.write_all(&out)?;
        }
    }
    Ok(())
}

fn type_keyboard(device: &mut File, text: &str) -> Result<()> {
    let reports =
        kiosk_scanner::sim::keyboard_reports(text).map_err(|c| anyhow::anyhow!("{c:?} cannot be typed"))?;
    kiosk_scanner::sim::write_reports(device, &reports)?;
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let reader = match &args.reader {
        Some(path) => {
            let port = serialport::new(path.to_string_lossy(), 115_200)
                .open_native()
                .with_context(|| format!("opening {}", path.display()))?;
            let mut sim = Simulator::new(SamId { a: 5, b: 1, c: 20_240_101, d: 88, e: 1_234_567_890 });
            sim.place_card(card("resident")?);
            Some(SimServer::spawn(Box::new(port), SimLine::Uart, sim)?)
        }
        None => None,
    };
    let printer = Arc::new(Mutex::new(PrinterSim::new()));
    let reopen = Arc::new(AtomicBool::new(false));
    if let Some(path) = args.printer.clone() {
        let (sim, reopen) = (printer.clone(), reopen.clone());
        std::thread::spawn(move || serve_printer(&path, &sim, &reopen));
    }
    let mut keyboard = args.keyboard.as_ref().map(|p| OpenOptions::new().write(true).open(p)).transpose()?;
    let mut pos = args.pos.as_ref().map(|p| OpenOptions::new().write(true).open(p)).transpose()?;
    if !args.control.exists() {
        let status = std::process::Command::new("mkfifo").arg(&args.control).status()?;
        anyhow::ensure!(status.success(), "mkfifo {}", args.control.display());
    }
    println!("kiosk-rig-sim: ready");
    loop {
        // Reopened after each writer closes it, as FIFOs work.
        let control = BufReader::new(File::open(&args.control)?);
        for line in control.lines() {
            let line = line?;
            let (command, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
            let result = match command {
                "card" => reader.as_ref().context("no reader").and_then(|r| {
                    let card = card(rest)?;
                    let mut sim = r.sim();
                    sim.lift_card();
                    sim.place_card(card);
                    Ok(())
                }),
                "lift" => reader.as_ref().context("no reader").map(|r| r.sim().lift_card()),
                "scan" => {
                    keyboard.as_mut().context("no keyboard scanner").and_then(|k| type_keyboard(k, rest))
                }
                "pos" => pos.as_mut().context("no HID POS scanner").and_then(|p| {
                    let reports = kiosk_scanner::sim::pos_reports(rest.as_bytes(), *b"]Q1");
                    Ok(kiosk_scanner::sim::write_reports(p, &reports)?)
                }),
                "paper-out" => {
                    printer.lock().unwrap_or_else(std::sync::PoisonError::into_inner).run_out_of_paper();
                    Ok(())
                }
                "paper-out-after" => rest.parse().context("a line count").map(|n| {
                    printer
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .faults
                        .paper_end_after_lines = Some(n);
                }),
                "paper-in" => {
                    printer.lock().unwrap_or_else(std::sync::PoisonError::into_inner).load_paper();
                    Ok(())
                }
                "printer-reopen" => {
                    reopen.store(true, Ordering::SeqCst);
                    Ok(())
                }
                "printed" => {
                    let lines = printer.lock().unwrap_or_else(std::sync::PoisonError::into_inner).lines();
                    println!("kiosk-rig-sim: printed {} lines: {}", lines.len(), lines.join(" | "));
                    Ok(())
                }
                other => Err(anyhow::anyhow!("unknown command {other:?}")),
            };
            match result {
                Ok(()) => println!("kiosk-rig-sim: {command} ok"),
                Err(e) => println!("kiosk-rig-sim: {command}: {e:#}"),
            }
            std::io::stdout().flush()?;
        }
    }
}
