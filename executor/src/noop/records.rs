//! `.ggninja_noop`: the records of the last few requests, newest last,
//! each kept as its bytes beside its request so that a run decodes only
//! its own (a large tree's record lists every file the run stat'ed, ~40
//! bytes a file). At most `REQUESTS` of them, and at most `BYTES`
//! together. Written whole to a temporary and renamed, with a checksum of
//! everything before it; a file that is short, damaged or of another
//! format holds no record. Ignores what a record means (`noop`).

use std::io::Write;
use std::path::Path;

/// The file, in the run's directory.
pub(crate) const RECORDS: &str = ".ggninja_noop";
const MAGIC: &[u8] = b"ggninja remembered no-ops 1\n";
const REQUESTS: usize = 8;
const BYTES: usize = 64 << 20;

/// The bytes of the file at `path`, if it is whole (its checksum holds).
pub(super) fn read(path: &Path) -> Option<Vec<u8>> {
    let bytes = std::fs::read(path).ok()?;
    let rest = bytes.strip_prefix(MAGIC)?;
    let (body, sum) = rest.split_last_chunk::<8>()?;
    (rapidhash::v1::rapidhash_v1(body) == u64::from_le_bytes(*sum)).then_some(bytes)
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
pub(super) fn put(path: &Path, request: &str, record: &[u8]) -> std::io::Result<()> {
    let old = read(path);
    let old = old.as_deref().and_then(entries).unwrap_or_default();
    let mut kept: Vec<(&[u8], &[u8])> = vec![(request.as_bytes(), record)];
    let mut bytes = record.len();
    for (r, rec) in old.into_iter().rev() {
        if r != request.as_bytes() && kept.len() < REQUESTS && bytes + rec.len() <= BYTES {
            bytes += rec.len();
            kept.push((r, rec));
        }
    }
    let mut body = MAGIC.to_vec();
    for (r, rec) in kept.into_iter().rev() {
        for part in [r, rec] {
            body.extend_from_slice(&(part.len() as u64).to_le_bytes());
            body.extend_from_slice(part);
        }
    }
    let sum = rapidhash::v1::rapidhash_v1(&body[MAGIC.len()..]);
    body.extend_from_slice(&sum.to_le_bytes());
    let mut tmp = crate::disk::beside(path)?;
    tmp.write_all(&body)?;
    tmp.persist(path).map(drop).map_err(|e| e.error)
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

    #[test]
    fn keeps_the_last_requests_and_finds_each() {
        let dir = tempfile::tempdir().unwrap();
        let path = &dir.path().join(RECORDS);
        assert!(read(path).is_none());
        for n in 0..REQUESTS + 2 {
            put(path, &format!("r{n}"), format!("record {n}").as_bytes()).unwrap();
        }
        put(path, "r5", b"again").unwrap();
        let file = read(path).unwrap();
        assert_eq!(find(&file, "r5"), Some(&b"again"[..]));
        assert_eq!(find(&file, "r9"), Some(&b"record 9"[..]));
        assert_eq!(find(&file, "r1"), None, "the oldest went");
        assert_eq!(find(&file, "r2"), Some(&b"record 2"[..]));
        assert_eq!(entries(&file).unwrap().len(), REQUESTS);
    }

    #[test]
    fn keeps_no_more_than_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = &dir.path().join(RECORDS);
        let big = vec![7u8; BYTES / 2];
        put(path, "a", &big).unwrap();
        put(path, "b", &big).unwrap();
        put(path, "c", b"small").unwrap();
        let file = read(path).unwrap();
        assert_eq!(find(&file, "a"), None, "a third of BYTES too many");
        assert_eq!(find(&file, "b"), Some(&big[..]));
        assert_eq!(find(&file, "c"), Some(&b"small"[..]));
    }

    #[test]
    fn a_damaged_file_holds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = &dir.path().join(RECORDS);
        put(path, "r", b"record").unwrap();
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
        let sum = rapidhash::v1::rapidhash_v1(&body[MAGIC.len()..]);
        body.extend_from_slice(&sum.to_le_bytes());
        assert_eq!(entries(&body), None);
    }
}
