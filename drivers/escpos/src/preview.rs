//! The slip drawn at the printer's dot width, as the kiosk shows it on screen before printing and
//! as tests check it. QR codes and barcodes are drawn module by module so that standard decoders
//! read them back.

use barcoders::sym::code128::Code128;
use qrcode::{Color, EcLevel, QrCode};

use crate::canvas::{COLUMN_DOTS, Canvas, LINE_DOTS};
use crate::code128;
use crate::doc::{Align, QrLevel, Slip, Style};
use crate::layout::{self, LayoutError, Op};
use crate::profile::Profile;
use crate::text;

/// Gap between text lines, as the printers' default line spacing leaves.
const LINE_GAP: u32 = 6;
const BARCODE_HEIGHT: u32 = 80;

/// One text line as dots, `width` wide, aligned as the style asks.
pub fn text_line(line: &str, style: Style, width: u32) -> Canvas {
    let scale = if style.double { 2 } else { 1 };
    let mut c = Canvas::new(width, LINE_DOTS * scale);
    let used = (text::columns(line) as u32 * COLUMN_DOTS * scale).min(width);
    let x = match style.align {
        Align::Left => 0,
        Align::Center => (width - used) / 2,
        Align::Right => width - used,
    };
    c.text(x, 0, line, scale, style.bold);
    c
}

/// A QR symbol with its four-module quiet zone.
pub fn qr(data: &str, level: QrLevel, module: u8) -> Canvas {
    let ec = match level {
        QrLevel::L => EcLevel::L,
        QrLevel::M => EcLevel::M,
        QrLevel::Q => EcLevel::Q,
        QrLevel::H => EcLevel::H,
    };
    let code = QrCode::with_error_correction_level(data.as_bytes(), ec).expect("sized by the layout");
    let (n, m) = (code.width() as u32, u32::from(module));
    let mut c = Canvas::new((n + 8) * m, (n + 8) * m);
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == Color::Dark {
            let (x, y) = (i as u32 % n, i as u32 / n);
            c.fill((x + 4) * m, (y + 4) * m, m, m);
        }
    }
    c
}

/// A CODE128 symbol with ten-module quiet zones and its text below.
pub fn barcode(data: &str, segments: &[code128::Segment], module: u8) -> Canvas {
    let bars = Code128::new(code128::barcoders_input(segments)).expect("segments are valid CODE128").encode();
    let m = u32::from(module);
    let width = (bars.len() as u32 + 20) * m;
    let mut c = Canvas::new(width, BARCODE_HEIGHT + LINE_GAP + LINE_DOTS);
    for (i, bar) in bars.iter().enumerate() {
        if *bar == 1 {
            c.fill((i as u32 + 10) * m, 0, m, BARCODE_HEIGHT);
        }
    }
    let hri = text_line(data, Style { align: Align::Center, ..Style::default() }, width);
    c.blit(&hri, 0, BARCODE_HEIGHT + LINE_GAP);
    c
}

/// Where a drawing starts when centred on the paper.
fn centred(item: &Canvas, width: u32) -> u32 {
    width.saturating_sub(item.width) / 2
}

/// Draws the slip as the given printer would print it.
pub fn render(slip: &Slip, profile: &Profile) -> Result<Canvas, LayoutError> {
    let width = u32::from(profile.dots);
    let ops = layout::layout(slip, profile)?.ops;
    // Draw each operation, then stack them.
    let mut pieces: Vec<(u32, Canvas, u32)> = Vec::new(); // (x, drawing, gap after)
    for op in &ops {
        match op {
            Op::Text { text, style, .. } => pieces.push((0, text_line(text, *style, width), LINE_GAP)),
            Op::Rule => {
                let mut c = Canvas::new(width, LINE_DOTS);
                c.fill(0, LINE_DOTS / 2, width, 2);
                pieces.push((0, c, LINE_GAP));
            }
            Op::Qr { data, level, module, .. } => {
                let q = qr(data, *level, *module);
                pieces.push((centred(&q, width), q, LINE_GAP));
            }
            Op::Barcode { data, segments, module } => {
                let b = barcode(data, segments, *module);
                pieces.push((centred(&b, width), b, LINE_GAP));
            }
            Op::Feed(n) => pieces.push((0, Canvas::new(width, u32::from(*n) * (LINE_DOTS + LINE_GAP)), 0)),
            Op::Cut => {
                // A dashed line where the cutter falls.
                let mut c = Canvas::new(width, 12);
                (0..width).step_by(12).for_each(|x| c.fill(x, 5, 6, 2));
                pieces.push((0, c, 0));
            }
        }
    }
    let margin = 16;
    let height = margin * 2 + pieces.iter().map(|(_, c, gap)| c.height + gap).sum::<u32>();
    let mut page = Canvas::new(width, height);
    let mut y = margin;
    for (x, c, gap) in &pieces {
        page.blit(c, *x, y);
        y += c.height + gap;
    }
    Ok(page)
}

/// The slip as PNG bytes.
pub fn render_png(slip: &Slip, profile: &Profile) -> Result<Vec<u8>, LayoutError> {
    let mut png = Vec::new();
    render(slip, profile)?
        .to_image()
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("PNG encoding into memory cannot fail");
    Ok(png)
}
