//! Files the function takes from its image instead of S3 (the program, the
//! bundle's toolchain files, system headers): each must hash to what the
//! thunk names, or the thunk is not run. Hashes are kept by the thunk
//! crate's `HashCache` (per path, device, inode, size, mtime, ctime) for the
//! life of the instance, so each file is read once. Owns that check; ignores where the expected
//! hashes come from.

use std::path::Path;
use std::sync::Arc;

use ggninja_store::hash::ContentHash;
use ggninja_thunk::HashCache;

/// A file of the image that is not what the thunk expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub path: String,
    pub expected: String,
    pub found: String,
}

/// Verified hashes, shared by the threads of `check_all`: thunk's
/// `HashCache`, which rereads a file only when its stat changed.
#[derive(Default, Clone)]
pub struct ImageHashes {
    verified: Arc<HashCache>,
}

impl ImageHashes {
    /// The hash of the file at `path` (following symlinks, as the command
    /// will), read only when its stat changed since it was last hashed.
    pub fn hash(&self, path: &Path) -> Result<ContentHash, String> {
        match self.verified.hash_path(path) {
            Ok(Some(h)) => Ok(h),
            Ok(None) => Err("not a file".into()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("missing".into()),
            Err(e) => Err(format!("unreadable: {e}")),
        }
    }

    /// Checks one file against its expected printed hash.
    pub fn check(&self, path: &str, expected: &str) -> Result<(), Mismatch> {
        let mismatch = |found: String| Mismatch {
            path: path.to_string(),
            expected: expected.to_string(),
            found,
        };
        match self.hash(Path::new(path)) {
            Ok(h) if h.to_string() == expected => Ok(()),
            Ok(h) => Err(mismatch(h.to_string())),
            Err(why) => Err(mismatch(why)),
        }
    }

    /// Checks many (path, expected) pairs on blocking threads; the first
    /// mismatch by path order, if any.
    pub async fn check_all(&self, files: Vec<(String, String)>) -> Result<(), Mismatch> {
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, 8);
        let chunk = files.len().div_ceil(threads).max(1);
        let mut tasks = Vec::new();
        for part in files.chunks(chunk) {
            let part = part.to_vec();
            let this = self.clone();
            tasks.push(tokio::task::spawn_blocking(move || {
                part.iter()
                    .map(|(p, h)| this.check(p, h))
                    .find_map(Result::err)
            }));
        }
        let mut first: Option<Mismatch> = None;
        for t in tasks {
            let found = t.await.unwrap_or_else(|e| {
                Some(Mismatch {
                    path: String::new(),
                    expected: String::new(),
                    found: format!("checking failed: {e}"),
                })
            });
            if let Some(m) = found {
                if first.as_ref().is_none_or(|f| m.path < f.path) {
                    first = Some(m);
                }
            }
        }
        first.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ggninja_store::hash::Kind;

    #[test]
    fn a_changed_file_is_hashed_again() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("cc1");
        std::fs::write(&f, b"one").unwrap();
        let img = ImageHashes::default();
        let p = f.to_str().unwrap();
        let one = ContentHash::of(Kind::Value, b"one").to_string();
        assert!(img.check(p, &one).is_ok());
        std::fs::write(&f, b"two!").unwrap();
        let m = img.check(p, &one).unwrap_err();
        assert_eq!(m.found, ContentHash::of(Kind::Value, b"two!").to_string());
        let gone = dir.path().join("nope");
        assert_eq!(
            img.check(gone.to_str().unwrap(), &one).unwrap_err().found,
            "missing"
        );
    }
}
