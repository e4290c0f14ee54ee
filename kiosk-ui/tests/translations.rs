//! Every string the screens mark with `@tr` has a Simplified Chinese translation, none is
//! stale, and placeholders survive translation: the kiosk's first language must never fall
//! back to English in front of a resident.

use std::collections::BTreeMap;
use std::path::Path;

fn slint_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            slint_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slint") {
            out.push(path);
        }
    }
}

/// The string literal starting at `s` (just after the opening quote), unescaped.
fn literal(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return out,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    panic!("unterminated string literal");
}

fn marked_strings() -> BTreeMap<String, String> {
    let mut files = Vec::new();
    slint_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("ui"), &mut files);
    let mut found = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (at, _) in text.match_indices("@tr(\"") {
            found.insert(literal(&text[at + 5..]), file.display().to_string());
        }
    }
    found
}

fn po_entries() -> BTreeMap<String, String> {
    let po = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("lang/zh_CN/LC_MESSAGES/kiosk-ui.po"),
    )
    .unwrap();
    let mut entries = BTreeMap::new();
    let mut id: Option<String> = None;
    for line in po.lines() {
        if let Some(rest) = line.strip_prefix("msgid \"") {
            id = Some(literal(rest));
        } else if let Some(rest) = line.strip_prefix("msgstr \"") {
            let id = id.take().expect("msgstr follows msgid");
            if !id.is_empty() {
                entries.insert(id, literal(rest));
            }
        }
    }
    entries
}

#[test]
fn every_marked_string_is_translated_to_chinese() {
    let marked = marked_strings();
    let po = po_entries();
    assert!(marked.len() > 100, "found only {} @tr strings", marked.len());
    let missing: Vec<_> = marked.iter().filter(|(k, _)| po.get(*k).is_none_or(String::is_empty)).collect();
    assert!(missing.is_empty(), "untranslated: {missing:#?}");
    let stale: Vec<_> = po.keys().filter(|k| !marked.contains_key(*k)).collect();
    assert!(stale.is_empty(), "translations of strings no screen uses: {stale:#?}");
}

#[test]
fn translations_keep_their_placeholders_and_are_chinese() {
    for (id, zh) in po_entries() {
        assert_eq!(
            id.matches("{}").count(),
            zh.matches("{}").count(),
            "placeholders differ: {id:?} → {zh:?}"
        );
        assert!(
            zh.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)),
            "not translated to Chinese: {id:?} → {zh:?}"
        );
    }
}
