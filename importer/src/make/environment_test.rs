use std::path::Path;

use super::*;
use crate::make::expand::Scope;

fn var(flavor: Flavor, value: &str, origin: Origin) -> Variable {
    Variable {
        flavor,
        value: value.to_string(),
        origin,
        private: false,
        from: None,
    }
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_printed_environment_is_taken_out_of_what_make_printed() {
    let printed = format!(
        "info line\n{MARK}\nA=1\0B=x=y\0SHELL={PROBE_SHELL}\0{EXPORT_ALL_PROBE}=1\0{MARK}\n"
    );
    let (rest, exported) = split(&printed);
    let exported = exported.unwrap();
    assert_eq!(rest, "info line\n");
    assert_eq!(
        exported.vars,
        env(&[("A", "1"), ("B", "x=y"), ("SHELL", PROBE_SHELL)])
    );
    assert!(exported.export_all && exported.shell);
    // The SHELL make started with, even /bin/sh: SHELL is not exported.
    let printed = format!("{MARK}\nSHELL=/bin/sh\0{MARK}\n");
    let (rest, exported) = split(&printed);
    assert_eq!(rest, "");
    assert!(!exported.unwrap().shell);
    assert_eq!(split("no environment\n"), ("no environment\n".into(), None));
}

#[test]
fn targets_export_their_variables_as_make_does() {
    let globals: HashMap<String, Variable> = [
        ("G", var(Flavor::Recursive, "g-$(T)", Origin::Makefile)),
        (
            "HOME",
            var(Flavor::Recursive, "/h$(T)", Origin::Environment),
        ),
        ("N", var(Flavor::Simple, "n", Origin::Makefile)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let exported = Exported {
        vars: env(&[("G", "g-"), ("HOME", "/h$(T)")]),
        export_all: false,
        shell: false,
    };
    let (t, n, k) = (
        var(Flavor::Simple, "t", Origin::Makefile),
        var(Flavor::Simple, "n2", Origin::Makefile),
        var(Flavor::Simple, "k", Origin::Makefile),
    );
    let bindings = vec![
        Binding { name: "T", var: &t },
        Binding { name: "N", var: &n },
        Binding { name: "K", var: &k },
    ];
    let scope = Scope {
        globals: &globals,
        bindings: bindings.clone(),
        auto: None,
        cwd: Path::new("/"),
    };
    let mut ex = Expander::new(&scope);
    // Only K was written `export K = k`; T has no global to follow, N's
    // global is not exported.
    let got = for_target(&mut ex, &exported, &bindings, &mut |name, _| name == "K").unwrap();
    assert_eq!(got, env(&[("G", "g-t"), ("HOME", "/h$(T)"), ("K", "k")]));
    let all = Exported {
        export_all: true,
        ..exported
    };
    let got = for_target(&mut ex, &all, &bindings, &mut |_, _| false).unwrap();
    assert_eq!(got["T"], "t");
    assert_eq!(got["N"], "n2");
}

#[test]
fn commands_start_with_the_difference_from_ggninjas_environment() {
    let globals: HashMap<String, Variable> = [("GONE", ""), ("SAME", "as make saw it")]
        .iter()
        .map(|(k, v)| (k.to_string(), var(Flavor::Simple, v, Origin::Environment)))
        .collect();
    let make = env(&[
        ("NEW", "it's"),
        ("SAME", "1"),
        ("MAKELEVEL", "1"),
        ("MFLAGS", "-s"),
    ]);
    // The commands' environment holds the top make's MAKELEVEL.
    let ours = env(&[
        ("SAME", "1"),
        ("GONE", "x"),
        ("UNKNOWN", "y"),
        ("PWD", "/"),
        ("MAKELEVEL", "1"),
    ]);
    let diff = difference(&make, &ours, &globals, &[]);
    let gone = ("GONE".to_string(), None);
    let new = ("NEW".to_string(), Some("it's".to_string()));
    assert_eq!(diff, vec![gone.clone(), new.clone()]);
    assert_eq!(prefix(&diff), r"export NEW='it'\''s' && unset GONE && ");
    assert_eq!(prefix(&[]), "");
    // What a parent make exported comes back: the environment make was
    // started with; what make took from its environment goes back as is.
    let up = ("UP".to_string(), Some("1".to_string()));
    let mut make = make.clone();
    make.insert("SAME".into(), "as make saw it".into());
    make.insert("UP".into(), "1".into());
    let diff = difference(&make, &ours, &globals, std::slice::from_ref(&up));
    assert_eq!(diff, vec![gone.clone(), new.clone(), up.clone()]);
    // A target's own value of an environment variable is passed.
    make.insert("SAME".into(), "target's".into());
    let same = ("SAME".to_string(), Some("target's".to_string()));
    let diff = difference(&make, &ours, &globals, &[]);
    assert_eq!(
        diff,
        vec![gone.clone(), new.clone(), same.clone(), up.clone()]
    );
    // A sub-make's commands are a level deeper.
    make.insert("MAKELEVEL".into(), "2".into());
    let level = ("MAKELEVEL".to_string(), Some("2".to_string()));
    let diff = difference(&make, &ours, &globals, &[]);
    assert_eq!(diff, vec![gone, level, new, same, up]);
}

#[test]
fn every_recipe_gets_makelevel_when_make_said_it() {
    let exported = Exported {
        vars: env(&[("MAKELEVEL", "1"), ("MAKEFLAGS", "s")]),
        ..Exported::default()
    };
    let every = every_recipe(Some(&exported));
    assert_eq!(every, [("MAKELEVEL".to_string(), "1".to_string())]);
    assert!(every_recipe(None).is_empty());
}
