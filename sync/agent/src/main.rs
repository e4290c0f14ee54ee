//! `kiosk-sync`: the sync agent daemon (`--drain` to upload what is due and exit).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use kiosk_sync::{Agent, Config, Drained, Updater};
use kiosk_update::client::Outcome;

#[derive(Parser, Debug)]
#[command(
    name = "kiosk-sync",
    version,
    about = "Uploads the kiosk's queued submissions to the government service network, exactly once",
    after_help = "Exit codes (--drain), for what this run did: 0 queue empty; 1 error (configuration, outbox, key, another agent running);\n\
                  2 queue empty, but this run set submissions aside (refused by the service network or quarantined: kioskctl outbox list);\n\
                  3 submissions still wait longer than --patience (the gateway asked to wait, or a long backoff: the daemon sends them);\n\
                  4 the gateway refused the kiosk's credentials or clock (check the app secret, the certificate and NTP).\n\
                  Exit codes (--update-catalogue): 0 current or updated, 1 error or unreachable, 2 the update was refused (the current catalogue stays)."
)]
struct Cli {
    #[arg(long)]
    config: PathBuf,
    /// Upload everything due, waiting out retries, then exit.
    #[arg(long, conflicts_with = "update_catalogue")]
    drain: bool,
    /// With --drain: how long to wait for a submission's next attempt before exiting 3.
    #[arg(long, default_value_t = 120, value_name = "SECS", requires = "drain")]
    patience: u64,
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
            if cli.update_catalogue {
                // The catalogue needs neither the outbox nor its lock: a technician can run this
                // beside the daemon.
                let catalogue = config.catalogue.as_ref().context("the configuration has no [catalogue] section")?;
                let client = kiosk_sync::Uploader::new(&config)?.https_client();
                let mut sync = Updater::new(catalogue, &config.gateway, client)?;
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
                    Err(e @ kiosk_update::client::UpdateError::Refused(_)) => {
                        eprintln!("kiosk-sync: {e}");
                        ExitCode::from(2)
                    }
                    Err(e) => return Err(e.into()),
                });
            }
            let mut agent = Agent::new(config)?;
            if cli.drain {
                return Ok(match agent.drain(std::time::Duration::from_secs(cli.patience)).await? {
                    Drained::Empty { set_aside: 0 } => ExitCode::SUCCESS,
                    Drained::Empty { set_aside } => {
                        eprintln!(
                            "kiosk-sync: {set_aside} submission(s) set aside by this run (refused or quarantined): kioskctl outbox list"
                        );
                        ExitCode::from(2)
                    }
                    Drained::Waiting { left, until } => {
                        eprintln!(
                            "kiosk-sync: {left} submission(s) still queued; the next attempt is due in {} s (the daemon will send them)",
                            (until - kiosk_outbox::now_ms()).max(0) / 1000
                        );
                        ExitCode::from(3)
                    }
                    Drained::AuthFailed(why) => {
                        eprintln!("kiosk-sync: {why}");
                        ExitCode::from(4)
                    }
                });
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
