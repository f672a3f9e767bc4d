//! The directives of every scanned file, kept between runs: a later run
//! stats a file instead of reading and parsing it again, so a rescan after
//! a one-file edit reads that one file.
//!
//! One JSON array per file: device, inode, size, mtime (s, ns), ctime
//! (s, ns), then its directives, each a string: the kind (`I` include,
//! `N` include_next, `H` __has_include, `J` __has_include_next), the
//! operand's delimiter (`"`, `<`, or `#` for a computed include) and the
//! name.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;

use super::{FileEntry, Walker};
use crate::{Directive, DirectiveKind, IncludeTarget};

type Line = (u64, u64, u64, i64, i64, i64, i64, Vec<String>);

fn encode(d: &Directive) -> String {
    let kind = match d.kind {
        DirectiveKind::Include => 'I',
        DirectiveKind::IncludeNext => 'N',
        DirectiveKind::HasInclude => 'H',
        DirectiveKind::HasIncludeNext => 'J',
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
    /// Takes the directives saved by `save`. A damaged line
    /// is skipped, a missing file ignored: either only costs reading the
    /// sources again. An entry is used only while its file's stat matches.
    pub(crate) fn load(&self, path: &Path) {
        let Ok(file) = std::fs::File::open(path) else {
            return;
        };
        let mut files = self.files.write().unwrap();
        for line in std::io::BufReader::new(file).split(b'\n') {
            let Ok(line) = line else { return };
            let Ok((dev, ino, size, mt, mt_ns, ct, ct_ns, dirs)) =
                serde_json::from_slice::<Line>(&line)
            else {
                continue;
            };
            let Some(directives) = dirs.iter().map(|d| decode(d)).collect::<Option<_>>() else {
                continue;
            };
            let entry = FileEntry {
                stamp: (size, mt, mt_ns, ct, ct_ns),
                directives: Arc::new(directives),
            };
            files.insert((dev, ino), entry);
        }
    }

    /// Saves every file's directives, atomically, when any file was read
    /// since `load`.
    pub(crate) fn save(&self, path: &Path) -> std::io::Result<()> {
        if self.parsed() == 0 {
            return Ok(());
        }
        // Per process: two runs saving at once must not write one file.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        for (&(dev, ino), e) in self.files.read().unwrap().iter() {
            let (size, mt, mt_ns, ct, ct_ns) = e.stamp;
            let dirs: Vec<String> = e.directives.iter().map(encode).collect();
            let line: Line = (dev, ino, size, mt, mt_ns, ct, ct_ns, dirs);
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        drop(out);
        std::fs::rename(&tmp, path)
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
}
