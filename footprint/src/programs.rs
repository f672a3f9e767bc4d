//! Running helper programs and finding files on disk.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs `prog args` in `cwd` with stdin closed; returns (success, stdout, stderr).
pub(crate) fn run(
    prog: &Path,
    args: &[String],
    cwd: &Path,
) -> Result<(bool, String, String), String> {
    let out = Command::new(prog)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", prog.display()))?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Resolves a program name as `sh` would: a name with a slash is taken
/// relative to `cwd`, anything else is looked up on `$PATH`.
pub(crate) fn resolve_program(name: &str, cwd: &Path) -> Option<PathBuf> {
    if name.contains('/') {
        let p = cwd.join(name);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let p = cwd.join(dir).join(name);
        if is_executable(&p) {
            return Some(p);
        }
    }
    None
}

/// The shared libraries `prog` loads, from `ldd` (absolute paths).
pub(crate) fn ldd(prog: &Path) -> Vec<PathBuf> {
    let Ok((_, out, _)) = run(
        Path::new("ldd"),
        &[prog.to_string_lossy().into_owned()],
        Path::new("/"),
    ) else {
        return Vec::new();
    };
    let mut libs = Vec::new();
    for line in out.lines() {
        for tok in line.split_whitespace() {
            if tok.starts_with('/') {
                libs.push(PathBuf::from(tok));
            }
        }
    }
    libs
}

/// `p`, every link in its symlink chain, and its canonical path.
pub(crate) fn with_canonical(p: &Path, out: &mut Vec<PathBuf>) {
    out.push(p.to_path_buf());
    let mut cur = p.to_path_buf();
    for _ in 0..16 {
        match std::fs::read_link(&cur) {
            Ok(t) => {
                cur = cur.parent().unwrap_or(Path::new("/")).join(t);
                out.push(cur.clone());
            }
            Err(_) => break,
        }
    }
    if let Ok(c) = std::fs::canonicalize(p) {
        if c != p {
            out.push(c);
        }
    }
}

/// The interpreter named by a `#!` line, if `prog` is a script.
pub(crate) fn shebang(prog: &Path) -> Option<PathBuf> {
    use std::io::Read;
    let mut f = std::fs::File::open(prog).ok()?;
    let mut buf = [0u8; 256];
    let n = f.read(&mut buf).ok()?;
    let head = &buf[..n];
    if !head.starts_with(b"#!") {
        return None;
    }
    let line = head[2..].split(|&c| c == b'\n').next()?;
    let line = String::from_utf8_lossy(line);
    let interp = line.split_whitespace().next()?;
    Some(PathBuf::from(interp))
}
