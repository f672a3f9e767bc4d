use super::*;
use crate::make::db::Recipe;

fn rule(targets: &[&str], prereqs: &[&str], terminal: bool, recipe: bool) -> PatternRule {
    PatternRule {
        targets: targets.iter().map(|s| s.to_string()).collect(),
        prereqs: prereqs.iter().map(|s| s.to_string()).collect(),
        order_only: Vec::new(),
        terminal,
        recipe: recipe.then(Recipe::default),
    }
}

#[test]
fn directories_set_aside_chains_and_match_anything_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/a.y"), "").unwrap();
    std::fs::write(dir.path().join("b.c"), "").unwrap();
    // Directories are read once per search: everything exists first.
    std::fs::write(dir.path().join("p.yy"), "").unwrap();
    let rules = vec![
        rule(&["%"], &["%.sh"], false, true),
        rule(&["%.o"], &["%.c"], false, true),
        rule(&["%.c"], &["%.y"], false, true),
        rule(&["%.tab.c", "%.tab.h"], &["%.yy"], false, true),
        rule(&["%"], &["RCS/%,v"], true, true),
    ];
    let known = HashSet::default();
    let search = Search::new(&rules, &known, dir.path());

    let found = search.find("b.o", &[]).unwrap();
    assert_eq!(
        (found.rule, found.stem.as_str(), found.prereqs.as_slice()),
        (1, "b", &["b.c".to_string()][..])
    );

    // src/a.o: %.o from src/a.c, itself made from src/a.y.
    let found = search.find("src/a.o", &[]).unwrap();
    assert_eq!(
        (found.stem.as_str(), found.prereqs.as_slice()),
        ("src/a", &["src/a.c".to_string()][..])
    );
    assert_eq!(found.intermediates[0].0, "src/a.c");
    assert_eq!(found.intermediates[0].1.rule, 2);

    // A specific rule matched (%.o), so `%: %.sh` is not tried for x.o.
    assert!(search.find("x.o", &[]).is_none());
    // Nothing specific matches `tool`: the match-anything rule applies once
    // its prerequisite is named for the target.
    assert_eq!(
        search.find("tool", &["tool.sh".to_string()]).unwrap().rule,
        0
    );

    let found = search.find("p.tab.h", &[]).unwrap();
    assert_eq!(found.also_makes, ["p.tab.c"]);
}

/// Stands for make's expansion: `$*`, `$(*F)` and `$@` only, and records
/// what it was asked.
struct Fake(std::cell::RefCell<Vec<String>>);

impl SecondExpansion for Fake {
    fn expand(&self, target: &str, stem: &str, text: &str) -> String {
        self.0.borrow_mut().push(text.to_string());
        let file = stem.rsplit('/').next().unwrap_or(stem);
        text.replace("$(*F)", file)
            .replace("$*", stem)
            .replace("$@", target)
            .replace("$(addsuffix .h,", "")
            .replace(")", ".h")
    }
}

#[test]
fn second_expansion_cuts_words_whole_and_keeps_directories() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    for f in ["src/a.c", "src/a.h", "src/a.o.dep", "a.t1", "a.t2"] {
        std::fs::write(dir.path().join(f), "").unwrap();
    }
    // As the dump prints `%.o: %.c $(addsuffix .h,$*) $@.dep|x`.
    let rules = vec![
        rule(
            &["%.o"],
            &["%.c", "$(addsuffix", ".h,$*)", "$@.dep|x"],
            false,
            true,
        ),
        rule(&["%.four"], &["%.t*"], false, true),
    ];
    let known: HashSet<String> = ["x".to_string()].into_iter().collect();
    let fake = Fake(Default::default());
    let search = Search::new(&rules, &known, dir.path()).with_second_expansion(&fake);
    let found = search.find("src/a.o", &[]).unwrap();
    // `%` became `$(*F)` and got its directory back; `$*` has it.
    assert_eq!(found.prereqs, ["src/a.c", "src/a.h", "src/a.o.dep"]);
    assert_eq!(found.order_only, ["x"]);
    let asked = fake.0.borrow().clone();
    assert_eq!(asked, ["$(addsuffix .h,$*)", "$@.dep|x"]);
    // Globs in prerequisites name what they match.
    assert_eq!(
        search.find("a.four", &[]).unwrap().prereqs,
        ["a.t1", "a.t2"]
    );
}
