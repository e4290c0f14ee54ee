//! Chinese input for the on-screen keyboard: the resident types a syllable in pinyin and picks
//! the character from a candidate bar. Slint has no Chinese input method (slint-ui/slint#6680),
//! so the reverse reading table is built here from the `pinyin` crate's data.
//!
//! Candidates are ordered common characters first, by GB2312 level (level 1 holds the 3,755
//! most used characters); every heteronym reading of a character counts, so 重 is offered for
//! both "zhong" and "chong".

use std::collections::HashMap;
use std::sync::OnceLock;

use pinyin::ToPinyinMulti;

/// Syllable (plain, no tones) → characters, common first.
fn table() -> &'static HashMap<&'static str, Vec<char>> {
    static TABLE: OnceLock<HashMap<&'static str, Vec<char>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: HashMap<&'static str, Vec<(u8, char)>> = HashMap::new();
        let ranges = ['\u{4E00}'..='\u{9FFF}', '\u{3400}'..='\u{4DBF}'];
        for c in ranges.into_iter().flatten() {
            let Some(readings) = c.to_pinyin_multi() else { continue };
            let rank = frequency_rank(c);
            for reading in readings {
                let entry = table.entry(reading.plain()).or_default();
                if !entry.iter().any(|&(_, have)| have == c) {
                    entry.push((rank, c));
                }
            }
        }
        table
            .into_iter()
            .map(|(k, mut v)| {
                v.sort_by_key(|&(rank, c)| (rank, c));
                (k, v.into_iter().map(|(_, c)| c).collect())
            })
            .collect()
    })
}

/// 0 for GB2312 level 1, 1 for level 2, 2 for the rest.
fn frequency_rank(c: char) -> u8 {
    let mut buf = [0u8; 4];
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(c.encode_utf8(&mut buf));
    match (&*bytes, unmappable) {
        (&[lead, _], false) if (0xB0..=0xD7).contains(&lead) => 0,
        (&[lead, _], false) if (0xD8..=0xF7).contains(&lead) => 1,
        _ => 2,
    }
}

/// The pinyin being typed and the candidates it offers.
#[derive(Debug, Default, Clone)]
pub struct Composer {
    letters: String,
    page: usize,
}

impl Composer {
    pub const PAGE: usize = 8;

    pub fn letters(&self) -> &str {
        &self.letters
    }

    pub fn is_composing(&self) -> bool {
        !self.letters.is_empty()
    }

    /// Takes a letter; anything else is not pinyin and is refused (the caller types it).
    pub fn push(&mut self, c: char) -> bool {
        if c.is_ascii_alphabetic() && self.letters.len() < 6 {
            self.letters.push(c.to_ascii_lowercase());
            self.page = 0;
            true
        } else {
            false
        }
    }

    pub fn backspace(&mut self) -> bool {
        self.page = 0;
        self.letters.pop().is_some()
    }

    pub fn clear(&mut self) {
        self.letters.clear();
        self.page = 0;
    }

    /// All candidates: characters read exactly so, or, while the syllable is incomplete, those
    /// whose reading starts with it ("zh" offers 中 张 ...).
    fn all(&self) -> Vec<char> {
        if self.letters.is_empty() {
            return Vec::new();
        }
        if let Some(exact) = table().get(self.letters.as_str()) {
            return exact.clone();
        }
        let mut keys: Vec<&&str> = table().keys().filter(|k| k.starts_with(&self.letters)).collect();
        keys.sort();
        let mut out: Vec<char> = Vec::new();
        for level in 0..3 {
            for k in &keys {
                for &c in &table()[**k] {
                    if frequency_rank(c) == level && !out.contains(&c) {
                        out.push(c);
                    }
                }
            }
        }
        out
    }

    /// The page of candidates the bar shows.
    pub fn candidates(&self) -> Vec<char> {
        self.all().into_iter().skip(self.page * Self::PAGE).take(Self::PAGE).collect()
    }

    pub fn has_more(&self) -> bool {
        self.all().len() > (self.page + 1) * Self::PAGE
    }

    pub fn next_page(&mut self) {
        if self.has_more() {
            self.page += 1;
        }
    }

    pub fn previous_page(&mut self) {
        self.page = self.page.saturating_sub(1);
    }

    /// Picks candidate `i` of the page shown; the composition ends.
    pub fn pick(&mut self, i: usize) -> Option<char> {
        let c = self.candidates().get(i).copied()?;
        self.clear();
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compose(letters: &str) -> Composer {
        let mut c = Composer::default();
        for l in letters.chars() {
            assert!(c.push(l));
        }
        c
    }

    #[test]
    fn common_characters_come_first() {
        let c = compose("zhang");
        let page = c.candidates();
        assert!(page.contains(&'张'), "{page:?}");
        assert_eq!(page.len(), Composer::PAGE);
        assert!(page.iter().all(|&c| frequency_rank(c) == 0), "the first page holds level-1 characters");
    }

    fn every_page(letters: &str) -> Vec<char> {
        let mut c = compose(letters);
        let mut seen = c.candidates();
        while c.has_more() {
            c.next_page();
            seen.extend(c.candidates());
        }
        seen
    }

    #[test]
    fn heteronyms_are_offered_under_every_reading() {
        assert!(every_page("chong").contains(&'重'));
        assert!(every_page("zhong").contains(&'重'));
        assert!(every_page("hang").contains(&'行') && every_page("xing").contains(&'行'));
    }

    #[test]
    fn picking_ends_the_composition_and_incomplete_syllables_still_offer() {
        let mut c = compose("zh");
        assert!(!c.candidates().is_empty());
        let mut c2 = compose("zhe");
        let picked = c2.pick(0).unwrap();
        assert!(!c2.is_composing());
        assert!(crate::ime::table()["zhe"].contains(&picked));
        assert!(c.backspace() && c.backspace() && !c.backspace());
        assert!(!compose("x").push('1'), "digits are not pinyin");
    }

    #[test]
    fn rare_name_characters_can_be_typed() {
        // 喆 and 堃 are outside GB2312 yet common in names.
        assert!(every_page("zhe").contains(&'喆'));
        assert!(every_page("kun").contains(&'堃'));
    }
}
