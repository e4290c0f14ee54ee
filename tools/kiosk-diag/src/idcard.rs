//! `kiosk-diag idcard …`: decode a saved frame, read a card; with the `demo` feature also the
//! reader simulator and the demo (`crate::demo`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use kiosk_idcard::card::{CardJson, parse_any_base_message};
use kiosk_idcard::command::Response;
use kiosk_idcard::frame;
use kiosk_idcard::{IdCard, ReadOptions, Reader, ReaderPort, SamId, Status};

use crate::{card_text, exit};

#[derive(Subcommand, Debug)]
pub enum IdcardCommand {
    /// Decode a raw read-card answer frame saved to a file (binary, or hex text).
    Decode {
        file: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Find, select and read the card on the reader, and report the reader's SAM ID.
    Read(ReadArgs),
    /// Act as a card reader on a serial port, so a kiosk can be tested without a card.
    #[cfg(feature = "demo")]
    Simulate(crate::demo::simulate::SimulateArgs),
    /// Show the reader driver working against a simulated reader: every card type, re-placement,
    /// line faults, and unplugging. Needs no hardware.
    #[cfg(feature = "demo")]
    Demo,
}

#[derive(Args, Debug)]
pub struct ReadArgs {
    /// Serial port (/dev/ttyUSB0, /dev/serial/by-id/…), or `usb` / `usb:VID:PID` for the USB module.
    #[arg(long)]
    port: String,
    /// Line speed; probed across 115200/57600/38400/19200/9600 when absent.
    #[arg(long)]
    baud: Option<u32>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Show names, numbers and addresses in full (only with the resident's consent).
    #[arg(long)]
    unmasked: bool,
    /// Seconds to wait for a card to be placed.
    #[arg(long, default_value_t = 15)]
    wait: u64,
    /// Also read the fingerprint minutiae (command 30 10).
    #[arg(long)]
    fingerprint: bool,
}

pub fn run(cmd: IdcardCommand) -> Result<u8> {
    match cmd {
        IdcardCommand::Decode { file, json } => decode(&file, json),
        IdcardCommand::Read(args) => read(&args),
        #[cfg(feature = "demo")]
        IdcardCommand::Simulate(args) => crate::demo::simulate::run(&args),
        #[cfg(feature = "demo")]
        IdcardCommand::Demo => demo(),
    }
}

/// Hex dumps (`AA AA AA 96 69 …`, with or without spaces, colons or `0x`) become bytes; anything
/// else is taken as raw bytes.
fn file_bytes(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let Ok(text) = std::str::from_utf8(&raw) else { return Ok(raw) };
    let digits: String = text
        .replace("0x", "")
        .replace("0X", "")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':' && *c != ',')
        .collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(raw);
    }
    if !digits.len().is_multiple_of(2) {
        bail!("{} looks like a hex dump but has an odd number of digits", path.display());
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).map_err(Into::into))
        .collect()
}

fn decode(path: &Path, json: bool) -> Result<u8> {
    let frame = frame::decode_first(&file_bytes(path)?)
        .ok_or_else(|| {
            anyhow!(
                "no complete SAM frame in {} (no AA AA AA 96 69 preamble with the length it announces)",
                path.display()
            )
        })?
        .with_context(|| format!("broken frame in {}", path.display()))?;
    let response =
        Response::parse(&frame).ok_or_else(|| anyhow!("the frame is a command, not a reader's answer"))?;
    if response.status != Status::Success {
        bail!("the frame is an answer without card data: {}", response.status);
    }
    let card = parse_any_base_message(&response.data).context("the frame holds no readable card")?;
    // The technician already holds the file, so decode shows what is in it, unmasked.
    print_card(&card, None, true, json, None)?;
    Ok(exit::OK)
}

fn print_card(
    card: &IdCard,
    sam: Option<&SamId>,
    unmasked: bool,
    json: bool,
    extra: Option<serde_json::Value>,
) -> Result<()> {
    if json {
        let j = CardJson::from(card);
        let j = if unmasked { j } else { j.masked() };
        let mut value = serde_json::to_value(&j)?;
        if let (Some(serde_json::Value::Object(extra)), serde_json::Value::Object(obj)) = (extra, &mut value)
        {
            obj.extend(extra);
        }
        println!("{}", serde_json::to_string(&value)?);
    } else {
        print!("{}", card_text::render(card, sam, unmasked));
    }
    Ok(())
}

fn reader_port(port: &str, baud: Option<u32>) -> Result<ReaderPort> {
    ReaderPort::parse(port, baud).map_err(|e| anyhow!(e))
}

fn read(args: &ReadArgs) -> Result<u8> {
    let port = reader_port(&args.port, args.baud)?;
    let (mut reader, info) = Reader::open(&port).with_context(|| format!("ID card reader on {port}"))?;
    if !args.json {
        println!(
            "读卡器 Reader      {}{}",
            info.device,
            info.baud.map(|b| format!(" @ {b} baud")).unwrap_or_default()
        );
        println!("SAM 编号 SAM ID    {}", info.sam_id);
    }
    let opts = ReadOptions { fingerprint: args.fingerprint, appended_addresses: true };
    let deadline = Instant::now() + Duration::from_secs(args.wait);
    let mut prompted = false;
    let card = loop {
        match reader.read_card(opts) {
            Ok(Some(card)) => break card,
            Ok(None) if !prompted => {
                eprintln!("请将身份证放在读卡器上 / Place the ID card on the reader ({} s)…", args.wait);
                prompted = true;
            }
            Ok(None) => {}
            Err(e) if e.card_placement_status().is_some() => {
                eprintln!("请拿起身份证后重新放置 / Lift the card and place it again ({e})");
            }
            Err(e) => return Err(e).context("reading the card"),
        }
        if Instant::now() >= deadline {
            eprintln!(
                "kiosk-diag: no card was placed within {} s (the reader works: SAM ID {})",
                args.wait, info.sam_id
            );
            return Ok(exit::NOTHING_PRESENTED);
        }
        std::thread::sleep(kiosk_idcard::reader::MIN_POLL_INTERVAL);
    };
    let extra =
        serde_json::json!({ "sam_id": info.sam_id.to_string(), "device": info.device, "baud": info.baud });
    print_card(&card, Some(&info.sam_id), args.unmasked, args.json, Some(extra))?;
    Ok(exit::OK)
}

#[cfg(feature = "demo")]
fn demo() -> Result<u8> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(crate::demo::idcard::run())?;
    Ok(exit::OK)
}
