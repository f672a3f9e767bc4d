use super::*;

/// A dump in make 4.3's layout, holding one of each thing the reader keeps.
const DUMP: &str = "\
# GNU Make 4.3
# Built for x86_64-pc-linux-gnu

# Make data base, printed on Mon Nov 30 23:31:02 2026

# Variables

# makefile (from 'Makefile', line 1)
CC = gcc
# makefile (from 'Makefile', line 2)
CFLAGS := -O2 $$HOME
# environment
MAKELEVEL := 0
# makefile private (from 'Makefile', line 3)
BLANK = $(subst ,,   )
# makefile (from 'Makefile', line 11)
define two
echo one
define inner
x
endef
echo two
endef
# default
EMPTY := 
# variable set hash-table stats:
# Load=5/1024=0%, Rehash=0, Collisions=0/5=0%

# Pattern-specific Variable Values

x%.o :
# makefile (from 'Makefile', line 4)
# CFLAGS := -DX $$(CC)

# 1 pattern-specific variable values

# Directories

# . (device 65024, inode 10051614): 7 files, 38 impossibilities.

# 7 files, 38 impossibilities in 3 directories.

# Implicit Rules

%.o: %.c | dir
#  recipe to execute (from 'Makefile', line 9):
\t$(CC) $(CFLAGS) -c $< -o $@

%.tab.c %.tab.h: %.y
#  recipe to execute (from 'Makefile', line 20):
\tbison -d $<

%:: RCS/%,v

# 3 implicit rules, 1 (33.3%) terminal.
# Files

# makefile (from 'Makefile', line 10)
a.o: CFLAGS += -DA
# Not a target:
a.o:
#  Implicit rule search has not been done.
#  Modification time never checked.
#  File has not been updated.
# makefile (from 'Makefile', line 10)
# CFLAGS += -DA
# variable set hash-table stats:
# Load=1/32=3%, Rehash=0, Collisions=0/3=0%

prog: a.o b.o | outdir
#  Implicit rule search has not been done.
#  Modification time never checked.
#  File has not been updated.
#  recipe to execute (from 'Makefile', line 6):
\t$(CC) -o $@ $^ \\
  -lm
\t@echo done $@

clean::
#  Phony target (prerequisite of .PHONY).
#  recipe to execute (from 'Makefile', line 17):
\trm -f *.o

clean::
#  Phony target (prerequisite of .PHONY).
#  recipe to execute (from 'Makefile', line 19):
\trm -f prog

objs/b.o: b.c
#  Implicit/static pattern stem: 'b'
#  Also makes: objs/b.d
# automatic
# @ := objs/b.o
# define multi
line
endef
#  recipe to execute (from 'Makefile', line 30):
\tcc -c b.c

.RECIPEPREFIX = >
odd: 
#  recipe to execute (from 'Makefile', line 40):
>echo odd

# files hash-table stats:
# Load=70/1024=7%, Rehash=0, Collisions=1/190=1%

# VPATH Search Paths

vpath %.h include:src

# 1 'vpath' search paths.

# General ('VPATH' variable) search path:
# src:lib

# strcache buffers: 1 (0) / strings = 370 / storage = 5136 B / avg = 13 B
# Finished Make data base on Mon Nov 30 23:31:02 2026

";

fn one() -> Database {
    let mut dbs = parse(DUMP).unwrap();
    assert_eq!(dbs.len(), 1);
    dbs.pop().unwrap()
}

#[test]
fn variables_keep_flavor_origin_and_value() {
    let db = one();
    let cc = db.variable("CC").unwrap();
    assert_eq!(
        (cc.flavor, cc.value.as_str(), cc.origin),
        (Flavor::Recursive, "gcc", Origin::Makefile)
    );
    assert_eq!(
        cc.from,
        Some(Location {
            file: "Makefile".into(),
            line: 1
        })
    );
    let cflags = db.variable("CFLAGS").unwrap();
    assert_eq!(
        (cflags.flavor, cflags.value.as_str()),
        (Flavor::Simple, "-O2 $HOME")
    );
    assert_eq!(db.variable("BLANK").unwrap().value, "   ");
    assert!(db.variable("BLANK").unwrap().private);
    assert_eq!(
        db.variable("two").unwrap().value,
        "echo one\ndefine inner\nx\nendef\necho two"
    );
    assert_eq!(db.variable("EMPTY").unwrap().value, "");
    assert_eq!(db.level, 0);
}

#[test]
fn pattern_vars_and_rules() {
    let db = one();
    assert_eq!(db.pattern_vars.len(), 1);
    assert_eq!(db.pattern_vars[0].pattern, "x%.o");
    assert_eq!(db.pattern_vars[0].var.value, "-DX $(CC)");
    assert_eq!(db.rules.len(), 3);
    assert_eq!(db.rules[0].order_only, ["dir"]);
    assert_eq!(
        db.rules[0].recipe.as_ref().unwrap().lines,
        ["$(CC) $(CFLAGS) -c $< -o $@"]
    );
    assert_eq!(db.rules[1].targets, ["%.tab.c", "%.tab.h"]);
    assert!(db.rules[2].terminal && db.rules[2].recipe.is_none());
}

#[test]
fn files_with_their_flags_variables_and_recipes() {
    let db = one();
    let names: Vec<&str> = db.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a.o", "prog", "clean", "clean", "objs/b.o", "odd"]);
    let a = &db.files[0];
    assert!(!a.is_target);
    assert_eq!(a.vars[0].0, "CFLAGS");
    assert_eq!(
        (a.vars[0].1.flavor, a.vars[0].1.value.as_str()),
        (Flavor::Append, "-DA")
    );
    let prog = &db.files[1];
    assert_eq!(
        (prog.prereqs.as_slice(), prog.order_only.as_slice()),
        (
            &["a.o".to_string(), "b.o".into()][..],
            &["outdir".to_string()][..]
        )
    );
    assert_eq!(
        prog.recipe.as_ref().unwrap().lines,
        ["$(CC) -o $@ $^ \\\n  -lm", "@echo done $@"]
    );
    assert!(db.files[2].double_colon && db.files[2].phony);
    assert_eq!(db.files[3].recipe.as_ref().unwrap().lines, ["rm -f prog"]);
    let b = &db.files[4];
    assert_eq!(
        (b.stem.as_deref(), b.also_makes.as_slice()),
        (Some("b"), &["objs/b.d".to_string()][..])
    );
    assert_eq!(b.recipe.as_ref().unwrap().lines, ["cc -c b.c"]);
    assert_eq!(db.files[5].recipe.as_ref().unwrap().lines, ["echo odd"]);
    assert_eq!(
        db.search.vpath,
        [("%.h".to_string(), vec!["include".to_string(), "src".into()])]
    );
    assert_eq!(db.search.general, ["src", "lib"]);
}

#[test]
fn sub_makes_and_noise_around_databases() {
    let text = format!(
        "cc -c x.c\nmake[1]: Entering directory '/src/lib'\n{}make[1]: Leaving directory '/src/lib'\nbuild output\n{}",
        DUMP.replace("MAKELEVEL := 0", "MAKELEVEL := 1"),
        DUMP
    );
    let dbs = parse(&text).unwrap();
    assert_eq!(dbs.len(), 2);
    assert_eq!(
        (dbs[0].directory.as_deref(), dbs[0].level),
        (Some("/src/lib"), 1)
    );
    assert_eq!((dbs[1].directory.as_deref(), dbs[1].level), (None, 0));
}

#[test]
fn bad_dumps_name_the_line_and_what_was_expected() {
    let cut = &DUMP[..DUMP.find("# Files").unwrap()];
    let err = parse(cut).unwrap_err();
    assert_eq!(err.expected, "a pattern rule or '# Files'");
    assert!(err.to_string().contains("the end of the dump"), "{err}");

    let junk = DUMP.replace(
        "# makefile (from 'Makefile', line 1)\nCC = gcc",
        "# makefile (from 'Makefile', line 1)\nno equals here",
    );
    let err = parse(&junk).unwrap_err();
    assert_eq!((err.line, err.expected), (9, "a variable definition"));

    let unknown = DUMP.replace("# Pattern-specific Variable Values", "# Something new");
    assert!(parse(&unknown).is_err());

    let interleaved = DUMP.replace(
        "prog: a.o b.o | outdir\n",
        "prog: a.o b.o | outdir\ngcc: error: x.c: No such file\n",
    );
    let err = parse(&interleaved).unwrap_err();
    assert_eq!(err.expected, "a blank line after the entry");
    assert!(parse("").unwrap().is_empty());
}

#[test]
fn never_panics_on_prefixes_of_a_dump() {
    for end in (0..DUMP.len()).filter(|&i| DUMP.is_char_boundary(i)) {
        let _ = parse(&DUMP[..end]);
    }
}
