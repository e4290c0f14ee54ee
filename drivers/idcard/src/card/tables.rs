//! Code tables printed on cards: sex (GB/T 2261.1) and ethnicity (GB/T 3304).

use zeroize::Zeroize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Zeroize)]
pub enum Sex {
    Unknown,
    Male,
    Female,
    Unspecified,
}

impl Sex {
    pub fn from_code(c: char) -> Option<Self> {
        Some(match c {
            '0' => Sex::Unknown,
            '1' => Sex::Male,
            '2' => Sex::Female,
            '9' => Sex::Unspecified,
            _ => return None,
        })
    }

    pub fn code(self) -> char {
        match self {
            Sex::Unknown => '0',
            Sex::Male => '1',
            Sex::Female => '2',
            Sex::Unspecified => '9',
        }
    }

    /// The machine-readable word used in JSON.
    pub fn key(self) -> &'static str {
        match self {
            Sex::Unknown => "unknown",
            Sex::Male => "male",
            Sex::Female => "female",
            Sex::Unspecified => "unspecified",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        [Sex::Unknown, Sex::Male, Sex::Female, Sex::Unspecified].into_iter().find(|s| s.key() == key)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Sex::Unknown => "未知",
            Sex::Male => "男",
            Sex::Female => "女",
            Sex::Unspecified => "未说明",
        }
    }
}

/// GB/T 3304 names as printed on cards (without 族), codes 01–56, then 97 and 98.
const ETHNICITIES: [&str; 56] = [
    "汉",
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
];

/// The printed name for an ethnicity code. Codes outside the standard (vendors disagree on
/// 57–99) are shown with their number rather than refused, so a resident is never turned away.
pub fn ethnicity_name(code: u8) -> String {
    match code {
        1..=56 => ETHNICITIES[usize::from(code - 1)].to_owned(),
        97 => "其他".to_owned(),
        98 => "外国血统中国籍人士".to_owned(),
        _ => format!("其他 (代码 {code:02})"),
    }
}

/// The code for a printed name, for building simulated cards.
pub fn ethnicity_code(name: &str) -> Option<u8> {
    let name = name.strip_suffix('族').unwrap_or(name);
    (1..=56).chain([97, 98]).find(|&c| ethnicity_name(c) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_avoids_the_known_typos() {
        assert_eq!(ethnicity_name(31), "达斡尔");
        assert_eq!(ethnicity_name(46), "德昂");
        assert_eq!(ethnicity_name(1), "汉");
        assert_eq!(ethnicity_name(56), "基诺");
        assert_eq!(ethnicity_name(98), "外国血统中国籍人士");
        assert_eq!(ethnicity_name(57), "其他 (代码 57)");
        assert_eq!(ethnicity_code("壮族"), Some(8));
        assert_eq!(ethnicity_code("火星"), None);
    }

    #[test]
    fn sex_codes_round_trip() {
        for c in ['0', '1', '2', '9'] {
            let s = Sex::from_code(c).unwrap();
            assert_eq!(s.code(), c);
            assert_eq!(Sex::from_key(s.key()), Some(s));
        }
        assert_eq!(Sex::from_code('3'), None);
    }
}
