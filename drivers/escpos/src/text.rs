//! Chinese text for the printer: GB18030 bytes, what a given font can print, and widths in
//! columns (a Chinese character takes two).

use unicode_width::UnicodeWidthChar;

use crate::profile::FontCoverage;

/// Characters with a better-printing twin inside two-byte GBK: U+00A5 is a four-byte sequence
/// that GBK printers print as "0 6" (node-escpos#332), its full-width form is A3 A4.
fn normalise(c: char) -> char {
    match c {
        '¥' => '￥',
        c => c,
    }
}

/// The text as GB18030 bytes, after [`normalise`]. GB18030 covers all of Unicode.
pub fn gb18030(text: &str) -> Vec<u8> {
    let text: String = text.chars().map(normalise).collect();
    encoding_rs::GB18030.encode(&text).0.into_owned()
}

/// Whether the font prints `c` as itself.
pub fn printable(c: char, font: FontCoverage) -> bool {
    let c = normalise(c);
    if c.is_ascii() {
        return !c.is_ascii_control();
    }
    if c.is_control() {
        return false;
    }
    let mut buf = [0u8; 4];
    let bytes = gb18030(c.encode_utf8(&mut buf));
    match (bytes.as_slice(), font) {
        ([_, _], FontCoverage::Gbk | FontCoverage::Gb18030) => true,
        ([lead, trail], FontCoverage::Gb2312) => {
            (0xA1..=0xF7).contains(lead) && (0xA1..=0xFE).contains(trail)
        }
        ([_, _, _, _], FontCoverage::Gb18030) => true,
        _ => false,
    }
}

/// Columns a character takes on the printer (and in the preview).
pub fn char_columns(c: char) -> usize {
    c.width().unwrap_or(0).max(1)
}

pub fn columns(text: &str) -> usize {
    text.chars().map(char_columns).sum()
}

/// Splits text into lines of at most `width` columns, keeping Latin words whole where they fit.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(2);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for c in paragraph.chars() {
            if columns(&line) + char_columns(c) > width {
                // Carry a partial Latin word over when it fits on the next line.
                let carry = match line.rfind(' ') {
                    Some(i)
                        if c.is_ascii_alphanumeric()
                            && columns(&line[i + 1..]) + char_columns(c) <= width =>
                    {
                        line.split_off(i + 1)
                    }
                    _ => String::new(),
                };
                lines.push(line.trim_end().to_owned());
                line = carry;
            }
            if !(line.is_empty() && c == ' ') {
                line.push(c);
            }
        }
        lines.push(line);
    }
    lines
}

/// `text` padded with spaces to exactly `width` columns (cut if longer).
pub fn pad(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        if used + char_columns(c) > width {
            break;
        }
        out.push(c);
        used += char_columns(c);
    }
    out.extend(std::iter::repeat_n(' ', width - used));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb18030_bytes_match_the_reference_table() {
        assert_eq!(gb18030("办事回执"), [0xB0, 0xEC, 0xCA, 0xC2, 0xBB, 0xD8, 0xD6, 0xB4]);
        assert_eq!(gb18030("喆堃"), [0x86, 0xB4, 0x88, 0xD2]);
        assert_eq!(gb18030("镕"), [0xE9, 0x46]);
        assert_eq!(gb18030("䶮"), [0xFE, 0x9F]);
        assert_eq!(gb18030("\u{20000}"), [0x95, 0x32, 0x82, 0x36]);
        assert_eq!(gb18030("¥"), [0xA3, 0xA4], "yen is sent as its full-width two-byte form");
    }

    #[test]
    fn font_coverage() {
        use FontCoverage::*;
        for c in ['中', '：', 'A'] {
            assert!(printable(c, Gb2312) && printable(c, Gbk) && printable(c, Gb18030), "{c}");
        }
        for c in ['喆', '堃', '镕'] {
            assert!(!printable(c, Gb2312) && printable(c, Gbk), "{c}");
        }
        assert!(!printable('\u{20000}', Gbk) && printable('\u{20000}', Gb18030));
        assert!(printable('䶮', Gbk), "two-byte in GB18030-2022");
        assert!(!printable('\u{7}', Gb18030));
    }

    #[test]
    fn wraps_by_columns() {
        assert_eq!(wrap("一二三四五", 4), ["一二", "三四", "五"]);
        assert_eq!(wrap("abc defgh", 6), ["abc", "defgh"]);
        assert_eq!(wrap("a\nb", 10), ["a", "b"]);
        assert_eq!(pad("中a", 5), "中a  ");
        assert_eq!(columns("中a"), 3);
    }
}
