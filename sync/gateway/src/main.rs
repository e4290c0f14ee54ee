//! `kiosk-gateway`: the reference gateway for development, the demo and the tests.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use kiosk_gateway::{Faults, Gateway, certs};

#[derive(Parser, Debug)]
#[command(
    name = "kiosk-gateway",
    version,
    about = "Reference gateway for the kiosk upload API (mTLS, signed requests, idempotent store, fault injection)",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Serve,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate development certificates: a CA, the server's, and one per kiosk ID.
    DevCerts {
        #[arg(long)]
        out: PathBuf,
        /// Kiosk IDs to issue client certificates for.
        #[arg(long = "kiosk", required = true)]
        kiosks: Vec<String>,
    },
}

#[derive(Args, Debug)]
struct Serve {
    /// Address for the kiosk API (TLS with client certificates).
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Address for counts and the fleet view (plain HTTP: keep it on loopback).
    #[arg(long, default_value = "127.0.0.1:8080")]
    admin_listen: SocketAddr,
    #[arg(long, default_value = "gateway.db")]
    db: PathBuf,
    /// Directory with ca.pem, server.pem and server-key.pem (see `dev-certs`).
    #[arg(long, default_value = "dev-certs")]
    certs: PathBuf,
    /// An app key and the file holding its secret, KEY=FILE; repeat for several. (A file, not
    /// the secret itself: a command line is visible to every user in `ps`.)
    #[arg(long = "app-secret-file", value_parser = parse_secret)]
    app_secrets: Vec<(String, PathBuf)>,
    /// A catalogue update repository (from `kioskctl catalogue init-repo`) to serve to kiosks
    /// under /catalogue/.
    #[arg(long)]
    catalogue_repo: Option<PathBuf>,
    /// Rate of injected 503 answers.
    #[arg(long, default_value_t = 0.0)]
    fail_5xx: f64,
    /// Rate of injected 429 answers, with Retry-After.
    #[arg(long, default_value_t = 0.0)]
    fail_429: f64,
    #[arg(long, default_value_t = 1)]
    retry_after: u64,
    /// Rate of answers delayed past a kiosk's timeout (the submission is still filed).
    #[arg(long, default_value_t = 0.0)]
    fail_timeout: f64,
    #[arg(long, default_value_t = 15)]
    timeout_secs: u64,
    /// Rate of connections dropped after the submission was filed, without an answer.
    #[arg(long, default_value_t = 0.0)]
    fail_drop: f64,
    /// Rate of answers whose body trickles out slowly.
    #[arg(long, default_value_t = 0.0)]
    fail_slow_body: f64,
    /// Answer every submission only after this many ms (it is filed first): a slow network.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Seed of the fault generator, for reproducible runs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn parse_secret(s: &str) -> Result<(String, PathBuf), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), PathBuf::from(v)))
        .ok_or_else(|| format!("{s:?}: expected KEY=FILE"))
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Some(Command::DevCerts { out, kiosks }) = cli.command {
        certs::generate(&out, &kiosks)?;
        println!("development certificates in {} (CA, server, {} kiosk(s))", out.display(), kiosks.len());
        return Ok(());
    }
    let s = cli.serve;
    let rates = [s.fail_5xx, s.fail_429, s.fail_timeout, s.fail_drop, s.fail_slow_body];
    if rates.iter().any(|r| !(0.0..=1.0).contains(r)) || rates.iter().sum::<f64>() > 1.0 {
        bail!("fault rates must each be between 0 and 1 and add up to at most 1");
    }
    let faults = Faults {
        server_error: s.fail_5xx,
        too_many: s.fail_429,
        retry_after_secs: s.retry_after,
        timeout: s.fail_timeout,
        slow_secs: s.timeout_secs,
        drop: s.fail_drop,
        slow_body: s.fail_slow_body,
        delay_ms: s.delay_ms,
        clock_skew_secs: 0,
    };
    let secrets = s
        .app_secrets
        .into_iter()
        .map(|(k, file)| {
            let secret = std::fs::read(&file)
                .with_context(|| format!("reading the secret of {k}: {}", file.display()))?;
            Ok((k, secret.trim_ascii().to_vec()))
        })
        .collect::<Result<HashMap<String, Vec<u8>>>>()?;
    let mut gateway = Gateway::new(&s.db, secrets, faults, s.seed)?;
    if let Some(dir) = s.catalogue_repo {
        gateway = gateway.with_catalogue_repo(dir);
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let running = kiosk_gateway::start(gateway, &s.certs, s.listen, s.admin_listen)
            .await
            .context("starting the gateway")?;
        // Scripts read these two lines to find the ports.
        println!("api https://{}", running.api);
        println!("admin http://{}", running.admin);
        tokio::signal::ctrl_c().await?;
        Ok(())
    })
}
