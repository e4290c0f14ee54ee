//! `kiosk-sync`: the sync agent daemon (`--drain` to upload what is due and exit).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use kiosk_catalogue_update::client::Outcome;
use kiosk_sync::{Agent, Config};

#[derive(Parser, Debug)]
#[command(
    name = "kiosk-sync",
    version,
    about = "Uploads the kiosk's queued submissions to the government service network, exactly once",
    after_help = "Exit codes (--drain): 0 queue empty, 1 error, 2 queue empty but some submissions were refused (see kioskctl outbox list --state dead).\n\
                  Exit codes (--update-catalogue): 0 current or updated, 1 error or unreachable, 2 the update was refused (the current catalogue stays)."
)]
struct Cli {
    #[arg(long)]
    config: PathBuf,
    /// Upload everything due, waiting out retries, then exit.
    #[arg(long, conflicts_with = "update_catalogue")]
    drain: bool,
    /// Check the catalogue repository (the USB stick first, if mounted) once, apply a verified
    /// update, then exit.
    #[arg(long)]
    update_catalogue: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let result = (|| -> anyhow::Result<ExitCode> {
        let config = Config::load(&cli.config)?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async {
            let mut agent = Agent::new(config)?;
            if cli.update_catalogue {
                let sync =
                    agent.catalogue.as_mut().context("the configuration has no [catalogue] section")?;
                return Ok(match sync.check().await {
                    Ok(outcome) => {
                        let (what, r) = match &outcome {
                            Outcome::Applied(r) => ("updated to", r),
                            Outcome::Current(r) => ("already at", r),
                        };
                        println!(
                            "catalogue {what} {} (repository version {}, {} items)",
                            r.catalogue_version, r.version, r.items
                        );
                        ExitCode::SUCCESS
                    }
                    Err(e @ kiosk_catalogue_update::client::UpdateError::Refused(_)) => {
                        eprintln!("kiosk-sync: {e}");
                        ExitCode::from(2)
                    }
                    Err(e) => return Err(e.into()),
                });
            }
            if cli.drain {
                let clean = agent.drain().await?;
                return Ok(if clean { ExitCode::SUCCESS } else { ExitCode::from(2) });
            }
            let shutdown = async {
                let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            };
            agent.run(shutdown).await?;
            Ok(ExitCode::SUCCESS)
        })
    })();
    result.unwrap_or_else(|e| {
        eprintln!("kiosk-sync: error: {e:#}");
        ExitCode::from(1)
    })
}
