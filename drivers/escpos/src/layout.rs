//! From a slip to printable operations for one printer profile: text wrapped to the paper's
//! columns, characters the font lacks detected, QR and barcode sized to the paper. The encoder
//! and the preview both consume this, so the preview shows what the printer will print.

use qrcode::{EcLevel, QrCode};

use crate::code128::{self, BarcodeError, Segment};
use crate::doc::{Align, Block, QrLevel, Slip, Style};
use crate::profile::Profile;
use crate::text;

/// How a line of text reaches the paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextMode {
    /// Character codes, printed by the printer's font.
    Native,
    /// An image of the line, because the font lacks some of its characters.
    Raster,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Text { text: String, style: Style, mode: TextMode },
    Rule,
    Qr { data: String, level: QrLevel, module: u8, modules: u32, raster: bool },
    Barcode { data: String, segments: Vec<Segment>, module: u8 },
    Feed(u8),
    Cut,
}

/// Something the layout had to do differently from what the slip asked, for the log and for
/// the technician (never contains a whole line of text: slips carry masked personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A line holds characters the font cannot print, so it is printed as an image.
    RasterLine { missing: Vec<char> },
    /// The printer has no native QR, so the code is printed as an image.
    RasterQr,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error("barcode: {0}")]
    Barcode(#[from] BarcodeError),
    #[error("barcode of {modules} modules does not fit {dots} dots of paper")]
    BarcodeTooWide { modules: usize, dots: u16 },
    #[error("QR code data of {0} bytes is too long for a slip")]
    QrTooLong(usize),
    #[error("table row {row} has {cells} cells for {columns} columns")]
    TableShape { row: usize, cells: usize, columns: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub ops: Vec<Op>,
    pub notes: Vec<Note>,
}

/// Physical QR size aimed for: about 20 mm at 8 dots/mm, so phone cameras read it from a hand.
const QR_TARGET_DOTS: u32 = 160;

pub fn layout(slip: &Slip, profile: &Profile) -> Result<Layout, LayoutError> {
    let mut out = Layout { ops: Vec::new(), notes: Vec::new() };
    let columns = profile.columns();
    for block in &slip.blocks {
        match block {
            Block::Text { text, style } => {
                let width = if style.double { columns / 2 } else { columns };
                for line in text::wrap(text, width) {
                    out.text(line, *style, profile);
                }
            }
            Block::KeyValue { key, value } => {
                let prefix = format!("{key}：");
                let indent = text::columns(&prefix);
                let lines = text::wrap(value, columns.saturating_sub(indent).max(8));
                for (i, line) in lines.into_iter().enumerate() {
                    let head = if i == 0 { prefix.clone() } else { " ".repeat(indent) };
                    out.text(format!("{head}{line}"), Style::default(), profile);
                }
            }
            Block::Table { widths, rows } => {
                let total: usize = widths.iter().map(|w| usize::from(*w)).sum::<usize>().max(1);
                let cols: Vec<usize> = widths.iter().map(|w| columns * usize::from(*w) / total).collect();
                for (r, row) in rows.iter().enumerate() {
                    if row.len() != cols.len() {
                        return Err(LayoutError::TableShape {
                            row: r,
                            cells: row.len(),
                            columns: cols.len(),
                        });
                    }
                    let cells: Vec<Vec<String>> = row
                        .iter()
                        .zip(&cols)
                        .map(|(cell, w)| text::wrap(cell, w.saturating_sub(1)))
                        .collect();
                    let height = cells.iter().map(Vec::len).max().unwrap_or(1);
                    for l in 0..height {
                        let line: String = cells
                            .iter()
                            .zip(&cols)
                            .map(|(c, w)| text::pad(c.get(l).map_or("", String::as_str), *w))
                            .collect();
                        out.text(
                            line.trim_end().to_owned(),
                            Style { bold: r == 0, ..Style::default() },
                            profile,
                        );
                    }
                }
            }
            Block::Separator => out.ops.push(Op::Rule),
            Block::Qr { data, level } => {
                let ec = match level {
                    QrLevel::L => EcLevel::L,
                    QrLevel::M => EcLevel::M,
                    QrLevel::Q => EcLevel::Q,
                    QrLevel::H => EcLevel::H,
                };
                let code = QrCode::with_error_correction_level(data.as_bytes(), ec)
                    .map_err(|_| LayoutError::QrTooLong(data.len()))?;
                let modules = code.width() as u32;
                let fit = u32::from(profile.dots) / (modules + 8);
                let module = QR_TARGET_DOTS
                    .div_ceil(modules)
                    .clamp(3, 8)
                    .min(fit)
                    .min(u32::from(profile.qr_module_max));
                if module == 0 {
                    return Err(LayoutError::QrTooLong(data.len()));
                }
                if !profile.native_qr {
                    out.notes.push(Note::RasterQr);
                }
                out.ops.push(Op::Qr {
                    data: data.clone(),
                    level: *level,
                    module: module as u8,
                    modules,
                    raster: !profile.native_qr,
                });
            }
            Block::Barcode { data } => {
                let segments = code128::segments(data)?;
                let modules = code128::modules(&segments) + 20; // with quiet zones
                let module = if modules * 2 <= usize::from(profile.dots) { 2 } else { 1 };
                if modules > usize::from(profile.dots) {
                    return Err(LayoutError::BarcodeTooWide { modules, dots: profile.dots });
                }
                out.ops.push(Op::Barcode { data: data.clone(), segments, module });
            }
            Block::Feed(n) => out.ops.push(Op::Feed(*n)),
            Block::Cut => out.ops.push(Op::Cut),
        }
    }
    Ok(out)
}

impl Layout {
    fn text(&mut self, line: String, style: Style, profile: &Profile) {
        let mut missing: Vec<char> = line.chars().filter(|c| !text::printable(*c, profile.font)).collect();
        missing.dedup();
        let mode = if missing.is_empty() {
            TextMode::Native
        } else {
            tracing::info!(
                missing = ?missing.iter().map(|c| format!("U+{:04X}", u32::from(*c))).collect::<Vec<_>>(),
                profile = profile.name,
                "line printed as an image: the printer's font lacks some characters"
            );
            self.notes.push(Note::RasterLine { missing });
            TextMode::Raster
        };
        self.ops.push(Op::Text { text: line, style, mode });
    }
}

impl Align {
    /// The ESC a parameter.
    pub fn code(self) -> u8 {
        match self {
            Align::Left => 0,
            Align::Center => 1,
            Align::Right => 2,
        }
    }
}
