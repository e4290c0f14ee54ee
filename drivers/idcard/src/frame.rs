//! Framing of the SAM protocol (`reference/idcard.md` §1.2–1.3), the same in both directions:
//! `AA AA AA 96 69`, a big-endian length that counts everything after it including the checksum,
//! the payload, and an XOR checksum over the length bytes and the payload.
//!
//! The codec is sans-IO: the host driver, the simulator and the fuzz tests feed it bytes and get
//! frames back. Framing faults are returned as items, not as stream errors, so one corrupted frame
//! never ends a `FramedRead` and the caller decides whether to retry.

use bytes::{Buf, BufMut, BytesMut};
use zeroize::Zeroizing;

pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];
/// Preamble plus the two length bytes.
pub const HEADER_LEN: usize = 7;
/// Largest length field accepted. The biggest standard answer is 0x090A (read with a 1024-byte
/// fingerprint); four appended addresses need 0x011C. Anything larger is line noise, and
/// rejecting it early bounds what a hostile or broken device can make us buffer.
pub const MAX_LEN: usize = 0x0A00;
/// Smallest length field: command + parameter (or two status bytes) + checksum.
pub const MIN_LEN: usize = 3;

/// The bytes between the length field and the checksum, wiped from memory when dropped because
/// read-card answers carry a resident's name, number, address and photo.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame(pub Zeroizing<Vec<u8>>);

impl Frame {
    pub fn payload(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only the first three bytes (command or status) can be shown safely.
        let head: Vec<String> = self.0.iter().take(3).map(|b| format!("{b:02X}")).collect();
        write!(f, "Frame({} bytes, starts {})", self.0.len(), head.join(" "))
    }
}

/// A frame that was found on the wire but cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame checksum mismatch (length {len}): line noise or a failing cable")]
    Checksum { len: usize },
    #[error("frame length {len} is outside {MIN_LEN}..={MAX_LEN}: not a SAM frame")]
    BadLength { len: usize },
}

/// XOR of the bytes that the checksum covers.
pub fn xor(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// Encodes one payload into a complete frame.
pub fn encode(payload: &[u8], dst: &mut BytesMut) {
    let len = u16::try_from(payload.len() + 1).expect("SAM payloads are far below 64 KiB");
    dst.reserve(HEADER_LEN + payload.len() + 1);
    dst.put_slice(&PREAMBLE);
    dst.put_u16(len);
    dst.put_slice(payload);
    dst.put_u8(xor(&len.to_be_bytes()) ^ xor(payload));
}

/// The SAM frame decoder. It carries no state: the buffer is the state. (It was a `tokio_util`
/// codec; every reader runs on its own blocking thread, so nothing drove it through the codec
/// framework and the trait only added an I/O error that could not happen.)
#[derive(Debug, Default, Clone, Copy)]
pub struct FrameCodec;

impl FrameCodec {
    /// The next frame (or framing fault) at the front of `src`, consuming its bytes and any
    /// noise before it; `None` until a whole frame is there.
    pub fn decode(&mut self, src: &mut BytesMut) -> Option<Result<Frame, FrameError>> {
        // Hunt for the preamble; keep a tail that could be its beginning.
        match src.windows(PREAMBLE.len()).position(|w| w == PREAMBLE) {
            Some(0) => {}
            Some(skip) => discard(src, skip),
            None => {
                let keep = (PREAMBLE.len() - 1).min(src.len());
                discard(src, src.len() - keep);
                return None;
            }
        }
        if src.len() < HEADER_LEN {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([src[5], src[6]]));
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            // Resume the hunt one byte further on: the real frame may start inside this one.
            discard(src, 1);
            return Some(Err(FrameError::BadLength { len }));
        }
        let total = HEADER_LEN + len;
        if src.len() < total {
            src.reserve(total - src.len());
            return None;
        }
        let mut raw = src.split_to(total);
        let item = if xor(&raw[5..]) == 0 {
            Ok(Frame(Zeroizing::new(raw[HEADER_LEN..total - 1].to_vec())))
        } else {
            Err(FrameError::Checksum { len })
        };
        raw.fill(0);
        Some(item)
    }
}

/// The first frame in a byte slice (a saved capture, say), skipping noise before it; `None` when
/// the bytes hold no complete frame.
pub fn decode_first(bytes: &[u8]) -> Option<Result<Frame, FrameError>> {
    let mut buf = BytesMut::from(bytes);
    let item = FrameCodec.decode(&mut buf);
    buf.fill(0);
    item
}

/// Drops `n` bytes from the front of the buffer after overwriting them.
fn discard(src: &mut BytesMut, n: usize) {
    if n > 0 {
        src[..n].fill(0);
        src.advance(n);
        tracing::trace!(bytes = n, "skipped bytes before a frame preamble");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
    }

    fn decode_all(bytes: &[u8]) -> Vec<Result<Frame, FrameError>> {
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(item) = FrameCodec.decode(&mut buf) {
            out.push(item);
        }
        out
    }

    #[test]
    fn encodes_the_reference_command_frames() {
        for (payload, frame) in [
            ("10 FF", "AA AA AA 96 69 00 03 10 FF EC"),
            ("11 FF", "AA AA AA 96 69 00 03 11 FF ED"),
            ("20 01", "AA AA AA 96 69 00 03 20 01 22"),
            ("30 10", "AA AA AA 96 69 00 03 30 10 23"),
            ("61 FF 50", "AA AA AA 96 69 00 04 61 FF 50 CA"),
            ("60 04", "AA AA AA 96 69 00 03 60 04 67"),
        ] {
            let mut dst = BytesMut::new();
            encode(&hex(payload), &mut dst);
            assert_eq!(&dst[..], &hex(frame)[..], "payload {payload}");
        }
    }

    #[test]
    fn decodes_a_status_answer() {
        let items = decode_all(&hex("AA AA AA 96 69 00 04 00 00 90 94"));
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].as_ref().unwrap().payload(), &[0, 0, 0x90]);
    }

    #[test]
    fn skips_noise_including_a_false_start() {
        // A stray `AA 00` before the frame, as in one public capture, and a truncated preamble.
        let items = decode_all(&hex("AA 00 13 37 AA AA 96 AA AA AA 96 69 00 04 00 00 80 84"));
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].as_ref().unwrap().payload(), &[0, 0, 0x80]);
    }

    #[test]
    fn waits_for_bytes_split_across_reads() {
        let frame = hex("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97");
        let mut buf = BytesMut::new();
        for (i, byte) in frame.iter().enumerate() {
            buf.put_u8(*byte);
            let item = FrameCodec.decode(&mut buf);
            assert_eq!(item.is_some(), i == frame.len() - 1, "after byte {i}");
            if let Some(item) = item {
                assert_eq!(item.unwrap().payload(), &[0, 0, 0x9F, 0, 0, 0, 0]);
            }
        }
    }

    #[test]
    fn reports_a_bad_checksum_and_recovers_for_the_next_frame() {
        let mut bytes = hex("AA AA AA 96 69 00 04 00 00 90 95");
        bytes.extend(hex("AA AA AA 96 69 00 04 00 00 41 45"));
        let items = decode_all(&bytes);
        assert_eq!(items[0], Err(FrameError::Checksum { len: 4 }));
        assert_eq!(items[1].as_ref().unwrap().payload(), &[0, 0, 0x41]);
    }

    #[test]
    fn rejects_impossible_lengths_without_buffering_them() {
        let items = decode_all(&hex("AA AA AA 96 69 FF FF 00 AA AA AA 96 69 00 04 00 00 90 94"));
        assert_eq!(items[0], Err(FrameError::BadLength { len: 0xFFFF }));
        assert_eq!(items.last().unwrap().as_ref().unwrap().payload(), &[0, 0, 0x90]);
        let items = decode_all(&hex("AA AA AA 96 69 00 02 00 00"));
        assert_eq!(items[0], Err(FrameError::BadLength { len: 2 }));
    }
}
