//! `ggninja --make` against real GNU make on identical trees: the same exit
//! status, the same files with the same contents, the same command output
//! (as a multiset: order is make's business only at -j1), and the same
//! targets rebuilt after a change. Each case is a makefile exercising one
//! part of make's language.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{files, ggninja, require_tool, text};

/// One tree per program, with the same files.
struct Pair {
    _dir: tempfile::TempDir,
    make: PathBuf,
    ggninja: PathBuf,
}

impl Pair {
    fn new(tree: &[(&str, &str)]) -> Option<Pair> {
        require_tool("make")?;
        let dir = tempfile::tempdir().unwrap();
        // The same name in both: recipes may print it.
        let (make, ggn) = (dir.path().join("a/tree"), dir.path().join("b/tree"));
        for root in [&make, &ggn] {
            for (name, content) in tree {
                let path = root.join(name);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, content).unwrap();
            }
        }
        Some(Pair {
            _dir: dir,
            make,
            ggninja: ggn,
        })
    }

    fn run_make(&self, args: &[&str]) -> Output {
        Command::new("make")
            .arg("-s")
            .args(args)
            .current_dir(&self.make)
            .env("LC_ALL", "C")
            .output()
            .unwrap()
    }

    fn run_ggninja(&self, args: &[&str]) -> Output {
        Command::new(ggninja())
            .args(["--make", "--quiet", "-j1"])
            .args(args)
            .current_dir(&self.ggninja)
            .env("LC_ALL", "C")
            .output()
            .unwrap()
    }

    /// Builds `args` with both and checks they agree; returns ggninja's run.
    fn agree(&self, args: &[&str]) -> Output {
        let (m, g) = (self.run_make(args), self.run_ggninja(args));
        self.compare(&m, g)
    }

    fn compare(&self, m: &Output, g: Output) -> Output {
        assert_eq!(
            m.status.success(),
            g.status.success(),
            "make:\n{}\nggninja:\n{}",
            text(m),
            text(&g)
        );
        assert_eq!(
            lines(m),
            lines(&g),
            "command output differs\nggninja:\n{}",
            text(&g)
        );
        let (a, b) = (self.contents(&self.make), self.contents(&self.ggninja));
        let differ: Vec<&String> = a
            .keys()
            .chain(b.keys())
            .filter(|k| a.get(*k) != b.get(*k))
            .collect();
        assert!(
            differ.is_empty(),
            "files differ: {differ:?}\nggninja:\n{}",
            text(&g)
        );
        g
    }

    /// Every file but ggninja's logs, with its contents.
    fn contents(&self, root: &Path) -> BTreeMap<String, Vec<u8>> {
        files(root)
            .into_iter()
            .filter(|f| !f.starts_with(".ninja_") && !f.starts_with(".ggninja_"))
            .map(|f| {
                let bytes = fs::read(root.join(&f)).unwrap();
                (f, bytes)
            })
            .collect()
    }

    /// Makes `file` newer in both trees.
    fn touch(&self, file: &str) {
        for root in [&self.make, &self.ggninja] {
            let path = root.join(file);
            let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
            fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(later)
                .unwrap();
        }
    }
}

/// stdout as a sorted multiset of lines, without ggninja's own report of
/// a failure (`FAILED: target`, the command, `ggninja: build stopped`).
fn lines(out: &Output) -> Vec<String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut l = Vec::new();
    let mut after_failed = false;
    for line in stdout.lines() {
        let skip = after_failed || line.starts_with("FAILED: ") || line.starts_with("ggninja: ");
        after_failed = line.starts_with("FAILED: ");
        if !skip {
            l.push(line.to_string());
        }
    }
    l.sort();
    l
}

#[test]
fn automatic_variables_and_their_d_f_forms() {
    let makefile = "\
all: out/x.txt lib.txt
out/x.txt: a.in b.in a.in | out
\t@echo '@=$@ <=$< ^=$^ +=$+ |=$| *=$*'
\t@echo 'D: $(@D) $(<D) F: $(@F) $(^F)'
\tcat $^ > $@
out:
\tmkdir -p $@
%.txt: %.in
\t@echo 'stem $* from $<'
\tcp $< $@
.PHONY: all
";
    let Some(p) = Pair::new(&[
        ("Makefile", makefile),
        ("a.in", "A\n"),
        ("b.in", "B\n"),
        ("lib.in", "L\n"),
    ]) else {
        return;
    };
    p.agree(&[]);
}

#[test]
fn variables_functions_and_substitutions() {
    let makefile = r#"
A = a b c
S := $(A) d
R = $(S) e
E :=
SP := $(E) $(E)
N = 3
dollars := $$HOME
define LINES
one
two
endef
f = [$(1)|$(2)]
rev = $(2) $(1)
t:
	@echo '1 $(subst a,X,$(A)) $(patsubst %.c,%.o,x.c y.h) $(A:a=z) $(A:%=p/%.o)'
	@echo '2 [$(strip   x   y  )] $(findstring b,$(A)) [$(findstring q,$(A))]'
	@echo '3 $(filter a c,$(A)) $(filter-out a,$(A)) $(sort c b a b)'
	@echo '4 $(word 2,$(A)) $(wordlist 2,3,$(A)) $(words $(A)) $(firstword $(A)) $(lastword $(A))'
	@echo '5 $(dir src/a.c b.c) $(notdir src/a.c b) $(suffix a.c b.tar.gz c) $(basename a.c d/b.x y)'
	@echo '6 $(addsuffix .o,a b) $(addprefix lib/,a b) $(join a b c,1 2)'
	@echo '7 $(if $(A),yes,no) $(if $(E),yes,no) $(or $(E),second) [$(and a,$(E),c)] $(and a,b)'
	@echo '8 $(foreach x,1 2 3,<$(x)>) $(call f,p,q) $(call rev,a,b)'
	@echo '9 $(origin A) $(origin PATH) $(origin undefined_var) $(origin @) $(flavor A) $(flavor S) $(flavor nope)'
	@echo '10 $(value R) $(R) [$(SP)] $(dollars) $${A} $(N)$(N)'
	@echo '11 $(shell echo from shell; echo two) $(wildcard *.c) $(patsubst $(CURDIR)/%,%,$(abspath ./x/../y))'
	@echo '12 $(words $(LINES)) $(subst $(SP),_,a b)'
a.c b.c:
"#;
    let Some(p) = Pair::new(&[("Makefile", makefile), ("a.c", ""), ("b.c", "")]) else {
        return;
    };
    p.agree(&[]);
}

#[test]
fn target_and_pattern_specific_variables() {
    let makefile = "\
CFLAGS = -O2
G := global
all: prog
prog: CFLAGS += -g
prog: a.o b.o special.o
\t@echo 'link $(CFLAGS) $(G)' > $@
b.o: CFLAGS = -O0
%.o: %.c
\t@echo 'cc $(CFLAGS) $(G) $<' > $@
special.o: private G = mine
sp%.o: CFLAGS += -DSP
.PHONY: all
";
    let tree = [
        ("Makefile", makefile),
        ("a.c", ""),
        ("b.c", ""),
        ("special.c", ""),
    ];
    let Some(p) = Pair::new(&tree) else { return };
    p.agree(&[]);
    let Some(p) = Pair::new(&tree) else { return };
    p.agree(&["CFLAGS=-Os"]);
}

#[test]
fn exported_variables_reach_recipes_and_sub_makes() {
    let makefile = "\
FOO = foo
export BAR = bar-$(FOO)
unexport HOME
LATER = $@
export LATER
all: one sub
one: export OWN = own
one: FOO = target
one:
\t@echo \"$$BAR $$OWN $$LATER [$$HOME]\" > $@
sub:
\t$(MAKE) -C dir
.PHONY: all sub
";
    let sub = "all:\n\t@echo \"$$BAR [$$OWN]\" > out\n";
    let tree = [("Makefile", makefile), ("dir/Makefile", sub)];
    let Some(p) = Pair::new(&tree) else { return };
    p.agree(&[]);
    let Some(p) = Pair::new(&tree) else { return };
    p.agree(&["FOO=cli"]);
}

#[test]
fn second_expansion_double_colon_rules_and_phony_targets() {
    let makefile = "\
.SECONDEXPANSION:
all: x.out y.out log clean
PARTS_x = a b
%.out: $$(addsuffix .part,$$(PARTS_$$*)) | $$*.dir
\t@echo '$@ from $^ after $|' > $@
%.part: ; @echo $@ > $@
%.dir: ; @echo $@ > $@
log:: a.part ; @echo 'a $^' >> $@
log:: old.in ; @echo 'old $^' >> $@
clean: ; @echo cleaned >> clean
.PHONY: all clean
# Named here, so not intermediate files (make would delete them).
unused: b.part x.dir y.dir
";
    let tree = [
        ("Makefile", makefile),
        ("old.in", ""),
        ("log", "before\n"),
        ("clean", ""),
    ];
    let Some(p) = Pair::new(&tree) else { return };
    p.agree(&[]);
}

#[test]
fn conditional_pattern_variables_and_extra_prerequisites() {
    let makefile = "\
G = global
a%: A = from-a
%b: A ?= unused
%b: B ?= from-b
%b: G ?= unused
.EXTRA_PREREQS = stamp
ab: x ; @echo '$(A) $(B) $(G) [$^]' > $@
x stamp: ; @echo $@ > $@
";
    let tree = [("Makefile", makefile)];
    let Some(p) = Pair::new(&tree) else { return };
    p.agree(&["ab"]);
}

#[test]
fn implicit_rules_builtin_chains_and_static_patterns() {
    let makefile = "\
all: hello lib/x.o chained.c2 one.out two.out
hello: hello.o
lib/%.o: lib/%.c
\t@echo 'dir rule $*'
\tcp $< $@
%.b1: %.a1
\tcp $< $@
%.c2: %.b1
\tcp $< $@
OUTS = one.out two.out
$(OUTS): %.out: %.src
\techo $* > $@
.PHONY: all
";
    let tree = [
        ("Makefile", makefile),
        ("hello.c", "int main(void){return 0;}\n"),
        ("lib/x.c", "x\n"),
        ("chained.a1", "chain\n"),
        ("one.src", ""),
        ("two.src", ""),
    ];
    let Some(p) = Pair::new(&tree) else { return };
    if require_tool("cc").is_none() {
        return;
    }
    // make deletes the chain's middle file when done; ggninja keeps it, as
    // if it were `.SECONDARY` (docs/make.md): the rest must agree.
    let m = p.run_make(&[]);
    assert!(!p.make.join("chained.b1").exists());
    fs::write(p.make.join("chained.b1"), "chain\n").unwrap();
    p.compare(&m, p.run_ggninja(&[]));
    let again = Command::new(ggninja())
        .args(["--make", "-j1"])
        .current_dir(&p.ggninja)
        .output()
        .unwrap();
    let again = text(&again);
    assert!(again.contains("no work to do"), "{again}");
}

#[test]
fn recipes_prefixes_shells_and_special_targets() {
    let makefile = "\
all: cdline ignored multi shelled ign
ign:
\tfalse
\t@echo after-ign
.IGNORE: ign
cdline:
\tcd sub && pwd | sed 's,.*/,,'
\tpwd | sed 's,.*/,,'
ignored:
\t-false
\t@echo after
multi:
\tX=1; echo $$X
\techo [$$X] # a comment
\ttrue \\
\t  && echo continued
shelled: SHELL = /bin/bash
shelled:
\t@echo $${BASH_VERSION:+bash}
clean::
\t@echo first
clean::
\t@echo second
.PHONY: all cdline ignored multi shelled clean ign
";
    let Some(p) = Pair::new(&[("Makefile", makefile), ("sub/keep", "")]) else {
        return;
    };
    p.agree(&[]);
    p.agree(&["clean"]);
}

#[test]
fn failing_recipe_fails_both() {
    let makefile = "all: a b\na:\n\t@echo a > $@\nb: a\n\t@exit 3\n";
    let Some(p) = Pair::new(&[("Makefile", makefile)]) else {
        return;
    };
    let g = p.agree(&[]);
    assert!(text(&g).contains("FAILED"), "{}", text(&g));
}

#[test]
fn rebuilds_what_make_rebuilds_and_a_changed_command() {
    let makefile = "\
CFLAGS = -O2
prog: a.o b.o
\t@echo $@ >> ran.log; cat $^ > $@
%.o: %.c common.h
\t@echo $@ >> ran.log; echo '$(CFLAGS)' | cat - $< > $@
";
    let tree = [
        ("Makefile", makefile),
        ("a.c", "a\n"),
        ("b.c", "b\n"),
        ("common.h", ""),
    ];
    let Some(p) = Pair::new(&tree) else { return };
    p.agree(&[]);
    let second = p.run_ggninja(&[]);
    assert!(second.status.success());
    p.touch("b.c");
    p.agree(&[]);
    p.touch("common.h");
    p.agree(&[]);
    // make alone misses a changed command; ggninja's log catches it.
    let g = p.run_ggninja(&["CFLAGS=-O3"]);
    assert!(g.status.success(), "{}", text(&g));
    let ran = fs::read_to_string(p.ggninja.join("ran.log")).unwrap();
    assert!(ran.ends_with("a.o\nb.o\nprog\n"), "{ran}");
}

#[test]
fn what_cannot_be_reproduced_is_refused_with_its_place() {
    let makefile = "all: lib.a\nlib.a: a.o\n\tar r $@ $?\na.o:\n\ttouch $@\n";
    let Some(p) = Pair::new(&[("Makefile", makefile)]) else {
        return;
    };
    let g = p.run_ggninja(&[]);
    assert!(!g.status.success());
    let msg = text(&g);
    assert!(
        msg.contains("cannot import 'lib.a' (Makefile:3)") && msg.contains("$?"),
        "{msg}"
    );
    assert!(!p.ggninja.join("a.o").exists(), "nothing may run");
}

#[test]
fn make_errors_and_info_reach_the_user() {
    let makefile = "$(info reading)\n$(warning careful)\nall:\n\t@echo built\n";
    let Some(p) = Pair::new(&[("Makefile", makefile)]) else {
        return;
    };
    let g = p.run_ggninja(&[]);
    assert!(g.status.success(), "{}", text(&g));
    let (out, err) = (
        String::from_utf8_lossy(&g.stdout),
        String::from_utf8_lossy(&g.stderr),
    );
    assert!(out.contains("reading") && out.contains("built"), "{out}");
    assert!(err.contains("careful"), "{err}");

    let Some(p) = Pair::new(&[("Makefile", "$(error stop here)\nall:\n")]) else {
        return;
    };
    let g = p.run_ggninja(&[]);
    assert!(!g.status.success());
    assert!(text(&g).contains("stop here"), "{}", text(&g));
}

#[test]
fn a_makefile_without_build_ninja_gets_a_hint_and_bad_dumps_clear_errors() {
    let Some(p) = Pair::new(&[
        ("Makefile", "all:\n"),
        ("cut.db", "# GNU Make 4.3\n# Variables\n"),
    ]) else {
        return;
    };
    let out = Command::new(ggninja())
        .current_dir(&p.ggninja)
        .output()
        .unwrap();
    assert!(text(&out).contains("use --make"), "{}", text(&out));
    let out = Command::new(ggninja())
        .args(["--make-db", "cut.db"])
        .current_dir(&p.ggninja)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("make database, line 3: expected"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_saved_dump_imports_as_the_live_one() {
    let makefile = "all: x\nx: y\n\tcp y x\n";
    let Some(p) = Pair::new(&[("Makefile", makefile), ("y", "why\n")]) else {
        return;
    };
    let dump = Command::new("make")
        .args(["-p", "-q", "--eval=.none:", ".none"])
        .current_dir(&p.ggninja)
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    fs::write(p.ggninja.join("saved.db"), &dump.stdout).unwrap();
    let out = Command::new(ggninja())
        .args(["--make-db", "saved.db", "-t", "commands"])
        .current_dir(&p.ggninja)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "cp y x\n",
        "{}",
        text(&out)
    );
}

/// ggninja's run in `dir` with `env` set; its stdout.
fn ggninja_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(ggninja())
        .args(["--make", "--quiet"])
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_kept_database_goes_stale_whenever_make_would_read_differently() {
    let makefile =
        "MSG ?= default\n-include extra.mk\nall:\n\t@echo $(MSG) $(EXTRA)\n.PHONY: all\n";
    let Some(p) = Pair::new(&[("Makefile", makefile)]) else {
        return;
    };
    let dir = &p.ggninja;
    assert_eq!(ggninja_in(dir, &[], &[]), "default\n");
    assert!(dir.join(".ggninja_make").is_dir(), "kept");
    assert_eq!(ggninja_in(dir, &[], &[]), "default\n");
    // A variable make knows, now from the environment.
    assert_eq!(ggninja_in(dir, &[], &[("MSG", "env")]), "env\n");
    assert_eq!(ggninja_in(dir, &[], &[]), "default\n");
    // An -include'd makefile that appears.
    fs::write(dir.join("extra.mk"), "EXTRA = extra\n").unwrap();
    assert_eq!(ggninja_in(dir, &[], &[]), "default extra\n");
    // The makefile edited (same size, other mtime).
    fs::write(dir.join("extra.mk"), "EXTRA = other\n").unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3);
    fs::File::options()
        .write(true)
        .open(dir.join("extra.mk"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert_eq!(ggninja_in(dir, &[], &[]), "default other\n");
    // Command-line variables are part of the key.
    assert_eq!(ggninja_in(dir, &["MSG=cli"], &[]), "cli other\n");
    // A damaged entry is ignored.
    for entry in fs::read_dir(dir.join(".ggninja_make")).unwrap() {
        fs::write(entry.unwrap().path(), "{\"version\": 1, \"key\"").unwrap();
    }
    assert_eq!(ggninja_in(dir, &[], &[]), "default other\n");
}

#[test]
fn makefiles_reading_the_world_are_read_each_time() {
    let makefile = "FILES := $(wildcard *.txt)\nall:\n\t@echo $(FILES)\n.PHONY: all\n";
    let Some(p) = Pair::new(&[("Makefile", makefile), ("a.txt", "")]) else {
        return;
    };
    assert_eq!(ggninja_in(&p.ggninja, &[], &[]), "a.txt\n");
    fs::write(p.ggninja.join("b.txt"), "").unwrap();
    assert_eq!(ggninja_in(&p.ggninja, &[], &[]), "a.txt b.txt\n");
}

#[test]
fn imported_builds_memoize_with_cache() {
    let makefile = "prog: a.o b.o\n\tcc -o $@ $^\n%.o: %.c\n\tcc -c $< -o $@\n";
    let tree = [
        ("Makefile", makefile),
        ("a.c", "int b(void);\nint main(void) { return b(); }\n"),
        ("b.c", "int b(void) { return 0; }\n"),
    ];
    let Some(p) = Pair::new(&tree) else { return };
    if require_tool("cc").is_none() {
        return;
    }
    let store = p.ggninja.parent().unwrap().join("store");
    let store = store.to_str().unwrap();
    let dir = &p.ggninja;
    ggninja_in(dir, &["--cache", "--store", store], &[]);
    let built = fs::read(dir.join("prog")).unwrap();
    ggninja_in(dir, &["-t", "clean"], &[]);
    assert!(!dir.join("prog").exists());
    let out = Command::new(ggninja())
        .args(["--make", "--cache", "--store", store, "-d", "explain"])
        .current_dir(dir)
        .output()
        .unwrap();
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert_eq!(log.matches("reusing the outputs").count(), 3, "{log}");
    assert_eq!(fs::read(dir.join("prog")).unwrap(), built);
    assert!(Command::new(dir.join("prog")).status().unwrap().success());
}

#[test]
fn a_recipe_prefix_other_than_tab() {
    let makefile =
        ".RECIPEPREFIX = >\n%.x: %.y\n>cp $< $@\nall: a.x\n>@echo done\na.y:\n>echo y > $@\n";
    let Some(p) = Pair::new(&[("Makefile", makefile)]) else {
        return;
    };
    p.agree(&[]);
}

/// stderr as a sorted multiset of lines, without make's and ggninja's own
/// messages (`make: [...] Error 1 (ignored)`, `ggninja: build stopped`).
fn error_lines(out: &Output) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let own =
        |l: &&str| l.starts_with("make:") || l.starts_with("make[") || l.starts_with("ggninja: ");
    let mut l: Vec<String> = stderr
        .lines()
        .filter(|l| !own(l))
        .map(str::to_string)
        .collect();
    l.sort();
    l
}

#[test]
fn a_recipes_stderr_stays_on_stderr_as_under_make() {
    let makefile = "\
all: a b
a:
\t@echo out-a
\t@echo err-a >&2
\t-@ls /nonexistent-ggninja-dir
b:
\t@set -x; echo traced > $@; echo fails >&2; exit 2
.PHONY: all a
";
    let Some(p) = Pair::new(&[("Makefile", makefile)]) else {
        return;
    };
    let (m, g) = (p.run_make(&["-k"]), p.run_ggninja(&["-k", "0"]));
    let errors = error_lines(&m);
    assert!(errors.contains(&"+ echo traced".to_string()), "{errors:?}");
    assert_eq!(errors, error_lines(&g), "ggninja:\n{}", text(&g));
    p.compare(&m, g);
}

#[test]
fn quiet_reads_the_makefiles_as_make_s_does() {
    // A makefile remade while make reads them echoes nothing under -s,
    // and MAKEFLAGS says `s`.
    let makefile = "\
all: ; @echo 'flags [$(MAKEFLAGS)] X=$(X)'
-include gen.mk
gen.mk: ; echo 'X = 1' > $@
";
    let Some(p) = Pair::new(&[("Makefile", makefile)]) else {
        return;
    };
    let g = p.agree(&[]);
    assert!(String::from_utf8_lossy(&g.stdout).contains("flags [s] X=1"));
}

#[test]
fn recipes_see_makelevel_as_make_exports_it() {
    let makefile = "\
all: sub
\t@echo \"top [$$MAKELEVEL] [$(MAKELEVEL)]\"
sub:
\t$(MAKE) -C dir
.PHONY: all sub
";
    let sub = "all:\n\t@echo \"sub [$$MAKELEVEL] [$(MAKELEVEL)]\"\n";
    let tree = [("Makefile", makefile), ("dir/Makefile", sub)];
    let Some(p) = Pair::new(&tree) else { return };
    let g = p.agree(&[]);
    let out = String::from_utf8_lossy(&g.stdout);
    assert!(
        out.contains("top [1] [0]") && out.contains("sub [2] [1]"),
        "{out}"
    );
}

#[test]
fn an_override_pattern_variable_is_not_appended_to_by_a_plain_one() {
    let makefile = "\
all: ab
a%: override FOO += f1
a%: FOO += f2
%b: BAR = b1
a%: override BAR += b2
ab: ; @echo \"$(FOO) / $(BAR)\"
.PHONY: all ab
";
    let tree = [("Makefile", makefile)];
    let Some(p) = Pair::new(&tree) else { return };
    p.agree(&[]);
    let Some(p) = Pair::new(&tree) else { return };
    p.agree(&["FOO=C", "BAR=D"]);
}

#[test]
fn an_exported_shell_reaches_recipes_even_spelled_as_the_one_make_started_with() {
    // make started with SHELL=/bin/sh passes the makefile's SHELL only
    // when it is exported.
    let makefile = "export SHELL := /.//bin/sh\nall:;@echo \"$(SHELL) $$SHELL\"\n";
    let Some(p) = Pair::new(&[("Makefile", makefile)]) else {
        return;
    };
    let run = |program: PathBuf, args: &[&str], dir: &Path| {
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(dir);
        cmd.env("LC_ALL", "C")
            .env("SHELL", "/bin/sh")
            .output()
            .unwrap()
    };
    let m = run("make".into(), &["-s"], &p.make);
    let g = run(ggninja(), &["--make", "--quiet"], &p.ggninja);
    assert_eq!(
        String::from_utf8_lossy(&m.stdout),
        "/.//bin/sh /.//bin/sh\n"
    );
    p.compare(&m, g);
}

#[test]
fn sub_makes_get_the_command_line_variables_makeoverrides_names() {
    let makefile = "\
ifeq ($(MAKELEVEL),0)
MAKEOVERRIDES += FOO+=bar
endif
all: sub
sub:
\t$(MAKE) -C dir
.PHONY: all sub
";
    let cleared = "MAKEOVERRIDES =\nall: ; @$(MAKE) -C dir\n";
    let sub = "all:\n\t@echo \"[$(FOO)] [$(X)]\"\n";
    for top in [makefile, cleared] {
        let tree = [("Makefile", top), ("dir/Makefile", sub)];
        let Some(p) = Pair::new(&tree) else { return };
        p.agree(&["X=a b"]);
    }
}
