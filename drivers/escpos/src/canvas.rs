//! A one-bit canvas at the printer's dot pitch, with text drawn from GNU Unifont. It serves the
//! preview PNG and the raster images sent to printers (GS v 0), so both show the same dots.

use image::GrayImage;

/// Height of a normal text line in dots (the printers' 24-dot Chinese font).
pub const LINE_DOTS: u32 = 24;
/// Width of one text column in dots (half of a Chinese character).
pub const COLUMN_DOTS: u32 = 12;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    /// Row-major, `true` = black dot.
    dots: Vec<bool>,
}

impl Canvas {
    pub fn new(width: u32, height: u32) -> Self {
        Self { width, height, dots: vec![false; (width * height) as usize] }
    }

    pub fn set(&mut self, x: u32, y: u32) {
        if x < self.width && y < self.height {
            self.dots[(y * self.width + x) as usize] = true;
        }
    }

    pub fn get(&self, x: u32, y: u32) -> bool {
        x < self.width && y < self.height && self.dots[(y * self.width + x) as usize]
    }

    pub fn fill(&mut self, x: u32, y: u32, w: u32, h: u32) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.set(xx, yy);
            }
        }
    }

    /// Copies another canvas in at (x, y).
    pub fn blit(&mut self, other: &Canvas, x: u32, y: u32) {
        for yy in 0..other.height {
            for xx in 0..other.width {
                if other.get(xx, yy) {
                    self.set(x + xx, y + yy);
                }
            }
        }
    }

    /// Draws text with its top-left corner at (x, y). `scale` is 1 for the normal 12×24 cells
    /// and 2 for double size. Characters Unifont lacks (outside the Basic Multilingual Plane)
    /// are drawn as an outlined box: visibly missing, never garbage.
    pub fn text(&mut self, x: u32, y: u32, text: &str, scale: u32, bold: bool) {
        let mut cx = x;
        for c in text.chars() {
            let cols = crate::text::char_columns(c) as u32;
            let (cw, ch) = (COLUMN_DOTS * cols * scale, LINE_DOTS * scale);
            match unifont::get_glyph(c) {
                // Unifont glyphs are 8 or 16 dots wide and 16 high; the printer's are 12 or 24
                // wide and 24 high: scale by 3/2 (times `scale`), nearest neighbour.
                Some(glyph) => {
                    for gy in 0..ch {
                        for gx in 0..cw {
                            let (sx, sy) = ((gx * 2 / (3 * scale)) as usize, (gy * 2 / (3 * scale)) as usize);
                            if sx < glyph.get_width() && glyph.get_pixel(sx, sy) {
                                self.set(cx + gx, y + gy);
                                if bold {
                                    self.set(cx + gx + 1, y + gy);
                                }
                            }
                        }
                    }
                }
                None if c == ' ' => {}
                None => {
                    let (bx, by, bw, bh) = (cx + 2, y + 2, cw.saturating_sub(4), ch.saturating_sub(4));
                    self.fill(bx, by, bw, 2);
                    self.fill(bx, by + bh - 2, bw, 2);
                    self.fill(bx, by, 2, bh);
                    self.fill(bx + bw - 2, by, 2, bh);
                }
            }
            cx += cw;
        }
    }

    /// `GS v 0` raster bit image: eight dots a byte, most significant bit leftmost.
    pub fn to_gs_v0(&self) -> Vec<u8> {
        let row_bytes = self.width.div_ceil(8);
        let mut out = vec![0x1D, 0x76, 0x30, 0x00];
        out.extend_from_slice(&(row_bytes as u16).to_le_bytes());
        out.extend_from_slice(&(self.height as u16).to_le_bytes());
        for y in 0..self.height {
            for bx in 0..row_bytes {
                let byte =
                    (0..8).fold(0u8, |acc, bit| acc | (u8::from(self.get(bx * 8 + bit, y)) << (7 - bit)));
                out.push(byte);
            }
        }
        out
    }

    /// Rebuilds a canvas from `GS v 0` data (as the simulator and tests receive it).
    pub fn from_gs_v0(row_bytes: usize, rows: usize, data: &[u8]) -> Self {
        let mut canvas = Canvas::new((row_bytes * 8) as u32, rows as u32);
        for (i, byte) in data.iter().enumerate().take(row_bytes * rows) {
            for bit in 0..8 {
                if byte & (0x80 >> bit) != 0 {
                    canvas.set(((i % row_bytes) * 8 + bit) as u32, (i / row_bytes) as u32);
                }
            }
        }
        canvas
    }

    /// White paper, black dots.
    pub fn to_image(&self) -> GrayImage {
        GrayImage::from_fn(self.width, self.height, |x, y| {
            image::Luma([if self.get(x, y) { 0 } else { 255 }])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raster_round_trips_and_follows_the_byte_layout() {
        let mut c = Canvas::new(10, 2);
        c.set(0, 0);
        c.set(9, 1);
        let bytes = c.to_gs_v0();
        assert_eq!(&bytes[..8], &[0x1D, 0x76, 0x30, 0x00, 2, 0, 2, 0]);
        assert_eq!(&bytes[8..], &[0x80, 0x00, 0x00, 0x40]);
        let back = Canvas::from_gs_v0(2, 2, &bytes[8..]);
        assert!(back.get(0, 0) && back.get(9, 1) && !back.get(1, 0));
    }

    #[test]
    fn text_draws_cjk_twice_as_wide_and_boxes_missing_glyphs() {
        let mut c = Canvas::new(200, 24);
        c.text(0, 0, "中a", 1, false);
        let ink = |x0: u32, x1: u32| {
            (x0..x1).flat_map(|x| (0..24).map(move |y| (x, y))).filter(|&(x, y)| c.get(x, y)).count()
        };
        assert!(ink(0, 24) > 20 && ink(24, 36) > 5, "中 fills 24 dots, a fills 12");
        let mut b = Canvas::new(48, 24);
        b.text(0, 0, "\u{20000}", 1, false);
        assert!(b.get(2, 12) && b.get(21, 12) && !b.get(12, 12), "outlined box for a missing glyph");
    }
}
