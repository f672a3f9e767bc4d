//! Keeping the local store under a size limit: least recently used memo
//! entries go first, and with them the objects no remaining entry names, so
//! a memo entry is never left naming an object eviction removed.
//!
//! Last use is the memo entry's mtime, set when it is written and touched on
//! every hit (atime is unreliable: `noatime`, `relatime`). An object's use is
//! that of the entries naming it; an object no entry names (a crash between
//! storing objects and their entry) is garbage once older than [`GRACE`].
//! A write's temporary file left by a process killed mid-write (tempfile's
//! `.tmp` names, beside the objects and entries) counts as what it takes
//! and goes once older than [`GRACE`], even when the store is emptied:
//! younger, it may be another build's write under way.
//! Entries go before objects, so a reader racing with eviction sees either
//! the whole result or a missing object, which is a miss (objects are
//! verified on read). A writer racing with eviction can at worst leave an
//! entry naming a removed object: a miss again, removed by the next pass.
//!
//! Ignores what entries and objects mean; sizes are file lengths, not disk
//! blocks.

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::hash::ContentHash;

/// The limit when none is given, as ccache's.
pub const DEFAULT_LIMIT: u64 = 5 << 30;

/// How old an object no entry names must be before it is removed: younger,
/// it may be one a build stored and is about to name in an entry.
pub const GRACE: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid size '{0}': expected a number of bytes with an optional K, M, G or T suffix (as 5G, 500M)")]
pub struct SizeError(pub String);

/// A size as ccache writes them: `5G`, `500M`, `1.5G`, `4096`. Suffixes are
/// binary (K = 1024); `Ki`/`KiB`/`KB` are read alike.
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let bad = || SizeError(text.to_string());
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, suffix) = t.split_at(split);
    let unit_exp = match suffix
        .trim_end_matches(['B', 'b'])
        .trim_end_matches('i')
        .to_ascii_uppercase()
        .as_str()
    {
        "" => 0,
        "K" => 1,
        "M" => 2,
        "G" => 3,
        "T" => 4,
        _ => return Err(bad()),
    };
    if number.is_empty() {
        return Err(bad());
    }
    let unit = 1u64 << (10 * unit_exp);
    if let Ok(n) = number.parse::<u64>() {
        return n.checked_mul(unit).ok_or_else(bad);
    }
    let x: f64 = number.parse().map_err(|_| bad())?;
    let bytes = x * unit as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// Bytes as `-t cache stats` prints them: `1.5 GiB`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = bytes as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ => format!("{x:.1} {}", UNITS[unit]),
    }
}

/// One memo entry as eviction sees it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub name: String,
    pub used: SystemTime,
    pub bytes: u64,
    /// The objects it names (each once).
    pub objects: Vec<String>,
}

/// One object as eviction sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Object {
    pub bytes: u64,
    pub written: SystemTime,
}

/// Everything in the store, read once.
#[derive(Debug, Default)]
pub(crate) struct Census {
    pub entries: Vec<Entry>,
    pub objects: HashMap<String, Object>,
    /// Writes' temporary files, by their path under the store's root.
    pub leftovers: Vec<(String, Object)>,
}

/// The prefix of the temporary files writes make (`tempfile`'s).
const TEMPORARY: &str = ".tmp";

/// What the store holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub entries: u64,
    pub entry_bytes: u64,
    pub objects: u64,
    pub object_bytes: u64,
    /// Temporary files of writes under way, or of killed processes.
    pub leftovers: u64,
    pub leftover_bytes: u64,
}

impl Usage {
    pub fn bytes(&self) -> u64 {
        self.entry_bytes + self.object_bytes + self.leftover_bytes
    }
}

/// What a pass removes: entries first, then objects, then leftovers.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Victims {
    pub entries: Vec<String>,
    pub objects: Vec<String>,
    pub leftovers: Vec<String>,
}

impl Census {
    /// Reads the `memo` and `objects` directories under `root`: entries and
    /// objects by their hash names, writes' temporary files as leftovers;
    /// any other file is not the store's and is not counted.
    pub fn read(root: &Path) -> io::Result<Census> {
        let mut census = Census::default();
        let (objects, objects_tmp) = listing(&root.join("objects"))?;
        for (name, meta) in objects {
            let written = meta.modified()?;
            let bytes = meta.len();
            census.objects.insert(name, Object { bytes, written });
        }
        let (entries, memo_tmp) = listing(&root.join("memo"))?;
        for (name, meta) in entries {
            // Gone since listed (evicted by another process): not counted.
            let Ok(text) = std::fs::read_to_string(root.join("memo").join(&name)) else {
                continue;
            };
            let mut objects: Vec<String> = text
                .lines()
                .filter_map(|l| l.split(' ').next())
                .map(str::to_string)
                .collect();
            objects.sort();
            objects.dedup();
            census.entries.push(Entry {
                name,
                used: meta.modified()?,
                bytes: meta.len(),
                objects,
            });
        }
        for (dir, temporary) in [("objects", objects_tmp), ("memo", memo_tmp)] {
            for (name, meta) in temporary {
                let object = Object {
                    bytes: meta.len(),
                    written: meta.modified()?,
                };
                census.leftovers.push((format!("{dir}/{name}"), object));
            }
        }
        Ok(census)
    }

    pub fn usage(&self) -> Usage {
        Usage {
            entries: self.entries.len() as u64,
            entry_bytes: self.entries.iter().map(|e| e.bytes).sum(),
            objects: self.objects.len() as u64,
            object_bytes: self.objects.values().map(|o| o.bytes).sum(),
            leftovers: self.leftovers.len() as u64,
            leftover_bytes: self.leftovers.iter().map(|(_, o)| o.bytes).sum(),
        }
    }

    /// What to remove to bring the store to `limit` bytes: entries naming a
    /// missing object (they can never hit), objects no entry names written
    /// before `stale` and leftovers written before `unfinished`, always;
    /// then entries least recently used first, each with the objects it
    /// alone named, until under `limit`.
    pub fn victims(&self, limit: u64, stale: SystemTime, unfinished: SystemTime) -> Victims {
        let mut v = Victims::default();
        let mut total = self.usage().bytes();
        for (path, o) in &self.leftovers {
            if o.written < unfinished {
                v.leftovers.push(path.clone());
                total -= o.bytes;
            }
        }
        let mut refs: HashMap<&str, usize> = HashMap::new();
        let mut live: Vec<&Entry> = Vec::new();
        for e in &self.entries {
            if e.objects.iter().all(|o| self.objects.contains_key(o)) {
                for o in &e.objects {
                    *refs.entry(o.as_str()).or_default() += 1;
                }
                live.push(e);
            } else {
                v.entries.push(e.name.clone());
                total -= e.bytes;
            }
        }
        let mut orphans: Vec<(&String, &Object)> = self
            .objects
            .iter()
            .filter(|(name, o)| !refs.contains_key(name.as_str()) && o.written < stale)
            .collect();
        orphans.sort_by_key(|(name, _)| *name);
        for (name, o) in orphans {
            v.objects.push(name.clone());
            total -= o.bytes;
        }
        live.sort_by(|a, b| a.used.cmp(&b.used).then_with(|| a.name.cmp(&b.name)));
        for e in live {
            if total <= limit {
                break;
            }
            v.entries.push(e.name.clone());
            total -= e.bytes;
            for o in &e.objects {
                let n = refs.get_mut(o.as_str()).expect("counted above");
                *n -= 1;
                if *n == 0 {
                    v.objects.push(o.clone());
                    total -= self.objects[o].bytes;
                }
            }
        }
        v
    }
}

/// A file of a listing, with its metadata.
type Listed = (String, std::fs::Metadata);

/// The regular files of `dir`, read once: those named by a content hash,
/// and writes' temporary files; anything else is not the store's.
fn listing(dir: &Path) -> io::Result<(Vec<Listed>, Vec<Listed>)> {
    let (mut hashed, mut temporary) = (Vec::new(), Vec::new());
    let list = match std::fs::read_dir(dir) {
        Ok(list) => list,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((hashed, temporary)),
        Err(e) => return Err(e),
    };
    for item in list {
        let item = item?;
        let Some(name) = item.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let kind = if ContentHash::parse(&name).is_some() {
            &mut hashed
        } else if name.starts_with(TEMPORARY) {
            &mut temporary
        } else {
            continue;
        };
        match item.metadata() {
            Ok(meta) if meta.is_file() => kind.push((name, meta)),
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
    Ok((hashed, temporary))
}

/// Removes the victims, entries first; a file already gone (another
/// process evicting too) is not an error. Returns the bytes left.
pub(crate) fn remove(root: &Path, census: &Census, v: &Victims) -> io::Result<u64> {
    let gone = |r: io::Result<()>| match r {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    };
    let mut left = census.usage().bytes();
    let sizes: HashMap<&str, u64> = census
        .entries
        .iter()
        .map(|e| (e.name.as_str(), e.bytes))
        .collect();
    for name in &v.entries {
        gone(std::fs::remove_file(root.join("memo").join(name)))?;
        left -= sizes[name.as_str()];
    }
    for name in &v.objects {
        gone(std::fs::remove_file(root.join("objects").join(name)))?;
        left -= census.objects[name].bytes;
    }
    let leftovers: HashMap<&str, u64> = (census.leftovers.iter())
        .map(|(path, o)| (path.as_str(), o.bytes))
        .collect();
    for path in &v.leftovers {
        gone(std::fs::remove_file(root.join(path)))?;
        left -= leftovers[path.as_str()];
    }
    Ok(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_ccache_writes_them() {
        assert_eq!(parse_size("5G"), Ok(5 << 30));
        assert_eq!(parse_size("500M"), Ok(500 << 20));
        assert_eq!(parse_size("500MiB"), Ok(500 << 20));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("10k"), Ok(10240));
        for bad in ["", "G", "5X", "-1", "1..2G", "99999999999T"] {
            assert_eq!(parse_size(bad), Err(SizeError(bad.to_string())), "{bad}");
        }
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// Entries `a` (used at 1), `b` (at 3), `c` (at 2); `a` and `b` share
    /// object `x`; each entry is 10 bytes, each object 100.
    fn census() -> Census {
        let entry = |name: &str, used, objects: &[&str]| Entry {
            name: name.into(),
            used: at(used),
            bytes: 10,
            objects: objects.iter().map(|o| o.to_string()).collect(),
        };
        let object = Object {
            bytes: 100,
            written: at(0),
        };
        Census {
            entries: vec![
                entry("a", 1, &["x", "ya"]),
                entry("b", 3, &["x", "yb"]),
                entry("c", 2, &["z"]),
            ],
            objects: ["x", "ya", "yb", "z"]
                .iter()
                .map(|o| (o.to_string(), object))
                .collect(),
            leftovers: Vec::new(),
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn least_recently_used_entries_go_first_with_their_own_objects() {
        let c = census();
        assert_eq!(c.usage().bytes(), 430);
        // Under the limit: nothing.
        assert_eq!(c.victims(430, at(0), at(0)), Victims::default());
        // `a` goes; `x` stays, `b` still names it.
        let v = c.victims(429, at(0), at(0));
        assert_eq!(v.entries, names(&["a"]));
        assert_eq!(v.objects, names(&["ya"]));
        // Then `c` (used before `b`), then `b` with `x`.
        let v = c.victims(210, at(0), at(0));
        assert_eq!(v.entries, names(&["a", "c"]));
        assert_eq!(v.objects, names(&["ya", "z"]));
        let v = c.victims(0, at(0), at(0));
        assert_eq!(v.entries, names(&["a", "c", "b"]));
        assert_eq!(v.objects, names(&["ya", "z", "x", "yb"]));
    }

    #[test]
    fn dangling_entries_and_stale_orphans_always_go() {
        let mut c = census();
        c.objects.remove("z");
        let fresh = Object {
            bytes: 5,
            written: at(50),
        };
        c.objects.insert(
            "old".into(),
            Object {
                bytes: 5,
                written: at(1),
            },
        );
        c.objects.insert("new".into(), fresh);
        let v = c.victims(u64::MAX, at(10), at(10));
        assert_eq!(v.entries, names(&["c"]));
        assert_eq!(v.objects, names(&["old"]));
    }

    /// A write's temporary file counts as what it takes, and goes once
    /// stale whatever the limit; a younger one may be a write under way.
    #[test]
    fn stale_leftovers_always_go_and_young_ones_stay() {
        let mut c = census();
        let written = |secs| Object {
            bytes: 1000,
            written: at(secs),
        };
        c.leftovers = vec![
            ("objects/.tmpold".into(), written(1)),
            ("memo/.tmpnew".into(), written(50)),
        ];
        assert_eq!(c.usage().bytes(), 2430);
        assert_eq!((c.usage().leftovers, c.usage().leftover_bytes), (2, 2000));
        let v = c.victims(u64::MAX, at(10), at(10));
        assert_eq!(v.leftovers, names(&["objects/.tmpold"]));
        assert!(v.entries.is_empty() && v.objects.is_empty());
        // Counted, the young one leaves that much less room for entries.
        let v = c.victims(1429, at(10), at(10));
        assert_eq!(v.entries, names(&["a"]));
    }
}
