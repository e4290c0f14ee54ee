//! What is on the card: the four text layouts, dates, the photo and the fingerprint
//! (`reference/idcard.md` §4–§5).
//!
//! An [`IdCard`] is personal data. It lives in memory only, is wiped when dropped, and its
//! `Debug` output is masked, so a stray `{:?}` in a log line cannot leak a resident's identity.

mod idnum;
mod json;
mod layout;
mod tables;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

pub use idnum::{IdNumberCheck, check_character, check_foreigner_2017, check_gb11643};
pub use json::{CardJson, PhotoJson};
pub use tables::{Sex, ethnicity_code, ethnicity_name};

/// Size of the text block on every known card layout.
pub const TEXT_LEN: usize = 256;
/// Size of one appended-address entry (35 UCS-2 characters).
pub const ADDRESS_LEN: usize = 70;

/// The four card layouts, told apart by the type character at text offset 248.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardKind {
    Resident,
    HmtPermit,
    Foreigner2017,
    Foreigner2023,
}

impl CardKind {
    pub const ALL: [CardKind; 4] =
        [CardKind::Resident, CardKind::HmtPermit, CardKind::Foreigner2017, CardKind::Foreigner2023];

    pub fn type_byte(self) -> u8 {
        match self {
            CardKind::Resident => b' ',
            CardKind::HmtPermit => b'J',
            CardKind::Foreigner2017 => b'I',
            CardKind::Foreigner2023 => b'Y',
        }
    }

    pub fn from_type_byte(b: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.type_byte() == b)
    }

    /// The machine-readable name used in JSON.
    pub fn key(self) -> &'static str {
        match self {
            CardKind::Resident => "resident",
            CardKind::HmtPermit => "hmt_permit",
            CardKind::Foreigner2017 => "foreigner_2017",
            CardKind::Foreigner2023 => "foreigner_2023",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            CardKind::Resident => "居民身份证",
            CardKind::HmtPermit => "港澳台居民居住证",
            CardKind::Foreigner2017 => "外国人永久居留身份证（2017版）",
            CardKind::Foreigner2023 => "外国人永久居留身份证（2023版）",
        }
    }
}

/// A calendar date as cards store it (`YYYYMMDD`), validated.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Zeroize)]
pub struct CardDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl CardDate {
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (year >= 1800 && (1..=days).contains(&day)).then_some(Self { year, month, day })
    }

    /// Parses `YYYYMMDD` or `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Self> {
        let digits: String = match s.len() {
            8 => s.to_owned(),
            10 if s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-' => s.replace('-', ""),
            _ => return None,
        };
        if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Self::new(digits[..4].parse().ok()?, digits[4..6].parse().ok()?, digits[6..].parse().ok()?)
    }

    /// `YYYYMMDD`, as on the card.
    pub fn compact(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

impl std::fmt::Display for CardDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl std::fmt::Debug for CardDate {
    /// Birth dates are personal data; `Debug` shows only the year.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-**-**", self.year)
    }
}

/// The card photo as stored: 1024 bytes of the vendors' proprietary wavelet format (WLT).
#[derive(Clone, Default, PartialEq, Eq, Zeroize)]
pub struct WltPhoto(pub Vec<u8>);

/// The header every real WLT photo seen starts with ("WLf" …): a sanity check, not a spec.
pub const WLT_MAGIC: [u8; 11] = [0x57, 0x4C, 0x66, 0x00, 0x7E, 0x00, 0x32, 0x00, 0x00, 0xFF, 0x85];

impl WltPhoto {
    pub fn looks_valid(&self) -> bool {
        self.0.starts_with(&WLT_MAGIC)
    }
}

impl std::fmt::Debug for WltPhoto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WltPhoto({} bytes)", self.0.len())
    }
}

/// One card as read: every layout's fields, with those a layout lacks left empty.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct IdCard {
    #[zeroize(skip)]
    pub kind: CardKind,
    /// The Chinese name; may be empty on 2017 foreigner cards.
    pub name: String,
    /// On foreigner cards.
    pub name_en: Option<String>,
    pub sex: Sex,
    /// GB/T 3304 code, resident cards only.
    pub ethnicity: Option<u8>,
    pub birth_date: CardDate,
    /// Resident cards and residence permits.
    pub address: Option<String>,
    pub id_number: String,
    /// Issuing authority; on 2017 foreigner cards the accepting authority's code.
    pub issuer: Option<String>,
    pub valid_from: CardDate,
    /// `None` is "长期" (long-term).
    pub valid_until: Option<CardDate>,
    /// ISO 3166-1 alpha-3, foreigner cards.
    pub nationality: Option<String>,
    /// Residence permits: the Hong Kong/Macau/Taiwan travel-permit number and its issue count.
    pub pass_number: Option<String>,
    pub issue_count: Option<String>,
    /// 2017 foreigner cards.
    pub card_version: Option<String>,
    /// 2023 foreigner cards: renewal count and the link to the previous card's number.
    pub renewal_count: Option<String>,
    pub previous_number_link: Option<String>,
    /// Addresses added after issue (command 30 03), oldest first.
    pub appended_addresses: Vec<String>,
    pub photo: WltPhoto,
    /// Fingerprint minutiae, when read with 30 10 and the card has them.
    pub fingerprint: Option<Vec<u8>>,
}

impl IdCard {
    /// The GB 11643 check (or, on 2017 foreigner cards, the structure check).
    pub fn id_number_check(&self) -> IdNumberCheck {
        match self.kind {
            CardKind::Foreigner2017 => check_foreigner_2017(&self.id_number),
            _ => check_gb11643(&self.id_number),
        }
    }

    /// The address to use on forms: the newest appended one, else the one printed on the card.
    pub fn current_address(&self) -> Option<&str> {
        self.appended_addresses.last().map(String::as_str).or(self.address.as_deref())
    }
}

impl std::fmt::Debug for IdCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdCard")
            .field("kind", &self.kind.key())
            .field("name", &kiosk_pii::mask_name(&self.name))
            .field("name_en", &self.name_en.as_deref().map(kiosk_pii::mask_name))
            .field("id_number", &kiosk_pii::mask_id_number(&self.id_number))
            .field("id_number_check", &self.id_number_check())
            .field("birth_date", &self.birth_date)
            .field("address", &self.current_address().map(kiosk_pii::redact_address))
            .field("valid_until", &self.valid_until.map_or("long-term".into(), |d| d.to_string()))
            .field("photo", &self.photo)
            .field("fingerprint_bytes", &self.fingerprint.as_ref().map_or(0, Vec::len))
            .finish_non_exhaustive()
    }
}

/// Why card data could not be decoded. Messages name fields, never their contents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("base message is {got} bytes but its length fields announce {announced}")]
    LengthMismatch { announced: usize, got: usize },
    #[error("text block is {0} bytes; every known card layout has {TEXT_LEN}")]
    TextLength(usize),
    #[error("card type character 0x{0:02X} at text offset 248 is not a known layout (resident, J, I, Y)")]
    UnknownType(u8),
    #[error("field {field}: {problem}")]
    Field { field: &'static str, problem: &'static str },
    #[error("appended-address data is {0} bytes, not a multiple of {ADDRESS_LEN}")]
    AddressLength(usize),
}

/// Parses the data of a successful read-base answer (30 01, or 30 10 with the fingerprint).
/// Lengths come from the answer itself, never from constants, because fingerprint answers vary.
pub fn parse_base_message(data: &[u8], with_fingerprint: bool) -> Result<IdCard, CardError> {
    let header = if with_fingerprint { 6 } else { 4 };
    let be16 = |at: usize| usize::from(u16::from_be_bytes([data[at], data[at + 1]]));
    if data.len() < header {
        return Err(CardError::LengthMismatch { announced: header, got: data.len() });
    }
    let (text_len, photo_len) = (be16(0), be16(2));
    let fp_len = if with_fingerprint { be16(4) } else { 0 };
    let announced = header + text_len + photo_len + fp_len;
    if data.len() != announced {
        return Err(CardError::LengthMismatch { announced, got: data.len() });
    }
    let text: &[u8; TEXT_LEN] =
        data[header..header + text_len].try_into().map_err(|_| CardError::TextLength(text_len))?;
    let mut card = layout::decode_text(text)?;
    let photo_at = header + text_len;
    card.photo = WltPhoto(data[photo_at..photo_at + photo_len].to_vec());
    card.fingerprint = (fp_len > 0).then(|| data[photo_at + photo_len..].to_vec());
    Ok(card)
}

/// Parses read-base data without knowing which command produced it: the two layouts differ in
/// their length header, and only one of them can add up to the data's size.
pub fn parse_any_base_message(data: &[u8]) -> Result<IdCard, CardError> {
    let be16 = |at: usize| data.get(at..at + 2).map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
    let plain = 4 + be16(0) + be16(2);
    parse_base_message(data, data.len() != plain)
}

/// The data part of a read-base answer for this card, as a reader sends it.
pub fn encode_base_message(card: &IdCard, with_fingerprint: bool) -> Result<Zeroizing<Vec<u8>>, CardError> {
    let text = layout::encode_text(card)?;
    let fp: &[u8] = if with_fingerprint { card.fingerprint.as_deref().unwrap_or_default() } else { &[] };
    let mut out = Zeroizing::new(Vec::with_capacity(6 + TEXT_LEN + card.photo.0.len() + fp.len()));
    let len16 = |n: usize| u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes();
    out.extend_from_slice(&len16(TEXT_LEN));
    out.extend_from_slice(&len16(card.photo.0.len()));
    if with_fingerprint {
        out.extend_from_slice(&len16(fp.len()));
    }
    out.extend_from_slice(&text[..]);
    out.extend_from_slice(&card.photo.0);
    out.extend_from_slice(fp);
    Ok(out)
}

/// Parses the answer to 30 03: zero or more 70-byte address entries.
pub fn parse_addresses(data: &[u8]) -> Result<Vec<String>, CardError> {
    if !data.len().is_multiple_of(ADDRESS_LEN) {
        return Err(CardError::AddressLength(data.len()));
    }
    Ok(data.chunks(ADDRESS_LEN).map(layout::decode_ucs2).filter(|a| !a.is_empty()).collect())
}

/// The answer to 30 03 for these addresses.
pub fn encode_addresses(addresses: &[String]) -> Result<Zeroizing<Vec<u8>>, CardError> {
    let mut out = Zeroizing::new(vec![0u8; addresses.len() * ADDRESS_LEN]);
    for (chunk, address) in out.chunks_mut(ADDRESS_LEN).zip(addresses) {
        layout::encode_ucs2(chunk, address, "appended_address")?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroize_clears_every_personal_field() {
        let (_, mut card) = crate::sim::sample_cards().into_iter().next().unwrap();
        card.fingerprint = Some(vec![0x43; 512]);
        card.zeroize();
        assert!(card.name.is_empty() && card.id_number.is_empty());
        assert_eq!((card.address.as_deref(), card.name_en.as_deref()), (None, None));
        assert!(card.appended_addresses.is_empty() && card.photo.0.is_empty());
        assert_eq!(card.fingerprint, None);
        assert_eq!(card.birth_date, CardDate { year: 0, month: 0, day: 0 });
    }

    #[test]
    fn dates_validate_the_calendar() {
        assert_eq!(CardDate::parse("20000229").map(|d| d.to_string()), Some("2000-02-29".into()));
        assert_eq!(CardDate::parse("2000-02-29").map(|d| d.compact()), Some("20000229".into()));
        assert_eq!(CardDate::parse("19000229"), None);
        assert_eq!(CardDate::parse("20231301"), None);
        assert_eq!(CardDate::parse("2023011"), None);
        assert_eq!(CardDate::parse("长期"), None);
        assert_eq!(format!("{:?}", CardDate::new(1990, 5, 17).unwrap()), "1990-**-**");
    }
}
