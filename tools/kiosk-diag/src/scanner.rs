//! `kiosk-diag scanner listen`: each scan as it arrives, typed, with garbage and unplugging shown.

use std::time::Duration;

use anyhow::Result;
use clap::Subcommand;
use kiosk_scanner::{Device, Mode, ScanConfig, ScannerEvent, ScannerService};

use crate::exit;

#[derive(Subcommand, Debug)]
pub enum ScannerCommand {
    /// Print each scan as it arrives.
    Listen {
        /// serial:/dev/ttyACM0[@baud] or hidraw:/dev/hidraw0.
        #[arg(long, value_parser = |s: &str| s.parse::<Device>())]
        device: Device,
        /// serial (CR suffix), serial-lf, serial-crlf, serial-tab, keyboard or pos.
        #[arg(long, default_value = "serial", value_parser = |s: &str| s.parse::<Mode>())]
        mode: Mode,
        /// Prefix of the government app's login code; such scans are shown masked.
        #[arg(long)]
        login_prefix: Option<String>,
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
        /// Stop after this many scans.
        #[arg(long)]
        count: Option<usize>,
        /// Stop after this many seconds.
        #[arg(long)]
        seconds: Option<u64>,
    },
}

pub fn run(cmd: ScannerCommand) -> Result<u8> {
    let ScannerCommand::Listen { device, mode, login_prefix, json, count, seconds } = cmd;
    let config = ScanConfig { login_prefix: login_prefix.clone(), ..ScanConfig::default() };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let mut service = ScannerService::spawn(device, mode, config)?;
        let deadline = seconds.map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
        let mut scans = 0;
        if !json {
            eprintln!("请扫码 / Scan a code (Ctrl-C to stop)…");
        }
        while count.is_none_or(|c| scans < c) {
            let event = match deadline {
                Some(d) => match tokio::time::timeout_at(d, service.next_event()).await {
                    Ok(e) => e,
                    Err(_) => break,
                },
                None => service.next_event().await,
            };
            let Some(event) = event else { break };
            let (line, value) = match &event {
                ScannerEvent::Connected { device } => (format!("已连接 connected: {device}"), serde_json::json!({"event": "connected", "device": device})),
                ScannerEvent::Disconnected { device, reason } => (
                    format!("未连接 disconnected: {device}: {reason}"),
                    serde_json::json!({"event": "disconnected", "device": device, "reason": reason}),
                ),
                ScannerEvent::Scan(scan) => {
                    scans += 1;
                    let text = scan.display_text(login_prefix.as_deref());
                    let kind = serde_json::to_value(scan.kind)?;
                    (
                        format!("[{}] {text}", kind.as_str().unwrap_or_default()),
                        serde_json::json!({"event": "scan", "kind": kind, "text": text, "chars": scan.text.chars().count()}),
                    )
                }
                ScannerEvent::Rejected(reason) => (
                    format!("拒绝 rejected: {reason}"),
                    serde_json::json!({"event": "rejected", "reason": reason, "message": reason.to_string()}),
                ),
            };
            if json {
                println!("{value}");
            } else {
                println!("{line}");
            }
        }
        Ok(if count.is_some_and(|c| scans < c) { exit::NOTHING_PRESENTED } else { exit::OK })
    })
}
