//! Finding items the way residents type (`reference/domain.md` §5.2): Chinese text, full pinyin
//! (`shebaochaxun`), initials (`sbcx`), any mix (`shebaocx`), polyphonic characters read every
//! way (查 chá/zhā, 参 cān/shēn …), and a missed letter forgiven. Ranked: names before synonyms
//! before descriptions, exact before prefix before anywhere.

use pinyin::ToPinyinMulti;

use crate::model::{Catalogue, Summary};

/// At most this many readings of one character are indexed (the dictionary's first is the
/// commonest).
const MAX_READINGS: usize = 3;

/// Single-character strings for letters and digits, so every reading is a `&'static str`.
const ASCII: [&str; 36] = [
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u",
    "v", "w", "x", "y", "z", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
];

/// The readings of one character of a name as ids into the index's table of readings, and the
/// first letters they can start with. Small and fixed-size: a query walks the syllables of
/// every item, so their size, not the work per syllable, sets the speed.
#[derive(Debug, Clone, Copy)]
struct Syllable {
    readings: [u16; MAX_READINGS],
    count: u8,
    /// Bit n set: a reading starts with letter n (`a` = 0); bit 26: with a digit. 32 bits keep
    /// the syllable at 12 bytes (10,000 names hold about 350,000 of them).
    first: u32,
}

// The index's memory is mostly syllables: keep them small.
const _: () = assert!(std::mem::size_of::<Syllable>() == 12);

impl Syllable {
    fn readings(&self) -> &[u16] {
        &self.readings[..usize::from(self.count)]
    }
}

/// Every distinct reading once (a few hundred pinyin syllables, letters and digits).
#[derive(Debug, Clone, Default)]
struct Readings {
    all: Vec<&'static str>,
    ids: std::collections::HashMap<&'static str, u16>,
}

impl Readings {
    fn id(&mut self, r: &'static str) -> u16 {
        *self.ids.entry(r).or_insert_with(|| {
            self.all.push(r);
            (self.all.len() - 1) as u16
        })
    }
}

/// The bit of [`Syllable::first`] for a first letter; all digits share one.
fn first_bit(b: u8) -> u32 {
    match b {
        b'a'..=b'z' => 1 << (b - b'a'),
        b'0'..=b'9' => 1 << 26,
        _ => 0,
    }
}

fn bit(b: u8) -> u64 {
    match b {
        b'a'..=b'z' => 1 << (b - b'a'),
        b'0'..=b'9' => 1 << (26 + b - b'0'),
        _ => 0,
    }
}

/// One character's syllable, and every letter its readings contain; `None` for characters
/// without a reading (punctuation).
fn syllable(c: char, table: &mut Readings) -> Option<(Syllable, u64)> {
    let mut syl = Syllable { readings: [0; MAX_READINGS], count: 0, first: 0 };
    let mut letters = 0;
    let mut add = |r: &'static str| {
        let id = table.id(r);
        if usize::from(syl.count) < MAX_READINGS && !syl.readings().contains(&id) {
            syl.readings[usize::from(syl.count)] = id;
            syl.count += 1;
            syl.first |= first_bit(r.as_bytes()[0]);
            letters |= r.bytes().map(bit).fold(0, |a, b| a | b);
        }
    };
    if c.is_ascii_alphanumeric() {
        let b = c.to_ascii_lowercase() as u8;
        add(ASCII[if b.is_ascii_digit() { 26 + usize::from(b - b'0') } else { usize::from(b - b'a') }]);
    } else {
        c.to_pinyin_multi()?.into_iter().for_each(|p| add(p.plain()));
    }
    (syl.count > 0).then_some((syl, letters))
}

/// The CJK blocks where names live (Extension A and Unified Ideographs), cached by code point:
/// 10,000 names reuse a few thousand characters, each worked out once.
const CACHED: std::ops::Range<u32> = 0x3400..0xA000;

/// Readings of a text's characters, through the cache.
struct Syllabler {
    table: Readings,
    cache: Vec<Option<Option<(Syllable, u64)>>>,
}

impl Syllabler {
    fn new() -> Self {
        Self { table: Readings::default(), cache: vec![None; (CACHED.end - CACHED.start) as usize] }
    }

    /// `letters` collects every letter the readings contain.
    fn syllables(&mut self, text: &str, letters: &mut u64) -> Vec<Syllable> {
        text.chars()
            .filter_map(|c| {
                let (syl, l) = if CACHED.contains(&u32::from(c)) {
                    let slot = (u32::from(c) - CACHED.start) as usize;
                    match self.cache[slot] {
                        Some(known) => known,
                        None => *self.cache[slot].insert(syllable(c, &mut self.table)),
                    }
                } else {
                    syllable(c, &mut self.table)
                }?;
                *letters |= l;
                Some(syl)
            })
            .collect()
    }
}

/// Can `q` be typed along the syllables from `at`? Each syllable takes a non-empty prefix of
/// one of its readings; with `edits` left, one letter of a reading may be skipped. Returns how
/// many syllables were used and whether an edit was spent.
fn match_from(t: &[&'static str], s: &[Syllable], at: usize, q: &[u8], edits: u8) -> Option<(usize, bool)> {
    if q.is_empty() {
        return Some((0, false));
    }
    let syl = s.get(at)?;
    // Even a missed letter comes after the reading's first letter, so this prunes every path.
    if syl.first & first_bit(q[0]) == 0 {
        return None;
    }
    for &r in syl.readings() {
        let r = t[usize::from(r)].as_bytes();
        // Longest prefix first: a full syllable is the likelier reading of what was typed.
        let common = r.iter().zip(q).take_while(|(a, b)| a == b).count();
        for k in (1..=common).rev() {
            if let Some((n, e)) = match_from(t, s, at + 1, &q[k..], edits) {
                return Some((n + 1, e));
            }
        }
        if edits > 0 && common >= 1 {
            // A missed letter: the query jumps over r[common] and goes on inside the reading.
            let rest = &r[(common + 1).min(r.len())..];
            let more = rest.iter().zip(&q[common..]).take_while(|(a, b)| a == b).count();
            if more > 0
                && let Some((n, _)) = match_from(t, s, at + 1, &q[common + more..], edits - 1)
            {
                return Some((n + 1, true));
            }
        }
    }
    None
}

/// Where in a text a query matched, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Anywhere,
    Prefix,
    Exact,
}

fn pinyin_place(t: &[&'static str], s: &[Syllable], q: &[u8], edits: u8) -> Option<(Place, bool)> {
    let qfirst = first_bit(q[0]);
    let mut best: Option<(Place, bool)> = None;
    for at in 0..s.len() {
        if s[at].first & qfirst == 0 {
            continue;
        }
        if let Some((n, fuzzy)) = match_from(t, s, at, q, edits) {
            let place = match (at, at + n == s.len()) {
                (0, true) => Place::Exact,
                (0, false) => Place::Prefix,
                _ => Place::Anywhere,
            };
            let better = best.is_none_or(|(p, f)| (place, !fuzzy) > (p, !f));
            if better {
                best = Some((place, fuzzy));
            }
            if place != Place::Anywhere {
                break;
            }
        }
    }
    best
}

/// A query with its substring searcher, built once and used on every item.
struct Needle<'q> {
    text: &'q str,
    finder: memchr::memmem::Finder<'q>,
}

impl<'q> Needle<'q> {
    fn new(text: &'q str) -> Self {
        Self { text, finder: memchr::memmem::Finder::new(text.as_bytes()) }
    }

    fn place_in(&self, hay: &str) -> Option<Place> {
        if hay.len() < self.text.len() {
            None
        } else if hay == self.text {
            Some(Place::Exact)
        } else if hay.starts_with(self.text) {
            Some(Place::Prefix)
        } else if self.finder.find(hay.as_bytes()).is_some() {
            Some(Place::Anywhere)
        } else {
            None
        }
    }

    fn in_text(&self, hay: &str) -> bool {
        self.finder.find(hay.as_bytes()).is_some()
    }
}

/// Words residents use for official terms; a query with one also finds the other.
const SYNONYMS: &[(&str, &str)] = &[
    ("社保", "社会保险"),
    ("医保", "医疗保险"),
    ("医保", "医疗保障"),
    ("公积金", "住房公积金"),
    ("户口", "户籍"),
    ("退休", "养老"),
    ("生小孩", "生育"),
    ("营业执照", "个体工商户"),
    ("港澳通行证", "签注"),
];

#[derive(Debug, Clone)]
struct Entry {
    name_syl: Vec<Syllable>,
    synonym_syl: Vec<Vec<Syllable>>,
    /// For ranking ties.
    name_chars: usize,
    /// Item codes in lower case, matched by long digit/letter queries.
    codes: Box<str>,
    /// Every letter any reading of the name or a synonym contains: a query needing another
    /// letter cannot match by pinyin, and the syllables need not be walked.
    letters: u64,
}

/// The search index over a catalogue's items; hit `i` is item `i` (and `summary(i)`).
#[derive(Debug, Clone)]
pub struct Index {
    summaries: Vec<Summary>,
    entries: Vec<Entry>,
    readings: Vec<&'static str>,
    /// Every item's name and synonyms, one after another (separated by newlines, which no query
    /// holds), and where each item's part starts: one scan finds the items whose text matches.
    text: String,
    starts: Vec<usize>,
}

/// What a pass over the items looks at: names and synonyms first, and only if that finds too
/// little, descriptions (Chinese queries) or pinyin with a missed letter (Latin queries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Names,
    Descriptions,
    Fuzzy,
}

/// One found item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Position in `catalogue.items`.
    pub item: usize,
    pub score: u32,
}

impl Index {
    /// An index over a whole catalogue (admin tools, tests).
    pub fn build(catalogue: &Catalogue) -> Self {
        Self::new(catalogue.items.iter().map(Summary::from).collect())
    }

    /// An index over item summaries, as a kiosk bundle carries them.
    pub fn new(summaries: Vec<Summary>) -> Self {
        let mut syl = Syllabler::new();
        let entries = summaries
            .iter()
            .map(|it| {
                let mut letters = 0;
                Entry {
                    name_syl: syl.syllables(&it.task_name, &mut letters),
                    synonym_syl: it.synonyms.iter().map(|s| syl.syllables(s, &mut letters)).collect(),
                    name_chars: it.task_name.chars().count(),
                    codes: format!("{} {}", it.catalog_code, it.task_code)
                        .to_ascii_lowercase()
                        .into_boxed_str(),
                    letters,
                }
            })
            .collect();
        let mut text = String::new();
        let starts = summaries
            .iter()
            .map(|it| {
                let start = text.len();
                for t in std::iter::once(&it.task_name).chain(&it.synonyms) {
                    text.push_str(t);
                    text.push('\n');
                }
                start
            })
            .collect();
        Self { summaries, entries, readings: syl.table.all, text, starts }
    }

    /// Which items hold the query literally in their name or a synonym.
    fn literal_hits(&self, q: &Needle<'_>) -> Vec<bool> {
        let mut hit = vec![false; self.entries.len()];
        for at in q.finder.find_iter(self.text.as_bytes()) {
            hit[self.starts.partition_point(|&s| s <= at) - 1] = true;
        }
        hit
    }

    pub fn summary(&self, i: usize) -> &Summary {
        &self.summaries[i]
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How well item `i` answers `q`; `latin` is the query's bytes when it is all letters and
    /// digits, `edits` how many missed letters pinyin matching forgives.
    fn score_item(&self, i: usize, q: &Needle<'_>, literal: bool, latin: Option<&[u8]>, pass: Pass) -> u32 {
        let edits = u8::from(pass == Pass::Fuzzy);
        let (item, e) = (&self.summaries[i], &self.entries[i]);
        let place_score = |p: Place, base: u32| base + 100 * (p as u32);
        let needed = latin.map_or(0, |lq| lq.iter().map(|b| bit(*b)).fold(0, |a, b| a | b));
        let mut score = 0;
        if literal && let Some(p) = q.place_in(&item.task_name) {
            score = score.max(place_score(p, 800));
        }
        for s in item.synonyms.iter().filter(|_| literal) {
            if let Some(p) = q.place_in(s) {
                score = score.max(place_score(p, 500));
            }
        }
        match latin {
            None => {
                if pass == Pass::Descriptions && score == 0 && q.in_text(&item.description) {
                    score = 200;
                }
            }
            Some(lq) => {
                let fuzzy_cost = |fuzzy: bool| if fuzzy { 250 } else { 0 };
                // With an edit allowed, one letter of the query may be one the item lacks.
                let missing = (needed & !e.letters).count_ones();
                if missing == 0 || (edits > 0 && missing == 1) {
                    let t = &self.readings;
                    if let Some((p, fuzzy)) = pinyin_place(t, &e.name_syl, lq, edits) {
                        score = score.max(place_score(p, 800) - fuzzy_cost(fuzzy));
                    }
                    for syl in &e.synonym_syl {
                        if let Some((p, fuzzy)) = pinyin_place(t, syl, lq, edits) {
                            score = score.max(place_score(p, 500) - fuzzy_cost(fuzzy));
                        }
                    }
                }
                if score == 0 && lq.len() >= 4 && q.in_text(&e.codes) {
                    score = 150;
                }
            }
        }
        score
    }

    /// Scores the items `which` lets through.
    fn collect(
        &self,
        variants: &[(Needle<'_>, u32)],
        latin: Option<&[u8]>,
        pass: Pass,
        which: impl Fn(usize) -> bool,
    ) -> Vec<Hit> {
        let literal: Vec<Vec<bool>> = variants.iter().map(|(v, _)| self.literal_hits(v)).collect();
        (0..self.entries.len())
            .filter(|&i| which(i))
            .filter_map(|i| {
                let score = variants
                    .iter()
                    .zip(&literal)
                    .map(|((v, penalty), lit)| {
                        let s = self.score_item(i, v, lit[i], if *penalty == 0 { latin } else { None }, pass);
                        if s > 0 { s.saturating_sub(*penalty).max(1) } else { 0 }
                    })
                    .max()
                    .unwrap_or(0);
                (score > 0).then_some(Hit { item: i, score })
            })
            .collect()
    }

    /// The best `limit` items for a query, best first.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        let q: String = query.trim().to_lowercase().split_whitespace().collect();
        if q.is_empty() {
            return Vec::new();
        }
        let latin = q.bytes().all(|b| b.is_ascii_alphanumeric()).then_some(q.as_bytes());
        let mut variants = vec![(q.clone(), 0u32)];
        for (a, b) in SYNONYMS {
            for (from, to) in [(a, b), (b, a)] {
                if q.contains(from) {
                    variants.push((q.replace(from, to), 50));
                }
            }
        }
        let variants: Vec<(Needle<'_>, u32)> = variants.iter().map(|(v, p)| (Needle::new(v), *p)).collect();
        // Exact matching first; a missed letter is forgiven only when that finds too little.
        let mut hits = self.collect(&variants, latin, Pass::Names, |_| true);
        if hits.len() < limit {
            // Too little in names and synonyms: Chinese queries look into descriptions, pinyin
            // queries forgive a missed letter; only for the items not found already.
            let found: std::collections::HashSet<usize> = hits.iter().map(|h| h.item).collect();
            let pass = if latin.is_some() { Pass::Fuzzy } else { Pass::Descriptions };
            hits.extend(self.collect(&variants, latin, pass, |i| !found.contains(&i)));
        }
        // Best first; among equals the shorter name (the more specific match), then catalogue order.
        let name_len = |i: usize| self.entries[i].name_chars;
        let order = |a: &Hit, b: &Hit| {
            b.score.cmp(&a.score).then(name_len(a.item).cmp(&name_len(b.item))).then(a.item.cmp(&b.item))
        };
        // A one-character query can hit thousands: pick the best `limit`, then order only those.
        if hits.len() > limit && limit > 0 {
            hits.select_nth_unstable_by(limit - 1, order);
            hits.truncate(limit);
        }
        hits.sort_by(order);
        hits.truncate(limit);
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str, q: &str) -> Option<(Place, bool)> {
        let mut s = Syllabler::new();
        let syl = s.syllables(text, &mut 0);
        pinyin_place(&s.table.all, &syl, q.as_bytes(), 1)
    }

    #[test]
    fn pinyin_forms() {
        assert_eq!(m("社保查询", "sbcx"), Some((Place::Exact, false)));
        assert_eq!(m("社保查询", "shebaochaxun"), Some((Place::Exact, false)));
        assert_eq!(m("社保查询", "shebaocx"), Some((Place::Exact, false)));
        assert_eq!(m("社保查询", "shebao"), Some((Place::Prefix, false)));
        assert_eq!(m("社保查询", "sbzx"), Some((Place::Exact, false)), "查 read zha");
        assert_eq!(m("住房公积金", "gjj"), Some((Place::Anywhere, false)));
        assert_eq!(m("社保查询", "shbao"), Some((Place::Prefix, false)), "sh is a prefix of she");
        assert_eq!(m("社保查询", "shebo"), Some((Place::Prefix, true)), "a missed a in bao");
        assert_eq!(m("社保查询", "xyz"), None);
    }

    #[test]
    fn punctuation_is_skipped_and_letters_kept() {
        assert_eq!(m("营业执照（示例）", "yyzzsl"), Some((Place::Exact, false)));
        assert_eq!(m("A4纸", "a4z"), Some((Place::Exact, false)));
    }
}
