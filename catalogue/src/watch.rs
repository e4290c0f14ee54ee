//! How the UI learns that a new catalogue was installed. The update client replaces the bundle by
//! rename, so a new file identity means a complete new catalogue; the UI polls this between
//! residents' sessions (never during one) and swaps its index without a restart.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::{Bundle, LoadError};

#[derive(Debug, Clone, PartialEq, Eq)]
struct FileId {
    #[cfg(unix)]
    inode: (u64, u64),
    len: u64,
    modified: Option<SystemTime>,
}

impl FileId {
    fn of(meta: &std::fs::Metadata) -> Self {
        Self {
            #[cfg(unix)]
            inode: {
                use std::os::unix::fs::MetadataExt;
                (meta.dev(), meta.ino())
            },
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("reading the installed catalogue {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the installed catalogue {path} is unreadable: {source}")]
    Bundle { path: PathBuf, source: LoadError },
}

#[derive(Debug)]
pub struct BundleWatch {
    path: PathBuf,
    seen: Option<FileId>,
}

impl BundleWatch {
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self { path: path.as_ref().to_owned(), seen: None }
    }

    /// Takes the file installed now as seen, without reading it: for a caller that has just
    /// opened it itself, so only later installs are reported.
    pub fn mark_current(&mut self) {
        self.seen = std::fs::metadata(&self.path).ok().map(|m| FileId::of(&m));
    }

    /// The bundle, if it changed since the last call (the first call reports any bundle present).
    /// A missing file is no change: a kiosk without a catalogue keeps showing what it has.
    pub fn poll(&mut self) -> Result<Option<Bundle>, WatchError> {
        self.poll_with(|path| std::fs::read(path).map(|b| std::sync::Arc::new(b) as crate::BundleBytes))
    }

    /// As [`BundleWatch::poll`], with the caller reading the file (a kiosk maps it read-only, so
    /// the items' details cost memory only when opened).
    pub fn poll_with(
        &mut self,
        read: impl FnOnce(&Path) -> std::io::Result<crate::BundleBytes>,
    ) -> Result<Option<Bundle>, WatchError> {
        let io = |source| WatchError::Io { path: self.path.clone(), source };
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let id = FileId::of(&meta);
        if self.seen.as_ref() == Some(&id) {
            return Ok(None);
        }
        // Remembered before parsing: a damaged file is reported once, not on every poll.
        self.seen = Some(id);
        let bytes = read(&self.path).map_err(io)?;
        Bundle::open_shared(bytes)
            .map(Some)
            .map_err(|source| WatchError::Bundle { path: self.path.clone(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_bundle_is_reported_once_and_a_good_one_replaces_it() {
        let dir = std::env::temp_dir().join(format!("bundle-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("catalogue.bundle");
        std::fs::write(&path, b"\xff\xff\xff\xffnot a bundle").unwrap();
        let mut watch = BundleWatch::new(&path);
        assert!(matches!(watch.poll(), Err(WatchError::Bundle { .. })));
        assert!(watch.poll().unwrap().is_none());

        let tmp = dir.join("incoming");
        std::fs::write(&tmp, crate::to_bundle(&crate::sample())).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        assert_eq!(watch.poll().unwrap().unwrap().len(), crate::sample().items.len());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_bundle_marked_current_is_not_reported_but_the_next_install_is() {
        let dir = std::env::temp_dir().join(format!("bundle-watch-current-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("catalogue.bundle");
        std::fs::write(&path, crate::to_bundle(&crate::sample())).unwrap();
        let mut watch = BundleWatch::new(&path);
        watch.mark_current();
        assert!(watch.poll().unwrap().is_none());
        let tmp = dir.join("incoming");
        std::fs::write(&tmp, crate::to_bundle(&crate::sample())).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        assert!(watch.poll().unwrap().is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
