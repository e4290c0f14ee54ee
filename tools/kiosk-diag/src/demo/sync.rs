//! The sync part of `kiosk-diag demo`: a resident's submission goes into the encrypted outbox,
//! the real agent uploads it over mutual TLS to the reference gateway on loopback through
//! injected faults, and the case number comes back for the slip.

use std::path::Path;

use anyhow::{Context, Result};
use kiosk_gateway::{Faults, certs};
use kiosk_outbox::{NewSubmission, Options, Outbox, State, now_ms};
use kiosk_sync::{Agent, Config, Drained};

const KIOSK: &str = "NH-GC-0007";

/// Files the application and returns its case number.
pub async fn run(dir: &Path) -> Result<String> {
    crate::demo::step("提交申请（离线也能先存）", "Submitting: queued durably and encrypted, even offline");
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let secret = format!("{:032x}", fastrand::u128(..));
    certs::write_private(&dir.join("app-secret"), &secret)?;
    let faults = Faults { server_error: 0.25, drop: 0.25, ..Faults::default() };
    let running =
        kiosk_gateway::start_dev(dir, &[KIOSK.to_owned()], "kiosk-dev", secret.as_bytes(), faults, 7, None)
            .await?;
    let (cert, key) = certs::kiosk_files(Path::new("certs"), KIOSK);
    let config = format!(
        "kiosk_id = \"{KIOSK}\"\ngateway = \"https://127.0.0.1:{}\"\napp_key = \"kiosk-dev\"\napp_secret_file = \"app-secret\"\n\
         ca = \"certs/ca.pem\"\nclient_cert = \"{}\"\nclient_key = \"{}\"\noutbox = \"kiosk.db\"\npayload_key = \"payload.key\"\n\
         [upload]\nbackoff_base_ms = 50\nbackoff_cap_ms = 300\npoll_ms = 50\n",
        running.api.port(),
        cert.display(),
        key.display()
    );
    std::fs::write(dir.join("kiosk-sync.toml"), config)?;
    let config = Config::load(&dir.join("kiosk-sync.toml"))?;

    // The UI's side: one transaction, then the slip may print.
    let mut outbox = Outbox::open_with_key_file(&config.outbox, &config.payload_key, Options::default())?;
    let form = r#"{"item_code":"440605-JZZ-001","kiosk_id":"NH-GC-0007","form":{"name":"陈喆","id_number":"440605199005171237","reason":"居住证申领"}}"#;
    let mine = outbox.enqueue(
        &NewSubmission { item_code: "440605-JZZ-001", stream_key: "", payload: form.as_bytes() },
        now_ms(),
    )?;
    for i in 0..9 {
        let other = format!(r#"{{"item_code":"440605-SAMPLE-{i:03}","sample":true}}"#);
        outbox.enqueue(
            &NewSubmission { item_code: "440605-SAMPLE", stream_key: "", payload: other.as_bytes() },
            now_ms(),
        )?;
    }
    let raw = std::fs::read(&config.outbox).unwrap_or_default();
    let plain = raw.windows("陈喆".len()).any(|w| w == "陈喆".as_bytes());
    println!(
        "  10 submissions queued in {} (personal data in plaintext on disk: {})",
        config.outbox.display(),
        if plain { "YES" } else { "no" }
    );

    crate::demo::step(
        "上传到政务服务网（模拟网关故障：25% 5xx，25% 断连）",
        "Uploading over mutual TLS to the reference gateway, which fails 25% with 5xx and drops 25% after filing",
    );
    let mut agent = Agent::new(config)?;
    let drained = agent.drain(std::time::Duration::from_secs(60)).await?;
    anyhow::ensure!(drained == Drained::Empty { set_aside: 0 }, "the queue did not drain: {drained:?}");
    let counts = running.gateway.store().counts()?;
    println!(
        "  filed {} cases; {} faults injected; {} repeats answered with the first case (no second case filed)",
        counts.accepted, counts.faults_injected, counts.duplicates
    );
    let receipt = agent.outbox.row(mine.id)?.context("the receipt")?;
    anyhow::ensure!(receipt.state == Some(State::Acked), "not acknowledged");
    let case = receipt.case_number.context("a case number")?;
    println!("  办件编号 case number {case}; the queued personal data was deleted, the receipt kept");
    agent.send_heartbeat().await?;
    let fleet = running.gateway.store().fleet()?;
    if let Some(k) = fleet.first() {
        println!(
            "  心跳 heartbeat: {} pending {} dead {} (fleet view: http://{}/fleet)",
            k.kiosk_id, k.heartbeat.queue_pending, k.heartbeat.queue_dead, running.admin
        );
    }
    Ok(case)
}
