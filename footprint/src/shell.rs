//! POSIX shell word splitting (the subset a build command may use without
//! needing a real shell) and GCC-style response-file splitting.

/// Splits `command` into words following POSIX `sh` quoting rules: single
/// quotes, double quotes and backslash escapes.
///
/// Anything that needs a real shell to mean what it says is refused with the
/// reason why: operators (`&&`, `||`, `;`, `|`, `&`), redirections (`<`, `>`),
/// subshells, parameter expansion (`$`), command substitution (`` ` ``, `$(`),
/// globs (`*`, `?`, `[`), tilde expansion, comments and newlines.
pub fn split_command(command: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\n' => return Err("multiple commands (newline)".into()),
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\')) => cur.push(ch),
                            Some(ch @ ('$' | '`')) => cur.push(ch),
                            Some('\n') => {}
                            Some(ch) => {
                                cur.push('\\');
                                cur.push(ch);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some('$') => return Err("shell expansion ($)".into()),
                        Some('`') => return Err("command substitution (`)".into()),
                        Some(ch) => cur.push(ch),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(ch) => {
                    in_word = true;
                    cur.push(ch);
                }
                None => return Err("trailing backslash".into()),
            },
            '|' => return Err("shell pipeline (|)".into()),
            '&' => return Err("shell operator (& or &&)".into()),
            ';' => return Err("command list (;)".into()),
            '<' | '>' => return Err("redirection".into()),
            '(' | ')' => return Err("subshell".into()),
            '$' => {
                if chars.peek() == Some(&'(') {
                    return Err("command substitution ($()".into());
                }
                return Err("shell expansion ($)".into());
            }
            '`' => return Err("command substitution (`)".into()),
            '*' | '?' | '[' => return Err("glob pattern".into()),
            '#' if !in_word => return Err("shell comment".into()),
            '~' if !in_word => return Err("tilde expansion".into()),
            ch => {
                in_word = true;
                cur.push(ch);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    if words.is_empty() {
        return Err("empty command".into());
    }
    // A leading `NAME=value` is an environment assignment, not the program.
    let w0 = &words[0];
    if let Some(eq) = w0.find('=') {
        let name = &w0[..eq];
        if !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err("environment assignment before the command".into());
        }
    }
    // Shell keywords and builtins that change how the rest is run.
    if matches!(
        w0.as_str(),
        "cd" | "exec"
            | "eval"
            | "export"
            | "set"
            | "."
            | "source"
            | "if"
            | "for"
            | "while"
            | "case"
            | "{"
            | "!"
            | "time"
            | "exit"
    ) {
        return Err(format!("shell builtin `{w0}`"));
    }
    Ok(words)
}

/// Splits the contents of a GCC `@response` file: words separated by
/// whitespace; single and double quotes group; a backslash escapes any
/// character.
pub fn split_response_file(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}
