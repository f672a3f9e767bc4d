//! Strings coded against the string before them in their group, for the
//! report page's data: each as (prefix, suffix, middle), the prefix and
//! suffix lengths it shares with the previous string of its group, the
//! middle what differs. A page lists tens of thousands of outputs and
//! commands that differ from their rule's previous one in a few
//! characters (a file name), so this keeps the page small without losing
//! a character. Lengths count UTF-16 code units, as JavaScript's
//! `String.slice` does, so the page's decoder is three slices.

use std::collections::HashMap;

use serde::Serialize;

/// Strings in coding order: string `i` is the group's previous string
/// `prev` ("" for the first) cut to its first `prefix[i]` units, then
/// `middle[i]`, then the last `suffix[i]` units of `prev`.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Coded {
    pub prefix: Vec<usize>,
    pub suffix: Vec<usize>,
    pub middle: Vec<String>,
}

/// Codes strings one by one, remembering each group's last.
#[derive(Default)]
pub struct Coder {
    last: HashMap<usize, String>,
    out: Coded,
}

impl Coder {
    pub fn push(&mut self, group: usize, s: String) {
        let prev = self.last.get(&group).map_or("", String::as_str);
        let p = common_prefix(prev, &s);
        // The suffix may not overlap the prefix in either string.
        let room = (prev.len() - p).min(s.len() - p);
        let q = common_suffix(&prev[p..], &s[p..], room);
        self.out.prefix.push(utf16_len(&s[..p]));
        self.out.suffix.push(utf16_len(&s[s.len() - q..]));
        self.out.middle.push(s[p..s.len() - q].to_string());
        self.last.insert(group, s);
    }

    pub fn finish(self) -> Coded {
        self.out
    }
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// The longest common prefix in bytes, ending on a character boundary.
fn common_prefix(a: &str, b: &str) -> usize {
    let mut n = (a.bytes().zip(b.bytes()))
        .take_while(|(x, y)| x == y)
        .count();
    while !b.is_char_boundary(n) {
        n -= 1;
    }
    n
}

/// The longest common suffix in bytes, at most `room`, starting on a
/// character boundary of both.
fn common_suffix(a: &str, b: &str, room: usize) -> usize {
    let mut n = (a.bytes().rev().zip(b.bytes().rev()))
        .take(room)
        .take_while(|(x, y)| x == y)
        .count();
    while !b.is_char_boundary(b.len() - n) || !a.is_char_boundary(a.len() - n) {
        n -= 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the page's JavaScript does, on UTF-16 code units.
    fn decode(c: &Coded, groups: &[usize]) -> Vec<String> {
        let mut last: HashMap<usize, Vec<u16>> = HashMap::new();
        let mut out = Vec::new();
        for (i, &g) in groups.iter().enumerate() {
            let prev = last.remove(&g).unwrap_or_default();
            let mut s = prev[..c.prefix[i]].to_vec();
            s.extend(c.middle[i].encode_utf16());
            s.extend(&prev[prev.len() - c.suffix[i]..]);
            out.push(String::from_utf16(&s).unwrap());
            last.insert(g, s);
        }
        out
    }

    #[test]
    fn strings_come_back_whole_and_small() {
        let strings = [
            (0, "cc -c ../src/a/foo.cc -o obj/a/foo.o"),
            (1, "ld -o bin/app obj/a/foo.o"),
            (0, "cc -c ../src/a/bar.cc -o obj/a/bar.o"),
            (0, "cc -c ../src/a/bar.cc -o obj/a/bar.o"),
            (0, "cc -c ../src/a/ba.cc -o obj/a/ba.o"),
            (0, "aa"),
            (0, "aaa"),
            (0, "a"),
            (1, "é ü 𝄞 ✓ ← 𝄞"),
            (1, "é ü 𝄢 ✓ ← 𝄞"),
            (1, ""),
        ];
        let mut coder = Coder::default();
        for (g, s) in strings {
            coder.push(g, s.to_string());
        }
        let coded = coder.finish();
        let groups: Vec<usize> = strings.iter().map(|s| s.0).collect();
        let want: Vec<String> = strings.iter().map(|s| s.1.to_string()).collect();
        assert_eq!(decode(&coded, &groups), want);
        assert_eq!(coded.middle[2], "bar.cc -o obj/a/bar", "{coded:?}");
        assert_eq!(coded.middle[3], "");
        // The clef (two UTF-16 units) is replaced whole, not half of it.
        assert_eq!(coded.middle[9], "𝄢");
        assert_eq!((coded.prefix[9], coded.suffix[9]), (4, 7));
    }
}
