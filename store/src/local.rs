//! The store on local disk: objects by content hash, written atomically and
//! verified on every read, and the memo table (thunk hash -> output hashes).
//! Unaware of builds and paths: a memo names outputs as the thunk sees them.
//! Its size is bounded by `evict` (a running total in the file `size`).

use rustix::buffer::spare_capacity;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::check::Checksum;
use crate::clone::Cloner;
use crate::evict::{Census, Usage, GRACE};
use crate::hash::{ContentHash, Kind};

/// What a thunk produced: its outputs (thunk-visible paths) by hash, with
/// their permission bits (an executable must stay executable). A symlink
/// output is stored as its target, its mode with the symlink type bits
/// (`0o120777`). The depfile, when the edge has one, is stored like an output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memo {
    pub outputs: Vec<MemoOutput>,
    /// What the run printed, so that a hit prints it again (ccache replays
    /// a compiler's warnings too): its output (stdout, with stderr where
    /// the build merges them) and the stderr a make recipe keeps apart,
    /// each an object (the empty one mostly). An entry an older ggninja
    /// wrote has none: it reads as no entry, since its hit would print
    /// nothing where the command printed something.
    pub printed: [ContentHash; 2],
}

impl Memo {
    /// Every object the entry names.
    pub fn objects(&self) -> impl Iterator<Item = &ContentHash> {
        self.outputs.iter().map(|o| &o.hash).chain(&self.printed)
    }
}

/// The room past which `get_into` reads an object as std does (a size
/// and the byte past it: objects under 1 MiB are read mostly in one read,
/// into room never zeroed).
const ONE_READ: usize = 1 << 20;

/// The size past which a restore copies an object out of its open file
/// in parts (`copy_checked`) instead of holding it whole, and the part:
/// a linked program or an archive of megabytes read into fresh memory
/// cost a page fault every 4 KiB, more than the copy.
pub const STREAMED: usize = 256 << 10;

/// Reads `file` from its position to its end through `chunk`'s room (at
/// least `STREAMED`, never zeroed), giving each part to `sink`: whether it
/// held exactly the bytes `hash` names (by `check` when given). A byte
/// past the size ends it: a grown file fails.
fn stream(
    file: &std::fs::File,
    hash: &ContentHash,
    check: Option<Checksum>,
    chunk: &mut Vec<u8>,
    mut sink: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<bool> {
    chunk.clear();
    chunk.reserve(STREAMED);
    let mut sum = Summer::new(check.is_some());
    let mut got = 0u64;
    loop {
        chunk.clear();
        match rustix::io::read(file, spare_capacity(chunk)) {
            Ok(0) => return Ok(got == hash.size && sum.matches(hash, check)),
            Ok(n) if got + (n as u64) <= hash.size => {
                got += n as u64;
                sum.update(chunk);
                sink(chunk)?;
            }
            Ok(_) => return Ok(false),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// An object's checksum taken as it is read: XXH3-128 when its entry kept
/// one, else the SHA-256 its name holds.
enum Summer {
    Fast(Box<xxhash_rust::xxh3::Xxh3>),
    Name(sha2::Sha256),
}

impl Summer {
    fn new(fast: bool) -> Summer {
        use sha2::Digest;
        match fast {
            true => Summer::Fast(Box::default()),
            false => Summer::Name(sha2::Sha256::new()),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        use sha2::Digest;
        match self {
            Summer::Fast(h) => h.update(bytes),
            Summer::Name(h) => h.update(bytes),
        }
    }

    fn matches(self, hash: &ContentHash, check: Option<Checksum>) -> bool {
        use sha2::Digest;
        match (self, check) {
            (Summer::Fast(h), Some(c)) => Checksum::from_digest(h.digest128()) == c,
            (Summer::Name(h), None) => {
                hash.kind == Kind::Value && <[u8; 32]>::from(h.finalize()) == hash.digest
            }
            _ => false,
        }
    }
}

/// What `memo_get` reads at once: an entry is a line an output, and most
/// edges have one or two.
const ENTRY_READ: usize = 4096;

/// Reads `file` into `data`'s room (what it held is dropped; the room is
/// read into, never zeroed first) until it holds at least `least` bytes,
/// the room is full or the file ends: mostly in one read, a regular file's
/// read giving less than asked only at its end (where a second read would
/// give nothing).
fn read_some(file: &std::fs::File, data: &mut Vec<u8>, least: usize) -> io::Result<()> {
    data.clear();
    while data.len() < least.max(1) && data.len() < data.capacity() {
        match rustix::io::read(file, spare_capacity(data)) {
            Ok(0) => break,
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Whether the open `file` still has the size and the change and
/// modification times it had in `before` (a write moves both; a writer
/// through a mapping, or within a coarse clock's tick, may not: a hit's
/// check of the object is what no such write gets past).
fn unchanged(before: &std::fs::Metadata, file: &std::fs::File) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let now = file.metadata()?;
    let stamp = |m: &std::fs::Metadata| {
        let times = (m.ctime(), m.ctime_nsec(), m.mtime(), m.mtime_nsec());
        (m.size(), times)
    };
    Ok(stamp(before) == stamp(&now))
}

/// Whether `hash` names no bytes, which need no file to be read: most
/// commands print nothing, and a hit then reads no object for that.
fn is_empty(hash: &ContentHash) -> bool {
    hash.size == 0 && *hash == ContentHash::of(Kind::Value, b"")
}

/// How an entry's line names what the run printed (`HASH >1`, `HASH >2`):
/// no mode an output line has, so an older ggninja reads no entry.
const PRINTED: [&str; 2] = [">1", ">2"];

/// How an output's line gives its object's checksum (`HASH xCHECKSUM MODE
/// PATH`; `HASH MODE PATH` in an older ggninja's entry).
const CHECK: &str = "x";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoOutput {
    pub path: String,
    pub hash: ContentHash,
    pub mode: u32,
    /// The object's checksum, taken when the entry was written (None in
    /// an older ggninja's entry): a hit checks the object by it.
    pub check: Option<Checksum>,
}

pub struct Store {
    root: PathBuf,
    /// Bytes this process wrote, for the running total (`settle`).
    added: AtomicU64,
    cloner: Cloner,
}

/// What an eviction pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evicted {
    pub before: Usage,
    pub entries: u64,
    pub objects: u64,
    /// Writes' temporary files, older than `GRACE`.
    pub leftovers: u64,
    /// Bytes left.
    pub after: u64,
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
            added: AtomicU64::new(0),
            cloner: Cloner::new(),
        })
    }

    fn object_path(&self, hash: &ContentHash) -> PathBuf {
        self.root.join("objects").join(hash.to_string())
    }

    fn memo_path(&self, thunk: &ContentHash) -> PathBuf {
        self.root.join("memo").join(thunk.to_string())
    }

    /// Writes `data` to `dest` through a temporary file beside it and a
    /// rename, so a reader never sees half an object (and a full disk
    /// leaves none: the temporary file goes when dropped). The mode is
    /// 0666 less the umask, so whoever shares the store reads it.
    fn write_atomic(dest: &Path, data: &[u8]) -> io::Result<()> {
        let mut tmp = tempfile::Builder::new()
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(dest.parent().unwrap_or(Path::new(".")))?;
        tmp.write_all(data)?;
        tmp.as_file().sync_data()?;
        tmp.persist(dest).map(drop).map_err(|e| e.error)
    }

    /// Stores `data` and returns its hash. An object already there is kept
    /// only if it is intact: a corrupt one is replaced, so the store heals.
    pub fn put(&self, data: &[u8]) -> io::Result<ContentHash> {
        self.put_read(data, None)
    }

    /// `put` of the bytes read from `from`, given with its stat taken
    /// before they were read: a new object over `STREAMED` bytes is a clone
    /// of it where the file system can (`clone`), kept only if the file's
    /// stat is still that one, so nothing wrote it since it was read.
    pub fn put_read_from(
        &self,
        data: &[u8],
        from: &std::fs::File,
        read_under: &std::fs::Metadata,
    ) -> io::Result<ContentHash> {
        self.put_read(data, Some((from, read_under)))
    }

    fn put_read(
        &self,
        data: &[u8],
        from: Option<(&std::fs::File, &std::fs::Metadata)>,
    ) -> io::Result<ContentHash> {
        let hash = ContentHash::of(Kind::Value, data);
        let path = self.object_path(&hash);
        let intact = std::fs::read(&path).is_ok_and(|old| old == data);
        if intact {
            // Fresh again: eviction spares young objects no entry names yet.
            let _ = Store::touch(&path);
            return Ok(hash);
        }
        let cloned = match from {
            // A file system that cannot clone costs no temporary file more.
            // Failed, the bytes are written as if it were never tried.
            Some((file, meta)) if data.len() > STREAMED && self.cloner.on() => {
                self.clone_atomic(&path, file, meta).unwrap_or(false)
            }
            _ => false,
        };
        if !cloned {
            Store::write_atomic(&path, data)?;
        }
        self.added.fetch_add(hash.size, Ordering::Relaxed);
        Ok(hash)
    }

    /// `write_atomic` of a clone of `from`, if the file system clones, the
    /// clone is whole (`FICLONE` may not say when it is short), and
    /// `from`'s stat is still `read_under` once it is cloned: whether the
    /// object is there.
    fn clone_atomic(
        &self,
        dest: &Path,
        from: &std::fs::File,
        read_under: &std::fs::Metadata,
    ) -> io::Result<bool> {
        let tmp = tempfile::Builder::new()
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(dest.parent().unwrap_or(Path::new(".")))?;
        if !self.cloner.clone_into(from, tmp.as_file())
            || tmp.as_file().metadata()?.len() != read_under.len()
            || !unchanged(read_under, from)?
        {
            return Ok(false);
        }
        tmp.as_file().sync_data()?;
        tmp.persist(dest).map(drop).map_err(|e| e.error)?;
        Ok(true)
    }

    /// Reads an object, checking it against its name, or against `check`
    /// when its memo entry kept one (`check`: the same verdict, faster). A
    /// corrupted object is removed and reported as missing, never returned.
    /// The name gives the size, so the file is not asked for it: the read
    /// asks for a byte more, and a file of another size fails either check
    /// (unless a read stopped short at exactly the size: the bytes given are
    /// still checked, the file's tail then not seen).
    pub fn get(&self, hash: &ContentHash, check: Option<Checksum>) -> Option<Vec<u8>> {
        let mut data = Vec::new();
        self.get_into(hash, check, &mut data).then_some(data)
    }

    /// `get` into `data`, whose room is reused (a build restores objects
    /// one after another: a fresh buffer each time cost a page fault per
    /// 4 KiB read); whether the object was there and intact (if not,
    /// `data` holds nothing to use).
    pub fn get_into(
        &self,
        hash: &ContentHash,
        check: Option<Checksum>,
        data: &mut Vec<u8>,
    ) -> bool {
        use std::io::Read;
        if is_empty(hash) {
            data.clear();
            return true;
        }
        let path = self.object_path(hash);
        let Ok(file) = std::fs::File::open(&path) else {
            data.clear();
            return false;
        };
        // A damaged name must not reserve gigabytes. Made anew rather than
        // grown: growing copies the old room, all of it. A small one with
        // room to the next power of two, so that a build's objects, each a
        // little bigger than the last, do not each make it anew (every page
        // of a new buffer faults in as it is first read into).
        let room = hash.size.min(1 << 30) as usize + 1;
        if data.capacity() < room {
            let roomier = room.next_power_of_two();
            *data = Vec::with_capacity(if roomier <= ONE_READ { roomier } else { room });
        }
        // A small object (most are) in one read; a big one as std reads
        // it, in reads of growing size; neither into zeroed room.
        let read = match room <= ONE_READ {
            true => read_some(&file, data, room - 1),
            false => {
                data.clear();
                file.take(hash.size + 1).read_to_end(data).map(drop)
            }
        };
        let intact = match check {
            Some(c) => data.len() as u64 == hash.size && Checksum::of(data) == c,
            None => ContentHash::of(Kind::Value, data) == *hash,
        };
        if read.is_err() || !intact {
            let _ = std::fs::remove_file(&path);
            data.clear();
            return false;
        }
        true
    }

    /// Writes the object `hash` names to `to` through `chunk` (the
    /// caller's, kept between calls), checking its bytes as `get_into`
    /// does as they go: an object too big to hold whole for a restore
    /// (over `STREAMED` bytes), read once. The open file is the one read,
    /// whatever evicts or replaces the name meanwhile. Ok(false): it is
    /// missing, or damaged (then removed), and `to` holds a part of it at
    /// most, to be thrown away.
    pub fn copy_checked(
        &self,
        hash: &ContentHash,
        check: Option<Checksum>,
        to: &mut impl Write,
        chunk: &mut Vec<u8>,
    ) -> io::Result<bool> {
        let path = self.object_path(hash);
        let Ok(file) = std::fs::File::open(&path) else {
            return Ok(false);
        };
        let intact = stream(&file, hash, check, chunk, |part| to.write_all(part))?;
        if !intact {
            let _ = std::fs::remove_file(&path);
        }
        Ok(intact)
    }

    /// Whether an object is there at its size; its content is checked
    /// only when it is read.
    pub fn contains(&self, hash: &ContentHash) -> bool {
        is_empty(hash)
            || std::fs::metadata(self.object_path(hash)).is_ok_and(|m| m.len() == hash.size)
    }

    pub fn memo_get(&self, thunk: &ContentHash) -> Option<Memo> {
        use std::io::Read;
        let mut file = std::fs::File::open(self.memo_path(thunk)).ok()?;
        // Most entries in one read, the file not asked for its size. Should
        // a read give less than there is, the lines of what the run
        // printed, which come last, are missing: no entry.
        let mut bytes = Vec::with_capacity(ENTRY_READ);
        read_some(&file, &mut bytes, 0).ok()?;
        if bytes.len() == bytes.capacity() {
            file.read_to_end(&mut bytes).ok()?;
        }
        let text = String::from_utf8(bytes).ok()?;
        let mut outputs = Vec::new();
        let mut printed = [None; 2];
        for line in text.lines() {
            let (hash, rest) = line.split_once(' ')?;
            let hash = ContentHash::parse(hash)?;
            if let Some(i) = PRINTED.iter().position(|&p| p == rest) {
                printed[i] = Some(hash);
                continue;
            }
            // `x` and the checksum, in entries that keep one: no mode an
            // older ggninja reads, so it reads no entry rather than a
            // wrong one.
            let (check, rest) = match rest.strip_prefix(CHECK) {
                Some(r) => {
                    let (c, r) = r.split_once(' ')?;
                    (Some(Checksum::parse(c)?), r)
                }
                None => (None, rest),
            };
            let (mode, path) = rest.split_once(' ')?;
            outputs.push(MemoOutput {
                path: path.to_string(),
                hash,
                mode: u32::from_str_radix(mode, 8).ok()?,
                check,
            });
        }
        let [Some(output), Some(errors)] = printed else {
            return None;
        };
        Some(Memo {
            outputs,
            printed: [output, errors],
        })
    }

    pub fn memo_put(&self, thunk: &ContentHash, memo: &Memo) -> io::Result<()> {
        let mut text = String::new();
        for o in &memo.outputs {
            let check = o.check.map(|c| format!("{CHECK}{c} ")).unwrap_or_default();
            text.push_str(&format!("{} {check}{:o} {}\n", o.hash, o.mode, o.path));
        }
        for (hash, tag) in memo.printed.iter().zip(PRINTED) {
            text.push_str(&format!("{hash} {tag}\n"));
        }
        Store::write_atomic(&self.memo_path(thunk), text.as_bytes())?;
        self.added.fetch_add(text.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Marks a memo entry used now: eviction goes by this stamp. One
    /// system call (every hit makes it), where opening the file to set its
    /// time takes three.
    pub fn memo_used(&self, thunk: &ContentHash) -> io::Result<()> {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(self.memo_path(thunk).into_os_string().as_bytes())?;
        // SAFETY: a NUL-terminated path; null times mean "now" for both.
        let r = unsafe { libc::utimensat(libc::AT_FDCWD, path.as_ptr(), std::ptr::null(), 0) };
        match r {
            0 => Ok(()),
            _ => Err(io::Error::last_os_error()),
        }
    }

    fn touch(path: &Path) -> io::Result<()> {
        std::fs::File::options()
            .write(true)
            .open(path)?
            .set_modified(SystemTime::now())
    }

    /// What the store holds, counted file by file (and kept as the total).
    pub fn usage(&self) -> io::Result<Usage> {
        let usage = Census::read(&self.root)?.usage();
        self.save_total(usage.bytes());
        Ok(usage)
    }

    /// Evicts least recently used entries (and the objects only they name)
    /// until the store holds at most `limit` bytes.
    pub fn evict_to(&self, limit: u64) -> io::Result<Evicted> {
        self.evict(limit, SystemTime::now() - GRACE)
    }

    /// Removes every entry and object, and writes' temporary files older
    /// than `GRACE` (a younger one may be another build's write under way).
    pub fn clean(&self) -> io::Result<Evicted> {
        self.evict(0, SystemTime::now() + Duration::from_secs(86400))
    }

    fn evict(&self, limit: u64, stale: SystemTime) -> io::Result<Evicted> {
        let census = Census::read(&self.root)?;
        let victims = census.victims(limit, stale, SystemTime::now() - GRACE);
        let after = crate::evict::remove(&self.root, &census, &victims)?;
        self.save_total(after);
        Ok(Evicted {
            before: census.usage(),
            entries: victims.entries.len() as u64,
            objects: victims.objects.len() as u64,
            leftovers: victims.leftovers.len() as u64,
            after,
        })
    }

    /// After a build: adds what this process stored to the running total
    /// and, past `limit`, evicts to 90% of it (so the next builds do not
    /// each walk the store). The store is walked only then, or when the
    /// total is missing. Concurrent builds may lose each other's additions:
    /// the total is an estimate, made exact by every walk.
    pub fn settle(&self, limit: u64) -> io::Result<Option<Evicted>> {
        let added = self.added.swap(0, Ordering::Relaxed);
        if added == 0 {
            return Ok(None);
        }
        let total = match self.saved_total() {
            Some(t) => t.saturating_add(added),
            None => Census::read(&self.root)?.usage().bytes(),
        };
        if total <= limit {
            self.save_total(total);
            return Ok(None);
        }
        self.evict_to(limit / 10 * 9).map(Some)
    }

    fn saved_total(&self) -> Option<u64> {
        let text = std::fs::read_to_string(self.root.join("size")).ok()?;
        text.trim().parse().ok()
    }

    /// Keeps the total; failing to is harmless (the next settle walks).
    fn save_total(&self, bytes: u64) {
        let _ = Store::write_atomic(&self.root.join("size"), format!("{bytes}\n").as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads that give less than there is (a pipe's, here) are read on
    /// from until the least asked for is there; then no more is asked.
    #[test]
    fn some_bytes_are_read_on_until_the_least_asked_for() {
        use std::io::Write;
        let (reader, mut writer) = std::io::pipe().unwrap();
        let file = std::fs::File::from(std::os::fd::OwnedFd::from(reader));
        let feed = std::thread::spawn(move || {
            for part in [&b"obj"[..], b"ect", b"!"] {
                writer.write_all(part).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        });
        let mut data = Vec::with_capacity(64);
        read_some(&file, &mut data, 6).unwrap();
        assert_eq!(data, b"object");
        read_some(&file, &mut data, 0).unwrap();
        assert_eq!(data, b"!");
        feed.join().unwrap();
        read_some(&file, &mut data, 6).unwrap();
        assert_eq!(data, b"");
    }

    /// By its name (SHA-256) or by the checksum an entry kept: a byte
    /// flipped, added or cut, or a checksum that is not the object's, and
    /// the object is discarded, not returned.
    #[test]
    fn objects_are_verified_on_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let h = store.put(b"object file").unwrap();
        let sum = Checksum::of(b"object file");
        for check in [None, Some(sum)] {
            assert_eq!(store.get(&h, check).as_deref(), Some(&b"object file"[..]));
            for bad in [&b"object fild"[..], b"object file!", b"object fil"] {
                store.put(b"object file").unwrap();
                std::fs::write(store.object_path(&h), bad).unwrap();
                assert_eq!(store.get(&h, check), None, "{check:?}");
                assert!(!store.object_path(&h).exists());
            }
            store.put(b"object file").unwrap();
        }
        assert_eq!(store.get(&h, Some(Checksum::of(b"other"))), None);
        assert!(!store.object_path(&h).exists());
        store.put(b"object file").unwrap();
        let t = ContentHash::of(Kind::Thunk, b"thunk");
        let (said, empty) = (
            store.put(b"a.c:1: warning").unwrap(),
            store.put(b"").unwrap(),
        );
        let output = |path: &str, check| MemoOutput {
            path: path.into(),
            hash: h,
            mode: 0o755,
            check,
        };
        let memo = Memo {
            outputs: vec![
                output("/ggroot/build/a b", Some(sum)),
                output("/ggroot/c", None),
            ],
            printed: [said, empty],
        };
        store.memo_put(&t, &memo).unwrap();
        assert_eq!(store.memo_get(&t), Some(memo.clone()));
        // A damaged checksum makes no entry, not one checked by SHA-256.
        let text = std::fs::read_to_string(store.memo_path(&t)).unwrap();
        std::fs::write(store.memo_path(&t), text.replacen(" x", " xg", 1)).unwrap();
        assert_eq!(store.memo_get(&t), None);
        store.memo_put(&t, &memo).unwrap();
        assert_eq!(memo.objects().count(), 4);
        // An entry without what the run printed (an older ggninja's) is none.
        let text = std::fs::read_to_string(store.memo_path(&t)).unwrap();
        let old: String = text
            .lines()
            .filter(|l| !l.contains('>'))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(old.lines().count(), 2);
        std::fs::write(store.memo_path(&t), old).unwrap();
        assert_eq!(store.memo_get(&t), None);
    }

    /// One buffer read into again and again holds each object exactly,
    /// whatever the one before; a damaged object leaves it empty.
    #[test]
    fn a_buffer_read_into_again_holds_each_object() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (big, huge) = (vec![7u8; 100_000], vec![9u8; 2 * ONE_READ]);
        let objects = [&big[..], b"small", b"", &huge, b"middle sized"];
        let hashes: Vec<_> = objects.iter().map(|o| store.put(o).unwrap()).collect();
        let mut buf = Vec::new();
        for (o, h) in objects.iter().zip(&hashes) {
            assert!(store.get_into(h, Some(Checksum::of(o)), &mut buf));
            assert_eq!(&buf[..], *o);
        }
        std::fs::write(store.object_path(&hashes[1]), b"smalL").unwrap();
        assert!(!store.get_into(&hashes[1], None, &mut buf));
        assert!(buf.is_empty());
    }

    /// Objects read into one buffer, each a little bigger than the last, do
    /// not each make its room anew; the room still bounds what is read, so
    /// an object grown on disk reads as damaged.
    #[test]
    fn a_buffer_grows_seldom_as_objects_grow() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let objects: Vec<Vec<u8>> = (0..8).map(|i| vec![i as u8; 70_000 + i * 1_000]).collect();
        let hashes: Vec<_> = objects.iter().map(|o| store.put(o).unwrap()).collect();
        let mut buf = Vec::new();
        let mut rooms = Vec::new();
        for (o, h) in objects.iter().zip(&hashes) {
            assert!(store.get_into(h, Some(Checksum::of(o)), &mut buf));
            assert_eq!(&buf, o);
            if rooms.last() != Some(&buf.as_ptr()) {
                rooms.push(buf.as_ptr());
            }
        }
        assert_eq!(rooms.len(), 1, "one room for all eight");
        let grown = [&objects[7][..], b"more"].concat();
        std::fs::write(store.object_path(&hashes[7]), grown).unwrap();
        assert!(!store.get_into(&hashes[7], Some(Checksum::of(&objects[7])), &mut buf));
    }

    /// A big object is copied out checked by its checksum or by its name;
    /// one damaged (a byte changed, cut short, grown) or checked against
    /// another checksum copies out false and is removed.
    #[test]
    fn a_big_object_is_copied_out_checked_and_a_damaged_one_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let big: Vec<u8> = (0..STREAMED * 2 + 7).map(|i| (i % 251) as u8).collect();
        let h = store.put(&big).unwrap();
        let checks = [Some(Checksum::of(&big)), None];
        let mut chunk = Vec::new();
        let copy = |check, chunk: &mut Vec<u8>| {
            let mut back = Vec::new();
            let intact = store.copy_checked(&h, check, &mut back, chunk).unwrap();
            intact.then_some(back)
        };
        for check in checks {
            assert!(copy(check, &mut chunk) == Some(big.clone()));
        }
        assert!(copy(Some(Checksum::of(b"other")), &mut chunk).is_none());
        assert!(!store.object_path(&h).exists());
        let mut flipped = big.clone();
        flipped[STREAMED + 3] ^= 1;
        let grown = [&big[..], b"x"].concat();
        for bad in [&flipped[..], &big[..big.len() - 1], &grown[..]] {
            for check in checks {
                std::fs::write(store.object_path(&h), bad).unwrap();
                assert!(copy(check, &mut chunk).is_none());
                assert!(!store.object_path(&h).exists());
            }
        }
    }

    /// Objects and entries get the mode a plain `File::create` would (0666
    /// less the umask), not a temporary file's 0600: whoever shares the
    /// store reads them. No temporary file is left beside them.
    #[test]
    fn objects_keep_the_mode_a_created_file_has() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let h = store.put(b"object").unwrap();
        let t = memoize(&store, "t", b"output");
        assert_eq!(mode(&store.object_path(&h)), mode(&plain));
        assert_eq!(mode(&store.memo_path(&t)), mode(&plain));
        let names = |d: &str| std::fs::read_dir(dir.path().join(d)).unwrap().count();
        assert_eq!((names("objects"), names("memo")), (2, 1));
    }

    /// Stores one output under a thunk named `name`.
    fn memoize(store: &Store, name: &str, data: &[u8]) -> ContentHash {
        let t = ContentHash::of(Kind::Thunk, name.as_bytes());
        let hash = store.put(data).unwrap();
        let memo = Memo {
            outputs: vec![MemoOutput {
                path: format!("/ggroot/{name}"),
                hash,
                mode: 0o644,
                check: Some(Checksum::of(data)),
            }],
            // Any object will do: these tests count objects.
            printed: [hash; 2],
        };
        store.memo_put(&t, &memo).unwrap();
        t
    }

    fn set_used(store: &Store, t: &ContentHash, secs: u64) {
        std::fs::File::options()
            .write(true)
            .open(store.memo_path(t))
            .unwrap()
            .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
            .unwrap();
    }

    #[test]
    fn eviction_keeps_the_last_used_entries_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = memoize(&store, "a", &[b'a'; 1000]);
        let b = memoize(&store, "b", &[b'b'; 1000]);
        set_used(&store, &a, 100);
        set_used(&store, &b, 50);
        let full = store.usage().unwrap();
        assert_eq!((full.entries, full.objects), (2, 2));
        // Room for one: `b`, used before `a`, goes with its object.
        let evicted = store.evict_to(full.bytes() - 1).unwrap();
        assert_eq!((evicted.entries, evicted.objects), (1, 1));
        assert_eq!(store.memo_get(&b), None);
        let memo = store.memo_get(&a).unwrap();
        assert!(store
            .get(&memo.outputs[0].hash, memo.outputs[0].check)
            .is_some());
        assert_eq!(store.usage().unwrap().bytes(), evicted.after);
        // A hit makes `a` the newest; `c` then goes first.
        let c = memoize(&store, "c", &[b'c'; 1000]);
        set_used(&store, &c, 10);
        store.memo_used(&a).unwrap();
        store.evict_to(evicted.after).unwrap();
        assert!(store.memo_get(&a).is_some() && store.memo_get(&c).is_none());
        store.clean().unwrap();
        assert_eq!(store.usage().unwrap(), Usage::default());
    }

    /// A write's temporary file left behind (its process killed between
    /// writing and renaming) is counted, and an eviction pass removes it
    /// once stale, whatever the limit; a young one may be a write under
    /// way and stays, even through `clean`. Nothing else is touched.
    #[test]
    fn a_killed_writes_temporary_file_goes_once_stale() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = memoize(&store, "a", &[b'a'; 1000]);
        let left = |name: &str, age: u64| {
            let path = dir.path().join(name);
            std::fs::write(&path, [0u8; 4000]).unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(SystemTime::now() - Duration::from_secs(age))
                .unwrap();
            path
        };
        let old = left("objects/.tmpOLD123", 2 * GRACE.as_secs());
        let young = left("memo/.tmpNEW456", 1);
        let foreign = left("objects/notes.txt", 2 * GRACE.as_secs());
        let usage = store.usage().unwrap();
        assert_eq!((usage.leftovers, usage.leftover_bytes), (2, 8000));
        let evicted = store.evict_to(u64::MAX).unwrap();
        assert_eq!(
            (evicted.entries, evicted.objects, evicted.leftovers),
            (0, 0, 1)
        );
        assert!(!old.exists() && young.exists() && foreign.exists());
        assert!(store.memo_get(&a).is_some());
        assert_eq!(store.usage().unwrap().bytes(), evicted.after);
        // Emptied, the store keeps what may be a write under way.
        store.clean().unwrap();
        assert!(young.exists() && foreign.exists());
        assert!(store.memo_get(&a).is_none());
        // A directory so named is not the store's: not counted, left, and
        // no pass fails on it.
        let named = dir.path().join("objects/.tmpDIR789");
        std::fs::create_dir(&named).unwrap();
        let left = store.usage().unwrap();
        assert_eq!((left.leftovers, left.bytes()), (1, 4000));
        store.evict_to(0).unwrap();
        assert!(named.is_dir() && young.exists());
    }

    #[test]
    fn settle_keeps_a_running_total_and_evicts_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        memoize(&store, "a", &[b'a'; 1000]);
        assert_eq!(store.settle(1 << 20).unwrap(), None);
        let total = store.saved_total().unwrap();
        assert_eq!(total, store.usage().unwrap().bytes());
        // Nothing stored since: no walk, no change.
        assert_eq!(store.settle(0).unwrap(), None);
        memoize(&store, "b", &[b'b'; 1000]);
        let evicted = store.settle(1500).unwrap().unwrap();
        assert!(evicted.after <= 1350 && evicted.entries == 1, "{evicted:?}");
    }
}
