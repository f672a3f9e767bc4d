//! One simple command's footprint: launchers unwrapped, the program found,
//! response files expanded, then handed to the module for its kind of step
//! (driver, link, archive), or the best effort for any other program.
//! Unaware of shell syntax (see `shell`) and of `&&` lists (see `list`).

use crate::classify::{self, basename, Tool};
use crate::paths::{is_file, sort_paths};
use crate::toolchain::{bfd_plugins, toolchain_list, Toolchain};
use ggninja_syntax::shell::split_response_file;

use crate::{archive, link, programs, Footprint, LocalOnly, Scanner};
use std::path::{Path, PathBuf};

impl Scanner {
    /// The footprint of `argv`, a command without shell operators, run in
    /// `cwd`.
    pub(crate) fn simple(&self, argv: Vec<String>, cwd: &Path) -> Result<Footprint, LocalOnly> {
        let words = classify::without_launchers(&argv)?;
        let exe = self
            .toolchain
            .program(&words[0], cwd)
            .ok_or_else(|| LocalOnly::new(format!("program not found: {}", words[0])))?;
        let name = basename(&words[0]);
        let mut rsp_files = Vec::new();
        let args = expand_rsp(&words[1..], cwd, &mut rsp_files, 0)?;
        let mut fp = Footprint::new(Vec::new(), exe.clone());
        fp.sources = rsp_files.into_iter().map(PathBuf::from).collect();
        let tool = classify::tool(name);
        if tool == Tool::Driver {
            fp.toolchain = self.driver(&mut fp, name, &args, cwd)?;
        } else {
            let mut tc = self.toolchain.program_files(&exe);
            match tool {
                Tool::Ar => archive::ar(&mut fp, &args, cwd)?,
                Tool::Ld => link::ld(&self.toolchain, &mut fp, &mut tc, &args, cwd),
                Tool::Ranlib => archive::ranlib(&mut fp, &args),
                Tool::Driver | Tool::Other => other(&self.toolchain, &mut fp, &mut tc, &args, cwd),
            }
            // binutils load their plugins whatever they do.
            if tool != Tool::Other {
                tc.extend(bfd_plugins().iter().cloned());
            }
            fp.toolchain = toolchain_list(tc, &exe);
        }
        fp.argv = argv;
        sort_paths(&mut fp.headers);
        sort_paths(&mut fp.absent);
        Ok(fp)
    }
}

/// Any other program, best effort: it may call getcwd; a script reads its
/// interpreter; arguments (or `--opt=value` values) naming existing files
/// are inputs.
fn other(
    toolchain: &Toolchain,
    fp: &mut Footprint,
    tc: &mut Vec<PathBuf>,
    args: &[String],
    cwd: &Path,
) {
    fp.embeds_cwd = true;
    if let Some(interp) = programs::shebang(&fp.executable) {
        tc.extend(toolchain.closure(&interp).iter().cloned());
    }
    for a in args {
        let cand = match a.starts_with('-') {
            true => a.split_once('=').map(|(_, v)| v),
            false => Some(a.as_str()),
        };
        if let Some(c) = cand.filter(|c| !c.is_empty()) {
            if is_file(&cwd.join(c)) {
                fp.sources.push(c.into());
            }
        }
    }
}

/// `args` with every `@file` replaced by the words it holds (recursively);
/// the response files read are added to `rsp`.
fn expand_rsp(
    args: &[String],
    cwd: &Path,
    rsp: &mut Vec<String>,
    depth: usize,
) -> Result<Vec<String>, LocalOnly> {
    let mut out = Vec::new();
    for a in args {
        let Some(f) = a.strip_prefix('@') else {
            out.push(a.clone());
            continue;
        };
        if depth > 8 {
            return Err(LocalOnly::new("response files nested too deep"));
        }
        let text = std::fs::read_to_string(cwd.join(f))
            .map_err(|e| LocalOnly::new(format!("unreadable response file {f}: {e}")))?;
        rsp.push(f.to_string());
        let words = split_response_file(&text);
        out.extend(expand_rsp(&words, cwd, rsp, depth + 1)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_files_expand_in_place_and_are_read() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.rsp"), "-x @b.rsp 'c d'").unwrap();
        std::fs::write(d.path().join("b.rsp"), "-y").unwrap();
        std::fs::write(d.path().join("loop.rsp"), "@loop.rsp").unwrap();
        let args: Vec<String> = ["1", "@a.rsp", "2"].map(String::from).to_vec();
        let mut rsp = Vec::new();
        let got = expand_rsp(&args, d.path(), &mut rsp, 0).unwrap();
        assert_eq!(got, ["1", "-x", "-y", "c d", "2"]);
        assert_eq!(rsp, ["a.rsp", "b.rsp"]);
        let looped = ["@loop.rsp".to_string()];
        assert!(expand_rsp(&looped, d.path(), &mut rsp, 0).is_err());
        assert!(expand_rsp(&["@none".into()], d.path(), &mut rsp, 0).is_err());
    }
}
