//! Running a thunk's command in its job: argv with the thunk roots mapped to
//! the laid-out dirs (whole-prefix replace, as `Roots::unrewrite` does),
//! `-ffile-prefix-map` back to the real roots for gcc/clang drivers, cwd the
//! laid-out build dir, exactly the thunk's environment, stdin `/dev/null`,
//! stdout and stderr captured together up to a limit. Ignores inputs and
//! outputs.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use ggninja_thunk::Thunk;

use super::layout::Job;
use crate::protocol::{RealRoots, TRUNCATION_NOTE};

/// The program, its argv (argv[0] as the thunk has it) and cwd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub program: PathBuf,
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
}

/// Whether the program is a gcc/clang driver (by the basename of argv[0]
/// or of the program path).
pub fn is_compiler(thunk: &Thunk) -> bool {
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let names = [
        thunk.function.argv.first().map(|a| base(a)),
        Some(base(&thunk.function.exe)),
    ];
    names
        .iter()
        .flatten()
        .any(|n| ggninja_footprint::is_compiler_name(n))
}

/// The command to run for `thunk` in `job`.
pub fn invocation(
    thunk: &Thunk,
    job: &Job,
    program: &Path,
    real: Option<&RealRoots>,
) -> Invocation {
    let f = &thunk.function;
    let mut argv: Vec<String> = f.argv.iter().map(|a| job.roots.unrewrite(a)).collect();
    if let (Some(real), true) = (real, is_compiler(thunk)) {
        let mut maps = vec![format!(
            "-ffile-prefix-map={}={}",
            job.build.display(),
            real.build
        )];
        if let Some(src) = &real.source {
            maps.push(format!("-ffile-prefix-map={}={src}", job.src.display()));
        }
        let at = argv.len().min(1);
        argv.splice(at..at, maps);
    }
    Invocation {
        program: program.to_path_buf(),
        argv,
        cwd: job.build.clone(),
        env: f.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    }
}

/// How the command ended, what it printed, how long it took.
#[derive(Debug)]
pub struct Ran {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub log: Vec<u8>,
    pub truncated: bool,
    pub ms: u64,
}

/// Runs it to the end (blocking). stdout and stderr share one pipe, so the
/// log interleaves them as a terminal would; past `log_limit` bytes the
/// rest is read and dropped, and the note appended.
pub fn run(inv: &Invocation, log_limit: usize) -> std::io::Result<Ran> {
    let start = Instant::now();
    let (mut reader, writer) = std::io::pipe()?;
    let mut cmd = Command::new(&inv.program);
    if let Some(arg0) = inv.argv.first() {
        cmd.arg0(arg0);
    }
    cmd.args(inv.argv.iter().skip(1))
        .current_dir(&inv.cwd)
        .env_clear()
        .envs(inv.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer);
    let mut child = cmd.spawn()?;
    // The parent's copies of the write end are gone with `cmd`.
    drop(cmd);
    let mut log = Vec::new();
    let mut truncated = false;
    let mut buf = [0u8; 16 << 10];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let room = log_limit.saturating_sub(log.len());
        if n > room {
            truncated = true;
        }
        log.extend_from_slice(&buf[..n.min(room)]);
    }
    let status = child.wait()?;
    if truncated {
        log.extend_from_slice(TRUNCATION_NOTE.as_bytes());
    }
    Ok(Ran {
        exit_code: status.code(),
        signal: status.signal(),
        log,
        truncated,
        ms: start.elapsed().as_millis() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ggninja_thunk::Function;

    fn thunk(exe: &str, argv: &[&str]) -> Thunk {
        Thunk {
            function: Function {
                exe: exe.into(),
                exe_hash: String::new(),
                argv: argv.iter().map(|s| s.to_string()).collect(),
                env: [("LANG".to_string(), "C".to_string())].into(),
            },
            inputs: vec![],
            outputs: vec![],
        }
    }

    #[test]
    fn compiles_get_prefix_maps_and_roots_are_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let job = Job::create(dir.path(), 1).unwrap();
        let t = thunk(
            "/usr/bin/x86_64-linux-gnu-gcc-12",
            &[
                "cc",
                "-I/ggroot/src/inc",
                "-c",
                "/ggroot/src/a.c",
                "-o",
                "a.o",
            ],
        );
        let real = RealRoots {
            build: "/home/u/b".into(),
            source: Some("/home/u/s".into()),
        };
        let inv = invocation(&t, &job, Path::new("/usr/bin/cc"), Some(&real));
        let b = job.build.display();
        let s = job.src.display();
        assert_eq!(
            inv.argv,
            vec![
                "cc".to_string(),
                format!("-ffile-prefix-map={b}=/home/u/b"),
                format!("-ffile-prefix-map={s}=/home/u/s"),
                format!("-I{s}/inc"),
                "-c".into(),
                format!("{s}/a.c"),
                "-o".into(),
                "a.o".into()
            ]
        );
        assert_eq!(inv.cwd, job.build);
        let cp = thunk("/usr/bin/cp", &["cp", "/ggroot/build/a", "b"]);
        let inv = invocation(&cp, &job, Path::new("/usr/bin/cp"), Some(&real));
        assert_eq!(
            inv.argv,
            vec!["cp".to_string(), format!("{b}/a"), "b".into()]
        );
    }

    #[test]
    fn the_log_is_cut_at_the_limit_and_the_env_is_exactly_the_thunks() {
        let dir = tempfile::tempdir().unwrap();
        let inv = Invocation {
            program: "/bin/sh".into(),
            argv: vec![
                "sh".into(),
                "-c".into(),
                "echo \"$LANG:$HOME\"; echo err >&2; head -c 100000 /dev/zero; exit 3".into(),
            ],
            cwd: dir.path().to_path_buf(),
            env: vec![("LANG".into(), "C".into())],
        };
        let ran = run(&inv, 1000).unwrap();
        assert_eq!(ran.exit_code, Some(3));
        assert!(ran.truncated);
        assert!(ran.log.starts_with(b"C:\nerr\n"), "{:?}", &ran.log[..10]);
        assert_eq!(ran.log.len(), 1000 + TRUNCATION_NOTE.len());
    }
}
