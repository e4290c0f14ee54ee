//! Every string the screens mark with `@tr` has a Simplified Chinese translation, none is
//! stale, and placeholders survive translation: the kiosk's first language must never fall
//! back to English in front of a resident. And the Rust code behind the screens hands them data,
//! never words, so English mode cannot show Chinese that Rust wrote.

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
        } else if let Some(rest) =
            line.strip_prefix("msgstr \"").or_else(|| line.strip_prefix("msgstr[0] \""))
        {
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

/// The Chinese ideographs in the string literals of Rust source, outside comments and test
/// modules, with their line numbers.
fn chinese_literals(source: &str) -> Vec<(usize, String)> {
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    let is_han =
        |c: char| matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{20000}'..='\u{2FFFF}');
    let mut found = Vec::new();
    let (mut line, mut chars) = (1, code.chars().peekable());
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '\'' => {
                // A char literal ('x', '\'', '\u{4e00}'), not a lifetime: skip it whole.
                let mut ahead = chars.clone();
                let is_char = match ahead.next() {
                    Some('\\') => true,
                    Some(_) => ahead.next() == Some('\''),
                    None => false,
                };
                if is_char {
                    if chars.next() == Some('\\') {
                        chars.next();
                    }
                    for c in chars.by_ref() {
                        if c == '\'' {
                            break;
                        }
                    }
                }
            }
            '"' => {
                let (start, mut text) = (line, String::new());
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        '\n' => {
                            line += 1;
                            text.push(c);
                        }
                        c => text.push(c),
                    }
                }
                if text.chars().any(is_han) {
                    found.push((start, text));
                }
            }
            _ => {}
        }
    }
    found
}

#[test]
fn rust_behind_the_screens_writes_no_chinese_words() {
    // Catalogue values the code compares with, not words it shows.
    const CATALOGUE_VALUES: [&str; 5] = ["必要", "工作日", "自然日", "日", "天"];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = ["src", "../kiosk-app/src"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root.join(dir)).unwrap().map(|e| e.unwrap().path()))
        .collect();
    // Not behind the screens: the printed slips are documents in Chinese whatever the screen's
    // language (receipt.rs, records_slip.rs), the pinyin keyboard's character table is data (ime.rs),
    // and demo mode and screenshots are developers' tools.
    files.retain(|f| {
        let name = f.file_name().unwrap().to_str().unwrap();
        !["receipt.rs", "records_slip.rs", "ime.rs", "demo.rs", "screenshots.rs", "probe.rs"].contains(&name)
    });
    assert!(files.len() > 15, "found only {files:?}");
    let mut words = Vec::new();
    for file in &files {
        for (line, text) in chinese_literals(&std::fs::read_to_string(file).unwrap()) {
            if !CATALOGUE_VALUES.contains(&text.as_str()) {
                words.push(format!("{}:{line}: {text:?}", file.display()));
            }
        }
    }
    assert!(
        words.is_empty(),
        "Chinese words written by Rust code; hand the screen a code or figures and word it in ui/ with @tr: {words:#?}"
    );
}

#[test]
fn the_scan_for_chinese_words_finds_them() {
    let source = "// 注释 is fine\nlet a = '\\'';\nlet b = \"不收费\";\nfn f<'a>(x: &'a str) {}\nlet c = \"ok\";\n#[cfg(test)]\nlet d = \"测试\";";
    assert_eq!(chinese_literals(source), [(3, "不收费".to_owned())]);
}
