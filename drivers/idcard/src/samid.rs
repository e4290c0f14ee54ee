//! The SAM module's identity (command 12 FF), formatted as vendor `sdtapi` libraries print it.

/// Five little-endian numbers; printed `05.01-20101229-0000012345-1234567890`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SamId {
    pub a: u16,
    pub b: u16,
    pub c: u32,
    pub d: u32,
    pub e: u32,
}

impl SamId {
    /// From the 16 data bytes of the answer; `None` for any other length.
    pub fn parse(data: &[u8]) -> Option<Self> {
        let d: &[u8; 16] = data.try_into().ok()?;
        let u16_at = |i: usize| u16::from_le_bytes([d[i], d[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]);
        Some(Self { a: u16_at(0), b: u16_at(2), c: u32_at(4), d: u32_at(8), e: u32_at(12) })
    }

    pub fn to_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[0..2].copy_from_slice(&self.a.to_le_bytes());
        out[2..4].copy_from_slice(&self.b.to_le_bytes());
        out[4..8].copy_from_slice(&self.c.to_le_bytes());
        out[8..12].copy_from_slice(&self.d.to_le_bytes());
        out[12..16].copy_from_slice(&self.e.to_le_bytes());
        out
    }
}

impl std::fmt::Display for SamId {
    /// All fields unsigned and zero-padded to 2/2/8/10/10 digits: libraries that print signed
    /// values or pad to 9 digits produce IDs that do not match the reader's label.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}.{:02}-{:08}-{:010}-{:010}", self.a, self.b, self.c, self.d, self.e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_reference_example() {
        let data =
            [0x05, 0x00, 0x01, 0x00, 0x6D, 0xB8, 0x32, 0x01, 0x39, 0x30, 0x00, 0x00, 0xD2, 0x02, 0x96, 0x49];
        let id = SamId::parse(&data).unwrap();
        assert_eq!(id.to_string(), "05.01-20101229-0000012345-1234567890");
        assert_eq!(id.to_bytes(), data);
        assert_eq!(SamId::parse(&data[..15]), None);
    }

    #[test]
    fn large_values_stay_unsigned() {
        let id = SamId { a: 5, b: 1, c: 20_240_101, d: u32::MAX, e: 3_000_000_000 };
        assert_eq!(id.to_string(), "05.01-20240101-4294967295-3000000000");
    }
}
