//! Byte layouts of the 256-byte text block, one table per card kind, used both to decode what a
//! reader sends and (in the simulator) to build it, so the offsets exist exactly once.

use zeroize::Zeroizing;

use super::{CardDate, CardError, CardKind, IdCard, Sex, TEXT_LEN, WltPhoto};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    NameEn,
    /// Characters 36–46 of a long English name on 2023 foreigner cards.
    NameEnTail,
    Sex,
    Ethnicity,
    BirthDate,
    Address,
    IdNumber,
    Issuer,
    ValidFrom,
    ValidUntil,
    PassNumber,
    IssueCount,
    Nationality,
    CardVersion,
    RenewalCount,
    PreviousNumberLink,
}

impl Field {
    fn key(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::NameEn | Field::NameEnTail => "name_en",
            Field::Sex => "sex",
            Field::Ethnicity => "ethnicity",
            Field::BirthDate => "birth_date",
            Field::Address => "address",
            Field::IdNumber => "id_number",
            Field::Issuer => "issuer",
            Field::ValidFrom => "valid_from",
            Field::ValidUntil => "valid_until",
            Field::PassNumber => "pass_number",
            Field::IssueCount => "issue_count",
            Field::Nationality => "nationality",
            Field::CardVersion => "card_version",
            Field::RenewalCount => "renewal_count",
            Field::PreviousNumberLink => "previous_number_link",
        }
    }
}

/// (field, byte offset in the text block, byte length).
type Slot = (Field, usize, usize);

const RESIDENT: &[Slot] = &[
    (Field::Name, 0, 30),
    (Field::Sex, 30, 2),
    (Field::Ethnicity, 32, 4),
    (Field::BirthDate, 36, 16),
    (Field::Address, 52, 70),
    (Field::IdNumber, 122, 36),
    (Field::Issuer, 158, 30),
    (Field::ValidFrom, 188, 16),
    (Field::ValidUntil, 204, 16),
];

const HMT_PERMIT: &[Slot] = &[
    (Field::Name, 0, 30),
    (Field::Sex, 30, 2),
    (Field::BirthDate, 36, 16),
    (Field::Address, 52, 70),
    (Field::IdNumber, 122, 36),
    (Field::Issuer, 158, 30),
    (Field::ValidFrom, 188, 16),
    (Field::ValidUntil, 204, 16),
    (Field::PassNumber, 220, 18),
    (Field::IssueCount, 238, 4),
];

const FOREIGNER_2017: &[Slot] = &[
    (Field::NameEn, 0, 120),
    (Field::Sex, 120, 2),
    (Field::IdNumber, 122, 30),
    (Field::Nationality, 152, 6),
    (Field::Name, 158, 30),
    (Field::ValidFrom, 188, 16),
    (Field::ValidUntil, 204, 16),
    (Field::BirthDate, 220, 16),
    (Field::CardVersion, 236, 4),
    (Field::Issuer, 240, 8),
];

const FOREIGNER_2023: &[Slot] = &[
    (Field::Name, 0, 30),
    (Field::Sex, 30, 2),
    (Field::RenewalCount, 32, 4),
    (Field::BirthDate, 36, 16),
    (Field::NameEn, 52, 70),
    (Field::IdNumber, 122, 36),
    (Field::ValidFrom, 188, 16),
    (Field::ValidUntil, 204, 16),
    (Field::NameEnTail, 220, 22),
    (Field::Nationality, 242, 6),
    (Field::PreviousNumberLink, 250, 6),
];

fn slots(kind: CardKind) -> &'static [Slot] {
    match kind {
        CardKind::Resident => RESIDENT,
        CardKind::HmtPermit => HMT_PERMIT,
        CardKind::Foreigner2017 => FOREIGNER_2017,
        CardKind::Foreigner2023 => FOREIGNER_2023,
    }
}

const TYPE_OFFSET: usize = 248;
/// "长期" as a validity end date.
const LONG_TERM: &str = "长期";

/// UCS-2 little-endian to a string, without the space or NUL padding.
pub(super) fn decode_ucs2(bytes: &[u8]) -> String {
    let units = bytes.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]]));
    // The untrimmed copy holds the same personal data: wipe it rather than just free it.
    let s: Zeroizing<String> =
        Zeroizing::new(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect());
    s.trim_matches([' ', '\0']).to_owned()
}

/// Writes `value` as space-padded UCS-2 into `slot`.
pub(super) fn encode_ucs2(slot: &mut [u8], value: &str, field: &'static str) -> Result<(), CardError> {
    let units: Vec<u16> = value.encode_utf16().collect();
    if units.len() * 2 > slot.len() {
        return Err(CardError::Field { field, problem: "too long for its place on the card" });
    }
    let padding = std::iter::repeat(u16::from(b' '));
    for (pair, unit) in slot.chunks_exact_mut(2).zip(units.into_iter().chain(padding)) {
        pair.copy_from_slice(&unit.to_le_bytes());
    }
    Ok(())
}

pub(super) fn decode_text(text: &[u8; TEXT_LEN]) -> Result<IdCard, CardError> {
    let kind = match (text[TYPE_OFFSET], text[TYPE_OFFSET + 1]) {
        (b, 0) => CardKind::from_type_byte(b).ok_or(CardError::UnknownType(b))?,
        (b, _) => return Err(CardError::UnknownType(b)),
    };
    let table = slots(kind);
    let raw = |field: Field| -> Option<Zeroizing<Vec<u8>>> {
        table.iter().find(|s| s.0 == field).map(|&(_, at, len)| Zeroizing::new(text[at..at + len].to_vec()))
    };
    let get = |field: Field| raw(field).map(|b| decode_ucs2(&b)).filter(|s| !s.is_empty());
    let required = |field: Field| get(field).ok_or(CardError::Field { field: field.key(), problem: "empty" });
    let date = |field: Field| {
        CardDate::parse(&required(field)?)
            .ok_or(CardError::Field { field: field.key(), problem: "not a valid YYYYMMDD date" })
    };

    // A long English name continues in a second slot: join the raw halves before trimming.
    let name_en = raw(Field::NameEn).map(|head| {
        let mut joined = Zeroizing::new(head.to_vec());
        if let Some(tail) = raw(Field::NameEnTail) {
            joined.extend_from_slice(&tail);
        }
        decode_ucs2(&joined)
    });
    let sex = required(Field::Sex)?;
    let sex = sex
        .chars()
        .next()
        .and_then(Sex::from_code)
        .ok_or(CardError::Field { field: "sex", problem: "not a GB/T 2261.1 code (0, 1, 2, 9)" })?;
    let ethnicity = match get(Field::Ethnicity) {
        None if kind == CardKind::Resident => {
            return Err(CardError::Field { field: "ethnicity", problem: "empty" });
        }
        None => None,
        Some(code) if code.len() == 2 => Some(code.parse::<u8>().map_err(|_| CardError::Field {
            field: "ethnicity",
            problem: "not a two-digit GB/T 3304 code",
        })?),
        Some(_) => {
            return Err(CardError::Field { field: "ethnicity", problem: "not a two-digit GB/T 3304 code" });
        }
    };
    let valid_until = match get(Field::ValidUntil).as_deref() {
        Some(LONG_TERM) => None,
        _ => Some(date(Field::ValidUntil)?),
    };
    Ok(IdCard {
        kind,
        name: get(Field::Name).unwrap_or_default(),
        name_en,
        sex,
        ethnicity,
        birth_date: date(Field::BirthDate)?,
        address: get(Field::Address),
        id_number: required(Field::IdNumber)?,
        issuer: get(Field::Issuer),
        valid_from: date(Field::ValidFrom)?,
        valid_until,
        nationality: get(Field::Nationality),
        pass_number: get(Field::PassNumber),
        issue_count: get(Field::IssueCount),
        card_version: get(Field::CardVersion),
        renewal_count: get(Field::RenewalCount),
        previous_number_link: get(Field::PreviousNumberLink),
        appended_addresses: Vec::new(),
        photo: WltPhoto::default(),
        fingerprint: None,
    })
}

pub(super) fn encode_text(card: &IdCard) -> Result<Zeroizing<[u8; TEXT_LEN]>, CardError> {
    let mut text = Zeroizing::new([0u8; TEXT_LEN]);
    encode_ucs2(&mut text[..], "", "padding")?;
    let table = slots(card.kind);
    // Where a second slot continues the English name, the first holds exactly its own width.
    let head_chars =
        match (table.iter().find(|s| s.0 == Field::NameEn), table.iter().any(|s| s.0 == Field::NameEnTail)) {
            (Some(&(_, _, len)), true) => len / 2,
            _ => usize::MAX,
        };
    for &(field, at, len) in table {
        let value: Zeroizing<String> = Zeroizing::new(match field {
            Field::Name => card.name.clone(),
            Field::NameEn | Field::NameEnTail => {
                let name = card.name_en.clone().unwrap_or_default();
                let split = name.char_indices().nth(head_chars).map_or(name.len(), |(i, _)| i);
                if field == Field::NameEn { name[..split].to_owned() } else { name[split..].to_owned() }
            }
            Field::Sex => card.sex.code().to_string(),
            Field::Ethnicity => card.ethnicity.map(|c| format!("{c:02}")).unwrap_or_default(),
            Field::BirthDate => card.birth_date.compact(),
            Field::Address => card.address.clone().unwrap_or_default(),
            Field::IdNumber => card.id_number.clone(),
            Field::Issuer => card.issuer.clone().unwrap_or_default(),
            Field::ValidFrom => card.valid_from.compact(),
            Field::ValidUntil => card.valid_until.map_or(LONG_TERM.to_owned(), |d| d.compact()),
            Field::PassNumber => card.pass_number.clone().unwrap_or_default(),
            Field::IssueCount => card.issue_count.clone().unwrap_or_default(),
            Field::Nationality => card.nationality.clone().unwrap_or_default(),
            Field::CardVersion => card.card_version.clone().unwrap_or_default(),
            Field::RenewalCount => card.renewal_count.clone().unwrap_or_default(),
            Field::PreviousNumberLink => card.previous_number_link.clone().unwrap_or_default(),
        });
        encode_ucs2(&mut text[at..at + len], &value, field.key())?;
    }
    text[TYPE_OFFSET] = card.kind.type_byte();
    text[TYPE_OFFSET + 1] = 0;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_stay_inside_the_block_and_never_overlap() {
        for kind in CardKind::ALL {
            let mut used = [false; TEXT_LEN];
            used[TYPE_OFFSET] = true;
            used[TYPE_OFFSET + 1] = true;
            for &(field, at, len) in slots(kind) {
                assert!(
                    len.is_multiple_of(2) && at.is_multiple_of(2),
                    "{kind:?} {field:?} is not UCS-2 aligned"
                );
                for (i, u) in used.iter_mut().enumerate().skip(at).take(len) {
                    assert!(!*u, "{kind:?} {field:?} overlaps at byte {i}");
                    *u = true;
                }
            }
        }
    }

    #[test]
    fn ucs2_handles_padding_nul_and_surrogates() {
        let mut slot = [0u8; 10];
        encode_ucs2(&mut slot, "𠮷a", "name").unwrap();
        assert_eq!(decode_ucs2(&slot), "𠮷a");
        assert_eq!(&slot[6..], &[0x20, 0, 0x20, 0]);
        assert!(encode_ucs2(&mut slot, "abcdef", "name").is_err());
        assert_eq!(decode_ucs2(&[0x41, 0, 0, 0, 0, 0]), "A");
        // A lone surrogate decodes to U+FFFD instead of failing the card.
        assert_eq!(decode_ucs2(&[0x00, 0xD8, 0x41, 0x00]), "\u{FFFD}A");
    }
}
