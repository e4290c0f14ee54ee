//! The CJK font. Names on ID cards use characters far outside GB2312 (堃 喆 镕, 𠮷 in plane 2,
//! 䶮 in extension A), and Slint draws nothing at all for a character no font covers, so the
//! kiosk brings its own GB18030-level font instead of trusting whatever the machine has:
//! Noto Sans CJK (SIL OFL 1.1), from Debian's `fonts-noto-cjk` package, which `scripts/setup`
//! fetches into `.cache/fonts/` and the image installs.
//!
//! The files are memory-mapped, not read: the two faces are 39 MB, of which a session touches a
//! few hundred kilobytes, and mapped pages that are not touched cost no memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use slint::fontique_011::fontique;

/// The family the screens ask for (`default-font-family` in `app.slint`).
pub const FAMILY: &str = "Noto Sans CJK SC";
pub const FILES: [&str; 2] = ["NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"];
/// The SC face inside the collections.
pub const SC_INDEX: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum FontError {
    #[error(
        "no CJK font found (looked for {} in {}); run scripts/setup, or install Debian's fonts-noto-cjk, or set KIOSK_FONT_DIR",
        FILES[0],
        .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    Missing(Vec<PathBuf>),
    #[error("font file {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// Where to look, first match wins.
pub fn candidates(configured: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    dirs.extend(configured.map(Path::to_owned));
    dirs.extend(std::env::var_os("KIOSK_FONT_DIR").map(PathBuf::from));
    dirs.push(PathBuf::from("/usr/share/kiosk/fonts"));
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/fonts"));
    dirs.push(PathBuf::from("/usr/share/fonts/opentype/noto"));
    dirs
}

pub fn find(configured: Option<&Path>) -> Result<PathBuf, FontError> {
    let dirs = candidates(configured);
    dirs.iter().find(|d| d.join(FILES[0]).is_file()).cloned().ok_or(FontError::Missing(dirs))
}

fn map(path: &Path) -> Result<memmap2::Mmap, FontError> {
    crate::mapped::map(path).map_err(|e| FontError::Io(path.to_owned(), e))
}

/// The font files' bytes, mapped.
pub fn load(dir: &Path) -> Result<Vec<Arc<memmap2::Mmap>>, FontError> {
    FILES.iter().map(|f| dir.join(f)).filter(|p| p.is_file()).map(|p| map(&p).map(Arc::new)).collect()
}

/// Registers the fonts with Slint and makes them the fallback for Chinese script, so text in
/// any family still finds the glyphs. Call after the platform is set, before the first window.
pub fn register(dir: &Path) -> Result<(), FontError> {
    let mut collection = slint::fontique_011::shared_collection();
    for data in load(dir)? {
        let blob = fontique::Blob::new(data);
        let fonts = collection.register_fonts(blob, None);
        for script in [*b"Hani", *b"Bopo", *b"Latn"] {
            collection.append_fallbacks(
                fontique::FallbackKey::new(fontique::Script::from_bytes(script), None),
                fonts.iter().map(|f| f.0),
            );
        }
    }
    tracing::info!(dir = %dir.display(), family = FAMILY, "CJK font registered");
    Ok(())
}

/// Whether the bundled SC face has a glyph for every character of `text`.
pub fn covers(dir: &Path, text: &str) -> Result<bool, FontError> {
    use skrifa::MetadataProvider;
    let data = map(&dir.join(FILES[0]))?;
    let font = skrifa::FontRef::from_index(&data, SC_INDEX)
        .map_err(|e| FontError::Io(dir.join(FILES[0]), std::io::Error::other(e.to_string())))?;
    let charmap = font.charmap();
    Ok(text.chars().all(|c| charmap.map(c).is_some()))
}
