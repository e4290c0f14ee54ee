//! `kiosk-diag demo`: a resident's path through the kiosk with simulated devices and the local
//! reference gateway, through the real drivers, transports and sync agent: the card is read
//! ([`idcard`]), the application is queued and uploaded ([`sync`]), the slip is printed with the
//! case number the gateway gave, and the scanner reads codes. Also the reader simulator
//! ([`simulate`]). All of it exists only with the `demo` feature: the kiosk's image leaves it out.

pub mod idcard;
pub mod simulate;
pub mod sync;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use kiosk_escpos::sim::{PrinterSim, SimServer};
use kiosk_escpos::{Printer, PrinterError, Slip, preview};
use kiosk_scanner::sim::serial_bytes;
use kiosk_scanner::{Device, Mode, ScanConfig, ScannerEvent, ScannerService, Suffix};
use serialport::{SerialPort, TTYPort};

pub fn step(zh: &str, en: &str) {
    println!("\n▶ {zh} / {en}");
}

/// Now in China Standard Time, as the slip shows it.
fn submitted_at() -> String {
    let cst = time::UtcOffset::from_hms(8, 0, 0).expect("a valid offset");
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::now_utc().to_offset(cst).format(&f).unwrap_or_default()
}

/// An application slip as the kiosk prints it: personal data masked (domain.md §6.5).
fn application_slip(case: &str, reprint: bool) -> Slip {
    let slip = Slip::new().title("申请回执");
    let slip = if reprint {
        slip.text_styled(
            "（补打 / reprint）",
            kiosk_escpos::Style { align: kiosk_escpos::Align::Center, ..Default::default() },
        )
    } else {
        slip
    };
    slip.text_styled(
        "南海区政务服务 · 市民之窗",
        kiosk_escpos::Style { align: kiosk_escpos::Align::Center, ..Default::default() },
    )
    .separator()
    .kv("业务编号", case)
    .kv("事项名称", "居住证申领（示例事项）")
    .kv("申请人", "陈*")
    .kv("证件号码", "4406**********1237")
    .kv("提交时间", &submitted_at())
    .kv("办件类型", "承诺件，10 个工作日")
    .table(
        &[3, 1, 1],
        &[&["已收材料", "份数", "形式"], &["居民身份证", "1", "电子"], &["租赁合同", "1", "纸质"]],
    )
    .separator()
    .qr(&format!("https://zwfw.nanhai.example/t/{case}"))
    .barcode(case)
    .text("本回执为查询凭证，请妥善保管。")
    .kv("终端编号", "NH-GC-0007")
    .feed(2)
    .cut()
}

fn printer_tour(out_dir: &Path, case: &str) -> Result<()> {
    step("连接凭条打印机（串口）", "Connecting to the receipt printer (serial)");
    let server = SimServer::pty(PrinterSim::new())?;
    let mut printer = Printer::open(&server.device.parse().map_err(anyhow::Error::msg)?, None)?;
    let status = printer.status()?;
    println!("  {} · profile {} · ready: {}", printer.describe(), printer.profile().name, status.ready());

    step("打印申请回执（个人信息已脱敏）", "Printing an application slip (personal data masked)");
    let slip = application_slip(case, false);
    let report = printer.print(&slip)?;
    println!("  {} bytes sent; the printer confirmed the end of the slip", report.bytes);
    for line in server.sim().lines().iter().take(8) {
        println!("  │ {line}");
    }
    std::fs::create_dir_all(out_dir)?;
    let png = out_dir.join("slip-gbk-80mm.png");
    std::fs::write(&png, preview::render_png(&slip, printer.profile())?)?;
    println!("  预览 preview: {}", png.display());

    step("打印中途缺纸", "The paper runs out in the middle of a slip");
    server.sim().faults.paper_end_after_lines = Some(4);
    match printer.print(&slip) {
        Err(e @ PrinterError::Interrupted { .. }) => println!("  {e}"),
        other => bail!("expected an interrupted slip, got {other:?}"),
    }
    step("装入新纸卷后补打", "New roll loaded: the slip is printed again, marked as a reprint");
    server.sim().load_paper();
    printer.print(&application_slip(case, true))?;
    println!("  补打完成 reprinted; printer ready: {}", printer.status()?.ready());
    Ok(())
}

async fn scanner_tour() -> Result<()> {
    step("扫码器（USB 串口模式）", "The QR scanner (USB serial mode)");
    let (mut master, slave) = TTYPort::pair()?;
    let path = slave.name().context("pty path")?;
    let config = ScanConfig { login_prefix: Some("GDZWFW:".into()), ..ScanConfig::default() };
    let mut service =
        ScannerService::spawn(Device::Serial { path, baud: 9600 }, Mode::Serial(Suffix::Cr), config)?;
    let scans: [&[u8]; 5] = [
        b"https://zwfw.nanhai.example/t/NH20261127000123?s=3f9a",
        b"https://zwfw.nanhai.example/t/NH20261127000123?s=3f9a",
        b"GDZWFW:eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9",
        b"\x1b[2J\x00garbage",
        b"20261127000123",
    ];
    let mut shown = 0;
    let mut sent = false;
    while shown < 5 {
        let event = tokio::time::timeout(Duration::from_secs(10), service.next_event())
            .await?
            .context("scanner stopped")?;
        match event {
            ScannerEvent::Connected { device } => {
                println!("  已连接 connected: {device}");
                shown += 1;
                if !sent {
                    sent = true;
                    for s in scans {
                        master.write_all(&serial_bytes(s, Suffix::Cr))?;
                        master.flush()?;
                    }
                    println!("  (the same code was scanned twice in a row: shown once)");
                }
            }
            ScannerEvent::Scan(scan) => {
                println!("  [{:?}] {}", scan.kind, scan.display_text(Some("GDZWFW:")));
                shown += 1;
            }
            ScannerEvent::Rejected(reason) => {
                println!("  拒绝 rejected: {reason}");
                shown += 1;
            }
            ScannerEvent::Disconnected { device, reason } => println!("  未连接 {device}: {reason}"),
        }
    }
    drop(slave);
    Ok(())
}

pub fn run(out_dir: &Path) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(crate::demo::idcard::run())?;
    let case = runtime.block_on(crate::demo::sync::run(&out_dir.join("sync")))?;
    printer_tour(out_dir, &case)?;
    runtime.block_on(scanner_tour())?;
    println!("\n全部演示结束 / All demos finished.");
    Ok(())
}
