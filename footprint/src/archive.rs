//! `ar` and `ranlib`: which archive a command reads and writes and which
//! members it adds or extracts. Unaware of the toolchain (the caller adds
//! the program's files) and of what the members hold.

use crate::{Footprint, Kind, LocalOnly};
use std::path::{Path, PathBuf};

/// `ar ARGS`, in POSIX and GNU forms (`ar rcs lib.a a.o`, `ar -r -c ...`,
/// modifiers after the operation, `--plugin` and other long options).
pub(crate) fn ar(fp: &mut Footprint, args: &[String], cwd: &Path) -> Result<(), LocalOnly> {
    fp.kind = Kind::Archive;
    let (ops, rest) = split_ops(args);
    let ops = ops.ok_or_else(|| LocalOnly::new("ar without an operation"))?;
    let mut rest = rest.into_iter();
    if ops.contains(['a', 'b', 'i']) {
        rest.next(); // relpos member name
    }
    if ops.contains('N') {
        rest.next(); // count
    }
    let archive = rest
        .next()
        .ok_or_else(|| LocalOnly::new("ar without an archive"))?;
    let members: Vec<String> = rest.collect();
    let op = ops.chars().find(|c| "dmpqrstx".contains(*c)).unwrap_or('r');
    match op {
        'x' => {
            if members.is_empty() {
                return Err(LocalOnly::new("ar x extracts members not known in advance"));
            }
            fp.sources.push(archive.into());
            fp.outputs.extend(members.into_iter().map(PathBuf::from));
        }
        't' | 'p' => fp.sources.push(archive.into()),
        _ => {
            // r/q/d/m/s update an existing archive in place.
            if cwd.join(&archive).exists() {
                fp.sources.push(PathBuf::from(&archive));
            }
            fp.sources.extend(members.into_iter().map(PathBuf::from));
            fp.outputs.push(archive.into());
        }
    }
    Ok(())
}

/// `ar`'s operation and modifiers (without dashes), and the operands.
fn split_ops(args: &[String]) -> (Option<String>, Vec<String>) {
    let mut i = 0;
    let mut ops: Option<String> = None;
    let mut rest = Vec::new();
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--plugin" || a == "--target" || a == "--output" {
            i += 1;
        } else if a.starts_with("--") || (a.starts_with("-X") && ops.is_none()) {
        } else if let (Some(o), Some(modifiers)) = (&mut ops, a.strip_prefix('-')) {
            // Modifiers after the operation (`ar rcsD -T lib.a ...`).
            o.push_str(modifiers);
        } else if ops.is_none() {
            ops = Some(a.trim_start_matches('-').to_string());
        } else {
            rest.push(a.clone());
        }
    }
    (ops, rest)
}

/// `ranlib ARCHIVE...`: `ar s`, which indexes the archives in place.
pub(crate) fn ranlib(fp: &mut Footprint, args: &[String]) {
    fp.kind = Kind::Archive;
    let archives = args.iter().filter(|a| !a.starts_with('-'));
    fp.sources.extend(archives.map(PathBuf::from));
    fp.outputs = fp.sources.clone();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn operation_modifiers_and_operands() {
        let (ops, rest) = split_ops(&w("--plugin p.so rcs -D lib.a a.o"));
        assert_eq!(ops.as_deref(), Some("rcsD"));
        assert_eq!(rest, w("lib.a a.o"));
        let (ops, rest) = split_ops(&w("-X64 -q lib.a"));
        assert_eq!(ops.as_deref(), Some("q"));
        assert_eq!(rest, w("lib.a"));
        assert_eq!(split_ops(&w("--version")).0, None);
    }
}
