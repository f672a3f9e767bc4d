//! Bundles: the files many thunks share outside the build and source
//! trees, listed once and named by the hash of the listing, so a thunk
//! names them with one input. A compile's bundle is its toolchain (the ~50
//! files a compiler and what it loads) and the system headers it includes
//! (a hundred under /usr/include for a C file): the compiles of one
//! target share the first by address and mostly the second by content,
//! so each pair is split and bundled once a process. Unaware of which
//! edges use them.

use std::hash::{Hash, Hasher};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use ggninja_graph::Graph;
use ggninja_store::hash::{ContentHash, Kind};

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};

use crate::hash_cache::HashCache;
use crate::ir::{push_json_array, Bundle, BundleFile};
use crate::roots::Roots;

/// A bundle with its name (a value hash over its canonical JSON).
#[derive(Debug)]
pub struct NamedBundle {
    pub hash: ContentHash,
    pub bundle: Bundle,
    /// Its files' bytes in all.
    pub bytes: u64,
}

/// What a thunk names of a toolchain list and a system header list: the
/// files inside the trees (a compiler the build made) and the system files
/// an edge writes or a phony target stands for, as plain inputs; the rest
/// as one bundle.
pub(crate) struct Shared {
    pub local: Vec<String>,
    pub bundle: Option<Arc<NamedBundle>>,
    /// The system headers bundled: a deps log names them again among the
    /// edge's inputs, and those are dropped (one thunk, deps log or not).
    pub headers: FxHashSet<Box<str>>,
}

/// A system file as bundles list it, made once a process: its entry, that
/// entry's JSON and the file's size.
struct Listed {
    file: BundleFile,
    json: Box<str>,
    bytes: u64,
}

/// Made pairs by (toolchain list's address, system list's hash), each with
/// the toolchain list (held, so no other list takes the address while it
/// is kept) and the system list.
type ByLists = FxHashMap<
    (usize, u64),
    Vec<(
        Arc<Vec<PathBuf>>,
        Box<[String]>,
        Result<Arc<Shared>, String>,
    )>,
>;

/// The bundles made so far, found again by their lists, and how they
/// list each system file.
#[derive(Default)]
pub struct Bundles {
    by_lists: Mutex<ByLists>,
    /// Every bundle made, by name.
    named: Mutex<FxHashMap<ContentHash, Arc<NamedBundle>>>,
    listed: RwLock<FxHashMap<Box<[u8]>, Arc<Listed>>>,
}

impl Bundles {
    /// What `toolchain` and `system` (sorted absolute paths outside the
    /// roots) stand for. System files do not change during a build (see
    /// `HashCache::hash_system`), nor do the roots, nor which edges write
    /// what: a pair's answer holds for the process.
    pub(crate) fn shared(
        &self,
        toolchain: &Arc<Vec<PathBuf>>,
        system: &[String],
        g: &Graph,
        roots: &Roots,
        cache: &HashCache,
    ) -> Result<Arc<Shared>, String> {
        let mut h = FxHasher::default();
        system.hash(&mut h);
        let key = (Arc::as_ptr(toolchain) as usize, h.finish());
        let found = |m: &ByLists| {
            let mut bucket = m.get(&key)?.iter();
            bucket.find(|(_, s, _)| **s == *system).map(|e| e.2.clone())
        };
        if let Some(made) = found(&self.by_lists.lock().expect("bundles lock")) {
            return made;
        }
        let made = self.split(toolchain, system, g, roots, cache);
        let mut by_lists = self.by_lists.lock().expect("bundles lock");
        let entry = (Arc::clone(toolchain), system.into(), made.clone());
        by_lists.entry(key).or_default().push(entry);
        made
    }

    fn split(
        &self,
        toolchain: &[PathBuf],
        system: &[String],
        g: &Graph,
        roots: &Roots,
        cache: &HashCache,
    ) -> Result<Arc<Shared>, String> {
        let (inside, tools): (Vec<&Path>, Vec<&Path>) = (toolchain.iter())
            .map(PathBuf::as_path)
            .partition(|p| roots.is_inside(p));
        let mut local: Vec<String> = inside.iter().map(|p| p.display().to_string()).collect();
        // Written by an edge, or a phony target's (not one the deps log
        // gave it): the builder's own rules name it.
        let named = |s: &String| {
            let p = g.lookup(s).and_then(|n| g.file(n).in_build);
            p.is_some_and(|p| !g.build(p).generated_by_dep_loader)
        };
        let (mut headers, mut bundled) = (FxHashSet::default(), Vec::new());
        for s in system {
            match named(s) {
                true => local.push(s.clone()),
                false => {
                    bundled.push(Path::new(s));
                    headers.insert(s.as_str().into());
                }
            }
        }
        let bundle = match tools.is_empty() && bundled.is_empty() {
            true => None,
            false => Some(self.get(&tools, &bundled, cache)?),
        };
        Ok(Arc::new(Shared {
            local,
            bundle,
            headers,
        }))
    }

    /// The bundle of `toolchain` and `system`, each sorted by bytes
    /// (absolute system paths).
    fn get(
        &self,
        toolchain: &[&Path],
        system: &[&Path],
        cache: &HashCache,
    ) -> Result<Arc<NamedBundle>, String> {
        let mut listed = Vec::with_capacity(toolchain.len() + system.len());
        let (mut t, mut s) = (toolchain.iter().peekable(), system.iter().peekable());
        // Merged in order, each file once.
        loop {
            let next = match (t.peek(), s.peek()) {
                (Some(a), Some(b)) if a.as_os_str().as_bytes() <= b.as_os_str().as_bytes() => {
                    t.next()
                }
                (Some(_), Some(_)) | (None, Some(_)) => s.next(),
                (Some(_), None) => t.next(),
                (None, None) => break,
            };
            let l = self.listed(next.expect("peeked"), cache)?;
            if listed
                .last()
                .is_none_or(|last: &Arc<Listed>| last.file.path != l.file.path)
            {
                listed.push(l);
            }
        }
        // `Bundle`'s canonical JSON, as `serde_json` writes it.
        let size = listed.iter().map(|l| l.json.len() + 1).sum::<usize>();
        let mut canonical = String::with_capacity(size + 12);
        canonical.push_str("{\"files\":");
        push_json_array(&mut canonical, listed.iter().map(|l| &*l.json));
        canonical.push('}');
        let hash = ContentHash::of(Kind::Value, canonical.as_bytes());
        // Lists apart can make one bundle (a link's toolchain list is made
        // afresh for each batch of thunks): it is kept once.
        let mut named = self.named.lock().expect("bundles lock");
        let made = named.entry(hash).or_insert_with(|| {
            Arc::new(NamedBundle {
                hash,
                bundle: Bundle {
                    files: listed.iter().map(|l| l.file.clone()).collect(),
                },
                bytes: listed.iter().map(|l| l.bytes).sum(),
            })
        });
        Ok(Arc::clone(made))
    }

    /// How bundles list system file `f` (hashed once a process).
    fn listed(&self, f: &Path, cache: &HashCache) -> Result<Arc<Listed>, String> {
        let key = f.as_os_str().as_bytes();
        if let Some(l) = self.listed.read().expect("bundles lock").get(key) {
            return Ok(Arc::clone(l));
        }
        let hash = (cache.hash_system(f).ok().flatten())
            .ok_or_else(|| format!("system file '{}' cannot be read", f.display()))?;
        let file = BundleFile {
            path: f.display().to_string(),
            hash: hash.to_string(),
        };
        let json = file.json().into();
        let l = Arc::new(Listed {
            file,
            json,
            bytes: hash.size,
        });
        let mut listed = self.listed.write().expect("bundles lock");
        listed.insert(key.into(), Arc::clone(&l));
        Ok(l)
    }

    /// Every bundle made, by hash.
    pub fn all(&self) -> Vec<Arc<NamedBundle>> {
        let named = self.named.lock().expect("bundles lock");
        let mut all: Vec<Arc<NamedBundle>> = named.values().cloned().collect();
        all.sort_by_cached_key(|b| b.hash.to_string());
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toolchain and the system headers of a compile are one bundle,
    /// made once a process for each pair, named by the hash of what
    /// `serde_json` makes of it; a system path an edge writes stays a plain
    /// input, a different header list is another bundle, and the same
    /// files listed apart are one.
    #[test]
    fn a_toolchain_and_its_system_headers_are_one_bundle() {
        let d = tempfile::tempdir().unwrap();
        let file = |name: &str| {
            let p = d.path().join(name);
            std::fs::write(&p, name).unwrap();
            p.display().to_string()
        };
        let (cc1, stdio, gen) = (file("cc1"), file("stdio.h"), file("gen.h"));
        let text = format!("rule r\n  command = true\nbuild {gen}: r\n");
        let options = ggninja_importer::Options::default();
        let parsed = ggninja_importer::parse_str("build.ninja", text.as_bytes(), &options);
        let g = parsed.expect("test manifest parses").graph;
        let roots = Roots::new(d.path().join("build"), None);
        let (bundles, cache) = (Bundles::default(), HashCache::default());
        let toolchain = Arc::new(vec![PathBuf::from(&cc1)]);
        let shared =
            |system: &[String]| (bundles.shared(&toolchain, system, &g, &roots, &cache)).unwrap();
        let both = shared(&[gen.clone(), stdio.clone()]);
        assert_eq!(both.local, std::slice::from_ref(&gen));
        let listed = |s: &Shared| -> Vec<String> {
            let b = s.bundle.as_ref().unwrap();
            b.bundle.files.iter().map(|f| f.path.clone()).collect()
        };
        assert_eq!(listed(&both), [cc1.clone(), stdio.clone()]);
        let b = both.bundle.as_ref().unwrap();
        let canonical = serde_json::to_string(&b.bundle).unwrap();
        assert_eq!(b.hash, ContentHash::of(Kind::Value, canonical.as_bytes()));
        assert_eq!(b.bytes, ("cc1".len() + "stdio.h".len()) as u64);
        assert!(both.headers.contains(stdio.as_str()) && !both.headers.contains(gen.as_str()));
        assert!(Arc::ptr_eq(&both, &shared(&[gen.clone(), stdio.clone()])));
        // The same files from another list (a link's, made again for each
        // batch) are the same bundle, kept once.
        let again = Arc::new(vec![PathBuf::from(&cc1)]);
        let other =
            (bundles.shared(&again, std::slice::from_ref(&stdio), &g, &roots, &cache)).unwrap();
        assert!(Arc::ptr_eq(other.bundle.as_ref().unwrap(), b));
        assert_eq!(bundles.all().len(), 1);
        let alone = shared(&[]);
        assert_eq!(listed(&alone), [cc1]);
        assert!(alone.local.is_empty());
        assert_ne!(
            alone.bundle.as_ref().unwrap().hash,
            both.bundle.as_ref().unwrap().hash
        );
    }
}
