//! Masking of personal data, in one place so that screens, slips, diagnostics and `Debug` output
//! all hide the same characters (conventions of `reference/domain.md` §4.7).
//!
//! Masking works on Unicode scalar values, never bytes or UTF-16 units: rare name characters such
//! as 𠮷 lie outside the BMP, and cutting them in half would print garbage on a slip.

/// The character that replaces hidden ones.
pub const MASK: char = '*';

/// `张三` → `张*`, `张三丰` → `张*丰`, `欧阳娜娜` → `欧**娜`; a one-character name is fully hidden.
///
/// Latin names (foreign permanent residents) keep their first and last letters only, so the mask
/// never reveals a whole given name.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => MASK.to_string(),
        2 => format!("{}{MASK}", chars[0]),
        n => {
            let mut out = String::with_capacity(n * 3);
            out.push(chars[0]);
            out.extend(chars[1..n - 1].iter().map(|c| if *c == ' ' { ' ' } else { MASK }));
            out.push(chars[n - 1]);
            out
        }
    }
}

/// Identity-document numbers keep the first four (province and city, useful to support staff)
/// and the last four characters: `4401**********1234`. Short numbers are hidden more, so that at
/// least half of any number stays masked.
pub fn mask_id_number(number: &str) -> String {
    let chars: Vec<char> = number.trim().chars().collect();
    let n = chars.len();
    let keep = if n >= 16 { 4 } else { n / 4 };
    chars.iter().enumerate().map(|(i, c)| if i < keep || i >= n - keep { *c } else { MASK }).collect()
}

/// Mobile and fixed-line numbers keep the carrier prefix and the last four, as banks and the
/// 12345 hotline print them: `138****1234`. Short numbers are masked like ID numbers.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    let n = chars.len();
    if n < 8 {
        return mask_id_number(phone);
    }
    chars.iter().enumerate().map(|(i, &c)| if i < 3 || i >= n - 4 { c } else { MASK }).collect()
}

/// Account-like numbers (bank accounts, social security and provident fund accounts) keep the
/// last four only, which is what a resident checks against their card.
pub fn mask_account_number(number: &str) -> String {
    let n = number.chars().count();
    number.chars().enumerate().map(|(i, c)| if i + 4 < n { MASK } else { c }).collect()
}

/// Birth dates keep the year (`1990-**-**`): with the masked name and ID number, month and day
/// would narrow a person down too far.
pub fn mask_birth_date(date: &str) -> String {
    match date.trim() {
        "" => String::new(),
        d => format!("{}-**-**", d.get(..4).unwrap_or("****")),
    }
}

/// An address on the resident's own screen: up to the district or town (区/县/镇/街道), the rest
/// hidden, so they recognise it without a bystander learning where they live.
pub fn mask_address(address: &str) -> String {
    let chars: Vec<char> = address.chars().collect();
    let cut = chars.iter().rposition(|c| matches!(c, '区' | '县' | '镇' | '街')).map_or(0, |i| i + 1);
    let shown: String = chars[..cut].iter().collect();
    format!("{shown}{}", MASK.to_string().repeat(4.min(chars.len() - cut)))
}

/// Addresses are not shown at all outside the resident's own screen: what remains is a marker
/// that an address exists, with its length in characters to help a technician spot truncation.
pub fn redact_address(address: &str) -> String {
    format!("<address, {} chars>", address.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_accounts_dates_and_addresses() {
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("1234"), "1**4");
        assert_eq!(mask_account_number("6222021234567890123"), "***************0123");
        assert_eq!(mask_birth_date("1990-01-02"), "1990-**-**");
        assert_eq!(mask_birth_date("19"), "****-**-**");
        assert_eq!(mask_birth_date(""), "");
        assert_eq!(mask_address("广东省佛山市南海区桂城街道南海大道1号"), "广东省佛山市南海区桂城街****");
        assert_eq!(mask_address("某某路1号"), "****");
    }

    #[test]
    fn names_follow_the_slip_convention() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张三丰"), "张*丰");
        assert_eq!(mask_name("欧阳娜娜"), "欧**娜");
        assert_eq!(mask_name("喆"), "*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn names_are_masked_by_scalar_value_not_byte() {
        // U+20BB7 is four bytes in UTF-8 and two UTF-16 units.
        assert_eq!(mask_name("𠮷野家"), "𠮷*家");
        assert_eq!(mask_name("李𠮷"), "李*");
    }

    #[test]
    fn latin_names_keep_word_gaps_and_hide_letters() {
        assert_eq!(mask_name("ZHANG WEI"), "Z**** **I");
    }

    #[test]
    fn id_numbers_keep_four_and_four() {
        assert_eq!(mask_id_number("44010519491231002X"), "4401**********002X");
        assert_eq!(mask_id_number("931586198001010028"), "9315**********0028");
    }

    #[test]
    fn short_numbers_stay_mostly_hidden() {
        let masked = mask_id_number("CAN110080010125");
        assert_eq!(masked, "CAN*********125");
        assert!(masked.chars().filter(|c| *c == MASK).count() * 2 >= masked.chars().count());
        assert_eq!(mask_id_number("123"), "***");
    }

    #[test]
    fn address_never_appears() {
        let r = redact_address("广东省佛山市南海区桂城街道南海大道北1号");
        assert!(!r.contains("佛山"));
        assert_eq!(r, "<address, 20 chars>");
    }
}
