//! `A && B && ...` lists (CMake's `rm -f lib.a && ar qc lib.a ... &&
//! ranlib lib.a`, `cd DIR && ...`), run as `/bin/sh -c LIST`: every
//! command's footprint, where a file an earlier command wrote or removed is
//! not an input of a later one. Only lists of commands whose footprint is
//! known (compile, link, archive, `cd`, `rm`, `cmake -E`, the file commands
//! of `files`, a sub-make's `export` of names no tool reads) qualify: a
//! script's (`python3 gen.py`) is a guess, so the list runs locally. A make
//! recipe line whose failure is ignored may run file commands, `rm` and
//! archive steps (`mkdir objs 2>/dev/null || test -d objs`, `(ranlib lib.a
//! || true) >/dev/null 2>&1`): each of them may run. What the file commands
//! and `rm` do to the tree is kept in order as the footprint's effects.
//! A step's file name patterns (`ar rcs lib.a *.o`) are expanded first, as
//! the shell will (`glob`). Unaware of what each step is: `command` finds
//! that.

use crate::classify::{cd_target, is_cmake_file_tool, removed_files, removes_trees};
use crate::files::{self, file_step, FileStep};
use crate::glob;
use crate::paths::{normal, sort_paths};
use crate::toolchain::toolchain_list;
use ggninja_syntax::shell::{self, Step};

use crate::{exports, Effect, Footprint, Kind, LocalOnly, Scanner};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// A list as far as it has been read.
struct Walk {
    fp: Footprint,
    /// The toolchain of every step.
    tc: Vec<PathBuf>,
    /// The list's working directory, and the one the step runs in.
    cwd: PathBuf,
    dir: PathBuf,
    /// Files written or removed so far, as lexically normal paths; those
    /// removed (or moved away) and not written again since.
    made: HashSet<PathBuf>,
    gone: HashSet<PathBuf>,
    /// Directories made so far, the same way.
    dirs: HashSet<PathBuf>,
}

impl Walk {
    /// `p`, written in the step's dir, as the list's caller sees it:
    /// relative to `cwd` if it was.
    fn here(&self, p: &Path) -> PathBuf {
        here(p, &self.cwd, &self.dir)
    }

    fn normal(&self, p: &Path) -> PathBuf {
        normal(&self.dir.join(p))
    }

    /// Notes that the step wrote `p`.
    fn wrote(&mut self, p: &Path) {
        let p = self.normal(p);
        self.gone.remove(&p);
        self.made.insert(p);
    }
}

/// Whether one of `tests` (`test -f PATH`, ...) succeeds now: as earlier
/// steps left a path they wrote, made or removed, else as it is on disk.
/// A path tested there is an input, so the key says which are there (and
/// what they hold); one that is not is looked for (an edge that writes it
/// must be ordered first, as for a header not there yet).
fn condition(walk: &mut Walk, tests: &[Vec<String>]) -> Result<bool, LocalOnly> {
    let mut any = false;
    for words in tests {
        let (question, path) = files::test(&words[0], &words[1..])?;
        let (path, normal) = (Path::new(path), walk.normal(Path::new(path)));
        any |= if walk.gone.contains(&normal) {
            false
        } else if walk.made.contains(&normal) {
            question != 'd'
        } else if walk.dirs.contains(&normal) {
            question != 'f'
        } else {
            let meta = std::fs::metadata(&normal).ok();
            let here = walk.here(path);
            match meta.is_some() {
                true => walk.fp.sources.push(here),
                false => walk.fp.absent.push(here),
            }
            files::answer(question, meta.as_ref())
        };
    }
    Ok(any)
}

/// `words` with each pattern (by index) replaced by its matches, as the
/// shell will when the step runs; the walk notes the patterns.
fn expanded(
    walk: &mut Walk,
    words: Vec<String>,
    patterns: &[usize],
) -> Result<Vec<String>, LocalOnly> {
    let mut out = Vec::with_capacity(words.len());
    for (i, word) in words.into_iter().enumerate() {
        if !patterns.contains(&i) {
            out.push(word);
            continue;
        }
        out.extend(glob::expand(&word, &walk.dir, &walk.made, &walk.gone)?);
        let spelled = walk.here(Path::new(&word));
        walk.fp.patterns.push(spelled);
    }
    walk.fp.collation = Some(glob::collation());
    Ok(out)
}

impl Scanner {
    /// The footprint of `command`, the list of steps `list`.
    pub(crate) fn list(
        &self,
        command: &str,
        list: Vec<Step>,
        cwd: &Path,
    ) -> Result<Footprint, LocalOnly> {
        let sh = PathBuf::from("/bin/sh");
        let argv = vec![sh.display().to_string(), "-c".into(), command.into()];
        let mut walk = Walk {
            fp: Footprint::new(argv, sh.clone()),
            tc: self.toolchain.program_files(&sh),
            cwd: cwd.to_path_buf(),
            dir: cwd.to_path_buf(),
            made: HashSet::new(),
            gone: HashSet::new(),
            dirs: HashSet::new(),
        };
        for step in list {
            match step {
                Step::Run(words) => self.step(&mut walk, words, false)?,
                Step::Ignored(commands) => {
                    for words in commands {
                        self.step(&mut walk, words, true)?;
                    }
                }
                // What runs decides by the tree now, which the key holds.
                Step::If(line) => {
                    if condition(&mut walk, &line.tests)? {
                        for words in line.then {
                            self.step(&mut walk, words, true)?;
                        }
                    }
                }
                Step::Globbed { words, patterns } => {
                    let words = expanded(&mut walk, words, &patterns)?;
                    self.step(&mut walk, words, false)?
                }
            }
        }
        let mut fp = walk.fp;
        fp.sources.dedup();
        sort_paths(&mut fp.headers);
        sort_paths(&mut fp.absent);
        fp.toolchain = toolchain_list(walk.tc, &sh);
        Ok(fp)
    }

    /// Adds one command, `ignored` if it is part of an ignored recipe line.
    fn step(&self, walk: &mut Walk, words: Vec<String>, ignored: bool) -> Result<(), LocalOnly> {
        let refused = |what: &str| Err(LocalOnly::new(format!("{what} in an ignored line")));
        if let Some(to) = cd_target(&words) {
            if ignored {
                return refused("`cd`");
            }
            walk.dir = walk.dir.join(to);
            return Ok(());
        }
        if let Some(allowed) = exports::check(&words) {
            return if ignored {
                refused("`export`")
            } else {
                allowed
            };
        }
        if let Some(step) = file_step(&words, &walk.dir) {
            let step = step?;
            if !ignored {
                unfailing(walk, &words, &step)?;
            }
            return match step {
                FileStep::Nothing => Ok(()),
                FileStep::Effects(effects) => self.file_effects(walk, &words[0], effects),
            };
        }
        shell::check_simple(&words).map_err(LocalOnly::new)?;
        let removed = removed_files(&words);
        let recursive = removes_trees(&words);
        let file_tool = is_cmake_file_tool(&words);
        let step = self.simple(words, &walk.dir)?;
        if step.kind == Kind::Other && removed.is_none() && !file_tool {
            let what = step.argv.first().map_or("", |w| w.as_str());
            return Err(LocalOnly::new(format!("command list running `{what}`")));
        }
        // A compile or link that may fail unnoticed may leave no output;
        // `cmake -E` in a make recipe is no shape worth a guess.
        if ignored && (file_tool || matches!(step.kind, Kind::Compile | Kind::Link)) {
            return refused("a compile, link or `cmake -E`");
        }
        walk.tc.extend(step.toolchain.iter().cloned());
        walk.tc.push(step.executable.clone());
        match removed {
            Some(removed) => {
                for f in removed.iter().map(PathBuf::from) {
                    walk.made.insert(walk.normal(&f));
                    walk.gone.insert(walk.normal(&f));
                    let path = walk.here(&f);
                    // Written earlier in the list, it is not left behind.
                    walk.fp.outputs.retain(|o| *o != path);
                    walk.fp.effects.push(Effect::Remove { path, recursive });
                }
            }
            None => add_step(walk, &step),
        }
        Ok(())
    }

    /// Adds what a file command running `program` does.
    fn file_effects(
        &self,
        walk: &mut Walk,
        program: &str,
        effects: Vec<Effect>,
    ) -> Result<(), LocalOnly> {
        let exe = self
            .toolchain
            .program(program, &walk.dir)
            .ok_or_else(|| LocalOnly::new(format!("program not found: {program}")))?;
        walk.tc.extend(self.toolchain.program_files(&exe));
        walk.tc.push(exe);
        for effect in effects {
            let effect = match effect {
                Effect::MakeDir { path, parents } => {
                    walk.dirs.insert(walk.normal(&path));
                    let path = walk.here(&path);
                    Effect::MakeDir { path, parents }
                }
                Effect::RemoveDir(path) => Effect::RemoveDir(walk.here(&path)),
                Effect::Symlink { target, link } => {
                    walk.wrote(&link);
                    let link = walk.here(&link);
                    Effect::Symlink { target, link }
                }
                Effect::Moved { from, to } => moved(walk, &from, &to)?,
                Effect::Remove { .. } => unreachable!("file commands do not remove files"),
            };
            walk.fp.effects.push(effect);
        }
        Ok(())
    }
}

/// Outside an ignored line a file command that fails stops the list, and
/// a hit never asks the tree whether it would: so only a command that
/// cannot fail where its run succeeded is kept there. `true`, `echo`, `mkdir -p`,
/// `mv` of a file an earlier step wrote (see `moved`), `ln -s` over a
/// path an earlier step removed or wrote, or `ln -sf`. `test`, `mkdir` of
/// a dir that may be there, `rmdir` and the rest decide by the tree.
fn unfailing(walk: &Walk, words: &[String], step: &FileStep) -> Result<(), LocalOnly> {
    let program = crate::classify::basename(&words[0]);
    let forced = words[1..]
        .iter()
        .any(|w| w.starts_with('-') && w.contains('f'));
    let fine = |e: &Effect| match e {
        Effect::MakeDir { parents, .. } => *parents,
        Effect::Moved { .. } => true,
        Effect::Symlink { link, .. } => forced || walk.made.contains(&walk.normal(link)),
        Effect::RemoveDir(_) | Effect::Remove { .. } => false,
    };
    let ok = match step {
        FileStep::Nothing => matches!(program, "true" | ":" | "echo"),
        FileStep::Effects(effects) => effects.iter().all(fine),
    };
    match ok {
        true => Ok(()),
        false => Err(LocalOnly::new(format!(
            "`{}` outside an ignored line: whether it fails depends on the tree",
            words.join(" ")
        ))),
    }
}

/// `mv FROM TO`: FROM must be a file an earlier step wrote (else it would
/// be an input that a hit leaves in place), TO no directory made earlier.
fn moved(walk: &mut Walk, from: &Path, to: &Path) -> Result<Effect, LocalOnly> {
    let (n_from, n_to) = (walk.normal(from), walk.normal(to));
    if !walk.made.contains(&n_from) {
        let msg = format!("`mv` of {}, which no earlier step wrote", from.display());
        return Err(LocalOnly::new(msg));
    }
    if walk.dirs.contains(&n_to) {
        return Err(LocalOnly::new(format!(
            "`mv` into the directory {}",
            to.display()
        )));
    }
    walk.gone.insert(n_from);
    walk.wrote(to);
    let (from, to) = (walk.here(from), walk.here(to));
    walk.fp.outputs.retain(|o| *o != from);
    walk.fp.outputs.push(to.clone());
    Ok(Effect::Moved { from, to })
}

/// `p`, written in `dir`, as the list's caller in `cwd` sees it: relative
/// to `cwd` if it was.
fn here(p: &Path, cwd: &Path, dir: &Path) -> PathBuf {
    match dir.strip_prefix(cwd) {
        _ if p.is_absolute() => p.to_path_buf(),
        Ok(rel) => rel.join(p),
        Err(_) => dir.join(p),
    }
}

/// Adds what `step`, run in the walk's dir, reads (unless an earlier step
/// made it) and writes.
fn add_step(walk: &mut Walk, step: &Footprint) {
    for src in &step.sources {
        if !walk.made.contains(&walk.normal(src)) {
            let src = walk.here(src);
            walk.fp.sources.push(src);
        }
    }
    let headers: Vec<PathBuf> = step.headers.iter().map(|h| walk.here(h)).collect();
    walk.fp.headers.extend(headers);
    let absent: Vec<PathBuf> = step.absent.iter().map(|h| walk.here(h)).collect();
    walk.fp.absent.extend(absent);
    for out in &step.outputs {
        walk.wrote(out);
        let out = walk.here(out);
        walk.fp.outputs.push(out);
    }
    walk.fp.embeds_cwd |= step.embeds_cwd;
    walk.fp.kind = combined(walk.fp.kind, step.kind);
}

/// A list's kind: the most telling of its steps'.
fn combined(a: Kind, b: Kind) -> Kind {
    match (a, b) {
        (Kind::Other, k) | (k, Kind::Other) => k,
        (Kind::Compile, _) | (_, Kind::Compile) => Kind::Compile,
        (Kind::Link, _) | (_, Kind::Link) => Kind::Link,
        _ => Kind::Archive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree with `a.c` and an `objs` dir-to-be, and the footprint of
    /// `command` there.
    fn footprint_of(command: &str) -> Result<Footprint, LocalOnly> {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.c"), "int a;\n").unwrap();
        std::fs::write(d.path().join("in.o"), "").unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        Scanner::new().footprint(command, d.path())
    }

    /// zlib's `.lo` recipe as `ggninja --make` joins it.
    const ZLIB_LO: &str = "{ (\nmkdir objs 2>/dev/null || test -d objs\n) || true; } && \
        cc -O2 -fPIC -c -o objs/a.o a.c && { (\nmv objs/a.o a.lo\n) || true; }";

    #[test]
    fn an_ignored_mkdir_and_mv_around_a_compile() {
        let fp = footprint_of(ZLIB_LO).unwrap();
        assert_eq!(fp.kind, Kind::Compile);
        assert_eq!(fp.sources, [PathBuf::from("a.c")]);
        assert_eq!(fp.outputs, [PathBuf::from("a.lo")]);
        let made = Effect::MakeDir {
            path: "objs".into(),
            parents: false,
        };
        let moved = Effect::Moved {
            from: "objs/a.o".into(),
            to: "a.lo".into(),
        };
        assert_eq!(fp.effects, [made, moved]);
        assert!(fp.toolchain.iter().any(|p| p.ends_with("mkdir")));
    }

    #[test]
    fn a_shared_library_with_its_links() {
        let link = "cc -shared -o libz.so.1.2 in.o && rm -f libz.so libz.so.1 && \
                    ln -s libz.so.1.2 libz.so && ln -s libz.so.1.2 libz.so.1 && \
                    { (\nrmdir objs\n) || true; }";
        let fp = footprint_of(link).unwrap();
        assert_eq!(fp.kind, Kind::Link);
        assert_eq!(fp.outputs, [PathBuf::from("libz.so.1.2")]);
        let kinds: Vec<&str> = fp
            .effects
            .iter()
            .map(|e| match e {
                Effect::Remove { .. } => "rm",
                Effect::Symlink { .. } => "ln",
                Effect::RemoveDir(_) => "rmdir",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["rm", "rm", "ln", "ln", "rmdir"]);
    }

    #[test]
    fn a_sub_makes_exports_and_cd() {
        let lua = "cd sub && export MAKELEVEL='2' SYSCFLAGS='-DX' SYSLIBS='-Wl,-E -ldl' && \
                   cc -O2 -c -o a.o ../a.c";
        let fp = footprint_of(lua).unwrap();
        assert_eq!(fp.kind, Kind::Compile);
        assert_eq!(fp.outputs, [PathBuf::from("sub/a.o")]);
        assert!(fp.effects.is_empty());
    }

    #[test]
    fn near_misses_stay_local() {
        for command in [
            // What the compiler reads, exported.
            "export CPATH=/opt/include && cc -c a.c",
            "export MAKELEVEL=2 GCC_EXEC_PREFIX=/opt/ && cc -c a.c",
            "export SYSLIBS && cc -c a.c",
            // An ignored line doing something else.
            "{ (\ntouch stamp\n) || true; } && cc -c a.c",
            // A program called echo, not the shell's.
            "/bin/echo hi && cc -c a.c",
            "{ (\ncc -c a.c\n) || true; } && cc -c a.c -o b.o",
            "{ (\ncd sub\n) || true; } && cc -c a.c",
            "{ (\ncmake -E copy a.c b.c\n) || true; } && cc -c a.c",
            "{ (\nmkdir objs | tee x\n) || true; } && cc -c a.c",
            "{ (\nmkdir objs > log\n) || true; } && cc -c a.c",
            // A subshell the importer did not write.
            "(mkdir objs) && cc -c a.c",
            // `mv` of a file no step wrote, or into a directory.
            "cc -c a.c -o a.o && mv in.o b.o",
            "cc -c a.c -o a.o && mv a.o sub",
            "mkdir objs && cc -c a.c -o a.o && mv a.o objs",
            "cc -c a.c -o a.o && ln -s a.o sub",
            // Outside an ignored line, a step whose failure the tree
            // decides (a hit would not fail where the run would).
            "test -f x.h && cc -c a.c",
            "[ -d objs ] && cc -c a.c",
            "mkdir objs && cc -c a.c",
            "cc -c a.c -o a.o && rmdir objs",
            "cc -c a.c -o a.o && ln -s a.o b.o",
        ] {
            assert!(footprint_of(command).is_err(), "{command:?} accepted");
        }
    }

    #[test]
    fn unfailing_file_steps_outside_ignored_lines() {
        for command in [
            "mkdir -p objs && cc -c a.c -o objs/a.o",
            "true && cc -c a.c",
            "echo CC a.o && cc -c a.c -o a.o && echo done",
            "{ (\necho hi\n) || true; } && cc -c a.c",
            "cc -c a.c -o a.o && ln -sf a.o b.o",
            "cc -c a.c -o a.o && rm -f b.o && ln -s a.o b.o",
        ] {
            let fp = footprint_of(command);
            assert!(fp.is_ok(), "{command:?}: {:?}", fp.err());
        }
    }

    /// What a list leaves written: an intermediate it removes is not.
    #[test]
    fn a_removed_intermediate_is_no_output() {
        let fp = footprint_of("cc -c a.c -o t.o && ar rcs lib.a t.o && rm -f t.o").unwrap();
        assert_eq!(fp.outputs, [PathBuf::from("lib.a")]);
        let kept = footprint_of("cc -c a.c -o t.o && ar rcs lib.a t.o").unwrap();
        assert_eq!(kept.outputs, [PathBuf::from("t.o"), PathBuf::from("lib.a")]);
    }

    #[test]
    fn a_list_is_its_most_telling_step() {
        use Kind::*;
        assert_eq!(combined(Other, Archive), Archive);
        assert_eq!(combined(Archive, Link), Link);
        assert_eq!(combined(Link, Compile), Compile);
        assert_eq!(combined(Archive, Archive), Archive);
        assert_eq!(combined(Other, Other), Other);
    }
}
