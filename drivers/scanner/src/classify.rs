//! What a scan is: a URL, a digits-only barcode, the government app's login code, or plain text;
//! or garbage that is refused with a reason instead of being typed into a form.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use serde::Serialize;
use zeroize::{Zeroize, ZeroizeOnDrop};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanKind {
    Url,
    /// Digits only: a case number, an EAN, a receipt barcode.
    Digits,
    /// The government app's login code: an opaque token, never shown or logged in full.
    LoginCode,
    Text,
}

/// A decoded scan. Scans can carry personal data (an ID number in a barcode, a login token):
/// wiped when dropped, and `Debug` shows only the kind and length.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Scan {
    #[zeroize(skip)]
    pub kind: ScanKind,
    pub text: String,
}

impl std::fmt::Debug for Scan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scan({:?}, {} chars)", self.kind, self.text.chars().count())
    }
}

impl Scan {
    /// The text as a screen or a technician's terminal may show it: login codes keep only their
    /// prefix.
    pub fn display_text(&self, login_prefix: Option<&str>) -> String {
        match self.kind {
            ScanKind::LoginCode => {
                format!("{}…({} chars)", login_prefix.unwrap_or_default(), self.text.chars().count())
            }
            _ => self.text.clone(),
        }
    }
}

/// Why a scan was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    #[error("扫描内容不是有效文本 / the scan is not valid UTF-8 text")]
    InvalidUtf8,
    #[error("扫描内容含控制字符 / the scan contains binary or control characters")]
    Binary,
    #[error("扫描内容过长 / the scan is longer than allowed")]
    TooLong,
    /// Only spaces before the terminator: a scanner triggered on nothing readable.
    #[error("扫描内容为空 / the scan holds no text")]
    Empty,
}

#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Prefix that marks the government app's login code (from the platform's integration
    /// documentation; site configuration).
    pub login_prefix: Option<String>,
    pub max_len: usize,
    /// The same code read again within this time is one scan (a phone held under the scanner).
    pub dedup_window: Duration,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self { login_prefix: None, max_len: 2048, dedup_window: Duration::from_millis(1500) }
    }
}

pub fn classify(raw: &[u8], config: &ScanConfig) -> Result<Scan, Rejection> {
    if raw.len() > config.max_len {
        return Err(Rejection::TooLong);
    }
    let text = std::str::from_utf8(raw).map_err(|_| Rejection::InvalidUtf8)?;
    if text.chars().any(|c| c.is_control() && c != '\t') {
        return Err(Rejection::Binary);
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(Rejection::Empty);
    }
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    let kind = match &config.login_prefix {
        Some(prefix) if !prefix.is_empty() && text.starts_with(prefix.as_str()) => ScanKind::LoginCode,
        _ if (lower.starts_with("https://") || lower.starts_with("http://"))
            && !text.contains(char::is_whitespace) =>
        {
            ScanKind::Url
        }
        _ if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => ScanKind::Digits,
        _ => ScanKind::Text,
    };
    Ok(Scan { kind, text: text.to_owned() })
}

/// Merges repeated reads of one code. Keeps only a salted hash of the last scan, not its text.
#[derive(Debug)]
pub struct Deduper {
    window: Duration,
    hasher: RandomState,
    last: Option<(u64, Instant)>,
}

impl Deduper {
    pub fn new(window: Duration) -> Self {
        Self { window, hasher: RandomState::new(), last: None }
    }

    /// True when this is the same code as the last one, read again within the window; each
    /// repeat extends the window, so a code held under the scanner stays one scan.
    pub fn is_repeat(&mut self, text: &str, now: Instant) -> bool {
        let hash = self.hasher.hash_one(text);
        let repeat = matches!(self.last, Some((h, t)) if h == hash && now.duration_since(t) < self.window);
        self.last = Some((hash, now));
        repeat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &[u8]) -> Result<ScanKind, Rejection> {
        let config = ScanConfig { login_prefix: Some("GDZWFW:".into()), ..Default::default() };
        classify(s, &config).map(|scan| scan.kind)
    }

    #[test]
    fn kinds() {
        assert_eq!(kind(b"https://zwfw.nanhai.example/t/1"), Ok(ScanKind::Url));
        assert_eq!(kind(b"HTTP://X.EXAMPLE"), Ok(ScanKind::Url));
        assert_eq!(kind(b"20261127000123"), Ok(ScanKind::Digits));
        assert_eq!(kind(b"GDZWFW:eyJhbGciOi"), Ok(ScanKind::LoginCode));
        assert_eq!(kind("南海区 办事指南".as_bytes()), Ok(ScanKind::Text));
        assert_eq!(kind(b"https://x y"), Ok(ScanKind::Text));
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(kind(&[0xFF, 0xFE, 0x41]), Err(Rejection::InvalidUtf8));
        assert_eq!(kind(b"ab\x00cd"), Err(Rejection::Binary));
        assert_eq!(kind(b"ab\x1b[2Jcd"), Err(Rejection::Binary));
        assert_eq!(kind(&[b'1'; 3000]), Err(Rejection::TooLong));
        assert_eq!(kind(b" \t "), Err(Rejection::Empty), "found by the property test: a blank scan");
    }

    #[test]
    fn login_codes_are_masked() {
        let config = ScanConfig { login_prefix: Some("GDZWFW:".into()), ..Default::default() };
        let scan = classify(b"GDZWFW:secret-token", &config).unwrap();
        assert_eq!(scan.display_text(Some("GDZWFW:")), "GDZWFW:…(19 chars)");
        assert_eq!(format!("{scan:?}"), "Scan(LoginCode, 19 chars)");
    }

    #[test]
    fn repeats_within_the_window_merge() {
        let mut d = Deduper::new(Duration::from_millis(1500));
        let t0 = Instant::now();
        assert!(!d.is_repeat("a", t0));
        assert!(d.is_repeat("a", t0 + Duration::from_millis(1000)));
        assert!(d.is_repeat("a", t0 + Duration::from_millis(2400)), "each repeat extends the window");
        assert!(!d.is_repeat("b", t0 + Duration::from_millis(2500)));
        assert!(!d.is_repeat("b", t0 + Duration::from_millis(5000)));
    }
}
