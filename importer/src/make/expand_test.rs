use super::*;
use crate::make::db::Origin;

fn var(flavor: Flavor, value: &str) -> Variable {
    Variable {
        flavor,
        value: value.to_string(),
        origin: Origin::Makefile,
        private: false,
        from: None,
    }
}

fn globals(defs: &[(&str, Flavor, &str)]) -> HashMap<String, Variable> {
    defs.iter()
        .map(|(n, f, v)| (n.to_string(), var(*f, v)))
        .collect()
}

#[test]
fn appends_walk_outward_and_simple_values_stay_as_printed() {
    let g = globals(&[
        ("CFLAGS", Flavor::Simple, "-O2 $HOME"),
        ("X", Flavor::Recursive, "x"),
    ]);
    let (inner, outer) = (var(Flavor::Append, "-g $(X)"), var(Flavor::Append, "-DA"));
    let scope = Scope {
        globals: &g,
        bindings: vec![
            Binding {
                name: "CFLAGS",
                var: &inner,
            },
            Binding {
                name: "CFLAGS",
                var: &outer,
            },
        ],
        auto: None,
        cwd: Path::new("/"),
    };
    assert_eq!(
        Expander::new(&scope).expand("$(CFLAGS)").unwrap(),
        "-O2 $HOME -DA -g x"
    );
}

#[test]
fn loops_unterminated_references_and_newer_prerequisites_are_errors() {
    let g = globals(&[
        ("A", Flavor::Recursive, "$(B)"),
        ("B", Flavor::Recursive, "$(A)"),
    ]);
    let auto = Automatic::default();
    let scope = Scope {
        globals: &g,
        bindings: Vec::new(),
        auto: Some(&auto),
        cwd: Path::new("/"),
    };
    let mut ex = Expander::new(&scope);
    assert_eq!(ex.expand("$(A)"), Err(ExpandError::Loop("A".into())));
    assert_eq!(ex.expand("$(A"), Err(ExpandError::Unterminated));
    assert!(matches!(
        ex.expand("ar r $@ $?"),
        Err(ExpandError::Unsupported(_))
    ));
    assert!(matches!(
        ex.expand("$(eval x = 1)"),
        Err(ExpandError::Unsupported(_))
    ));
    assert_eq!(ex.expand("$(info hi)$(warning careful)").unwrap(), "");
    assert_eq!(
        ex.messages,
        [
            Message::Info("hi".into()),
            Message::Warning("careful".into())
        ]
    );
    assert_eq!(
        ex.expand("$(error stop)"),
        Err(ExpandError::Error("stop".into()))
    );
}

#[test]
fn private_globals_stay_hidden_from_targets_and_variables_lists_names() {
    let mut g = globals(&[
        ("F", Flavor::Recursive, "g"),
        (".VARIABLES", Flavor::Simple, ""),
    ]);
    g.get_mut("F").unwrap().private = true;
    let auto = Automatic::default();
    let mut scope = Scope {
        globals: &g,
        bindings: Vec::new(),
        auto: Some(&auto),
        cwd: Path::new("/"),
    };
    assert_eq!(Expander::new(&scope).expand("[$(F)]").unwrap(), "[]");
    assert_eq!(
        Expander::new(&scope).expand("$(.VARIABLES)").unwrap(),
        ".VARIABLES F"
    );
    // Outside a target (make reading the makefile) it is seen.
    scope.auto = None;
    assert_eq!(Expander::new(&scope).expand("[$(F)]").unwrap(), "[g]");
}
