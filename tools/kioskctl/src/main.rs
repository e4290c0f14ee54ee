//! `kioskctl`: what admins and technicians run against a kiosk's data. `outbox` shows and repairs
//! the upload queue without ever showing a resident's data: it opens the queue without the
//! payload key, except to load sample data.
//! `catalogue` searches a catalogue and publishes signed releases of it, `os` publishes OS
//! releases; both are admins' work and exist only with the `admin` feature, which the kiosk's
//! image leaves out. `provision` installs a new kiosk's identity at first boot.

#[cfg(feature = "admin")]
mod catalogue;
#[cfg(feature = "admin")]
mod os;
mod provision;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use kiosk_outbox::{AgentLock, Options, Outbox, Row, Selection, State, now_ms};

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
    #[cfg(feature = "admin")]
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
    #[cfg(feature = "admin")]
    #[command(subcommand)]
    Os(os::OsCommand),
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
    #[cfg(feature = "admin")]
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
    /// Queue set-aside submissions (refused or quarantined) again, after the cause was fixed:
    /// by id, or all of them, or those matching a reason and a time range.
    #[command(group(clap::ArgGroup::new("which").required(true).multiple(true).args(["ids", "all", "reason", "since", "until"])))]
    Retry {
        /// Submission ids (see `list --state dead`).
        ids: Vec<i64>,
        /// Every set-aside submission.
        #[arg(long)]
        all: bool,
        /// Only those whose last error contains this text, e.g. "HTTP 404".
        #[arg(long)]
        reason: Option<String>,
        /// Only those last tried at or after this time (RFC 3339, e.g. 2026-11-30T08:00:00+08:00).
        #[arg(long, value_parser = parse_time)]
        since: Option<i64>,
        /// Only those last tried before this time (RFC 3339).
        #[arg(long, value_parser = parse_time)]
        until: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Copy every readable submission of a damaged outbox into a new one; with --yes, put the
    /// new one in place and keep the damaged file beside it (stop kiosk-ui and kiosk-sync first).
    Salvage {
        /// Swap the salvaged outbox into place.
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
    /// Delete refused submissions and their payloads, after the office has handled them.
    PurgeDead {
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
    /// Queue N submissions of invented sample data (for load tests and demos).
    #[cfg(feature = "admin")]
    EnqueueSample { count: usize },
}

fn parse_state(s: &str) -> Result<State, String> {
    State::parse(&s.replace('-', "_"))
        .ok_or_else(|| format!("{s:?}: state must be pending, in_flight, acked, dead or quarantined"))
}

fn parse_time(s: &str) -> Result<i64, String> {
    s.parse::<jiff::Timestamp>().map(|t| t.as_millisecond()).map_err(|e| format!("{s:?}: {e} (use RFC 3339)"))
}

/// The outbox named by `--config` or `--db`.
fn outbox_path(at: &Location) -> Result<PathBuf> {
    match (&at.config, &at.db) {
        (Some(c), _) => Ok(kiosk_sync::Config::load(c)?.outbox),
        (None, Some(db)) => Ok(db.clone()),
        (None, None) => bail!("say where the outbox is: --config kiosk-sync.toml or --db PATH"),
    }
}

/// The payload key: `--key`, or the one the configuration names.
#[cfg(feature = "admin")]
fn key_path(at: &Location) -> Result<PathBuf> {
    match (&at.key, &at.config) {
        (Some(key), _) => Ok(key.clone()),
        (None, Some(c)) => Ok(kiosk_sync::Config::load(c)?.payload_key),
        (None, None) => {
            bail!("--key (or --config) is needed: sample data is encrypted like real submissions")
        }
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
        r.state.map_or("damaged", State::as_str),
        r.attempts,
        r.item_code,
        when(r.created_at),
        r.case_number.as_deref().map(|c| format!("case {c}")).unwrap_or_default(),
        r.last_error.as_deref().map(|e| format!("  last: {e}")).unwrap_or_default(),
    );
}

fn run(cli: Cli) -> Result<u8> {
    let (at, command) = match cli.command {
        #[cfg(feature = "admin")]
        Command::Catalogue(cmd) => return catalogue::run(cmd),
        Command::Provision(args) => return provision::run(&args),
        #[cfg(feature = "admin")]
        Command::Os(cmd) => return os::run(cmd),
        Command::Outbox { at, command } => (at, command),
    };
    let db = outbox_path(&at)?;
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
                println!("已隔离 quarantined {}", stats.quarantined);
                if let Some(age) = stats.oldest_pending_ms {
                    println!("最早待上传 oldest unsent  {} s ago", age / 1000);
                }
            }
            Ok(if stats.dead + stats.quarantined > 0 { 4 } else { 0 })
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
        OutboxCommand::Retry { ids, all: _, reason, since, until, json } => {
            let selection = Selection { ids, reason, since, until };
            let n = inspect()?.requeue(&selection, now_ms())?;
            if json {
                println!("{}", serde_json::json!({ "requeued": n }));
            } else {
                println!("{n} submission(s) queued again");
            }
            Ok(0)
        }
        OutboxCommand::Salvage { yes, json } => salvage(&db, yes, json),
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
        #[cfg(feature = "admin")]
        OutboxCommand::EnqueueSample { count } => {
            let key_path = key_path(&at)?;
            let mut ob = Outbox::open_with_key_file(
                &db,
                &key_path,
                Options { max_pending: u64::MAX, ..Options::default() },
            )?;
            let bar = indicatif::ProgressBar::new(count as u64);
            for i in 0..count {
                let form = format!(
                    r#"{{"item_code":"440605-SAMPLE-{:03}","sample":true,"form":{{"name":"示例{i}","note":"invented sample data"}}}}"#,
                    i % 40
                );
                ob.enqueue(
                    &kiosk_outbox::NewSubmission {
                        item_code: "440605-SAMPLE",
                        stream_key: "",
                        payload: form.as_bytes(),
                    },
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

/// Copies what can be read into `<db>.salvaged`; with `yes`, moves the damaged files aside
/// (`<db>.damaged-<time>`, WAL and shared memory with it) and the salvaged file into place.
fn salvage(db: &std::path::Path, yes: bool, json: bool) -> Result<u8> {
    // The agent must not write while the files move; the UI is the technician's to stop.
    let _lock = AgentLock::acquire(db)?;
    let with_suffix = |suffix: &str| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let salvaged = with_suffix(".salvaged");
    let _ = std::fs::remove_file(&salvaged);
    let report = kiosk_outbox::salvage(db, &salvaged)?;
    let mut moved_to = None;
    if yes {
        let aside = with_suffix(&format!(".damaged-{}", now_ms() / 1000));
        for suffix in ["-wal", "-shm"] {
            let from = with_suffix(suffix);
            if from.exists() {
                let mut to = aside.as_os_str().to_owned();
                to.push(suffix);
                std::fs::rename(&from, PathBuf::from(to))
                    .with_context(|| format!("moving {}", from.display()))?;
            }
        }
        std::fs::rename(db, &aside).with_context(|| format!("moving {} aside", db.display()))?;
        std::fs::rename(&salvaged, db).with_context(|| format!("putting {} in place", salvaged.display()))?;
        moved_to = Some(aside);
    }
    if json {
        println!(
            "{}",
            serde_json::json!({ "report": report, "damaged_kept_at": moved_to, "salvaged": if yes { db } else { &salvaged } })
        );
    } else {
        println!(
            "salvaged: {} unsent (of which {} with a damaged state, queued again), {} receipts, {} set aside; {} row(s) unreadable",
            report.unsent, report.requeued_damaged, report.acked, report.set_aside, report.unreadable
        );
        match &moved_to {
            Some(aside) => println!(
                "the salvaged outbox is in place at {}; the damaged one is kept at {} for the vendor",
                db.display(),
                aside.display()
            ),
            None => println!(
                "written to {}; run again with --yes to put it in place (stop kiosk-ui and kiosk-sync first)",
                salvaged.display()
            ),
        }
    }
    Ok(if report.unreadable > 0 { 4 } else { 0 })
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
