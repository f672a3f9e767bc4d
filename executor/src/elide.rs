//! Shortening a status line to the terminal's width as ninja 1.13 does:
//! the middle replaced by "...", widths counted in bytes, and ANSI color
//! sequences (`ESC [ digits/; m`) taking no width and kept, even from the
//! elided middle, so the colors after the "..." stay right. Ignores other
//! escape sequences and the display width of multi-byte characters.

/// `line` shortened to `width` visible bytes.
pub fn elide_middle(line: &[u8], width: usize) -> Vec<u8> {
    if line.len() <= width {
        return line.to_vec();
    }
    let colors = color_sequences(line);
    let hidden: usize = colors.iter().map(|(s, e)| e - s).sum();
    let visible = line.len() - hidden;
    if visible <= width {
        return line.to_vec();
    }
    let dots = width.min(3);
    let left = (width - dots) / 2;
    let right = width - dots - left;
    let (gap_start, gap_end) = (left, visible - right);
    let in_color = |i: usize| colors.iter().any(|&(s, e)| s <= i && i < e);

    let mut out = Vec::with_capacity(line.len());
    let mut shown = 0;
    let mut i = 0;
    // The left span: everything before the first byte at visible
    // position `gap_start`.
    while i < line.len() && shown != gap_start {
        shown += usize::from(!in_color(i));
        i += 1;
    }
    out.extend_from_slice(&line[..i]);
    out.extend_from_slice(&b"..."[..dots]);
    // The gap: only its color sequences.
    while i < line.len() && shown != gap_end {
        if in_color(i) {
            out.push(line[i]);
        } else {
            shown += 1;
        }
        i += 1;
    }
    out.extend_from_slice(&line[i..]);
    out
}

/// The `[start, end)` byte ranges of the color sequences in `s`, found as
/// ninja finds them (a sequence needs 4 bytes left to be looked at).
fn color_sequences(s: &[u8]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(esc) = s[from..].iter().position(|&b| b == 0x1b).map(|p| p + from) {
        if esc + 4 > s.len() {
            break;
        }
        if s[esc + 1] != b'[' {
            from = esc + 1;
            continue;
        }
        let mut end = esc + 2;
        while s[end].is_ascii_digit() || s[end] == b';' {
            end += 1;
            if end == s.len() {
                return found;
            }
        }
        if s[end] != b'm' {
            // Not a color: look again after the `[`.
            from = esc + 3;
            continue;
        }
        found.push((esc, end + 1));
        from = end + 1;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elide(s: &str, width: usize) -> String {
        String::from_utf8(elide_middle(s.as_bytes(), width)).unwrap()
    }

    #[test]
    fn plain_lines_keep_both_ends() {
        assert_eq!(elide("01234567890123456789", 10), "012...6789");
        assert_eq!(elide("01234567890123456789", 11), "0123...6789");
        assert_eq!(elide("short", 10), "short");
        assert_eq!(elide("abcdef", 2), "..");
        assert_eq!(elide("abc", 3), "abc");
        assert_eq!(elide("abcdef", 0), "");
    }

    #[test]
    fn colors_take_no_width_and_survive_the_gap() {
        let red = "\x1b[31mred\x1b[0m";
        assert_eq!(elide(red, 3), red);
        assert_eq!(
            elide("ab\x1b[31mcdefgh\x1b[0mij", 7),
            "ab...\x1b[31m\x1b[0mij"
        );
        assert_eq!(elide("\x1b[1mabcdefgh", 5), "\x1b[1ma...h");
        // Not colors: counted as text.
        assert_eq!(elide("\x1b[2Kabcdef", 6), "\x1b...ef");
    }
}
