//! make's `%` patterns, shared by `$(patsubst)`, `$(filter)`, substitution
//! references, pattern-specific variables and pattern rules.
//!
//! The first `%` not escaped by a backslash matches any (for rules: any
//! non-empty) text; backslashes that quote a `%` are removed. Ignores every
//! other glob character: these are not shell patterns.

/// A parsed pattern: literal text before and after the `%`, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    prefix: String,
    /// `None` for a pattern without `%` (it matches only itself).
    suffix: Option<String>,
}

impl Pattern {
    pub fn new(text: &str) -> Pattern {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if bytes.get(i + 1) == Some(&b'%') => i += 2,
                b'%' => {
                    return Pattern {
                        prefix: unquote(&text[..i]),
                        suffix: Some(text[i + 1..].to_string()),
                    }
                }
                _ => i += 1,
            }
        }
        Pattern {
            prefix: unquote(text),
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

/// Backslashes before `%` quote it; make removes them.
fn unquote(text: &str) -> String {
    text.replace("\\%", "%")
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
        let (from, to) = (Pattern::new("%.c"), Pattern::new("%.o"));
        assert_eq!(substitute(&from, &to, "a.c"), "a.o");
        assert_eq!(substitute(&from, &to, "a.h"), "a.h");
    }
}
