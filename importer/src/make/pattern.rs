//! make's `%` patterns, shared by `$(patsubst)`, `$(filter)`, substitution
//! references, pattern-specific variables and pattern rules.
//!
//! The first `%` not escaped by a backslash matches any (for rules: any
//! non-empty) text; before a `%`, backslashes pair up (`\\` is one) and an
//! odd one left quotes it, as in make; the text after the wildcard is taken
//! as it is. Ignores every other glob character: these are not shell
//! patterns.

/// A parsed pattern: literal text before and after the `%`, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    prefix: String,
    /// `None` for a pattern without `%` (it matches only itself).
    suffix: Option<String>,
}

impl Pattern {
    pub fn new(text: &str) -> Pattern {
        // Before each `%`, a run of n backslashes: n odd quotes the `%`
        // (the run becomes (n-1)/2 backslashes and a literal `%`), n even
        // leaves it the wildcard (n/2 backslashes). Other backslashes stay.
        let mut prefix = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('%') {
            let before = &rest[..at];
            let run = before.len() - before.trim_end_matches('\\').len();
            prefix.push_str(&before[..before.len() - run]);
            prefix.push_str(&"\\".repeat(run / 2));
            if run.is_multiple_of(2) {
                return Pattern {
                    prefix,
                    suffix: Some(rest[at + 1..].to_string()),
                };
            }
            prefix.push('%');
            rest = &rest[at + 1..];
        }
        prefix.push_str(rest);
        Pattern {
            prefix,
            suffix: None,
        }
    }

    pub fn has_percent(&self) -> bool {
        self.suffix.is_some()
    }

    /// The stem `word` matches with (empty for a pattern without `%`).
    pub fn stem<'w>(&self, word: &'w str) -> Option<&'w str> {
        let Some(suffix) = &self.suffix else {
            return (word == self.prefix).then_some("");
        };
        if word.len() < self.prefix.len() + suffix.len() {
            return None;
        }
        let rest = word.strip_prefix(self.prefix.as_str())?;
        rest.strip_suffix(suffix.as_str())
    }

    /// A cheap first test: could `word` match, by its last byte?
    pub fn may_end(&self, word: &str) -> bool {
        let tail = match &self.suffix {
            Some(s) if !s.is_empty() => s.as_bytes(),
            Some(_) => return true,
            None => self.prefix.as_bytes(),
        };
        tail.last() == word.as_bytes().last()
    }

    pub fn matches(&self, word: &str) -> bool {
        self.stem(word).is_some()
    }

    /// The pattern with `%` replaced by `stem` (itself when it has none).
    pub fn fill(&self, stem: &str) -> String {
        match &self.suffix {
            Some(suffix) => format!("{}{stem}{suffix}", self.prefix),
            None => self.prefix.clone(),
        }
    }
}

/// `$(patsubst from,to,word)` for one word.
pub fn substitute(from: &Pattern, to: &Pattern, word: &str) -> String {
    match from.stem(word) {
        Some(stem) if from.has_percent() => to.fill(stem),
        Some(_) => to.fill(""),
        None => word.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_fills() {
        let p = Pattern::new("src/%.c");
        assert_eq!(p.stem("src/a.c"), Some("a"));
        assert_eq!(p.stem("src/.c"), Some(""));
        assert_eq!(p.stem("lib/a.c"), None);
        assert_eq!(Pattern::new("%.o").fill("x/y"), "x/y.o");
        assert_eq!(Pattern::new("a.c").stem("a.c"), Some(""));
        assert_eq!(Pattern::new("50\\%").stem("50%"), Some(""));
        // Runs of backslashes before `%`: odd quotes it, even does not.
        let p = Pattern::new(r"foo\%\%\\\%\%bar");
        assert_eq!(p.stem(r"foo%%\%%bar"), Some(""));
        assert_eq!(Pattern::new(r"a\\%b").stem(r"a\xb"), Some("x"));
        assert_eq!(Pattern::new(r"a\b%").fill("c"), r"a\bc");
        let (from, to) = (Pattern::new("%.c"), Pattern::new("%.o"));
        assert_eq!(substitute(&from, &to, "a.c"), "a.o");
        assert_eq!(substitute(&from, &to, "a.h"), "a.h");
    }
}
