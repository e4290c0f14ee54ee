//! `kiosk-diag idcard simulate`: the reader simulator on a serial port or a pseudo-terminal, so a
//! kiosk (or a developer's kiosk-ui) can be tested without a reader or a card.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use kiosk_idcard::card::CardJson;
use kiosk_idcard::command::BaudRate;
use kiosk_idcard::sim::{PtySim, SimLine, SimServer, Simulator, sample_cards};
use kiosk_idcard::{IdCard, SamId};

use crate::exit;

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Serial port wired to the kiosk's reader port (null-modem); omit with --pty.
    #[arg(long, required_unless_present = "pty", conflicts_with = "pty")]
    port: Option<String>,
    /// Create a pseudo-terminal instead and print the path the kiosk should open.
    #[arg(long)]
    pty: bool,
    /// A card in `idcard decode --json` form; repeat to cycle through several. Default: the
    /// built-in invented sample cards.
    #[arg(long)]
    card: Vec<PathBuf>,
    /// The simulated module's line speed.
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// Inject line noise before every answer.
    #[arg(long)]
    noise: bool,
    /// Send answers in pieces of this many bytes.
    #[arg(long)]
    chunk: Option<usize>,
    /// Delay every answer by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
}

fn load_cards(files: &[PathBuf]) -> Result<Vec<(String, IdCard)>> {
    if files.is_empty() {
        return Ok(sample_cards().into_iter().map(|(n, c)| (n.to_owned(), c)).collect());
    }
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
            let json: CardJson = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a card in JSON form", f.display()))?;
            let card =
                IdCard::try_from(&json).with_context(|| format!("{} is not a valid card", f.display()))?;
            Ok((f.display().to_string(), card))
        })
        .collect()
}

pub fn run(args: &SimulateArgs) -> Result<u8> {
    let baud = BaudRate::from_bits_per_second(args.baud)
        .ok_or_else(|| anyhow!("{} baud is not a SAM module rate", args.baud))?;
    let cards = load_cards(&args.card)?;
    let mut sim = Simulator::new(SamId { a: 5, b: 1, c: 20_240_101, d: 1, e: 1 }).with_baud(baud);
    sim.faults.noise_before_preamble = args.noise;
    sim.faults.chunk_size = args.chunk;
    sim.faults.chunk_pause = Duration::from_millis(2);
    sim.faults.reply_delay = Duration::from_millis(args.delay_ms);
    sim.place_card(cards[0].1.clone());
    let (server, _pty) = if args.pty {
        let pty = PtySim::start(sim).context("creating a pseudo-terminal")?;
        println!("{}", pty.path);
        (None, Some(pty))
    } else {
        let path = args.port.as_deref().expect("clap requires --port without --pty");
        let port = serialport::new(path, args.baud).open().with_context(|| format!("opening {path}"))?;
        (Some(SimServer::spawn(port, SimLine::Uart, sim)?), None)
    };
    let sim = || server.as_ref().map_or_else(|| _pty.as_ref().expect("one of the two").sim(), SimServer::sim);
    eprintln!("模拟读卡器运行中 / Simulated reader running; card on it: {}", cards[0].0);
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        eprintln!("回车：拿起/放置下一张卡 · q：退出 / Enter: lift or place the next card · q: quit");
    }
    let mut next = 1;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if line.trim() == "q" {
            return Ok(exit::OK);
        }
        let mut sim = sim();
        if sim.has_card() {
            sim.lift_card();
            eprintln!("卡已拿起 / Card lifted");
        } else {
            let (name, card) = &cards[next % cards.len()];
            sim.place_card(card.clone());
            eprintln!("已放置 / Placed: {name}");
            next += 1;
        }
    }
    // Not interactive and stdin closed: keep answering until stopped.
    loop {
        std::thread::park();
    }
}
