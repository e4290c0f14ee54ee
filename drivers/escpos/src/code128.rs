//! CODE128 for the printer's native barcode command: code set C packs two digits per symbol, so
//! a case number of digits prints at half the width, and set B carries everything else.

/// A run of data in one code set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    B(String),
    C(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    #[error("CODE128 data must be printable ASCII; found {0:?}")]
    NotAscii(char),
    #[error("CODE128 data is empty")]
    Empty,
    #[error("CODE128 data of {0} bytes is over the printer's 255-byte limit")]
    TooLong(usize),
}

/// Splits data into code sets: digit runs of four or more (or an all-digit value) go to set C,
/// an odd leading digit staying in set B.
pub fn segments(data: &str) -> Result<Vec<Segment>, BarcodeError> {
    if data.is_empty() {
        return Err(BarcodeError::Empty);
    }
    if let Some(c) = data.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(BarcodeError::NotAscii(c));
    }
    let all_digits = data.bytes().all(|b| b.is_ascii_digit());
    let mut out: Vec<Segment> = Vec::new();
    let push_b = |out: &mut Vec<Segment>, s: &str| match out.last_mut() {
        Some(Segment::B(b)) => b.push_str(s),
        _ => out.push(Segment::B(s.to_owned())),
    };
    let bytes = data.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if run >= 4 || (all_digits && run >= 2) {
            let odd = run % 2;
            if odd == 1 {
                push_b(&mut out, &data[i..i + 1]);
            }
            out.push(Segment::C(data[i + odd..i + run].to_owned()));
            i += run;
        } else {
            let len = run.max(1);
            push_b(&mut out, &data[i..i + len]);
            i += len;
        }
    }
    Ok(out)
}

/// The data bytes of `GS k 73`: `{B`/`{C` selectors, set-C pairs as binary values, `{` doubled.
pub fn escpos_data(segments: &[Segment]) -> Vec<u8> {
    let mut out = Vec::new();
    for seg in segments {
        match seg {
            Segment::B(s) => {
                out.extend_from_slice(b"{B");
                for b in s.bytes() {
                    if b == b'{' {
                        out.push(b'{');
                    }
                    out.push(b);
                }
            }
            Segment::C(s) => {
                out.extend_from_slice(b"{C");
                out.extend(s.as_bytes().chunks(2).map(|p| (p[0] - b'0') * 10 + (p[1] - b'0')));
            }
        }
    }
    out
}

/// The same segments in `barcoders`' notation (`Ɓ` starts set B, `Ć` set C), for drawing.
pub fn barcoders_input(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|s| match s {
            Segment::B(t) => format!("Ɓ{t}"),
            Segment::C(t) => format!("Ć{t}"),
        })
        .collect()
}

/// Width in modules: start, code-set switches, data, check, stop (13), no quiet zone.
pub fn modules(segments: &[Segment]) -> usize {
    let data: usize = segments
        .iter()
        .map(|s| match s {
            Segment::B(t) => t.len(),
            Segment::C(t) => t.len() / 2,
        })
        .sum();
    11 * (1 + (segments.len() - 1) + data + 1) + 13
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_pack_into_set_c_as_in_the_reference() {
        let s = segments("20240612000123").unwrap();
        assert_eq!(s, [Segment::C("20240612000123".into())]);
        assert_eq!(escpos_data(&s), [0x7B, 0x43, 0x14, 0x18, 0x06, 0x0C, 0x00, 0x01, 0x17]);
        assert_eq!(modules(&s), 112);
    }

    #[test]
    fn mixed_data_switches_sets() {
        let s = segments("No.123456").unwrap();
        assert_eq!(s, [Segment::B("No.".into()), Segment::C("123456".into())]);
        assert_eq!(escpos_data(&s), [0x7B, 0x42, 0x4E, 0x6F, 0x2E, 0x7B, 0x43, 0x0C, 0x22, 0x38]);
        let s = segments("NH12345").unwrap();
        assert_eq!(s, [Segment::B("NH1".into()), Segment::C("2345".into())]);
        assert_eq!(barcoders_input(&s), "ƁNH1Ć2345");
        assert_eq!(segments("A1B2").unwrap(), [Segment::B("A1B2".into())]);
        assert_eq!(escpos_data(&segments("a{b").unwrap()), b"{Ba{{b");
    }

    #[test]
    fn rejects_what_code128_cannot_carry() {
        assert_eq!(segments("办件"), Err(BarcodeError::NotAscii('办')));
        assert_eq!(segments(""), Err(BarcodeError::Empty));
    }
}
