//! A GCC/Clang driver's footprint: sources and outputs from its flags, the
//! headers its sources can include (walked through its template's chains),
//! the compiler's own `-M` list when an include is computed, and for a
//! link what it names beyond the template. Unaware of how chains are
//! searched, files walked or the toolchain asked: it puts those together.

use crate::args::{self, DriverArgs, Lang};
use crate::chain::{Node, Pos};
use crate::classify::{beside_object, records_cwd, writes_beside_output};
use crate::paths::{clean, is_file};
use crate::recall::{self, Recorder};
use crate::templates::{KeyRef, Template, TemplateKey};
use crate::toolchain::toolchain_list;
use crate::walk::{Computed, Walked};
use ggninja_syntax::depfile;

use crate::{link, programs, Footprint, Kind, LocalOnly, Scanner};
use std::collections::HashSet;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The files a compile's flags make it write beside its objects
/// (`beside_object`), as the driver names them; a flag writing besides
/// the output otherwise (`-save-temps`, a dump), or such a name the
/// objects do not decide (no `-c`; `-dumpbase`, `-dumpdir`), keeps the
/// command local: a hit restores only what is named. A link of objects
/// alone (a coverage build links with `--coverage`) compiles nothing, so
/// writes nothing besides, unless link-time optimization compiles there.
fn beside_objects(d: &DriverArgs, args: &[String]) -> Result<Vec<String>, LocalOnly> {
    let mut files = Vec::new();
    let compiles = !d.sources.is_empty() || args.iter().any(|a| a.starts_with("-flto"));
    for flag in args.iter().filter(|a| writes_beside_output(a)) {
        if !compiles && beside_object(flag).is_some() {
            continue;
        }
        let named = d.settings.compile_only && !d.settings.no_assemble;
        let decided = !args
            .iter()
            .any(|a| a.starts_with("-dumpbase") || a.starts_with("-dumpdir"));
        match beside_object(flag) {
            Some(ext) if named && decided => {
                let of = |o: &String| Path::new(o).with_extension(ext).display().to_string();
                files.extend(d.objects.iter().map(of));
            }
            _ => {
                return Err(LocalOnly::new(format!(
                    "`{flag}` writes files besides the output, which a hit would not restore"
                )))
            }
        }
    }
    Ok(files)
}

impl Scanner {
    /// Fills in `fp` for the driver `name` run with `args`; returns its
    /// toolchain.
    pub(crate) fn driver(
        &self,
        fp: &mut Footprint,
        name: &str,
        args: &[String],
        cwd: &Path,
    ) -> Result<Arc<Vec<PathBuf>>, LocalOnly> {
        let cxx = name.contains("++");
        let d = args::parse_driver_args(args, cxx, cwd);
        if d.settings.modules {
            return Err(LocalOnly::new("clang modules (implicit module maps)"));
        }
        fp.outputs
            .extend(beside_objects(&d, args)?.into_iter().map(PathBuf::from));
        fp.kind = match d.settings.compile_only {
            true => Kind::Compile,
            false => Kind::Link,
        };
        fp.embeds_cwd = d.settings.compile_only && args.iter().any(|a| records_cwd(a));
        fp.outputs.extend(d.outputs.iter().map(PathBuf::from));
        fp.sources
            .extend(d.sources.iter().map(|s| PathBuf::from(&s.0)));
        fp.sources.extend(d.inputs.iter().map(PathBuf::from));
        let mut langs: Vec<Lang> = d.sources.iter().map(|s| s.1).collect();
        langs.sort();
        langs.dedup();
        let key: KeyRef = TemplateKey {
            exe: &fp.executable,
            cwd,
            cxx,
            langs: &langs,
            settings: &d.settings,
        };
        let make = || Template::build(&key, &self.toolchain, &self.dirs);
        let epoch = self.dirs.run_stats().epoch();
        let t = self.templates.get(&key, epoch, make)?;
        for lt in &t.langs {
            fp.headers.extend(lt.headers.iter().cloned());
        }
        if !t.langs.is_empty() {
            self.headers(fp, &t, &d, args, cwd)?;
        }
        if fp.kind != Kind::Link {
            return Ok(t.toolchain.clone());
        }
        let mut tc = link::driver_inputs(fp, &d, &t.lib_dirs, cwd);
        if tc.is_empty() {
            return Ok(t.toolchain.clone());
        }
        tc.extend(t.toolchain.iter().cloned());
        Ok(toolchain_list(tc, &fp.executable))
    }

    /// Adds the headers the sources can include and where missing ones
    /// would land: as an earlier run found them if nothing they depend on
    /// changed (`recall`), else walked (and recorded).
    fn headers(
        &self,
        fp: &mut Footprint,
        t: &Template,
        d: &DriverArgs,
        args: &[String],
        cwd: &Path,
    ) -> Result<(), LocalOnly> {
        let key = walk_key(&fp.executable, cwd, args, t);
        if let Some(found) = self.recall.get(&key, t, self.dirs.run_stats()) {
            let (headers, absent) = found.into_paths();
            fp.headers.extend(headers);
            fp.absent.extend(absent);
            return Ok(());
        }
        let mut rec = Recorder::start();
        let (headers, absent) = self.walk(fp, t, d, args, cwd, &mut rec)?;
        fp.headers.extend(headers.iter().cloned());
        fp.absent.extend(absent.iter().cloned());
        if let Some(r) = rec.finish(headers, absent, t, &self.recall) {
            self.recall.put(key, r);
        }
        Ok(())
    }

    /// Walks the sources per language with that language's forced
    /// includes, then, after a computed include, asks the compiler; returns
    /// the headers and where missing ones would land, noting in `rec` what
    /// the answer depends on.
    fn walk(
        &self,
        fp: &Footprint,
        t: &Template,
        d: &DriverArgs,
        args: &[String],
        cwd: &Path,
        rec: &mut Recorder,
    ) -> Result<(Vec<PathBuf>, Vec<PathBuf>), LocalOnly> {
        let (mut headers, mut absent) = (Vec::new(), Vec::new());
        let mut computed = Computed::default();
        for lt in &t.langs {
            let sources = d.sources.iter().filter(|(_, l)| *l == lt.lang);
            let mut roots: Vec<Node> = sources
                .map(|(s, _)| Node {
                    path: clean(PathBuf::from(s)),
                    pos: Pos::Root,
                })
                .collect();
            roots.extend(lt.forced.iter().cloned());
            for r in &roots {
                rec.walked(cwd.join(&r.path), None);
            }
            let walked = self.walker.scan(&self.dirs, cwd, &lt.chain, roots)?;
            record_walk(rec, &walked, cwd);
            computed |= walked.computed;
            headers.extend(walked.found);
            absent.extend(walked.absent);
        }
        if computed.probe {
            // What `__has_include(MACRO)` looked for is told nowhere.
            rec.not_kept();
        }
        if computed.include {
            rec.before_compiler();
            let (listed, missing) = self.fallback(fp, d, args, cwd)?;
            self.record_fallback(rec, t, &headers, &listed, &missing, cwd)?;
            headers.extend(listed);
        }
        Ok((headers, absent))
    }

    /// What the compiler listed beyond the walk (`extra`) came through
    /// computed names it does not tell: notes each as read, what it
    /// includes by name as walked, and the rest of its path under every
    /// base it lies in (a chain dir, the dir of a file read) as looked for
    /// under every base (see `recall`); a name it did not find (`missing`,
    /// as `-MG` lists it) as looked for under every base.
    fn record_fallback(
        &self,
        rec: &mut Recorder,
        t: &Template,
        walked: &[PathBuf],
        listed: &[PathBuf],
        missing: &[PathBuf],
        cwd: &Path,
    ) -> Result<(), LocalOnly> {
        let known: HashSet<&Path> = walked.iter().map(|p| p.as_path()).collect();
        let extra: Vec<&PathBuf> = listed
            .iter()
            .filter(|p| !known.contains(p.as_path()))
            .collect();
        let mut bases: Vec<PathBuf> = t
            .langs
            .iter()
            .flat_map(|lt| lt.chain.dirs())
            .cloned()
            .collect();
        let dirs_of = walked
            .iter()
            .chain(listed.iter())
            .filter_map(|p| p.parent());
        bases.extend(dirs_of.map(Path::to_path_buf));
        bases.sort();
        bases.dedup();
        for h in &extra {
            let abs = cwd.join(h);
            let rests: Vec<&Path> = bases
                .iter()
                .filter_map(|b| h.strip_prefix(b).ok())
                .collect();
            if rests.is_empty() {
                rec.strict(abs.parent().unwrap_or(Path::new("/")).to_path_buf());
            }
            for rest in rests.iter().filter(|r| !r.as_os_str().is_empty()) {
                let looked = bases.iter().map(|b| cwd.join(b).join(rest));
                looked.filter(|p| !is_file(p)).for_each(|p| rec.missed(&p));
            }
            rec.read(abs);
        }
        for m in missing {
            rec.missed(&cwd.join(m));
            bases.iter().for_each(|b| rec.missed(&cwd.join(b).join(m)));
        }
        for lt in &t.langs {
            let roots = extra.iter().map(|h| Node {
                path: PathBuf::from(h),
                pos: lt.chain.position(h),
            });
            let walked = self
                .walker
                .scan(&self.dirs, cwd, &lt.chain, roots.collect())?;
            record_walk(rec, &walked, cwd);
            if walked.computed.probe {
                rec.not_kept();
            }
        }
        Ok(())
    }

    /// A computed `#include MACRO` only the preprocessor can follow: adds
    /// what the compiler's own `-M -MG` lists.
    fn fallback(
        &self,
        fp: &Footprint,
        d: &DriverArgs,
        args: &[String],
        cwd: &Path,
    ) -> Result<(Vec<PathBuf>, Vec<PathBuf>), LocalOnly> {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        let mut a = d.fallback_args(args);
        a.extend(["-M", "-MG"].map(String::from));
        let (ok, out, err) = programs::run(&fp.executable, &a, cwd).map_err(LocalOnly::new)?;
        if !ok {
            return Err(LocalOnly::new(format!(
                "computed #include and `-M` fallback failed: {}",
                err.lines().next().unwrap_or("")
            )));
        }
        let srcs: HashSet<&str> = d.sources.iter().map(|s| s.0.as_str()).collect();
        let deps = depfile::parse(out.as_bytes())
            .map_err(|e| LocalOnly::new(format!("`-M` fallback output: {e}")))?;
        // `-MG` lists a header it did not find as if it were there.
        let (mut listed, mut missing) = (Vec::new(), Vec::new());
        for dep in deps.ins.into_iter().filter(|d| !srcs.contains(d.as_str())) {
            match is_file(&cwd.join(&dep)) {
                true => listed.push(clean(PathBuf::from(dep))),
                false => missing.push(PathBuf::from(dep)),
            }
        }
        Ok((listed, missing))
    }
}

/// Notes what a walk read and where it found nothing.
fn record_walk(rec: &mut Recorder, walked: &Walked, cwd: &Path) {
    for f in &walked.found {
        rec.walked(cwd.join(f), None);
    }
    for (f, directives) in &walked.scanned {
        rec.walked(cwd.join(f), Some(directives.clone()));
    }
    for m in &walked.misses {
        rec.missed(&cwd.join(m));
    }
}

/// The key of a compile's walk: the program, the directory, the words and
/// each language's chain and forced includes (see `recall`).
fn walk_key(exe: &Path, cwd: &Path, args: &[String], t: &Template) -> recall::Key {
    let paths = [exe.as_os_str().as_bytes(), cwd.as_os_str().as_bytes()];
    let words = args.iter().map(|a| a.as_bytes());
    let parts = paths
        .into_iter()
        .chain(words)
        .chain([b"\0langs".as_slice()]);
    recall::key(parts.chain(t.langs.iter().map(|lt| lt.walk_part.as_bytes())))
}
