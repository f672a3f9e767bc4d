//! Which `export NAME=VALUE ...` a command list may hold and stay
//! memoizable: ggninja --make puts one before every recipe of a sub-make
//! (`export MAKELEVEL='2' SYSCFLAGS=... SYSLIBS=...`, as make exports them).
//! A value is part of the command's words, so of its thunk: a changed value
//! is another thunk. What the words cannot say is a file a name makes a
//! tool read, run or write (`CPATH` adds include dirs the footprint never
//! walks, `GCC_EXEC_PREFIX` other sub-programs, `DEPENDENCIES_OUTPUT`
//! another output): names the compilers, linkers, archivers, launchers and
//! the dynamic loader read (their manuals' "Environment Variables"
//! sections: GCC's, cpp's, Clang's, GNU ld's, ccache's, distcc's) keep the
//! list local. Ignores what the other names mean: no tool reads them.

use crate::LocalOnly;

/// Names read by GCC (and cpp), Clang, GNU ld/gold/lld, binutils and make
/// (LTO's jobserver), or that change which program runs.
const READ: &[&str] = &[
    "PATH",
    "TMPDIR",
    "TMP",
    "TEMP",
    "LANG",
    "LANGUAGE",
    "NLSPATH",
    "TZ",
    "TERM",
    "COLUMNS",
    "POSIXLY_CORRECT",
    "COMPILER_PATH",
    "LIBRARY_PATH",
    "CPATH",
    "C_INCLUDE_PATH",
    "CPLUS_INCLUDE_PATH",
    "OBJC_INCLUDE_PATH",
    "OBJCPLUS_INCLUDE_PATH",
    "DEPENDENCIES_OUTPUT",
    "SUNPRO_DEPENDENCIES",
    "SOURCE_DATE_EPOCH",
    "TERM_URLS",
    "GNUTARGET",
    "LDEMULATION",
    "SDKROOT",
    "MACOSX_DEPLOYMENT_TARGET",
    "IPHONEOS_DEPLOYMENT_TARGET",
    "INCLUDE",
    "LIB",
    "MAKE",
    "MAKEFLAGS",
    "MFLAGS",
    "GNUMAKEFLAGS",
    "ZERO_AR_DATE",
    "DEBUGINFOD_URLS",
];

/// Prefixes of families of such names: `GCC_EXEC_PREFIX`, `GCC_COLORS`,
/// `COLLECT_GCC_OPTIONS`, `LD_LIBRARY_PATH`, `LD_PRELOAD`, `LD_RUN_PATH`,
/// `LC_ALL`, `CCACHE_*`, `CCC_OVERRIDE_OPTIONS`, `CC_PRINT_OPTIONS`, ...
const READ_PREFIXES: &[&str] = &[
    "GCC_",
    "COLLECT_",
    "LD_",
    "LC_",
    "CCC_",
    "CC_",
    "CLANG_",
    "LLVM_",
    "LIBCLANG_",
    "LLD_",
    "CCACHE_",
    "SCCACHE_",
    "DISTCC_",
    "ICECC_",
    "BUILDCACHE_",
    "DYLD_",
    "GLIBC_",
    "MALLOC_",
];

/// For an `export` command: whether the list may hold it (None: not an
/// `export`). Every word must set a name to a value: `export NAME` (the
/// value from the environment, which no thunk holds) and options are
/// refused too.
pub(crate) fn check(words: &[String]) -> Option<Result<(), LocalOnly>> {
    let (export, names) = words.split_first()?;
    if export != "export" {
        return None;
    }
    if names.is_empty() {
        return Some(Err(LocalOnly::new("`export` without a name")));
    }
    Some(names.iter().try_for_each(|w| allowed(w)))
}

fn allowed(word: &str) -> Result<(), LocalOnly> {
    let Some((name, _value)) = word.split_once('=') else {
        return Err(LocalOnly::new(format!("`export {word}` without a value")));
    };
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(LocalOnly::new(format!("`export {word}`")));
    }
    let read = READ.contains(&name) || READ_PREFIXES.iter().any(|p| name.starts_with(p));
    match read {
        true => Err(LocalOnly::new(format!(
            "exports {name}, which the tools read"
        ))),
        false => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_str(s: &str) -> Option<Result<(), LocalOnly>> {
        let words: Vec<String> = s.split_whitespace().map(String::from).collect();
        check(&words)
    }

    #[test]
    fn a_sub_makes_variables_are_allowed() {
        let lua = "export MAKELEVEL=2 SYSCFLAGS=-DLUA_USE_LINUX SYSLIBS=-Wl,-E";
        assert_eq!(check_str(lua), Some(Ok(())));
        assert_eq!(check_str("export MAKELEVEL=3"), Some(Ok(())));
        assert_eq!(check_str("export EMPTY="), Some(Ok(())));
        assert_eq!(check_str("cc -c a.c"), None);
    }

    #[test]
    fn what_the_tools_read_stays_local() {
        for s in [
            "export CPATH=/opt/include",
            "export MAKELEVEL=2 C_INCLUDE_PATH=/x",
            "export GCC_EXEC_PREFIX=/opt/gcc/",
            "export LD_LIBRARY_PATH=/opt/lib",
            "export LD_PRELOAD=/x.so",
            "export LIBRARY_PATH=/opt/lib",
            "export PATH=/opt/bin",
            "export DEPENDENCIES_OUTPUT=a.d",
            "export SOURCE_DATE_EPOCH=0",
            "export MAKEFLAGS=-j8",
            "export LC_ALL=C",
            "export CCACHE_DIR=/tmp/c",
            "export TMPDIR=/x",
            "export COMPILER_PATH=/x",
            "export GNUTARGET=elf64-x86-64",
            "export MAKELEVEL",
            "export",
            "export -p",
            "export -n X=1",
            "export 1X=2",
        ] {
            assert!(matches!(check_str(s), Some(Err(_))), "{s} allowed");
        }
    }
}
