//! The one shape of command line that can run without the shell: an `&&`
//! list of commands of plain words (letters, digits, `%+,-./:@_=` and
//! bytes past ASCII: nothing the shell would quote, expand, glob or take
//! as an operator, comment, tilde or brace), each redirected with `>` at
//! most once, at its end (`> FILE` or `>FILE`). What the words mean is
//! `direct`'s and `builtin`'s to say; this module only reads them. Ignores
//! every other operator and redirection: a line holding one is not steps.

/// One command of an `&&` list: its words, and the file its output is
/// redirected to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Step<'a> {
    pub words: Vec<&'a str>,
    pub to: Option<&'a str>,
}

/// The steps of an `&&` list of plain words, each redirected at most once
/// at its end; None for anything else.
pub fn steps(line: &str) -> Option<Vec<Step<'_>>> {
    let mut steps = vec![Step::default()];
    let mut tokens = line.split([' ', '\t']).filter(|w| !w.is_empty());
    while let Some(token) = tokens.next() {
        let step = steps.last_mut()?;
        if token == "&&" {
            if step.words.is_empty() {
                return None;
            }
            steps.push(Step::default());
        } else if step.to.is_some() {
            return None;
        } else if let Some(target) = token.strip_prefix('>') {
            // `>>`, `>&` and `>|` leave a target that is not plain.
            let target = if target.is_empty() {
                tokens.next()?
            } else {
                target
            };
            if !plain(target) {
                return None;
            }
            step.to = Some(target);
        } else if plain(token) {
            step.words.push(token);
        } else {
            return None;
        }
    }
    steps.last()?.words.first()?;
    Some(steps)
}

/// A word the shell takes as it is.
fn plain(word: &str) -> bool {
    let byte = |c: u8| c >= 0x80 || c.is_ascii_alphanumeric() || b"%+,-./:@_=".contains(&c);
    word.bytes().all(byte)
}
