//! `kiosk-diag idcard demo`: the real reader driver and service against the simulator on a
//! pseudo-terminal, walking through what happens at a kiosk. Output is masked, as on screen.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use kiosk_idcard::command::BaudRate;
use kiosk_idcard::sim::{PtySim, Simulator, sample_cards};
use kiosk_idcard::{LiftReason, ReaderEvent, ReaderPort, ReaderService, SamId, ServiceConfig};

use crate::card_text;

const SAM: SamId = SamId { a: 5, b: 1, c: 20_240_101, d: 88, e: 1_234_567_890 };

fn step(zh: &str, en: &str) {
    println!("\n▶ {zh} / {en}");
}

/// Waits for the first event `want` accepts, showing the others.
async fn wait_for(
    service: &mut ReaderService,
    what: &str,
    want: impl Fn(&ReaderEvent) -> bool,
) -> Result<ReaderEvent> {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(20), service.next_event())
            .await
            .with_context(|| format!("no {what} within 20 s"))?
            .context("the reader service stopped")?;
        if want(&event) {
            return Ok(event);
        }
        println!("  (event: {})", describe(&event));
    }
}

fn describe(event: &ReaderEvent) -> String {
    match event {
        ReaderEvent::Ready(info) => format!(
            "读卡器就绪 reader ready on {}{}, SAM ID {}",
            info.device,
            info.baud.map(|b| format!(" at {b} baud")).unwrap_or_default(),
            info.sam_id
        ),
        ReaderEvent::CardRead(card) => format!("已读卡 card read: {}", card.kind.key()),
        ReaderEvent::LiftAndReplace(LiftReason::AlreadyRead) => {
            "请拿起身份证后重新放置 / Please lift the card and place it again (it was read already)".into()
        }
        ReaderEvent::LiftAndReplace(LiftReason::CardProblem(status)) => format!(
            "请拿起身份证后重新放置 / Please lift the card and place it again ({})",
            status.message_en()
        ),
        ReaderEvent::Fault(message) => format!("读卡器故障 reader fault: {message}"),
        ReaderEvent::Disconnected { device } => {
            format!("读卡器未连接 reader disconnected ({device}); 请改用二维码 / please use the QR code")
        }
    }
}

pub async fn run() -> Result<()> {
    println!("市民之窗 · 身份证阅读器演示 / Citizen window · ID card reader demo");
    println!("A simulated reader answers on a pseudo-terminal; the driver is the kiosk's real serial code.");
    println!("All people on these cards are invented; output is masked as on the kiosk's screen.");

    let dir = std::env::temp_dir().join(format!("kiosk-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // A stable name like /dev/serial/by-id/…, so the reader can be "re-plugged" behind it.
    let link = dir.join("usb-Demo_SAM_Reader-if00");
    let reader = PtySim::start(Simulator::new(SAM).with_baud(BaudRate::B57600))?;
    reader.link_as(&link)?;

    let mut config =
        ServiceConfig::new(ReaderPort::Serial { path: link.to_string_lossy().into_owned(), baud: None });
    config.poll_interval = Duration::from_millis(300);
    config.reconnect_interval = Duration::from_millis(300);
    let mut service = ReaderService::spawn(config)?;

    step("连接读卡器（自动探测波特率）", "Connecting to the reader (baud rate probed)");
    let ready = wait_for(&mut service, "ready reader", |e| matches!(e, ReaderEvent::Ready(_))).await?;
    println!("  {}", describe(&ready));

    for (_, card) in sample_cards() {
        step(&format!("放置{}", card.kind.name_zh()), &format!("Placing a {} card", card.kind.key()));
        reader.sim().place_card(card);
        match wait_for(&mut service, "card", |e| matches!(e, ReaderEvent::CardRead(_))).await? {
            ReaderEvent::CardRead(card) => print!("{}", card_text::render(&card, Some(&SAM), false)),
            _ => unreachable!(),
        }
        service.request_read();
        let again =
            wait_for(&mut service, "re-placement prompt", |e| matches!(e, ReaderEvent::LiftAndReplace(_)))
                .await?;
        println!("  再次读卡 asked to read again → {}", describe(&again));
        reader.sim().lift_card();
    }

    step("线路噪声、分段应答和一次校验错误", "Line noise, answers in pieces and one corrupted checksum");
    {
        let mut sim = reader.sim();
        sim.faults.noise_before_preamble = true;
        sim.faults.chunk_size = Some(16);
        sim.faults.bad_checksums = 1;
        sim.place_card(sample_cards().remove(0).1);
    }
    wait_for(&mut service, "card", |e| matches!(e, ReaderEvent::CardRead(_))).await?;
    println!("  读卡成功 card read all the same (the corrupted answer was asked for again)");
    reader.sim().faults = Default::default();
    reader.sim().lift_card();

    step("读卡过程中拿开身份证", "The card is lifted in the middle of a read");
    {
        let mut sim = reader.sim();
        sim.faults.lift_during_read = true;
        sim.place_card(sample_cards().remove(2).1);
    }
    let prompt =
        wait_for(&mut service, "re-placement prompt", |e| matches!(e, ReaderEvent::LiftAndReplace(_)))
            .await?;
    println!("  {}", describe(&prompt));

    step("拔出读卡器", "Unplugging the reader");
    drop(reader);
    std::fs::remove_file(&link)?;
    let gone =
        wait_for(&mut service, "disconnect", |e| matches!(e, ReaderEvent::Disconnected { .. })).await?;
    println!("  {}", describe(&gone));

    step("重新插入读卡器", "Plugging the reader back in");
    let reader = PtySim::start(Simulator::new(SAM))?;
    reader.link_as(&link)?;
    let ready = wait_for(&mut service, "ready reader", |e| matches!(e, ReaderEvent::Ready(_))).await?;
    println!("  {}", describe(&ready));
    reader.sim().place_card(sample_cards().remove(1).1);
    match wait_for(&mut service, "card", |e| matches!(e, ReaderEvent::CardRead(_))).await? {
        ReaderEvent::CardRead(card) if card.valid_until.is_none() => {
            println!("  已读卡 card read (有效期 长期 / valid long-term)")
        }
        other => bail!("unexpected: {}", describe(&other)),
    }

    service.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    println!("\n读卡演示结束 / ID card demo finished.");
    Ok(())
}
