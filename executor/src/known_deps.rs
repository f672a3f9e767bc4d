//! A memo hit's deps without parsing its depfile: the hit restored the
//! depfile an earlier run of the same thunk wrote, whose deps the log took
//! then, so the log's files stand whenever the depfile names exactly them
//! (`depfile::names_are`, one pass). Ignores depfiles written by commands,
//! which are parsed.

use ggninja_graph::{FileId, Graph};
use ggninja_syntax::depfile;

use crate::deps_log::DepsLog;

/// Which files' paths a depfile writes without escapes
/// (`depfile::is_plain_name`), told once a file: a header is named by
/// hundreds of depfiles. And where each of the deps asked about stands in
/// their list, marked afresh for each question without clearing: a name
/// given again is looked up, not searched for.
#[derive(Default)]
pub struct KnownDeps {
    plain: Vec<Option<bool>>,
    /// By file: the question that marked it last, and its place then.
    marks: Vec<(u32, u32)>,
    question: u32,
}

impl KnownDeps {
    /// The deps `log` has for `out`, if `depfile` names exactly them.
    pub fn of(
        &mut self,
        g: &Graph,
        log: &DepsLog,
        out: FileId,
        depfile: &[u8],
    ) -> Option<Vec<FileId>> {
        let logged = log.get(out)?.nodes;
        // `names_are` takes distinct names, each plain.
        if !self.mark(logged) || !logged.iter().all(|&d| self.plain(g, d)) {
            return None;
        }
        let names: Vec<&str> = logged.iter().map(|&d| g.path(d)).collect();
        let position = |word: &[u8]| {
            let file = g.lookup(std::str::from_utf8(word).ok()?)?;
            let (question, at) = *self.marks.get(file.index())?;
            (question == self.question).then_some(at as usize)
        };
        depfile::names_are(depfile, &names, position).then(|| logged.to_vec())
    }

    /// Marks each of `files` with its place for a new question; false if
    /// one comes twice.
    fn mark(&mut self, files: &[FileId]) -> bool {
        self.question = self.question.wrapping_add(1);
        if self.question == 0 {
            // Marks of 2^32 questions ago would pass for this one's.
            self.marks.fill((0, 0));
            self.question = 1;
        }
        for (at, &file) in files.iter().enumerate() {
            let i = file.index();
            if self.marks.len() <= i {
                self.marks.resize(i + 1, (0, 0));
            }
            if self.marks[i].0 == self.question {
                return false;
            }
            self.marks[i] = (self.question, at as u32);
        }
        true
    }

    fn plain(&mut self, g: &Graph, file: FileId) -> bool {
        let i = file.index();
        if self.plain.len() <= i {
            self.plain.resize(i + 1, None);
        }
        *self.plain[i].get_or_insert_with(|| depfile::is_plain_name(g.path(file).as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_stands_only_for_a_depfile_naming_exactly_its_deps() {
        let dir = tempfile::tempdir().unwrap();
        let mut g = Graph::default();
        let [a_o, b_o, a_c, x_h, y_h] = ["a.o", "b.o", "a.c", "x.h", "y.h"].map(|p| g.file_id(p));
        let (mut log, _) = DepsLog::load(&dir.path().join(".ninja_deps"), &mut g, true).unwrap();
        log.record(&g, a_o, 1, &[a_c, x_h, y_h]).unwrap();
        log.record(&g, b_o, 1, &[x_h, x_h]).unwrap();
        let mut known = KnownDeps::default();
        let mut of = |out, text: &str| known.of(&g, &log, out, text.as_bytes());
        let deps = Some(vec![a_c, x_h, y_h]);
        assert_eq!(of(a_o, "a.o: a.c x.h y.h\n"), deps);
        // Names given again, as gcc gives them: dropped, as parse drops them.
        assert_eq!(of(a_o, "a.o: a.c x.h \\\n x.h y.h a.c x.h\n"), deps);
        // Asked again, the marks of the last question do not stand.
        assert_eq!(of(a_o, "a.o: a.c x.h x.h y.h\n"), deps);
        // A name not yet matched, or not among the deps, is no repeat.
        assert_eq!(of(a_o, "a.o: a.c y.h x.h y.h\n"), None);
        assert_eq!(of(a_o, "a.o: a.c x.h a.o y.h\n"), None);
        assert_eq!(of(a_o, "a.o: a.c x.h y.h z.h\n"), None);
        // A log naming a file twice is parsed instead.
        assert_eq!(of(b_o, "b.o: x.h\n"), None);
    }
}
