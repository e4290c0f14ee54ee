//! `kioskctl`: what admins and technicians run against a kiosk's data. `outbox` shows and repairs
//! the upload queue without ever showing a resident's data: it opens the queue without the
//! payload key, except to load sample data.
//! `catalogue` searches a catalogue and publishes signed releases of it. `provision` installs a
//! new kiosk's identity at first boot.

mod catalogue;
mod provision;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use kiosk_outbox::{NewSubmission, Options, Outbox, PayloadKey, Row, State, now_ms};

#[derive(Parser, Debug)]
#[command(
    name = "kioskctl",
    version,
    about = "Citizen-window kiosk administration (市民之窗终端管理)",
    after_help = "Exit codes: 0 success, 1 error, 2 usage error, 3 a search found nothing,\n\
                  4 the queue holds refused (dead-lettered) submissions, or a catalogue signature\n\
                  expires soon."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The service-item catalogue.
    #[command(subcommand)]
    Catalogue(catalogue::Command),
    /// The upload queue (outbox) of residents' submissions.
    Outbox {
        #[command(flatten)]
        at: Location,
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// OS releases (RAUC bundles from images/build) in the signed update repository.
    #[command(subcommand)]
    Os(catalogue::OsCommand),
    /// Install a kiosk's identity (kiosk id, certificate and key, gateway, app secret) from a
    /// provisioning folder; the image's first boot runs this.
    Provision(provision::Args),
}

#[derive(Args, Debug)]
struct Location {
    /// The sync agent's configuration, which names the outbox and its key.
    #[arg(long, global = true, conflicts_with = "db")]
    config: Option<PathBuf>,
    /// The outbox database, when no configuration is at hand.
    #[arg(long, global = true)]
    db: Option<PathBuf>,
    /// The payload key file (only `enqueue-sample` needs it).
    #[arg(long, global = true)]
    key: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum OutboxCommand {
    /// Counts by state and the age of the oldest unsent submission.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Submissions, newest first (no personal data).
    List {
        #[arg(long, value_parser = parse_state)]
        state: Option<State>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// One submission's history (no personal data).
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Queue a refused submission again (after the cause was fixed).
    Retry { id: i64 },
    /// Delete refused submissions and their payloads, after the office has handled them.
    PurgeDead {
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
    /// Queue N submissions of invented sample data (for load tests and demos).
    EnqueueSample { count: usize },
}

fn parse_state(s: &str) -> Result<State, String> {
    Ok(match s {
        "pending" => State::Pending,
        "in_flight" | "in-flight" => State::InFlight,
        "acked" => State::Acked,
        "dead" => State::Dead,
        _ => return Err(format!("{s:?}: state must be pending, in_flight, acked or dead")),
    })
}

fn paths(at: &Location) -> Result<(PathBuf, Option<PathBuf>)> {
    match (&at.config, &at.db) {
        (Some(c), _) => {
            let config = kiosk_sync::Config::load(c)?;
            Ok((config.outbox, Some(at.key.clone().unwrap_or(config.payload_key))))
        }
        (None, Some(db)) => Ok((db.clone(), at.key.clone())),
        (None, None) => bail!("say where the outbox is: --config kiosk-sync.toml or --db PATH"),
    }
}

fn when(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.format(&f).unwrap_or_default()
}

fn print_row(r: &Row) {
    println!(
        "{:>7}  {:<9}  {:>2} tries  {:<16}  {}  {}{}",
        r.id,
        serde_json::to_value(r.state).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
        r.attempts,
        r.item_code,
        when(r.created_at),
        r.case_number.as_deref().map(|c| format!("case {c}")).unwrap_or_default(),
        r.last_error.as_deref().map(|e| format!("  last: {e}")).unwrap_or_default(),
    );
}

fn run(cli: Cli) -> Result<u8> {
    let (at, command) = match cli.command {
        Command::Catalogue(cmd) => return catalogue::run(cmd),
        Command::Provision(args) => return provision::run(&args),
        Command::Os(cmd) => return catalogue::run_os(cmd),
        Command::Outbox { at, command } => (at, command),
    };
    let (db, key) = paths(&at)?;
    if !db.exists() {
        bail!("no outbox at {}", db.display());
    }
    let inspect = || {
        Outbox::open_for_inspection(&db, Options::default())
            .with_context(|| format!("outbox {}", db.display()))
    };
    match command {
        OutboxCommand::Status { json } => {
            let stats = inspect()?.stats(now_ms())?;
            if json {
                println!("{}", serde_json::to_string(&stats)?);
            } else {
                println!("待上传 pending    {}", stats.pending);
                println!("上传中 in flight  {}", stats.in_flight);
                println!("已受理 accepted   {}", stats.acked);
                println!("被拒绝 refused    {}", stats.dead);
                if let Some(age) = stats.oldest_pending_ms {
                    println!("最早待上传 oldest unsent  {} s ago", age / 1000);
                }
            }
            Ok(if stats.dead > 0 { 4 } else { 0 })
        }
        OutboxCommand::List { state, limit, json } => {
            let rows = inspect()?.list(state, limit)?;
            if json {
                println!("{}", serde_json::to_string(&rows)?);
            } else {
                rows.iter().for_each(print_row);
            }
            Ok(0)
        }
        OutboxCommand::Show { id, json } => {
            let row = inspect()?.row(id)?.with_context(|| format!("no submission {id} in the outbox"))?;
            if json {
                println!("{}", serde_json::to_string(&row)?);
            } else {
                print_row(&row);
                println!("  idempotency key {}", row.idempotency_key);
                println!("  next attempt    {}", when(row.next_attempt_at));
                if let Some(s) = row.last_status {
                    println!("  last answer     HTTP {s}");
                }
            }
            Ok(0)
        }
        OutboxCommand::Retry { id } => {
            inspect()?.requeue(id, now_ms())?;
            println!("submission {id} queued again");
            Ok(0)
        }
        OutboxCommand::PurgeDead { yes } => {
            let mut ob = inspect()?;
            let dead = ob.stats(now_ms())?.dead;
            if !yes {
                bail!(
                    "{dead} refused submission(s) would be deleted with their data; run again with --yes to delete them"
                );
            }
            println!("{} refused submission(s) deleted", ob.purge_dead()?);
            Ok(0)
        }
        OutboxCommand::EnqueueSample { count } => {
            let key_path =
                key.context("--key (or --config) is needed: sample data is encrypted like real submissions")?;
            let key = PayloadKey::load_or_create(&key_path)?;
            let mut ob = Outbox::open(&db, key, Options { max_pending: u64::MAX, ..Options::default() })?;
            let bar = indicatif::ProgressBar::new(count as u64);
            for i in 0..count {
                let form = format!(
                    r#"{{"item_code":"440605-SAMPLE-{:03}","sample":true,"form":{{"name":"示例{i}","note":"invented sample data"}}}}"#,
                    i % 40
                );
                ob.enqueue(
                    &NewSubmission { item_code: "440605-SAMPLE", stream_key: "", payload: form.as_bytes() },
                    now_ms(),
                )?;
                bar.inc(1);
            }
            bar.finish_and_clear();
            println!("{count} sample submission(s) queued");
            Ok(0)
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("kioskctl: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
