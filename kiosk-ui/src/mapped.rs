//! Read-only file mappings, for the files the UI keeps for its whole life (the CJK fonts, the
//! installed catalogue): mapped pages that are never touched cost no memory, where reading the
//! files would hold all of them in the heap.

use std::path::Path;
use std::sync::Arc;

/// Maps `path` read-only.
#[allow(unsafe_code)]
pub fn map(path: &Path) -> std::io::Result<memmap2::Mmap> {
    let file = std::fs::File::open(path)?;
    // SAFETY: only files that are never modified in place are mapped: the fonts belong to the
    // read-only image (or the developer's cache), and the sync agent installs a catalogue by
    // writing a new file and renaming it over the old one, so a mapping keeps the old inode's
    // contents. Truncating a mapped file under the kiosk would fault it; nothing here does.
    unsafe { memmap2::Mmap::map(&file) }
}

/// A catalogue bundle, mapped.
pub fn bundle(path: &Path) -> std::io::Result<kiosk_catalogue::BundleBytes> {
    Ok(Arc::new(map(path)?))
}
