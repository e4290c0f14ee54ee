//! Citizen ID number check (GB 11643, `reference/idcard.md` §6), also used on residence permits
//! ('J') and 2023 foreigner cards ('Y'), which share the 18-character structure.

/// What the check found. A failed check is reported, not fatal: the kiosk shows it to staff,
/// because a card that the SAM module authenticated is genuine even if a number looks odd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdNumberCheck {
    Valid,
    /// The first 17 characters are digits but the 18th is not the check character they give.
    WrongCheckCharacter,
    /// Wrong length or characters.
    Malformed,
}

impl IdNumberCheck {
    pub fn is_valid(self) -> bool {
        self == IdNumberCheck::Valid
    }
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// The check character for the first 17 digits, or `None` if they are not 17 ASCII digits.
pub fn check_character(first17: &str) -> Option<char> {
    let digits: Vec<u32> = first17.chars().map(|c| c.to_digit(10)).collect::<Option<_>>()?;
    if digits.len() != 17 {
        return None;
    }
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    Some(char::from(CHECK_CHARS[(sum % 11) as usize]))
}

/// Checks an 18-character GB 11643 number.
pub fn check_gb11643(number: &str) -> IdNumberCheck {
    if number.len() != 18 || !number.is_ascii() {
        return IdNumberCheck::Malformed;
    }
    let (body, last) = number.split_at(17);
    match check_character(body) {
        None => IdNumberCheck::Malformed,
        Some(expected) if last.chars().eq([expected]) => IdNumberCheck::Valid,
        // A lower-case x is how copied numbers often arrive; the card itself uses 'X'.
        Some('X') if last == "x" => IdNumberCheck::Valid,
        Some(_) if last.chars().all(|c| c.is_ascii_digit() || c == 'X' || c == 'x') => {
            IdNumberCheck::WrongCheckCharacter
        }
        Some(_) => IdNumberCheck::Malformed,
    }
}

/// Checks the structure of a 2017 foreigner card number: nationality letters and 12 digits. Its
/// check digit is not verified, because the published rule fails on the vendor's own sample card.
pub fn check_foreigner_2017(number: &str) -> IdNumberCheck {
    let b = number.as_bytes();
    if b.len() == 15 && b[..3].iter().all(u8::is_ascii_uppercase) && b[3..].iter().all(u8::is_ascii_digit) {
        IdNumberCheck::Valid
    } else {
        IdNumberCheck::Malformed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_samples() {
        assert_eq!(check_gb11643("11010519491231002X"), IdNumberCheck::Valid);
        assert_eq!(check_gb11643("931586198001010028"), IdNumberCheck::Valid);
        assert_eq!(check_gb11643("110105194912310021"), IdNumberCheck::WrongCheckCharacter);
        assert_eq!(check_gb11643("11010519491231002"), IdNumberCheck::Malformed);
        assert_eq!(check_gb11643("1101051949123100AX"), IdNumberCheck::Malformed);
        assert_eq!(check_gb11643("11010519491231002Ｘ"), IdNumberCheck::Malformed);
    }

    #[test]
    fn every_remainder_maps_to_its_character() {
        // Vary the last body digit: each step of 1 changes the weighted sum by 2, and
        // together with the 6th digit (weight 4) all eleven remainders are reached.
        let mut seen = std::collections::BTreeSet::new();
        for a in 0..10 {
            for b in 0..10 {
                let body = format!("44060{a}1990010100{b}");
                let c = check_character(&body).unwrap();
                assert_eq!(check_gb11643(&format!("{body}{c}")), IdNumberCheck::Valid);
                seen.insert(c);
            }
        }
        assert_eq!(seen.len(), 11);
    }

    #[test]
    fn foreigner_2017_structure() {
        assert_eq!(check_foreigner_2017("CAN110080010125"), IdNumberCheck::Valid);
        assert_eq!(check_foreigner_2017("CA1110080010125"), IdNumberCheck::Malformed);
        assert_eq!(check_foreigner_2017("CAN11008001012"), IdNumberCheck::Malformed);
    }
}
