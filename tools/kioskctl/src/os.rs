//! `kioskctl os …`: what admins run to publish an OS release (a RAUC bundle from
//! `images/build`) into the same signed repository as the catalogue.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use kiosk_update::repo;

use crate::catalogue::{Signing, runtime};

#[derive(Subcommand, Debug)]
pub enum OsCommand {
    /// Sign BUNDLE into the update repository for kiosks whose RAUC `compatible` is COMPATIBLE;
    /// the catalogue release stays as it is. Kiosks running another version install it.
    Publish {
        bundle: PathBuf,
        #[arg(long)]
        compatible: String,
        /// The bundle's version (its manifest's `version`, as images/build printed it).
        #[arg(long)]
        version: String,
        #[command(flatten)]
        signing: Signing,
    },
}

pub fn run(cmd: OsCommand) -> Result<u8> {
    let OsCommand::Publish { bundle, compatible, version, signing } = cmd;
    let json = signing.json;
    let spinner = indicatif::ProgressBar::new_spinner();
    if json {
        spinner.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    spinner.set_message(format!("签名 hashing and signing {}", bundle.display()));
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    let published = runtime()?.block_on(repo::publish_os(
        &bundle,
        &compatible,
        &version,
        &signing.keys,
        &signing.repo,
        signing.lifetimes(),
    ))?;
    spinner.finish_and_clear();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "version": published.version, "target": published.target,
                "os_version": version, "bytes": published.bytes,
            })
        );
    } else {
        println!(
            "已发布 published: repository version {}, OS {version} for {compatible} ({} bytes) as {}",
            published.version, published.bytes, published.target
        );
    }
    Ok(0)
}
