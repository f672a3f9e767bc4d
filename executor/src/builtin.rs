//! Shell builtins done in this process: a line of nothing but `:`, `true`
//! and `echo`, each printing or writing a file with `>`, as generated
//! build trees write depfiles and stamps (`echo $out: $in > $out.d &&
//! : > $out`). The shell would start, open and write and exit; doing
//! the same opens and writes here costs a few system calls instead of a
//! process.
//!
//! What each does, as dash and bash do it:
//! - `:` and `true` ignore their words and succeed;
//! - `echo` prints its words joined by spaces and a newline; it is taken
//!   only without a first word starting with `-` (an option to bash and
//!   dash) and, as every line `direct` lets through, without a backslash
//!   (an escape to dash);
//! - `> FILE` opens FILE for writing, created with mode 0666 less the
//!   umask or truncated, before the builtin runs; only a regular file or a
//!   missing one is opened here (a FIFO would block), and none through a
//!   `/proc/PID/fd` link (`/dev/stdout` would be ours, not the command's).
//!
//! Should anything fail (a missing directory, no permission, a full disk),
//! the line is left to the shell, which does it again from the start (each
//! step writes the same bytes again) and fails as it fails, with its
//! message and status. Ignores every other builtin.

use std::fs::File;
use std::io::Write;

use crate::steps::Step;

/// A step this module does.
pub fn is_builtin(step: &Step) -> bool {
    match step.words[..] {
        [":" | "true", ..] => true,
        ["echo"] => true,
        ["echo", first, ..] => !first.starts_with('-'),
        _ => false,
    }
}

/// A step that does nothing and succeeds: `:` or `true` with no file.
pub fn does_nothing(step: &Step) -> bool {
    matches!(step.words[..], [":" | "true", ..]) && step.to.is_none()
}

/// Does `steps` (each `is_builtin`) in order; returns what they printed,
/// or None when one failed: then the shell must run the line.
pub fn run(steps: &[Step]) -> Option<Vec<u8>> {
    let mut printed = Vec::new();
    for step in steps {
        let text = match step.words[..] {
            ["echo", ref words @ ..] => echo(words),
            _ => Vec::new(),
        };
        match step.to {
            Some(path) => write(path, &text)?,
            None => printed.extend(text),
        }
    }
    Some(printed)
}

fn echo(words: &[&str]) -> Vec<u8> {
    let mut text = words.join(" ").into_bytes();
    text.push(b'\n');
    text
}

/// `> path` and a write of `text` to it, when `path` is a regular file or
/// none.
fn write(path: &str, text: &[u8]) -> Option<()> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return None,
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return None,
        _ => {}
    }
    let mut file = create(path)?;
    file.write_all(text).ok()
}

/// Opens `path` as the shell's `>` does (`O_WRONLY|O_CREAT|O_TRUNC`, mode
/// 0666 less the umask), but through no `/proc/PID/fd` link: `/dev/stdout`
/// and `/proc/self/fd/1` (or a symlink to them) name this process's own
/// files — its log, when its output goes to one — not the command's pipe.
/// `openat2` with `RESOLVE_NO_MAGICLINKS` refuses them (Linux 5.6; where it
/// is missing, every such line is the shell's).
fn create(path: &str) -> Option<File> {
    use std::os::fd::FromRawFd;
    let path = std::ffi::CString::new(path).ok()?;
    // SAFETY: open_how is plain integers; zero is its documented default.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC) as u64;
    how.mode = 0o666;
    how.resolve = libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: a valid C string and open_how, its size given.
    let fd = unsafe {
        let size = std::mem::size_of::<libc::open_how>();
        libc::syscall(libc::SYS_openat2, libc::AT_FDCWD, path.as_ptr(), &how, size)
    };
    // SAFETY: a descriptor the kernel just gave us, owned by the File.
    (fd >= 0).then(|| unsafe { File::from_raw_fd(fd as i32) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;

    /// Whether this kernel (and its seccomp filter) lets `openat2` run:
    /// without it `create` leaves every line to the shell.
    fn openat2_here() -> bool {
        let dir = tempfile::tempdir().unwrap();
        create(dir.path().join("probe").to_str().unwrap()).is_some()
    }

    /// The line's steps when all are builtins.
    fn builtins(text: &str) -> Option<Vec<Step<'_>>> {
        crate::steps::steps(text).filter(|steps| steps.iter().all(is_builtin))
    }

    /// What the shell leaves: its output, status, and each named file's
    /// bytes and mode (None: no file).
    type Outcome = (Option<i32>, Vec<u8>, Vec<Option<(Vec<u8>, u32)>>);

    fn files(dir: &std::path::Path, names: &[&str]) -> Vec<Option<(Vec<u8>, u32)>> {
        let read = |n: &&str| {
            let path = dir.join(n);
            let mode = std::fs::metadata(&path).ok()?.permissions().mode();
            Some((std::fs::read(&path).ok()?, mode))
        };
        names.iter().map(read).collect()
    }

    fn by_shell(dir: &std::path::Path, text: &str, names: &[&str]) -> Outcome {
        let out = Command::new("/bin/sh")
            .arg("-c")
            .arg(text)
            .current_dir(dir)
            .output()
            .unwrap();
        (out.status.code(), out.stdout, files(dir, names))
    }

    /// `text` with `D/` naming a file in `dir` (the test runs every line
    /// in directories of its own, never changing the working directory).
    fn here(dir: &std::path::Path, text: &str) -> String {
        text.replace("D/", &format!("{}/", dir.display()))
    }

    #[test]
    fn builtin_lines_leave_what_the_shell_leaves() {
        if !openat2_here() {
            return; // every line is the shell's here
        }
        let names = ["f1", "f2", "d/f3"];
        for text in [
            ": cc -c a.c && echo f1: a.c b.h > D/f1 && : > D/f2",
            "echo one && echo && echo two  three >D/f1",
            "true > D/f1 && echo x > D/f1 && : > D/f2",
            "echo x -n > D/f1",
            "echo é ünï > D/d/f3",
            "echo x > D/d/f3",
        ] {
            let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            for d in [&a, &b] {
                std::fs::create_dir(d.path().join("d")).unwrap();
                std::fs::write(d.path().join("f2"), "old contents\n").unwrap();
            }
            let shell = by_shell(a.path(), &here(a.path(), text), &names);
            let ours = here(b.path(), text);
            let Some(steps) = builtins(&ours) else {
                panic!("{ours} is not builtins");
            };
            let printed = run(&steps).expect("runs");
            assert_eq!(shell, (Some(0), printed, files(b.path(), &names)), "{text}");
        }
    }

    #[test]
    fn a_target_that_cannot_be_written_here_leaves_the_line_to_the_shell() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let fifo = dir.path().join("fifo");
        // Whatever this test's stdout is (a terminal, a pipe, a log file),
        // the shell's would be the command's.
        let out = dir.path().join("out");
        std::os::unix::fs::symlink("/dev/stdout", &out).unwrap();
        assert!(Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        for text in [
            format!("echo a > {}/missing/f", dir.path().display()),
            format!("echo a > {}/sub", dir.path().display()),
            format!(": > {}", fifo.display()),
            "echo a > /dev/stdout".to_string(),
            "echo a > /proc/self/fd/1".to_string(),
            format!("echo a > {}", out.display()),
        ] {
            let Some(steps) = builtins(&text) else {
                panic!("{text} is not builtins");
            };
            assert_eq!(run(&steps), None, "{text}");
        }
    }

    /// Random lines over words the shell treats each its own way: every
    /// one `line` takes as builtins does here what `/bin/sh -c` does (a
    /// differential fuzz of the lexer and of `run`; the seed is fixed, so a
    /// failure repeats).
    #[test]
    fn random_lines_of_builtins_agree_with_the_shell() {
        if !openat2_here() {
            return; // every line is the shell's here
        }
        const PLAIN: &[&str] = &[
            ":", "true", "echo", "-n", "-e", "a", "b=c", "x.o:", "&&", ">", ">D/f1", "D/f1",
            "D/f2", "D/d/f3", "D/no/f4", "é", "--", "@x%y+z,w",
        ];
        const ODD: &[&str] = &[">>", "'q'", "a\\tb", "$X", "*", ";", "|", "2>", "&", "cd"];
        /// xorshift64: the same lines every run.
        struct Rng(u64);
        impl Rng {
            fn below(&mut self, n: usize) -> usize {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                (self.0 % n as u64) as usize
            }
            fn word(&mut self) -> &'static str {
                match self.below(8) {
                    0 => ODD[self.below(ODD.len())],
                    _ => PLAIN[self.below(PLAIN.len())],
                }
            }
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let names = ["f1", "f2", "d/f3", "no/f4"];
        let mut taken = 0;
        for _ in 0..600 {
            // Steps mostly starting with a builtin, then any words.
            let mut text: Vec<&str> = Vec::new();
            for step in 0..1 + rng.below(3) {
                if step > 0 {
                    let and = rng.below(6) > 0;
                    text.push(if and { "&&" } else { rng.word() });
                }
                let first = [":", "true", "echo", rng.word()][rng.below(4)];
                text.push(first);
                for _ in 0..rng.below(4) {
                    text.push(rng.word());
                }
            }
            let text = text.join(" ");
            let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            for d in [&a, &b] {
                std::fs::create_dir(d.path().join("d")).unwrap();
                std::fs::write(d.path().join("f2"), "old\n").unwrap();
            }
            let ours = here(b.path(), &text);
            let Some(steps) = builtins(&ours) else {
                continue;
            };
            // Only files in the test's directories: `run` writes a relative
            // one where the test runs.
            if steps
                .iter()
                .any(|s| s.to.is_some_and(|t| !t.starts_with('/')))
            {
                continue;
            }
            let Some(printed) = run(&steps) else {
                continue; // the shell's to run
            };
            taken += 1;
            // Where a path was printed, each side printed its own.
            let unhere = |dir: &tempfile::TempDir, (code, out, files): Outcome| {
                let dir = dir.path().as_os_str().as_encoded_bytes();
                let unhere = |b: &[u8]| {
                    let text = String::from_utf8_lossy(b);
                    text.replace(&*String::from_utf8_lossy(dir), "D")
                };
                let files: Vec<_> = (files.iter())
                    .map(|f| f.as_ref().map(|(b, mode)| (unhere(b), *mode)))
                    .collect();
                (code, unhere(&out), files)
            };
            let shell = by_shell(a.path(), &here(a.path(), &text), &names);
            let ours = (Some(0), printed, files(b.path(), &names));
            assert_eq!(unhere(&a, shell), unhere(&b, ours), "{text}");
        }
        assert!(taken > 100, "only {taken} lines were builtins");
    }
}
