//! Scanners on the device side, one per mode: what each sends for a scanned code. They back the
//! tests (a pseudo-terminal for serial scanners, a FIFO standing in for hidraw) and the virtual
//! rig, where the same reports go to the HID gadget.

use std::io::Write;

use crate::frame::{ENTER_KEY, POS_DATA_LEN, POS_REPORT_LEN, Suffix, key_for};

/// The bytes a serial scanner sends for `text`.
pub fn serial_bytes(text: &[u8], suffix: Suffix) -> Vec<u8> {
    let mut out = text.to_vec();
    out.extend_from_slice(match suffix {
        Suffix::Cr => b"\r",
        Suffix::Lf => b"\n",
        Suffix::CrLf => b"\r\n",
        Suffix::Tab => b"\t",
    });
    out
}

/// Boot-keyboard reports typing `text` and Enter: a press and a release for every character.
/// Keyboard emulation can only type what a US keyboard has; anything else is an error, as on a
/// real scanner in this mode.
pub fn keyboard_reports(text: &str) -> Result<Vec<[u8; 8]>, char> {
    let mut out = Vec::new();
    for c in text.chars() {
        let (key, shift) = key_for(c).ok_or(c)?;
        out.push([if shift { 0x02 } else { 0 }, 0, key, 0, 0, 0, 0, 0]);
        out.push([0; 8]);
    }
    out.push([0, 0, ENTER_KEY, 0, 0, 0, 0, 0]);
    out.push([0; 8]);
    Ok(out)
}

/// HID POS scanned-data reports for `data`, 56 bytes a report, with AIM symbology `aim`
/// (`]Q1` for QR, `]C0` for CODE128).
pub fn pos_reports(data: &[u8], aim: [u8; 3]) -> Vec<[u8; POS_REPORT_LEN]> {
    let chunks: Vec<&[u8]> = if data.is_empty() { vec![&[]] } else { data.chunks(POS_DATA_LEN).collect() };
    let last = chunks.len() - 1;
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut r = [0u8; POS_REPORT_LEN];
            r[0] = 0x02;
            r[1] = chunk.len() as u8;
            r[2..5].copy_from_slice(&aim);
            r[5..5 + chunk.len()].copy_from_slice(chunk);
            r[POS_REPORT_LEN - 1] = u8::from(i < last);
            r
        })
        .collect()
}

/// Writes reports to a HID device node (the gadget's `/dev/hidg0`, or a FIFO in tests), one
/// write per report so report boundaries survive.
pub fn write_reports<const N: usize>(out: &mut impl Write, reports: &[[u8; N]]) -> std::io::Result<()> {
    for r in reports {
        out.write_all(r)?;
        out.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{HidPosDecoder, KeyboardDecoder, Raw};

    #[test]
    fn keyboard_reports_decode_back() {
        let text = "https://X.example/t?a=1&b=_~";
        let mut d = KeyboardDecoder::new(1000);
        let out: Vec<Raw> = keyboard_reports(text).unwrap().iter().flat_map(|r| d.push_report(r)).collect();
        assert_eq!(out, [Raw::Scan(text.as_bytes().to_vec())]);
        assert_eq!(keyboard_reports("办事"), Err('办'));
    }

    #[test]
    fn pos_reports_split_and_decode_back() {
        let data = "南海区政务服务 https://example/".repeat(4);
        let reports = pos_reports(data.as_bytes(), *b"]Q1");
        assert!(reports.len() > 2);
        let mut d = HidPosDecoder::new(4096);
        let out: Vec<Raw> = reports.iter().flat_map(|r| d.push_report(r)).collect();
        assert_eq!(out, [Raw::Scan(data.into_bytes())]);
    }
}
