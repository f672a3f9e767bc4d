//! The directives of every scanned file, kept between runs: a later run
//! stats a file instead of reading and parsing it again, so a rescan after
//! a one-file edit reads that one file.
//!
//! A first line naming the format ([`HEADER`]: a file without it, or of
//! another version, is ignored whole, since what the parser reports may
//! have changed — `__has_include(MACRO)` was once not reported at all, and
//! a walk kept between runs relies on seeing it), then one entry per file,
//! in postcard, one after another: device, inode, size, mtime (s, ns),
//! ctime (s, ns), then its directives, each a string: the kind (`I` include,
//! `N` include_next, `H` __has_include, `J` __has_include_next, `C` the
//! clock's macros named), the
//! operand's delimiter (`"`, `<`, or `#` for a computed include) and the
//! name; then how many saves ago a run last used it. An entry no run
//! used in [`MAX_UNUSED_SAVES`] saves is dropped: entries are keyed by
//! (device, inode), not path, so a deleted file's entry is never matched
//! again and only its age tells it apart. A file still there but dropped
//! is only read again.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{FileEntry, Walker};
use crate::{Directive, DirectiveKind, IncludeTarget};

/// An entry: its directives `String`s when saved, read in place (`&str`).
type Line<S> = (u64, u64, u64, i64, i64, i64, i64, Vec<S>, u32);

/// The file's first line: its format and version (4: postcard entries;
/// 3: JSON lines).
const HEADER: &[u8] = b"ggninja scans 4\n";

/// Saves an entry survives without being used.
pub(crate) const MAX_UNUSED_SAVES: u32 = 16;

fn encode(d: &Directive) -> String {
    let kind = match d.kind {
        DirectiveKind::Include => 'I',
        DirectiveKind::IncludeNext => 'N',
        DirectiveKind::HasInclude => 'H',
        DirectiveKind::HasIncludeNext => 'J',
        DirectiveKind::ReadsClock => 'C',
    };
    match &d.target {
        IncludeTarget::Quoted(name) => format!("{kind}\"{name}"),
        IncludeTarget::Angle(name) => format!("{kind}<{name}"),
        IncludeTarget::Computed => format!("{kind}#"),
    }
}

fn decode(s: &str) -> Option<Directive> {
    let kind = match s.as_bytes().first()? {
        b'I' => DirectiveKind::Include,
        b'N' => DirectiveKind::IncludeNext,
        b'H' => DirectiveKind::HasInclude,
        b'J' => DirectiveKind::HasIncludeNext,
        b'C' => DirectiveKind::ReadsClock,
        _ => return None,
    };
    let name = s.get(2..)?.to_string();
    let target = match s.as_bytes().get(1)? {
        b'"' => IncludeTarget::Quoted(name),
        b'<' => IncludeTarget::Angle(name),
        b'#' => IncludeTarget::Computed,
        _ => return None,
    };
    Some(Directive { kind, target })
}

impl Walker {
    /// Takes the directives saved by `save`. Damage ends the entries
    /// taken, a missing file is ignored: either only costs reading the
    /// sources again. An entry is used only while its file's stat matches.
    pub(crate) fn load(&self, path: &Path) {
        let Ok(bytes) = std::fs::read(path) else {
            return;
        };
        let Some(mut rest) = bytes.strip_prefix(HEADER) else {
            return;
        };
        let mut files = self.files.write().unwrap();
        while let Ok((line, more)) = postcard::take_from_bytes::<Line<&str>>(rest) {
            rest = more;
            let (dev, ino, size, mt, mt_ns, ct, ct_ns, dirs, unused_saves) = line;
            let Some(directives) = dirs.iter().map(|d| decode(d)).collect::<Option<_>>() else {
                continue;
            };
            let entry = FileEntry {
                stamp: (size, mt, mt_ns, ct, ct_ns),
                directives: Arc::new(directives),
                unused_saves,
                used: AtomicBool::new(false),
            };
            files.insert((dev, ino), entry);
        }
    }

    /// Saves every file's directives, atomically, when any file was read
    /// since `load`; entries unused for [`MAX_UNUSED_SAVES`] saves are
    /// left out.
    pub(crate) fn save(&self, path: &Path) -> std::io::Result<()> {
        if self.parsed() == 0 {
            return Ok(());
        }
        // Beside it, so the rename is atomic; 0666 less the umask as from
        // `File::create`, not tempfile's 0600: other users read it too.
        let mut tmp = tempfile::Builder::new()
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(path.parent().unwrap_or(Path::new(".")))?;
        let mut out = HEADER.to_vec();
        for (&(dev, ino), e) in self.files.read().unwrap().iter() {
            let unused = match e.used.load(Ordering::Relaxed) {
                true => 0,
                false => e.unused_saves + 1,
            };
            if unused > MAX_UNUSED_SAVES {
                continue;
            }
            let (size, mt, mt_ns, ct, ct_ns) = e.stamp;
            let dirs: Vec<String> = e.directives.iter().map(encode).collect();
            let line: Line<String> = (dev, ino, size, mt, mt_ns, ct, ct_ns, dirs, unused);
            out = postcard::to_extend(&line, out).map_err(std::io::Error::other)?;
        }
        tmp.write_all(&out)?;
        tmp.persist(path).map(drop).map_err(|e| e.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_directive_survives_the_round_trip() {
        let text = b"#include \"a b.h\"\n#include_next <c/d.h>\n#include MACRO\n\
            #if __has_include(<e.h>) && __has_include_next(\"f\\\"g.h\")\n#endif\n";
        let dirs = crate::parse_directives(text);
        assert_eq!(dirs.len(), 5, "{dirs:?}");
        for d in &dirs {
            assert_eq!(decode(&encode(d)).as_ref(), Some(d));
        }
        assert_eq!(decode("X\"a.h"), None);
        assert_eq!(decode("I"), None);
    }

    /// A walker that parsed `header` (so that it saves), as a run would.
    fn walker_that_parsed(header: &Path) -> (Walker, (u64, u64), super::super::FileStamp) {
        let w = Walker::default();
        let m = std::fs::metadata(header).unwrap();
        let (key, stamp) = super::super::identity(&m);
        w.parse_file(header, &m, key, stamp).unwrap();
        (w, key, stamp)
    }

    #[test]
    fn entries_no_run_uses_are_dropped_after_a_while() {
        let dir = tempfile::tempdir().unwrap();
        let (kept, gone, scans) = (
            dir.path().join("kept.h"),
            dir.path().join("gone.h"),
            dir.path().join(".ggninja_scans"),
        );
        std::fs::write(&kept, "#include <a.h>\n").unwrap();
        std::fs::write(&gone, "#include <b.h>\n").unwrap();
        let (w, gone_key, _) = walker_that_parsed(&gone);
        w.save(&scans).unwrap();
        std::fs::remove_file(&gone).unwrap();
        // Runs that use only kept.h (and parse some other file, so they
        // save): gone.h's entry ages out.
        let (_, kept_key, stamp) = walker_that_parsed(&kept);
        for run in 1..=MAX_UNUSED_SAVES + 2 {
            let w = Walker::default();
            w.load(&scans);
            let has_gone = w.files.read().unwrap().contains_key(&gone_key);
            // Kept through MAX_UNUSED_SAVES saves that did not use it.
            assert_eq!(has_gone, run <= MAX_UNUSED_SAVES + 1, "run {run}");
            if w.cached(kept_key, stamp).is_none() {
                let m = std::fs::metadata(&kept).unwrap();
                w.parse_file(&kept, &m, kept_key, stamp).unwrap();
            }
            w.parsed.store(1, Ordering::Relaxed);
            w.save(&scans).unwrap();
        }
        let w = Walker::default();
        w.load(&scans);
        assert!(w.cached(kept_key, stamp).is_some());
    }

    #[test]
    fn a_file_of_another_version_is_ignored_whole() {
        let dir = tempfile::tempdir().unwrap();
        let scans = dir.path().join(".ggninja_scans");
        let line: Line<&str> = (1, 2, 3, 4, 5, 6, 7, vec!["I<x.h"], 0);
        let line = postcard::to_stdvec(&line).unwrap();
        let loads = |header: &[u8]| {
            std::fs::write(&scans, [header, &line].concat()).unwrap();
            let w = Walker::default();
            w.load(&scans);
            let has = w.files.read().unwrap().contains_key(&(1, 2));
            has
        };
        assert!(loads(HEADER));
        assert!(!loads(b""), "no header (an older ggninja's)");
        assert!(!loads(b"ggninja scans 3\n"), "JSON lines");
        assert!(!loads(b"ggninja scans 2\n"), "blind to the clock");
    }
}
