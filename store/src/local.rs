//! The store on local disk: objects by content hash, written atomically and
//! verified on every read, and the memo table (thunk hash -> output hashes).
//! Unaware of builds and paths: a memo names outputs as the thunk sees them.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::hash::{ContentHash, Kind};

/// What a thunk produced: its outputs (thunk-visible paths) by hash, with
/// their permission bits (an executable must stay executable). The depfile,
/// when the edge has one, is stored like an output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memo {
    pub outputs: Vec<MemoOutput>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoOutput {
    pub path: String,
    pub hash: ContentHash,
    pub mode: u32,
}

pub struct Store {
    root: PathBuf,
}

impl Store {
    /// `$GGNINJA_STORE`, else `$XDG_CACHE_HOME/ggninja/store`, else
    /// `~/.cache/ggninja/store`.
    pub fn default_root() -> PathBuf {
        if let Some(p) = std::env::var_os("GGNINJA_STORE") {
            return PathBuf::from(p);
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        cache.join("ggninja").join("store")
    }

    pub fn open(root: &Path) -> io::Result<Store> {
        std::fs::create_dir_all(root.join("objects"))?;
        std::fs::create_dir_all(root.join("memo"))?;
        Ok(Store {
            root: root.to_path_buf(),
        })
    }

    fn object_path(&self, hash: &ContentHash) -> PathBuf {
        self.root.join("objects").join(hash.to_string())
    }

    fn memo_path(&self, thunk: &ContentHash) -> PathBuf {
        self.root.join("memo").join(thunk.to_string())
    }

    /// Writes `data` to `dest` through a temporary file and a rename, so a
    /// reader never sees half an object.
    fn write_atomic(dest: &Path, data: &[u8]) -> io::Result<()> {
        let tmp = dest.with_extension(format!("tmp{}", std::process::id()));
        let written = std::fs::File::create(&tmp).and_then(|mut f| {
            f.write_all(data)?;
            f.sync_data()
        });
        // A full disk must not keep half an object around.
        written
            .and_then(|()| std::fs::rename(&tmp, dest))
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })
    }

    /// Stores `data` and returns its hash. An object already there is kept
    /// only if it is intact: a corrupt one is replaced, so the store heals.
    pub fn put(&self, data: &[u8]) -> io::Result<ContentHash> {
        let hash = ContentHash::of(Kind::Value, data);
        let path = self.object_path(&hash);
        let intact = std::fs::read(&path).is_ok_and(|old| old == data);
        if !intact {
            Store::write_atomic(&path, data)?;
        }
        Ok(hash)
    }

    /// Reads an object, checking it against its name. A corrupted object is
    /// removed and reported as missing, never returned.
    pub fn get(&self, hash: &ContentHash) -> Option<Vec<u8>> {
        let path = self.object_path(hash);
        let data = std::fs::read(&path).ok()?;
        if ContentHash::of(Kind::Value, &data) != *hash {
            let _ = std::fs::remove_file(&path);
            return None;
        }
        Some(data)
    }

    /// Whether an object is there at its size; its content is checked
    /// only when it is read.
    pub fn contains(&self, hash: &ContentHash) -> bool {
        std::fs::metadata(self.object_path(hash)).is_ok_and(|m| m.len() == hash.size)
    }

    pub fn memo_get(&self, thunk: &ContentHash) -> Option<Memo> {
        let text = std::fs::read_to_string(self.memo_path(thunk)).ok()?;
        let mut outputs = Vec::new();
        for line in text.lines() {
            let mut f = line.splitn(3, ' ');
            let hash = ContentHash::parse(f.next()?)?;
            let mode = u32::from_str_radix(f.next()?, 8).ok()?;
            outputs.push(MemoOutput {
                path: f.next()?.to_string(),
                hash,
                mode,
            });
        }
        Some(Memo { outputs })
    }

    pub fn memo_put(&self, thunk: &ContentHash, memo: &Memo) -> io::Result<()> {
        let mut text = String::new();
        for o in &memo.outputs {
            text.push_str(&format!("{} {:o} {}\n", o.hash, o.mode, o.path));
        }
        Store::write_atomic(&self.memo_path(thunk), text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_verified_on_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let h = store.put(b"object file").unwrap();
        assert_eq!(store.get(&h).as_deref(), Some(&b"object file"[..]));
        // Flip a byte: the object is discarded, not returned.
        std::fs::write(store.object_path(&h), b"object fild").unwrap();
        assert_eq!(store.get(&h), None);
        assert!(!store.object_path(&h).exists());
        let t = ContentHash::of(Kind::Thunk, b"thunk");
        let memo = Memo {
            outputs: vec![MemoOutput {
                path: "/ggroot/build/a".into(),
                hash: h,
                mode: 0o755,
            }],
        };
        store.memo_put(&t, &memo).unwrap();
        assert_eq!(store.memo_get(&t), Some(memo));
    }
}
