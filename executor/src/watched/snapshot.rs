//! `.ggninja_watch.state`: a run's mtimes as of a watcher's stamp, by
//! node, each with its path's hash so that a node numbered otherwise next
//! time (another load of the graph or the deps log) is never given another
//! file's mtime. Written whole to a temporary and renamed; a file that is
//! short, long, of another format or whose checksum fails is ignored.

use std::io::{self, Write};
use std::path::Path;

use ggninja_watch::Stamp;

const MAGIC: &[u8] = b"ggninja watched mtimes\n";
const FORMAT: u32 = 1;
/// Magic, format, epoch, generation, count.
const HEADER: usize = MAGIC.len() + 4 + 8 + 8 + 8;

/// Not stat'ed (or not vouched for): stat it.
pub const UNKNOWN: i64 = -1;
/// Not stat'ed, but its directory is watched by the stamp's daemon: stat
/// it, and do not ask for its directory again.
pub const UNSEEN: i64 = -3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub at: Stamp,
    /// By file number: the hash of its path, and its mtime (0 missing,
    /// `UNKNOWN`, `UNSEEN`).
    pub entries: Vec<(u64, i64)>,
}

/// The hash a snapshot keeps of a path.
pub fn path_hash(path: &str) -> u64 {
    rapidhash::v1::rapidhash_v1(path.as_bytes())
}

impl Snapshot {
    /// The snapshot at `path`, if it is whole and of this format.
    pub fn load(path: &Path) -> Option<Snapshot> {
        let bytes = std::fs::read(path).ok()?;
        let rest = bytes.strip_prefix(MAGIC)?;
        let (format, rest) = rest.split_first_chunk::<4>()?;
        let (epoch, rest) = rest.split_first_chunk::<8>()?;
        let (gen, rest) = rest.split_first_chunk::<8>()?;
        let (count, rest) = rest.split_first_chunk::<8>()?;
        let (body, sum) = rest.split_last_chunk::<8>()?;
        let count = usize::try_from(u64::from_le_bytes(*count)).ok()?;
        let whole = u32::from_le_bytes(*format) == FORMAT
            && Some(body.len()) == count.checked_mul(16)
            && rapidhash::v1::rapidhash_v1(body) == u64::from_le_bytes(*sum);
        if !whole {
            return None;
        }
        let entries = body.chunks_exact(16).map(|e| {
            let (h, t) = e.split_at(8);
            let word = |b: &[u8]| <[u8; 8]>::try_from(b).expect("8 bytes");
            (u64::from_le_bytes(word(h)), i64::from_le_bytes(word(t)))
        });
        let at = Stamp {
            epoch: u64::from_le_bytes(*epoch),
            gen: u64::from_le_bytes(*gen),
        };
        Some(Snapshot {
            at,
            entries: entries.collect(),
        })
    }

    /// Writes the snapshot to `path`, atomically.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let mut bytes = Vec::with_capacity(HEADER + self.entries.len() * 16 + 8);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT.to_le_bytes());
        bytes.extend_from_slice(&self.at.epoch.to_le_bytes());
        bytes.extend_from_slice(&self.at.gen.to_le_bytes());
        bytes.extend_from_slice(&(self.entries.len() as u64).to_le_bytes());
        for (h, t) in &self.entries {
            bytes.extend_from_slice(&h.to_le_bytes());
            bytes.extend_from_slice(&t.to_le_bytes());
        }
        let sum = rapidhash::v1::rapidhash_v1(&bytes[HEADER..]);
        bytes.extend_from_slice(&sum.to_le_bytes());
        let mut tmp = crate::disk::beside(path)?;
        tmp.write_all(&bytes)?;
        tmp.persist(path).map(drop).map_err(|e| e.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_reads_back_and_a_damaged_one_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let snap = Snapshot {
            at: Stamp { epoch: 3, gen: 9 },
            entries: vec![(path_hash("a"), 12), (path_hash("b"), 0), (1, UNKNOWN)],
        };
        snap.save(&path).unwrap();
        assert_eq!(Snapshot::load(&path), Some(snap));
        let good = std::fs::read(&path).unwrap();
        let mut flipped = good.clone();
        flipped[HEADER + 9] ^= 1;
        for bad in [&good[..good.len() - 1], &flipped[..], b"junk"] {
            std::fs::write(&path, bad).unwrap();
            assert_eq!(Snapshot::load(&path), None);
        }
    }
}
