//! `.ggninja_noop`: the records of the last few requests, newest last,
//! each kept as its bytes (postcard) beside its request so that a run
//! decodes only its own (a large tree's record lists every file the run
//! stat'ed: 11 MB on bench/everyday.sh's tree). At most `REQUESTS` of
//! them, and the others than the newest at most `BYTES` with it. Written whole to a temporary and
//! renamed, with a checksum (XXH3-64) of everything between the magic and
//! it, streamed: the new record is never a second copy in memory. A file
//! that is short, damaged or of another format holds no record. Ignores
//! what a record means (`noop`).

use std::io::{self, BufWriter, Write};
use std::path::Path;

use postcard::ser_flavors::Size;
use serde::Serialize;
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

/// The file, in the run's directory.
pub(crate) const RECORDS: &str = ".ggninja_noop";
const MAGIC: &[u8] = b"ggninja remembered no-ops 3\n";
const REQUESTS: usize = 8;
const BYTES: usize = 64 << 20;

/// The bytes of the file at `path`, if it is whole (its checksum holds).
pub(super) fn read(path: &Path) -> Option<Vec<u8>> {
    let bytes = std::fs::read(path).ok()?;
    let rest = bytes.strip_prefix(MAGIC)?;
    let (body, sum) = rest.split_last_chunk::<8>()?;
    (xxh3_64(body) == u64::from_le_bytes(*sum)).then_some(bytes)
}

/// The record of `request` in `file` (as `read` returned it).
pub(super) fn find<'a>(file: &'a [u8], request: &str) -> Option<&'a [u8]> {
    let entries = entries(file)?;
    let found = entries
        .into_iter()
        .rev()
        .find(|(r, _)| *r == request.as_bytes());
    found.map(|(_, record)| record)
}

/// Puts `record` as `request`'s in the file at `path`, in place of its
/// old one; the oldest others go when there are too many, or too many bytes.
pub(super) fn put(path: &Path, request: &str, record: &impl Serialize) -> io::Result<()> {
    let size =
        postcard::serialize_with_flavor(record, Size::default()).map_err(io::Error::other)?;
    let old = read(path);
    let old = old.as_deref().and_then(entries).unwrap_or_default();
    let mut kept = Vec::new();
    let mut bytes = size;
    for (r, rec) in old.into_iter().rev() {
        if r != request.as_bytes() && kept.len() + 1 < REQUESTS && bytes + rec.len() <= BYTES {
            bytes += rec.len();
            kept.push((r, rec));
        }
    }
    let tmp = crate::disk::beside(path)?;
    let mut file = tmp.as_file();
    file.write_all(MAGIC)?;
    let mut out = BufWriter::with_capacity(1 << 16, Summed(file, Xxh3::new()));
    for (r, rec) in kept.into_iter().rev() {
        part(&mut out, r)?;
        part(&mut out, rec)?;
    }
    part(&mut out, request.as_bytes())?;
    out.write_all(&(size as u64).to_le_bytes())?;
    let mut out = postcard::to_io(record, out).map_err(io::Error::other)?;
    out.flush()?;
    let Summed(_, sum) = out.into_inner().map_err(|e| e.into_error())?;
    file.write_all(&sum.digest().to_le_bytes())?;
    tmp.persist(path).map(drop).map_err(|e| e.error)
}

/// Writes `bytes` after their length.
fn part(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    out.write_all(&(bytes.len() as u64).to_le_bytes())?;
    out.write_all(bytes)
}

/// A writer that sums what it writes.
struct Summed<W>(W, Xxh3);

impl<W: Write> Write for Summed<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = self.0.write(bytes)?;
        self.1.update(&bytes[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// The (request, record) pairs of a whole file, oldest first.
fn entries(file: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let body = file.strip_prefix(MAGIC)?;
    let mut rest = &body[..body.len().checked_sub(8)?];
    let mut entries = Vec::new();
    while !rest.is_empty() {
        let request = take(&mut rest)?;
        entries.push((request, take(&mut rest)?));
    }
    Some(entries)
}

/// The part at the front of `rest` (its length, then its bytes), and
/// `rest` moved past it.
fn take<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, tail) = rest.split_first_chunk::<8>()?;
    let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
    let (part, tail) = (tail.get(..len)?, tail.get(len..)?);
    *rest = tail;
    Some(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `request`'s record in `file`, a string.
    fn got(file: &[u8], request: &str) -> Option<String> {
        find(file, request).map(|r| postcard::from_bytes(r).unwrap())
    }

    #[test]
    fn keeps_the_last_requests_and_finds_each() {
        let dir = tempfile::tempdir().unwrap();
        let path = &dir.path().join(RECORDS);
        assert!(read(path).is_none());
        for n in 0..REQUESTS + 2 {
            put(path, &format!("r{n}"), &format!("record {n}")).unwrap();
        }
        put(path, "r5", &"again").unwrap();
        let file = read(path).unwrap();
        assert_eq!(got(&file, "r5").as_deref(), Some("again"));
        assert_eq!(got(&file, "r9").as_deref(), Some("record 9"));
        assert_eq!(got(&file, "r1"), None, "the oldest went");
        assert_eq!(got(&file, "r2").as_deref(), Some("record 2"));
        assert_eq!(entries(&file).unwrap().len(), REQUESTS);
    }

    #[test]
    fn keeps_no_more_than_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = &dir.path().join(RECORDS);
        let big = "7".repeat(BYTES / 2);
        put(path, "a", &big).unwrap();
        put(path, "b", &big).unwrap();
        put(path, "c", &"small").unwrap();
        let file = read(path).unwrap();
        assert_eq!(got(&file, "a"), None, "a third of BYTES too many");
        assert_eq!(got(&file, "b"), Some(big));
        assert_eq!(got(&file, "c").as_deref(), Some("small"));
    }

    #[test]
    fn a_damaged_file_holds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = &dir.path().join(RECORDS);
        put(path, "r", &"record").unwrap();
        let good = std::fs::read(path).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x40;
            std::fs::write(path, &bad).unwrap();
            assert!(read(path).is_none(), "byte {i} flipped");
            std::fs::write(path, &good[..i]).unwrap();
            assert!(read(path).is_none(), "cut at {i}");
        }
        // A checksum that holds over lengths that do not: no record, no panic.
        let mut body = MAGIC.to_vec();
        body.extend_from_slice(&u64::MAX.to_le_bytes());
        let sum = xxh3_64(&body[MAGIC.len()..]);
        body.extend_from_slice(&sum.to_le_bytes());
        assert_eq!(entries(&body), None);
    }
}
