//! "did you mean": the closest of known words, as ninja picks it for
//! tools, debug modes, warning flags and targets.

/// Levenshtein distance, as ninja's EditDistance with replacements.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for y in 1..=a.len() {
        let mut previous = row[0];
        row[0] = y;
        for x in 1..=b.len() {
            let old = row[x];
            row[x] = (previous + usize::from(a[y - 1] != b[x - 1])).min(row[x - 1].min(row[x]) + 1);
            previous = old;
        }
    }
    row[b.len()]
}

/// The closest word within an edit distance of 3, if any (the first of
/// equally close ones, as ninja picks).
pub fn spellcheck<'a>(word: &str, words: &[&'a str]) -> Option<&'a str> {
    let mut best = None;
    let mut min = 4;
    for &w in words {
        let d = edit_distance(w, word);
        if d < min {
            min = d;
            best = Some(w);
        }
    }
    best
}

/// `, did you mean 'X'?` for the closest of `words`, or nothing.
pub fn did_you_mean(word: &str, words: &[&str]) -> String {
    spellcheck(word, words)
        .map(|s| format!(", did you mean '{s}'?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("helo", "hello"), 1);
        assert_eq!(edit_distance("ab", "ba"), 2);
    }

    #[test]
    fn spellcheck_takes_the_first_closest_within_three() {
        assert_eq!(spellcheck("helo", &["help", "hello"]), Some("help"));
        assert_eq!(spellcheck("hello", &["help", "hello"]), Some("hello"));
        assert_eq!(spellcheck("abcd", &["wxyz"]), None);
        assert_eq!(spellcheck("abcd", &["abcdefg"]), Some("abcdefg"));
        assert_eq!(spellcheck("abcd", &["abcdefgh"]), None);
        assert_eq!(did_you_mean("x", &[]), "");
    }
}
