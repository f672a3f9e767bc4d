//! The watched tree against the real kernel: what each change on disk
//! becomes in the journal, synced as the daemon syncs (a cookie made in
//! its directory, events read until it shows).

use std::fs;
use std::path::Path;

use ggninja_watch::journal::Journal;
use ggninja_watch::tree::{Tree, COOKIE_PREFIX};
use ggninja_watch::{Change, Changes, Stamp};
use inotify::Inotify;

struct Watched {
    inotify: Inotify,
    tree: Tree,
    journal: Journal,
    /// The daemon's directory, where cookies are made.
    home: String,
    cookies: u64,
}

impl Watched {
    fn new(home: &Path) -> Watched {
        let inotify = Inotify::init().unwrap();
        let home = home.to_str().unwrap().to_string();
        let tree = Tree::new(inotify.watches(), &home).unwrap();
        Watched {
            inotify,
            tree,
            journal: Journal::new(1),
            home,
            cookies: 0,
        }
    }

    /// Every event before now applied.
    fn settle(&mut self) {
        self.cookies += 1;
        let cookie = Path::new(&self.home).join(format!("{COOKIE_PREFIX}{}", self.cookies));
        fs::write(&cookie, "").unwrap();
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let events = self.inotify.read_events_blocking(&mut buffer).unwrap();
            let mut seen = false;
            for ev in events {
                let wd = ev.wd.get_watch_descriptor_id();
                let n = self.tree.event(wd, ev.mask, ev.name, &mut self.journal);
                seen |= n == Some(self.cookies);
            }
            if seen {
                break;
            }
        }
        fs::remove_file(cookie).unwrap();
    }

    fn register(&mut self, dirs: &[&Path]) {
        let dirs: Vec<String> = dirs.iter().map(|d| d.to_str().unwrap().into()).collect();
        self.tree.register(&dirs);
    }

    fn now(&mut self) -> Stamp {
        self.settle();
        self.journal.now()
    }

    fn since(&mut self, stamp: Stamp) -> Vec<Change> {
        self.settle();
        match self.journal.since(Some(stamp)) {
            Changes::Some(c) => c,
            Changes::All => panic!("all"),
        }
    }
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

fn layout() -> (tempfile::TempDir, Watched) {
    let dir = tempfile::tempdir().unwrap();
    for d in ["build", "src/deep"] {
        fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    let w = Watched::new(&dir.path().join("build"));
    (dir, w)
}

#[test]
fn a_write_in_a_listed_directory_is_that_file_and_noise_on_the_way_is_not() {
    let (dir, mut w) = layout();
    let src = dir.path().join("src");
    w.register(&[&src]);
    let stamp = w.now();
    fs::write(src.join("a.c"), "a").unwrap();
    fs::write(dir.path().join("unrelated"), "x").unwrap();
    let changes = w.since(stamp);
    assert_eq!(changes, vec![Change::File(s(&src.join("a.c")))]);
}

#[test]
fn a_directory_made_anew_is_watched_again() {
    let (dir, mut w) = layout();
    let (src, deep) = (dir.path().join("src"), dir.path().join("src/deep"));
    w.register(&[&deep]);
    let before = w.now();
    fs::remove_dir_all(&src).unwrap();
    w.settle();
    fs::create_dir_all(&deep).unwrap();
    let made = w.now();
    assert!(w.since(before).contains(&Change::Under(s(&src))));
    fs::write(deep.join("x.h"), "x").unwrap();
    assert!(w.since(made).contains(&Change::File(s(&deep.join("x.h")))));
}

#[test]
fn symlinks_and_unlisted_directories_are_always_and_a_symlink_on_the_way_is_unwatched() {
    let (dir, mut w) = layout();
    let src = dir.path().join("src");
    std::os::unix::fs::symlink("deep", src.join("link")).unwrap();
    w.register(&[&src]);
    let always = w.tree.always();
    assert!(
        always.contains(&Change::File(s(&src.join("link")))),
        "{always:?}"
    );
    assert!(
        always.contains(&Change::File(s(&src.join("deep")))),
        "{always:?}"
    );
    w.register(&[&src.join("deep"), &src.join("link/sub")]);
    let always = w.tree.always();
    assert!(
        !always.contains(&Change::File(s(&src.join("deep")))),
        "{always:?}"
    );
    assert!(
        always.contains(&Change::Under(s(&src.join("link")))),
        "{always:?}"
    );
    // A symlink made later is always from then on; removed, no longer.
    std::os::unix::fs::symlink("deep", src.join("later")).unwrap();
    w.settle();
    assert!(w
        .tree
        .always()
        .contains(&Change::File(s(&src.join("later")))));
    fs::remove_file(src.join("later")).unwrap();
    w.settle();
    assert!(!w
        .tree
        .always()
        .contains(&Change::File(s(&src.join("later")))));
}
