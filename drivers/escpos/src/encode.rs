//! Slip → ESC/POS bytes for one profile (sans-IO). Command bytes follow `reference/escpos.md` §1.

use crate::doc::Slip;
use crate::layout::{self, LayoutError, Note, Op, TextMode};
use crate::preview;
use crate::profile::{CutCommand, Profile};
use crate::text;

pub const ESC: u8 = 0x1B;
pub const GS: u8 = 0x1D;
pub const FS: u8 = 0x1C;

/// The bytes for one slip and what the layout had to adapt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub notes: Vec<Note>,
}

/// `GS ( k` with cn = 49 (QR): pL pH count the bytes after them.
fn gs_k(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(&[GS, b'(', b'k']);
    out.extend_from_slice(&((body.len() + 1) as u16).to_le_bytes());
    out.push(0x31);
    out.extend_from_slice(body);
}

pub fn encode(slip: &Slip, profile: &Profile) -> Result<Encoded, LayoutError> {
    let layout = layout::layout(slip, profile)?;
    let width = u32::from(profile.dots);
    // ESC @ resets the modes, so Chinese mode (FS &) is set right after it, every job.
    let mut out = vec![ESC, b'@', FS, b'&'];
    for op in &layout.ops {
        match op {
            Op::Text { text, style, mode } => {
                out.extend_from_slice(&[ESC, b'a', style.align.code()]);
                match mode {
                    TextMode::Native => {
                        if style.bold {
                            out.extend_from_slice(&[ESC, b'E', 1]);
                        }
                        if style.double {
                            out.extend_from_slice(&[GS, b'!', 0x11]);
                        }
                        out.extend(text::gb18030(text));
                        out.push(b'\n');
                        if style.bold {
                            out.extend_from_slice(&[ESC, b'E', 0]);
                        }
                        if style.double {
                            out.extend_from_slice(&[GS, b'!', 0]);
                        }
                    }
                    TextMode::Raster => out.extend(preview::text_line(text, *style, width).to_gs_v0()),
                }
            }
            Op::Rule => {
                out.extend_from_slice(&[ESC, b'a', 0]);
                out.extend(std::iter::repeat_n(b'-', profile.columns()));
                out.push(b'\n');
            }
            Op::Qr { data, level, module, raster, .. } => {
                out.extend_from_slice(&[ESC, b'a', 1]);
                if *raster {
                    out.extend(preview::qr(data, *level, *module).to_gs_v0());
                } else {
                    gs_k(&mut out, &[0x41, 0x32, 0x00]); // model 2
                    gs_k(&mut out, &[0x43, *module]);
                    gs_k(&mut out, &[0x45, 0x30 + *level as u8]);
                    let mut store = vec![0x50, 0x30];
                    store.extend_from_slice(data.as_bytes());
                    gs_k(&mut out, &store);
                    gs_k(&mut out, &[0x51, 0x30]); // print
                    out.push(b'\n');
                }
                out.extend_from_slice(&[ESC, b'a', 0]);
            }
            Op::Barcode { segments, module, .. } => {
                let data = crate::code128::escpos_data(segments);
                out.extend_from_slice(&[ESC, b'a', 1]);
                out.extend_from_slice(&[GS, b'H', 2, GS, b'f', 0, GS, b'h', 80, GS, b'w', *module]);
                out.extend_from_slice(&[GS, b'k', 73, data.len() as u8]);
                out.extend(data);
                out.push(b'\n');
                out.extend_from_slice(&[ESC, b'a', 0]);
            }
            Op::Feed(n) => out.extend_from_slice(&[ESC, b'd', *n]),
            Op::Cut => match profile.cut {
                CutCommand::FeedAndCut => out.extend_from_slice(&[GS, b'V', 66, 0]),
                CutCommand::Partial => out.extend_from_slice(&[ESC, b'd', 4, GS, b'V', 1]),
                CutCommand::None => out.extend_from_slice(&[ESC, b'd', 4]),
            },
        }
    }
    Ok(Encoded { bytes: out, notes: layout.notes })
}
