//! Which program a command runs and what kind of step it is, from its words
//! alone: compiler, `ar`, `ld` and `ranlib` names, launchers such as
//! `ccache`, the flags that make outputs record the working directory, and
//! the commands an `A && B` list may hold besides build steps. Unaware of
//! the disk, `$PATH` and the toolchain.

use crate::LocalOnly;

/// Programs that run the compiler named after them.
const LAUNCHERS: &[&str] = &["ccache", "sccache", "distcc", "icecc", "buildcache"];

/// What a program name says the program is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tool {
    /// A GCC/Clang driver ([`is_compiler_name`]).
    Driver,
    Ar,
    Ld,
    Ranlib,
    Other,
}

/// The last component of a program as written.
pub(crate) fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// The tool `name` (a basename) is.
pub(crate) fn tool(name: &str) -> Tool {
    if is_compiler_name(name) {
        Tool::Driver
    } else if is_ar_name(name) {
        Tool::Ar
    } else if is_ld_name(name) {
        Tool::Ld
    } else if name == "ranlib" || name.ends_with("-ranlib") {
        Tool::Ranlib
    } else {
        Tool::Other
    }
}

/// `argv` without its launchers (`ccache distcc gcc ...` runs `gcc ...`);
/// a launcher given options or nothing to run is refused.
pub(crate) fn without_launchers(argv: &[String]) -> Result<&[String], LocalOnly> {
    let is_launcher = |w: &String| LAUNCHERS.contains(&basename(w));
    let mut skip = 0;
    while skip + 1 < argv.len() && is_launcher(&argv[skip]) && !argv[skip + 1].starts_with('-') {
        skip += 1;
    }
    let words = &argv[skip..];
    if is_launcher(&words[0]) {
        let msg = format!("launcher `{}` without a compiler", words[0]);
        return Err(LocalOnly::new(msg));
    }
    Ok(words)
}

/// Whether a program name is a GCC/Clang driver: `gcc`, `g++`, `cc`, `c++`,
/// `clang`, `clang++`, optionally with a `target-` prefix and `-version`
/// suffix (`x86_64-linux-gnu-gcc-12`, `clang++-16`).
pub fn is_compiler_name(name: &str) -> bool {
    let mut n = name;
    // strip a version suffix: -12, -12.2, 12 (gcc12 is unusual: only dashed)
    if let Some(dash) = n.rfind('-') {
        let suffix = &n[dash + 1..];
        if !suffix.is_empty() && suffix.chars().all(|c| c.is_ascii_digit() || c == '.') {
            n = &n[..dash];
        }
    }
    ["gcc", "g++", "cc", "c++", "clang", "clang++"]
        .iter()
        .any(|c| n == *c || (n.ends_with(c) && n[..n.len() - c.len()].ends_with('-')))
}

fn is_ar_name(name: &str) -> bool {
    matches!(name, "ar" | "gcc-ar" | "llvm-ar")
        || name.ends_with("-ar")
        || name.starts_with("gcc-ar-")
        || name.starts_with("llvm-ar-")
}

fn is_ld_name(name: &str) -> bool {
    matches!(
        name,
        "ld" | "ld.bfd" | "ld.gold" | "ld.lld" | "lld" | "mold" | "ld.mold"
    ) || name.ends_with("-ld")
        || name.ends_with("-ld.bfd")
        || name.ends_with("-ld.gold")
}

/// Compiler flags whose output records the working directory: debug info
/// (`DW_AT_comp_dir`) and coverage or profile data (absolute `.gcda` paths).
pub(crate) fn records_cwd(arg: &str) -> bool {
    (arg.starts_with("-g") && arg != "-g0")
        || arg == "--coverage"
        || arg == "-fprofile-arcs"
        || arg == "-ftest-coverage"
        || arg.starts_with("-fprofile-generate")
}

/// The extension of the file a compile flag writes beside the object,
/// which GCC and Clang both name as the object with its last extension
/// replaced (`obj/a.c.o` -> `obj/a.c.gcno`): coverage notes, split DWARF.
pub(crate) fn beside_object(arg: &str) -> Option<&'static str> {
    match arg {
        "--coverage" | "-ftest-coverage" => Some("gcno"),
        "-gsplit-dwarf" | "-gsplit-dwarf=split" => Some("dwo"),
        _ => None,
    }
}

/// Compiler flags that make the driver write files besides its output and
/// depfile, named from the output (`.gcno` of coverage, `.dwo` of split
/// DWARF, `-save-temps`' `.i` and `.s`, stack usage, dumps, clang's `-MJ`
/// and time traces): a hit restores only the edge's outputs, so such a
/// compile runs (coverage reports and split debug info need those files)
/// unless the files are named (`beside_object`).
pub(crate) fn writes_beside_output(arg: &str) -> bool {
    const PREFIXES: [&str; 9] = [
        "-save-temps",
        "-fstack-usage",
        "-fcallgraph-info",
        "-fdump-",
        "-ftime-trace",
        "-fsave-optimization-record",
        "-fprofile-note=",
        "-fopt-info",
        "-gsplit-dwarf",
    ];
    match arg {
        "--coverage" | "-ftest-coverage" | "-MJ" | "-aux-info" => true,
        "-gsplit-dwarf=single" => false,
        _ if arg.starts_with("-fopt-info") => arg.contains('='),
        _ => PREFIXES.iter().any(|p| arg.starts_with(p)),
    }
}

/// Whether a list's command does nothing: CMake writes links as
/// `: && CMD && :`.
pub(crate) fn is_noop(words: &[String]) -> bool {
    matches!(words, [w] if w == ":" || w == "true")
}

/// The directory of `cd DIR` (not `cd -` or `cd -P DIR`).
pub(crate) fn cd_target(words: &[String]) -> Option<&str> {
    match words {
        [cd, to] if cd == "cd" && !to.starts_with('-') => Some(to),
        _ => None,
    }
}

/// The files `rm [-f] [-r] FILE...` or `cmake -E rm|remove [-f] FILE...`
/// removes, or None for any other command.
pub(crate) fn removed_files(words: &[String]) -> Option<Vec<String>> {
    let args = match words {
        [rm, args @ ..] if basename(rm) == "rm" => args,
        [cmake, e, op, args @ ..]
            if basename(cmake) == "cmake" && e == "-E" && (op == "rm" || op == "remove") =>
        {
            args
        }
        _ => return None,
    };
    let files = args.iter().filter(|a| !a.starts_with('-'));
    Some(files.cloned().collect())
}

/// Whether the `rm` of [`removed_files`] removes whole trees (`-r`, `-R`,
/// `--recursive`, `-rf`).
pub(crate) fn removes_trees(words: &[String]) -> bool {
    words.iter().skip(1).any(|a| match a.strip_prefix("--") {
        Some(long) => long == "recursive",
        None => a.starts_with('-') && a.contains(['r', 'R']),
    })
}

/// `cmake -E` commands that only read and write the files their arguments
/// name (not `env`, `chdir` or `time`, which run another program, nor
/// `copy_directory`, which reads a whole tree).
pub(crate) fn is_cmake_file_tool(words: &[String]) -> bool {
    const TOOLS: &[&str] = &[
        "cat",
        "compare_files",
        "copy",
        "copy_if_different",
        "create_hardlink",
        "create_symlink",
        "cmake_symlink_executable",
        "cmake_symlink_library",
        "echo",
        "echo_append",
        "false",
        "make_directory",
        "md5sum",
        "remove",
        "remove_directory",
        "rename",
        "rm",
        "sha1sum",
        "sha256sum",
        "sha512sum",
        "touch",
        "touch_nocreate",
        "true",
    ];
    match words {
        [cmake, e, tool, ..] => {
            basename(cmake) == "cmake" && e == "-E" && TOOLS.contains(&tool.as_str())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn names_to_tools() {
        assert_eq!(tool("x86_64-linux-gnu-g++-12"), Tool::Driver);
        assert_eq!(tool("llvm-ar-16"), Tool::Ar);
        assert_eq!(tool("aarch64-linux-gnu-ar"), Tool::Ar);
        assert_eq!(tool("ld.lld"), Tool::Ld);
        assert_eq!(tool("arm-none-eabi-ld.bfd"), Tool::Ld);
        assert_eq!(tool("llvm-ranlib"), Tool::Ranlib);
        assert_eq!(tool("python3"), Tool::Other);
        assert_eq!(tool("gccgo"), Tool::Other);
    }

    #[test]
    fn launchers_are_unwrapped_but_not_alone() {
        let argv = w("/usr/bin/ccache distcc gcc -c a.c");
        assert_eq!(without_launchers(&argv).unwrap(), &argv[2..]);
        assert!(without_launchers(&w("ccache")).is_err());
        assert!(without_launchers(&w("ccache -s")).is_err());
    }

    #[test]
    fn cwd_recording_flags() {
        for f in ["-g", "-ggdb3", "--coverage", "-fprofile-generate=dir"] {
            assert!(records_cwd(f), "{f}");
        }
        for f in ["-g0", "-O2", "-fprofile-use"] {
            assert!(!records_cwd(f), "{f}");
        }
    }

    #[test]
    fn flags_that_write_beside_the_output() {
        let writing = [
            "--coverage",
            "-ftest-coverage",
            "-gsplit-dwarf",
            "-save-temps=obj",
            "-fstack-usage",
            "-fdump-tree-all",
            "-MJ",
            "-ftime-trace",
            "-fopt-info-vec=vec.txt",
        ];
        for f in writing {
            assert!(writes_beside_output(f), "{f}");
        }
        for f in [
            "-g",
            "-gsplit-dwarf=single",
            "-fopt-info",
            "-fprofile-arcs",
            "-MD",
            "-o",
        ] {
            assert!(!writes_beside_output(f), "{f}");
        }
    }

    #[test]
    fn list_commands() {
        assert!(is_noop(&w(":")) && !is_noop(&w(": x")));
        assert_eq!(cd_target(&w("cd sub")), Some("sub"));
        assert_eq!(cd_target(&w("cd -P sub")), None);
        let rm = removed_files(&w("/bin/rm -f a.o b.o"));
        assert_eq!(rm, Some(w("a.o b.o")));
        assert!(removes_trees(&w("rm -rf d")) && removes_trees(&w("rm --recursive d")));
        assert!(!removes_trees(&w("rm --force f")) && !removes_trees(&w("rm -f r")));
        assert_eq!(removed_files(&w("cmake -E remove -f x")), Some(w("x")));
        assert_eq!(removed_files(&w("cmake -E touch x")), None);
        assert!(is_cmake_file_tool(&w("/usr/bin/cmake -E copy a b")));
        assert!(!is_cmake_file_tool(&w("cmake -E env X=1 cc")));
        assert!(!is_cmake_file_tool(&w("python3 -E copy")));
    }
}
