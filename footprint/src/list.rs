//! `A && B && ...` lists (CMake's `rm -f lib.a && ar qc lib.a ... &&
//! ranlib lib.a`, `cd DIR && ...`), run as `/bin/sh -c LIST`: every
//! command's footprint, where a file an earlier command wrote or removed is
//! not an input of a later one. Only lists of commands whose footprint is
//! known (compile, link, archive, `cd`, `rm`, `cmake -E`, a sub-make's
//! `export MAKELEVEL=N`) qualify: a
//! script's (`python3 gen.py`) is a guess, so the list runs locally.
//! Unaware of what each step is: `command` finds that.

use crate::classify::{cd_target, is_cmake_file_tool, is_makelevel_export, removed_files};
use crate::paths::{normal, sort_paths};
use crate::toolchain::toolchain_list;
use ggninja_syntax::shell;

use crate::{Footprint, Kind, LocalOnly, Scanner};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

impl Scanner {
    /// The footprint of `command`, the list of commands `list`.
    pub(crate) fn list(
        &self,
        command: &str,
        list: Vec<Vec<String>>,
        cwd: &Path,
    ) -> Result<Footprint, LocalOnly> {
        let sh = PathBuf::from("/bin/sh");
        let mut tc = self.toolchain.program_files(&sh);
        let argv = vec![sh.display().to_string(), "-c".into(), command.into()];
        let mut fp = Footprint::new(argv, sh.clone());
        let mut dir = cwd.to_path_buf();
        // Files written or removed so far, as lexically normal paths.
        let mut made: HashSet<PathBuf> = HashSet::new();
        for words in list {
            if let Some(to) = cd_target(&words) {
                dir = dir.join(to);
                continue;
            }
            if is_makelevel_export(&words) {
                continue;
            }
            shell::check_simple(&words).map_err(LocalOnly::new)?;
            let removed = removed_files(&words);
            let file_tool = is_cmake_file_tool(&words);
            let step = self.simple(words, &dir)?;
            if step.kind == Kind::Other && removed.is_none() && !file_tool {
                let what = step.argv.first().map_or("", |w| w.as_str());
                return Err(LocalOnly::new(format!("command list running `{what}`")));
            }
            tc.extend(step.toolchain.iter().cloned());
            tc.push(step.executable.clone());
            match removed {
                Some(removed) => made.extend(removed.iter().map(|f| normal(&dir.join(f)))),
                None => add_step(&mut fp, &mut made, &step, cwd, &dir),
            }
        }
        fp.sources.dedup();
        sort_paths(&mut fp.headers);
        sort_paths(&mut fp.absent);
        fp.toolchain = toolchain_list(tc, &sh);
        Ok(fp)
    }
}

/// Adds what `step`, run in `dir`, reads (unless an earlier step `made`
/// it) and writes to the list's `fp`, with paths as the list's caller sees
/// them: relative to `cwd` if they were.
fn add_step(
    fp: &mut Footprint,
    made: &mut HashSet<PathBuf>,
    step: &Footprint,
    cwd: &Path,
    dir: &Path,
) {
    let here = |p: &Path| match dir.strip_prefix(cwd) {
        _ if p.is_absolute() => p.to_path_buf(),
        Ok(rel) => rel.join(p),
        Err(_) => dir.join(p),
    };
    for src in &step.sources {
        if !made.contains(&normal(&dir.join(src))) {
            fp.sources.push(here(src));
        }
    }
    fp.headers.extend(step.headers.iter().map(|h| here(h)));
    fp.absent.extend(step.absent.iter().map(|h| here(h)));
    for out in &step.outputs {
        made.insert(normal(&dir.join(out)));
        fp.outputs.push(here(out));
    }
    fp.embeds_cwd |= step.embeds_cwd;
    fp.kind = combined(fp.kind, step.kind);
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
