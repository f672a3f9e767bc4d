//! A copy-on-write file system for a test: an XFS image (with reflinks) on
//! a loop device, mounted in the test's own temporary directory and
//! unmounted when dropped, which detaches the loop device too. Needs mkfs.xfs
//! (xfsprogs, which scripts/install-deps.sh installs): outside CI a test
//! without it is skipped, in CI it fails, as does a mount that fails. What
//! no script installs skips the test anywhere, saying so: loop devices (a
//! container may have none) and root or sudo without a password.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{in_ci, text};

pub struct CowDir {
    mnt: PathBuf,
    sudo: bool,
    mounted: bool,
    _tmp: tempfile::TempDir,
}

impl CowDir {
    pub fn new() -> Option<CowDir> {
        if let Err(why) = machine_can() {
            eprintln!("skipping: no copy-on-write file system for the test: {why}");
            return None;
        }
        let tmp = tempfile::tempdir().unwrap();
        let (image, mnt) = (tmp.path().join("xfs.img"), tmp.path().join("mnt"));
        std::fs::create_dir(&mnt).unwrap();
        // XFS's least size; sparse, so it takes what is written.
        std::fs::File::create(&image)
            .and_then(|f| f.set_len(300 << 20))
            .unwrap();
        let sudo = !is_root();
        let mut dir = CowDir {
            mnt,
            sudo,
            mounted: false,
            _tmp: tmp,
        };
        let uid_gid = format!("{}:{}", id("-u"), id("-g"));
        let (img, at) = (image.to_str().unwrap(), dir.mnt.to_str().unwrap());
        let steps: [&[&str]; 3] = [
            &["mkfs.xfs", "-q", "-m", "reflink=1", img],
            &["mount", "-o", "loop", img, at],
            &["chown", &uid_gid, at],
        ];
        for step in steps {
            if let Err(why) = dir.privileged(step) {
                let msg = format!("no copy-on-write file system for the test: {why}");
                assert!(!in_ci(), "{msg}");
                eprintln!("skipping: {msg}");
                return None;
            }
            dir.mounted |= step[0] == "mount";
        }
        Some(dir)
    }

    pub fn path(&self) -> &Path {
        &self.mnt
    }

    fn privileged(&self, argv: &[&str]) -> Result<(), String> {
        let mut cmd = match self.sudo {
            true => Command::new("sudo"),
            false => Command::new(argv[0]),
        };
        match self.sudo {
            true => cmd.arg("-n").args(argv),
            false => cmd.args(&argv[1..]),
        };
        match cmd.output() {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(format!("{}: {}", argv.join(" "), text(&out))),
            Err(e) => Err(format!("{}: {e}", argv[0])),
        }
    }
}

impl Drop for CowDir {
    fn drop(&mut self) {
        // A mount left behind would keep its loop device and image busy;
        // one still in use goes once nothing uses it (`-l`).
        let at = self.mnt.to_str().unwrap();
        if self.mounted && self.privileged(&["umount", at]).is_err() {
            if let Err(why) = self.privileged(&["umount", "-l", at]) {
                eprintln!("unmounting the test's file system: {why}");
            }
        }
    }
}

/// Whether every extent of the file at `path` is shared with another file
/// (filefrag's `shared` flag): what a clone made and nothing wrote over.
pub fn shares_blocks(path: &Path) -> bool {
    let out = Command::new("filefrag")
        .arg("-v")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    let extents: Vec<&str> = listing
        .lines()
        .filter(|l| l.trim_start().split(':').next().is_some_and(is_number))
        .collect();
    !extents.is_empty() && extents.iter().all(|l| l.contains("shared"))
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether the machine offers what no install script gives: loop devices
/// and the right to mount (root, or sudo without a password).
fn machine_can() -> Result<(), String> {
    if !Path::new("/dev/loop-control").exists() {
        return Err("no loop devices (/dev/loop-control)".into());
    }
    let sudo = || Command::new("sudo").args(["-n", "true"]).output();
    match is_root() || sudo().is_ok_and(|out| out.status.success()) {
        true => Ok(()),
        false => Err("not root, and no sudo without a password".into()),
    }
}

fn is_root() -> bool {
    id("-u") == "0"
}

fn id(flag: &str) -> String {
    let out = Command::new("id").arg(flag).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
