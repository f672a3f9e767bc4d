//! What a link reads beyond the objects it is given: `-l` libraries found
//! in the search dirs (and the files linker scripts such as glibc's
//! `libc.so` name), files named by linker options, and what the driver adds
//! (crt files, default libraries, `-fuse-ld=`, the LTO plugin). Unaware of
//! compiling and include chains; the toolchain is asked through
//! [`Toolchain`].

use crate::args::{DriverArgs, Settings};
use crate::paths::is_file;
use crate::toolchain::{bfd_plugins, CompilerInfo, Toolchain};
use crate::{programs, Footprint, Kind};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Linker options that take their value as the next argument and whose
/// value names no file to read (`-soname libx.so.1` names the library
/// being made, which a previous build left on disk).
const SEPARATE_NAMES: &[&str] = &[
    "-soname",
    "-h",
    "-rpath",
    "-rpath-link",
    "-z",
    "-e",
    "--entry",
    "-u",
    "-y",
    "-Y",
    "-m",
    "-init",
    "-fini",
    "-plugin-opt",
    "-a",
    "-A",
    "-b",
    "-f",
    "-F",
    "-G",
];

/// The other linker options that take their value as the next argument:
/// it may name a file.
const SEPARATE_FILES: &[&str] = &[
    "-o",
    "-L",
    "-l",
    "-T",
    "-Map",
    "--version-script",
    "--dynamic-list",
    "-dynamic-linker",
    "--dynamic-linker",
    "-plugin",
    "--plugin",
    "--script",
    "-R",
    "--output",
    "--library",
    "--library-path",
];

/// Linker options after which `-l` takes archives only (until a
/// `-Bdynamic`; which `-l`s they cover is not followed).
const STATIC_MODE: &[&str] = &["-Bstatic", "-dn", "-non_shared", "-static"];

/// Which `-lname` files a link may read in the first dir that has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Search {
    /// Only dynamic linking: `libname.so` where it exists, else
    /// `libname.a` — exactly what ld opens, so an archive the build is
    /// writing beside a shared library is not read (nor hashed).
    Dynamic,
    /// Static linking somewhere in the link: both, as either may be read.
    Either,
}

impl Search {
    /// The search for a link whose linker options are `args`, `-static`
    /// given to the driver or not.
    fn of<'a>(mut args: impl Iterator<Item = &'a String>, static_link: bool) -> Search {
        match static_link || args.any(|a| STATIC_MODE.contains(&a.as_str())) {
            true => Search::Either,
            false => Search::Dynamic,
        }
    }
}

/// Whether linker option `flag` takes its value as the next argument.
fn takes_next(flag: &str) -> bool {
    SEPARATE_NAMES.contains(&flag) || SEPARATE_FILES.contains(&flag)
}

/// Whether linker option `flag`'s value names no file to read.
fn names_no_file(flag: &str) -> bool {
    SEPARATE_NAMES.contains(&flag) || flag == "--undefined"
}

/// Sub-programs a driver runs to link: LTO objects are compiled again at
/// link time (lto1, then as).
pub(crate) const DRIVER_PROGRAMS: [&str; 5] = ["collect2", "ld", "lto-wrapper", "lto1", "as"];

/// `ld ARGS`: outputs, inputs and `-l` libraries; files the libraries'
/// linker scripts name go to `tc`.
pub(crate) fn ld(
    toolchain: &Toolchain,
    fp: &mut Footprint,
    tc: &mut Vec<PathBuf>,
    args: &[String],
    cwd: &Path,
) {
    fp.kind = Kind::Link;
    let mut lib_dirs = Vec::new();
    let mut libs = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        let (flag, val) = if takes_next(a) {
            i += 1;
            (a.as_str(), args.get(i - 1).cloned().unwrap_or_default())
        } else if let Some((f, v)) = a.split_once('=').filter(|_| a.starts_with('-')) {
            (f, v.to_string())
        } else if ["-L", "-l", "-o", "-T"].iter().any(|f| a.starts_with(f)) {
            (&a[..2], a[2..].to_string())
        } else {
            (a.as_str(), String::new())
        };
        match flag {
            "-o" | "--output" | "-Map" => fp.outputs.push(val.into()),
            "-L" | "--library-path" => lib_dirs.push(PathBuf::from(val)),
            "-l" | "--library" => libs.push(val),
            _ if !a.starts_with('-') => fp.sources.push(a.into()),
            _ if names_no_file(flag) => {}
            _ if !val.is_empty() && is_file(&cwd.join(&val)) => fp.sources.push(val.into()),
            _ => {}
        }
    }
    lib_dirs.extend(toolchain.ld_search_dirs(&fp.executable).iter().cloned());
    let search = Search::of(args.iter(), false);
    for l in libs {
        fp.sources.extend(link_lib(&l, search, &lib_dirs, cwd, tc));
    }
}

/// What a driver's link names beyond its template: `-l` libraries found in
/// `-L` dirs, then `lib_dirs` (the compiler's), and files passed to the
/// linker (`-Wl,`, `-Xlinker`). Returns the files the libraries' linker
/// scripts name.
pub(crate) fn driver_inputs(
    fp: &mut Footprint,
    d: &DriverArgs,
    lib_dirs: &[PathBuf],
    cwd: &Path,
) -> Vec<PathBuf> {
    let mut tc = Vec::new();
    let mut all_dirs: Vec<PathBuf> = d.lib_dirs.iter().map(PathBuf::from).collect();
    all_dirs.extend(lib_dirs.iter().cloned());
    let search = Search::of(d.linker_args.iter(), d.static_link);
    for l in &d.libs {
        fp.sources
            .extend(link_lib(l, search, &all_dirs, cwd, &mut tc));
    }
    let mut args = d.linker_args.iter();
    while let Some(a) = args.next() {
        let (flag, v) = match a.split_once('=').filter(|_| a.starts_with('-')) {
            _ if takes_next(a) => (a.as_str(), args.next().map_or("", |v| v)),
            Some(flag_value) => flag_value,
            None => ("", a.as_str()),
        };
        if matches!(flag, "-Map" | "--Map" | "-o" | "--output") {
            fp.outputs.push(v.into());
        } else if names_no_file(flag) {
            // A symbol, soname or path to embed: not an input.
        } else if !v.is_empty() && is_file(&cwd.join(v)) {
            fp.sources.push(v.into());
        } else if let Some(r) = v.strip_prefix('@') {
            fp.sources.push(r.into());
        }
    }
    tc
}

/// What of a link's settings `driver_files` reads, besides the compiler
/// and its query flags: equal keys, equal files.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct DriverKey {
    fuse_ld: Option<String>,
    nostdlib: bool,
    nostartfiles: bool,
    nodefaultlibs: bool,
    cxx: bool,
    cwd: PathBuf,
}

impl DriverKey {
    pub(crate) fn of(s: &Settings, cxx: bool, cwd: &Path) -> DriverKey {
        DriverKey {
            fuse_ld: s.fuse_ld.clone(),
            nostdlib: s.nostdlib,
            nostartfiles: s.nostartfiles,
            nodefaultlibs: s.nodefaultlibs,
            cxx,
            cwd: cwd.to_path_buf(),
        }
    }
}

/// What a driver reads to link with settings `s`, whatever it links: the
/// LTO and binutils plugins, the `-fuse-ld=` linker, crt files and the
/// default libraries (not the sub-programs: [`DRIVER_PROGRAMS`]).
pub(crate) fn driver_files(
    toolchain: &Toolchain,
    info: &CompilerInfo,
    s: &Settings,
    cxx: bool,
    cwd: &Path,
    tc: &mut Vec<PathBuf>,
) {
    tc.extend(info.lto_plugin.iter().cloned());
    if let Some(ld) = &s.fuse_ld {
        let n = match ld.contains('/') {
            true => ld.clone(),
            false => format!("ld.{ld}"),
        };
        if let Some(p) = programs::resolve_program(&n, cwd) {
            tc.extend(toolchain.closure(&p).iter().cloned());
        }
    }
    tc.extend(bfd_plugins().iter().cloned());
    if !s.nostdlib && !s.nostartfiles {
        tc.extend(info.crt.iter().cloned());
    }
    if !s.nostdlib && !s.nodefaultlibs {
        let mut defaults = vec!["gcc", "gcc_s", "gcc_eh", "c"];
        if cxx {
            defaults.extend(["stdc++", "m"]);
        }
        for l in defaults {
            // The driver's own flags (`-static-libgcc`) may take either.
            let found = link_lib(l, Search::Either, &info.lib_dirs, cwd, tc);
            tc.extend(found);
        }
    }
}

/// The files `-lname` links (see [`find_lib`]); those that are linker
/// scripts have the files they name added to `tc`.
fn link_lib(
    name: &str,
    search: Search,
    dirs: &[PathBuf],
    cwd: &Path,
    tc: &mut Vec<PathBuf>,
) -> Vec<PathBuf> {
    let found = find_lib(name, search, dirs, cwd);
    for p in &found {
        expand_linker_script(p, dirs, cwd, tc);
    }
    found
}

/// `-lname` candidates in the first dir that has `libname.so` or
/// `libname.a`: the one `search` says ld opens there, or both
/// (`-l:file` looks for `file`).
fn find_lib(name: &str, search: Search, dirs: &[PathBuf], cwd: &Path) -> Vec<PathBuf> {
    let cands: Vec<String> = match name.strip_prefix(':') {
        Some(f) => vec![f.to_string()],
        None => vec![format!("lib{name}.so"), format!("lib{name}.a")],
    };
    for d in dirs {
        let hits: Vec<PathBuf> = cands
            .iter()
            .map(|c| d.join(c))
            .filter(|p| is_file(&cwd.join(p)))
            .collect();
        if !hits.is_empty() {
            return match search {
                Search::Dynamic => hits.into_iter().take(1).collect(),
                Search::Either => hits,
            };
        }
    }
    Vec::new()
}

/// A script's text with its C comments (`/* ... */`, as ld reads them) made
/// spaces: the words of libgcc_s.so's opening comment (`Use the shared
/// library, ...`) name no file, and looking each up in every search dir
/// cost two dozen stats per link.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        out.push(' ');
        // An unclosed comment runs to the end, as ld takes it.
        rest = rest[start + 2..]
            .split_once("*/")
            .map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out
}

/// Longer files are no linker scripts (glibc's are a few hundred bytes).
const SCRIPT_MAX: u64 = 64 * 1024;
/// Enough to tell an ELF object or an archive.
const MAGIC: u64 = 8;

/// If `lib` is a linker script (like glibc's `libc.so`), adds the files it names.
fn expand_linker_script(lib: &Path, dirs: &[PathBuf], cwd: &Path, out: &mut Vec<PathBuf>) {
    // The magic first: `libc.a` or `libstdc++.a` (megabytes, looked at once
    // per link template and run) is never read further; a script to at
    // most one byte past the limit.
    let Ok(mut file) = std::fs::File::open(cwd.join(lib)) else {
        return;
    };
    let mut text = Vec::new();
    let head = (&mut file).take(MAGIC).read_to_end(&mut text);
    let binary = [&b"\x7fELF"[..], b"!<arch>", b"!<thin>"];
    if head.is_err() || binary.iter().any(|m| text.starts_with(m)) {
        return;
    }
    let rest = file.take(SCRIPT_MAX + 1 - MAGIC).read_to_end(&mut text);
    if rest.is_err() || text.len() as u64 > SCRIPT_MAX {
        return;
    }
    let text = without_comments(&String::from_utf8_lossy(&text));
    for tok in text.split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',') {
        if tok.starts_with('/') && Path::new(tok).is_file() {
            programs::with_canonical(Path::new(tok), out);
        } else if let Some(l) = tok.strip_prefix("-l") {
            out.extend(
                find_lib(l, Search::Either, dirs, cwd)
                    .into_iter()
                    .map(|p| cwd.join(p)),
            );
        } else if tok.starts_with("lib") && !tok.contains('/') {
            // A bare name (`GROUP ( libgcc_s.so.1 -lgcc )`): ld looks in
            // the current directory, then on the library search path.
            let found = std::iter::once(cwd.join(tok))
                .chain(dirs.iter().map(|d| cwd.join(d).join(tok)))
                .find(|p| p.is_file());
            if let Some(p) = found {
                programs::with_canonical(&p, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_dir_with_a_candidate_wins() {
        let d = tempfile::tempdir().unwrap();
        let cwd = d.path();
        for f in ["a/libz.a", "b/libz.so", "b/libz.a", "b/libq.so.1"] {
            std::fs::create_dir_all(cwd.join(f).parent().unwrap()).unwrap();
            std::fs::write(cwd.join(f), "").unwrap();
        }
        let dirs = ["none", "a", "b"].map(PathBuf::from);
        assert_eq!(
            find_lib("z", Search::Either, &dirs, cwd),
            [PathBuf::from("a/libz.a")]
        );
        assert_eq!(
            find_lib("z", Search::Either, &dirs[2..], cwd),
            ["b/libz.so", "b/libz.a"].map(PathBuf::from)
        );
        assert_eq!(
            find_lib(":libq.so.1", Search::Dynamic, &dirs, cwd),
            [PathBuf::from("b/libq.so.1")]
        );
        assert!(find_lib("q", Search::Dynamic, &dirs, cwd).is_empty());
    }

    /// A dynamic link reads `libz.so` and never the `libz.a` beside it
    /// (which another edge may be writing: bzip2's Makefile builds both);
    /// the archive alone, or any static linking, and the archive counts.
    #[test]
    fn a_dynamic_link_reads_the_shared_library_only() {
        let d = tempfile::tempdir().unwrap();
        let cwd = d.path();
        for f in ["b/libz.so", "b/libz.a", "c/libz.a"] {
            std::fs::create_dir_all(cwd.join(f).parent().unwrap()).unwrap();
            std::fs::write(cwd.join(f), "").unwrap();
        }
        let [b, c] = ["b", "c"].map(PathBuf::from);
        let z = |s, dirs: &[PathBuf]| find_lib("z", s, dirs, cwd);
        assert_eq!(
            z(Search::Dynamic, std::slice::from_ref(&b)),
            [b.join("libz.so")]
        );
        assert_eq!(z(Search::Dynamic, &[c.clone(), b]), [c.join("libz.a")]);
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let search = |w: &[&str], st| Search::of(words(w).iter(), st);
        assert_eq!(search(&["-soname", "x"], false), Search::Dynamic);
        assert_eq!(search(&["-Bstatic"], false), Search::Either);
        assert_eq!(search(&[], true), Search::Either);
        let static_driver = crate::args::parse_driver_args(&words(&["-static"]), false, cwd);
        assert!(static_driver.static_link);
    }

    #[test]
    fn linker_scripts_name_files_and_libraries() {
        let d = tempfile::tempdir().unwrap();
        let cwd = d.path();
        std::fs::create_dir(cwd.join("lib")).unwrap();
        std::fs::write(cwd.join("lib/libm.a"), "!<arch>\n").unwrap();
        std::fs::write(cwd.join("libgcc_s.so.1"), "").unwrap();
        let abs = cwd.join("lib/libc.so.6");
        std::fs::write(&abs, "\x7fELF").unwrap();
        let script = format!("GROUP ( {} libgcc_s.so.1 -lm )", abs.display());
        std::fs::write(cwd.join("lib/libc.so"), script).unwrap();
        let mut out = Vec::new();
        let dirs = [PathBuf::from("lib")];
        let libs = link_lib("c", Search::Dynamic, &dirs, cwd, &mut out);
        assert_eq!(libs, [PathBuf::from("lib/libc.so")]);
        let canon = |p: &str| std::fs::canonicalize(cwd.join(p)).unwrap();
        // Canonical, as a symlinked temp dir names each file twice.
        let mut out: Vec<PathBuf> = out
            .iter()
            .map(|p| std::fs::canonicalize(p).unwrap())
            .collect();
        out.dedup();
        assert_eq!(
            out,
            [
                canon("lib/libc.so.6"),
                canon("libgcc_s.so.1"),
                canon("lib/libm.a")
            ]
        );
        // An archive is no script.
        let mut out = Vec::new();
        link_lib("m", Search::Dynamic, &dirs, cwd, &mut out);
        assert!(out.is_empty());
        // Nor is a file past the limit, even if it starts like one.
        let long = format!("GROUP ( {} ){}", abs.display(), " ".repeat(64 * 1024));
        std::fs::write(cwd.join("lib/libz.so"), long).unwrap();
        let mut out = Vec::new();
        link_lib("z", Search::Dynamic, &dirs, cwd, &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    /// glibc's and gcc's scripts open with a comment: its words are no
    /// files, even where a file of that name lies on the search path.
    #[test]
    fn a_script_s_comments_name_no_file() {
        let d = tempfile::tempdir().unwrap();
        let cwd = d.path();
        std::fs::create_dir(cwd.join("lib")).unwrap();
        std::fs::write(cwd.join("lib/libgcc_s.so.1"), "").unwrap();
        std::fs::write(cwd.join("library"), "").unwrap();
        std::fs::write(cwd.join("libnot.so"), "").unwrap();
        let script = "/* GNU ld script\n   Use the shared library, but */\n\
                      GROUP ( libgcc_s.so.1 /* libnot.so */ )/* libnot.so";
        std::fs::write(cwd.join("lib/libgcc_s.so"), script).unwrap();
        let mut out = Vec::new();
        link_lib(
            "gcc_s",
            Search::Dynamic,
            &[PathBuf::from("lib")],
            cwd,
            &mut out,
        );
        let names: Vec<_> = out.iter().map(|p| p.file_name().unwrap()).collect();
        assert_eq!(names, ["libgcc_s.so.1"], "{out:?}");
        assert_eq!(without_comments("a/**/b /* c"), "a b  ");
    }

    #[test]
    fn option_values_that_name_no_file() {
        for f in ["-soname", "-rpath", "--undefined", "-z"] {
            assert!(names_no_file(f), "{f}");
        }
        for f in ["-T", "--version-script", "-plugin", "-o"] {
            assert!(!names_no_file(f) && takes_next(f), "{f}");
        }
        assert!(!takes_next("--undefined"));
    }
}
