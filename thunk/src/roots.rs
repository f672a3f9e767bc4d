//! Roots: where the build and source trees appear inside every thunk
//! (`/ggroot/build`, `/ggroot/src`) whatever their real location, so
//! identical edges hash alike on any machine; and the mapping back to real
//! paths. Unaware of graphs and thunks.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Where the build and source trees appear inside every thunk, whatever
/// their real location, so identical edges hash alike on any machine.
pub const BUILD_ROOT: &str = "/ggroot/build";
pub const SOURCE_ROOT: &str = "/ggroot/src";
/// What both roots start with: `unrewrite` looks for it once.
const CANONICAL: &str = "/ggroot/";

/// Maps real paths to the thunk's view and back.
#[derive(Debug, Clone)]
pub struct Roots {
    /// Absolute build directory (where build.ninja is).
    pub build: PathBuf,
    /// Absolute source directory, when known.
    pub source: Option<PathBuf>,
    /// The real roots with their thunk-visible names, the longer first
    /// (one may contain the other). Every argv word is searched for them.
    prefixes: Vec<Prefix>,
}

#[derive(Debug, Clone)]
struct Prefix {
    real: String,
    finder: memchr::memmem::Finder<'static>,
    virt: &'static str,
}

impl Prefix {
    fn new(real: &Path, virt: &'static str) -> Prefix {
        let real = real.display().to_string();
        Prefix {
            finder: memchr::memmem::Finder::new(real.as_bytes()).into_owned(),
            real,
            virt,
        }
    }

    /// Where `real` starts as a whole path prefix in `text` (followed by
    /// `/`, a separator or the end), not inside a longer name.
    fn find_whole(&self, text: &str) -> Option<usize> {
        let mut from = 0;
        while let Some(i) = self.finder.find(&text.as_bytes()[from..]) {
            let at = from + i;
            let after = &text[at + self.real.len()..];
            if after.is_empty() || after.starts_with(['/', ' ', '\'', '"', ':', ';', '=']) {
                return Some(at);
            }
            from = at + 1;
        }
        None
    }

    /// `text` with every whole occurrence of the real root replaced, or
    /// None when there is none.
    fn replace(&self, text: &str) -> Option<String> {
        let mut at = self.find_whole(text)?;
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        loop {
            out.push_str(&rest[..at]);
            out.push_str(self.virt);
            rest = &rest[at + self.real.len()..];
            match self.find_whole(rest) {
                Some(i) => at = i,
                None => break,
            }
        }
        out.push_str(rest);
        Some(out)
    }
}

impl Roots {
    pub fn new(build: PathBuf, source: Option<PathBuf>) -> Roots {
        let mut prefixes = vec![Prefix::new(&build, BUILD_ROOT)];
        prefixes.extend(source.as_deref().map(|s| Prefix::new(s, SOURCE_ROOT)));
        // A root of "/" would rewrite every absolute path.
        prefixes.retain(|p| p.real.len() > 1);
        prefixes.sort_by_key(|p| std::cmp::Reverse(p.real.len()));
        Roots {
            build,
            source,
            prefixes,
        }
    }

    /// The build dir is `cwd`; the source dir comes from CMake's cache
    /// (`CMAKE_HOME_DIRECTORY`) when there is one.
    pub fn detect(cwd: &Path) -> Roots {
        let source = std::fs::read_to_string(cwd.join("CMakeCache.txt"))
            .ok()
            .and_then(|c| {
                c.lines()
                    .find_map(|l| l.strip_prefix("CMAKE_HOME_DIRECTORY:INTERNAL="))
                    .map(PathBuf::from)
            });
        Roots::new(cwd.to_path_buf(), source)
    }

    /// A manifest path (relative to the build dir, or absolute) as a thunk sees it.
    pub fn virtual_path(&self, path: &str) -> String {
        let p = Path::new(path);
        if p.is_relative() {
            return format!("{BUILD_ROOT}/{path}");
        }
        self.rewrite(path)
    }

    /// Replaces real root prefixes inside any string (argv words, absolute
    /// paths); the longer root first, since one may contain the other.
    pub fn rewrite(&self, text: &str) -> String {
        let mut out: Option<String> = None;
        for p in &self.prefixes {
            if let Some(r) = p.replace(out.as_deref().unwrap_or(text)) {
                out = Some(r);
            }
        }
        out.unwrap_or_else(|| text.to_string())
    }

    /// Undoes `rewrite` in a text (a depfile restored from the store), in
    /// one pass: a hit's depfile names a hundred headers.
    pub fn unrewrite(&self, text: &str) -> String {
        let real = |root: &Path| String::from_utf8_lossy(root.as_os_str().as_bytes()).into_owned();
        let roots = [
            (BUILD_ROOT, Some(real(&self.build))),
            (SOURCE_ROOT, self.source.as_deref().map(real)),
        ];
        let mut out = String::with_capacity(text.len() * 3 / 2);
        let mut rest = 0;
        // Matches do not overlap, nor can one start inside a root replaced.
        for at in memchr::memmem::find_iter(text.as_bytes(), CANONICAL) {
            let found = roots.iter().find_map(|(virt, real)| {
                let real = real.as_deref()?;
                text[at..].starts_with(virt).then_some((virt.len(), real))
            });
            if let Some((len, real)) = found {
                out.push_str(&text[rest..at]);
                out.push_str(real);
                rest = at + len;
            }
        }
        out.push_str(&text[rest..]);
        out
    }

    /// The real roots a command run in place (not under the canonical root)
    /// can put into its outputs: those its argv names (`-I/src/include`
    /// becomes `__FILE__` strings and debug paths), and all of them when it
    /// can record its working directory (ccache without `base_dir`).
    pub fn seen_by(&self, argv: &[String], embeds_cwd: bool) -> Vec<PathBuf> {
        let named = |root: &Path| {
            let real = root.as_os_str().as_bytes();
            self.prefixes
                .iter()
                .filter(|p| p.real.as_bytes() == real)
                .any(|p| argv.iter().any(|a| p.find_whole(a).is_some()))
        };
        std::iter::once(&self.build)
            .chain(&self.source)
            .filter(|root| embeds_cwd || named(root))
            .cloned()
            .collect()
    }

    /// Whether a real absolute path lies in the build or source tree.
    pub fn is_inside(&self, path: &Path) -> bool {
        let p = path.as_os_str().as_bytes();
        std::iter::once(&self.build)
            .chain(&self.source)
            .any(|root| {
                let r = root.as_os_str().as_bytes();
                p.starts_with(r) && (p.len() == r.len() || p[r.len()] == b'/')
            })
    }

    /// A manifest path (relative to the build dir, or absolute) on the host.
    pub fn host_path(&self, path: &str) -> PathBuf {
        self.build.join(path)
    }

    /// The real path of a thunk-visible one.
    pub fn real_path(&self, virt: &str) -> PathBuf {
        if let Some(rest) = virt.strip_prefix(BUILD_ROOT) {
            return PathBuf::from(format!("{}{rest}", self.build.display()));
        }
        if let (Some(rest), Some(src)) = (virt.strip_prefix(SOURCE_ROOT), &self.source) {
            return PathBuf::from(format!("{}{rest}", src.display()));
        }
        PathBuf::from(virt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_rewrite_whole_prefixes_only() {
        let r = Roots::new("/home/u/proj/build".into(), Some("/home/u/proj".into()));
        assert_eq!(r.virtual_path("obj/a.o"), "/ggroot/build/obj/a.o");
        assert_eq!(r.rewrite("-I/home/u/proj/include"), "-I/ggroot/src/include");
        assert_eq!(r.rewrite("/home/u/proj/build/gen.h"), "/ggroot/build/gen.h");
        assert_eq!(r.rewrite("/home/u/project2/x"), "/home/u/project2/x");
        assert_eq!(
            r.real_path("/ggroot/src/a.c"),
            PathBuf::from("/home/u/proj/a.c")
        );
    }

    /// A depfile restored from the store names the real roots again, each
    /// occurrence; a root unknown here, or another name under /ggroot,
    /// stays as it was.
    #[test]
    fn unrewrite_gives_back_the_real_roots() {
        let r = Roots::new("/home/u/proj/build".into(), Some("/home/u/proj".into()));
        let text =
            "/ggroot/build/a.o: /ggroot/src/a.c \\\n /ggroot/build/gen.h /ggroot/x.h /usr/a.h\n";
        let want = "/home/u/proj/build/a.o: /home/u/proj/a.c \\\n /home/u/proj/build/gen.h /ggroot/x.h /usr/a.h\n";
        assert_eq!(r.unrewrite(text), want);
        assert_eq!(r.unrewrite(&r.rewrite(want)), want);
        let alone = Roots::new("/b".into(), None);
        assert_eq!(
            alone.unrewrite("/ggroot/build/o /ggroot/src/c"),
            "/b/o /ggroot/src/c"
        );
        assert_eq!(alone.unrewrite("/ggroot/buildx"), "/bx");
        assert_eq!(alone.unrewrite(""), "");
    }

    #[test]
    fn seen_roots_are_those_named_or_all_with_cwd() {
        let r = Roots::new("/home/u/proj/build".into(), Some("/home/u/proj".into()));
        let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let compile = argv("cc -I/home/u/proj/include -c /home/u/proj/a.c -o a.o");
        assert_eq!(
            r.seen_by(&compile, false),
            vec![PathBuf::from("/home/u/proj")]
        );
        let generated = argv("cc -I/home/u/proj/build/gen -c ../a.c -o a.o");
        // The build dir is inside the source dir: naming one names both.
        assert_eq!(r.seen_by(&generated, false).len(), 2);
        let apart = Roots::new("/tmp/b".into(), Some("/home/u/proj".into()));
        let generated = argv("cc -I/tmp/b/gen -c ../a.c -o a.o");
        assert_eq!(
            apart.seen_by(&generated, false),
            vec![PathBuf::from("/tmp/b")]
        );
        assert!(r.seen_by(&argv("ar qc lib.a a.o"), false).is_empty());
        assert!(r
            .seen_by(&argv("cc -I/home/u/project2 -c x.c"), false)
            .is_empty());
        assert_eq!(r.seen_by(&argv("ar qc lib.a a.o"), true).len(), 2);
    }
}
