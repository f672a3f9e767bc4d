//! The one-line build status and command output, printed as ninja prints them.

use std::io::{IsTerminal, Write};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    NoStatusUpdate,
    Normal,
    Verbose,
}

/// Prints lines, overwriting the status line on a smart terminal.
pub struct LinePrinter {
    smart: bool,
    color: bool,
    have_blank_line: bool,
    console_locked: bool,
    line_buffer: Option<(String, bool)>,
    output_buffer: Vec<u8>,
}

impl LinePrinter {
    pub fn new(verbosity: Verbosity) -> Self {
        let term_ok = std::env::var("TERM").is_ok_and(|t| t != "dumb");
        let smart = std::io::stdout().is_terminal() && term_ok && verbosity == Verbosity::Normal;
        let tty_color = std::io::stdout().is_terminal() && term_ok;
        let color = tty_color || std::env::var("CLICOLOR_FORCE").is_ok_and(|v| v != "0");
        LinePrinter {
            smart,
            color,
            have_blank_line: true,
            console_locked: false,
            line_buffer: None,
            output_buffer: Vec::new(),
        }
    }

    pub fn is_smart(&self) -> bool {
        self.smart
    }

    /// Prints a status line; `elide` shortens it to the terminal width.
    pub fn print(&mut self, text: &str, elide: bool) {
        if self.console_locked {
            self.line_buffer = Some((text.to_string(), elide));
            return;
        }
        let mut out = std::io::stdout().lock();
        if self.smart {
            let mut line = text.to_string();
            if elide {
                if let Some(width) = terminal_width() {
                    line = elide_middle(&line, width);
                }
            }
            let _ = write!(out, "\r{line}\x1b[K");
            let _ = out.flush();
            self.have_blank_line = false;
        } else {
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }

    fn print_or_buffer(&mut self, data: &[u8]) {
        if self.console_locked {
            self.output_buffer.extend_from_slice(data);
        } else {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(data);
            let _ = out.flush();
        }
    }

    pub fn print_on_new_line(&mut self, text: &[u8]) {
        if self.console_locked {
            if let Some((line, _)) = self.line_buffer.take() {
                self.output_buffer.extend_from_slice(line.as_bytes());
                self.output_buffer.push(b'\n');
            }
        }
        if !self.have_blank_line {
            self.print_or_buffer(b"\n");
        }
        if !text.is_empty() {
            self.print_or_buffer(text);
        }
        self.have_blank_line = text.is_empty() || text.ends_with(b"\n");
    }

    pub fn set_console_locked(&mut self, locked: bool) {
        if locked == self.console_locked {
            return;
        }
        if locked {
            self.print_on_new_line(b"");
        }
        self.console_locked = locked;
        if !locked {
            let buffered = std::mem::take(&mut self.output_buffer);
            self.print_on_new_line(&buffered);
            if let Some((line, elide)) = self.line_buffer.take() {
                self.print(&line, elide);
            }
        }
    }
}

fn terminal_width() -> Option<usize> {
    // SAFETY: TIOCGWINSZ only writes a winsize into the struct we pass.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_col > 0 {
            return Some(ws.ws_col as usize);
        }
    }
    None
}

/// Shortens `s` to `width` bytes by replacing its middle with "...".
pub fn elide_middle(s: &str, width: usize) -> String {
    if width <= 3 {
        return ".".repeat(width);
    }
    if s.len() <= width {
        return s.to_string();
    }
    let keep = (width - 3) / 2;
    let head = floor_char_boundary(s, keep);
    let tail = ceil_char_boundary(s, s.len() - keep);
    format!("{}...{}", &s[..head], &s[tail..])
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Removes ANSI escape sequences (CSI ... letter), for non-terminal output.
pub fn strip_ansi(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == 0x1b && input.get(i + 1) == Some(&b'[') {
            i += 2;
            while i < input.len() && !input[i].is_ascii_alphabetic() {
                i += 1;
            }
            i += 1;
            continue;
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

/// A failed edge as its `FAILED:` line names it.
pub struct Failed {
    pub code: i32,
    /// The outputs, each followed by a space.
    pub outs: String,
}

/// Counts edges and formats `NINJA_STATUS`.
pub struct Status {
    pub printer: LinePrinter,
    verbosity: Verbosity,
    format: String,
    started: usize,
    finished: usize,
    total: usize,
    running: usize,
    start: Instant,
    time_ms: u64,
    /// Finish times of the last `parallelism` edges, for `%c`.
    recent: std::collections::VecDeque<u64>,
    window: usize,
    /// Where the running edges run, when a backend runs them in two places.
    placement: Option<Placement>,
}

/// Running edges by place, shown after the progress on a terminal
/// (`[5/26] remote 12, local 2: CC a.o`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub remote: usize,
    pub local: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("unknown placeholder '%{0}' in $NINJA_STATUS")]
pub struct BadPlaceholder(pub char);

impl Status {
    pub fn new(verbosity: Verbosity, parallelism: usize) -> Result<Self, BadPlaceholder> {
        let format = std::env::var("NINJA_STATUS").unwrap_or_else(|_| "[%f/%t] ".to_string());
        let mut chars = format.chars();
        while let Some(c) = chars.next() {
            if c == '%' {
                match chars.next() {
                    Some('%' | 's' | 't' | 'r' | 'u' | 'f' | 'o' | 'c' | 'p' | 'e') => {}
                    other => return Err(BadPlaceholder(other.unwrap_or('\0'))),
                }
            }
        }
        Ok(Status {
            printer: LinePrinter::new(verbosity),
            verbosity,
            format,
            started: 0,
            finished: 0,
            total: 0,
            running: 0,
            start: Instant::now(),
            time_ms: 0,
            recent: Default::default(),
            window: parallelism.max(1),
            placement: None,
        })
    }

    pub fn set_placement(&mut self, placement: Option<Placement>) {
        self.placement = placement;
    }

    pub fn elapsed_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    pub fn set_total(&mut self, total: usize) {
        self.total = total;
    }

    pub fn edge_removed(&mut self) {
        self.total = self.total.saturating_sub(1);
    }

    pub fn build_started(&mut self) {
        self.started = 0;
        self.finished = 0;
        self.running = 0;
    }

    /// `description` is the edge's description or command; `command` its command.
    /// `explain`: the edge's `-d explain` lines, printed with its status.
    pub fn edge_started(
        &mut self,
        description: &str,
        command: &str,
        console: bool,
        ms: u64,
        explain: &[String],
    ) {
        self.started += 1;
        self.running += 1;
        self.time_ms = ms;
        if console || self.printer.is_smart() {
            self.print_status(description, command, explain);
        }
        if console {
            self.printer.set_console_locked(true);
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn edge_finished(
        &mut self,
        description: &str,
        command: &str,
        console: bool,
        ms: u64,
        failed: Option<&Failed>,
        output: &[u8],
        explain: &[String],
    ) {
        self.time_ms = ms;
        self.finished += 1;
        self.recent.push_back(ms);
        if self.recent.len() > self.window {
            self.recent.pop_front();
        }
        if console {
            self.printer.set_console_locked(false);
        }
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        if !console {
            self.print_status(description, command, explain);
        }
        self.running -= 1;
        if let Some(Failed { code, outs }) = failed {
            // ninja 1.13 names the exit code; 1.11 printed `FAILED: outs`.
            let failed = if self.printer.color {
                format!("\x1b[31mFAILED: [code={code}] \x1b[0m{outs}\n")
            } else {
                format!("FAILED: [code={code}] {outs}\n")
            };
            self.printer.print_on_new_line(failed.as_bytes());
            self.printer
                .print_on_new_line(format!("{command}\n").as_bytes());
        }
        if !output.is_empty() {
            if self.printer.color {
                self.printer.print_on_new_line(output);
            } else {
                self.printer.print_on_new_line(&strip_ansi(output));
            }
        }
    }

    pub fn build_finished(&mut self) {
        self.printer.set_console_locked(false);
        self.printer.print_on_new_line(b"");
    }

    fn print_status(&mut self, description: &str, command: &str, explain: &[String]) {
        if !explain.is_empty() {
            // Explanations start below the status line, on stderr.
            self.printer.print_on_new_line(b"");
            for line in explain {
                eprintln!("{line}");
            }
        }
        if matches!(self.verbosity, Verbosity::Quiet | Verbosity::NoStatusUpdate) {
            return;
        }
        let verbose = self.verbosity == Verbosity::Verbose;
        let text = if description.is_empty() || verbose {
            command
        } else {
            description
        };
        // Only on a terminal, where the line is live: a log keeps ninja's.
        let place = match self.placement.filter(|_| self.printer.is_smart()) {
            Some(p) => format!("remote {}, local {}: ", p.remote, p.local),
            None => String::new(),
        };
        let line = format!("{}{place}{}", self.format_progress(), text);
        self.printer.print(&line, !verbose);
    }

    fn format_progress(&self) -> String {
        let mut out = String::new();
        let mut chars = self.format.chars();
        let secs = self.time_ms as f64 / 1e3;
        let rate = |n: f64, t: f64| {
            if t > 0.0 {
                format!("{:.1}", n / t)
            } else {
                "?".to_string()
            }
        };
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('%') => out.push('%'),
                Some('s') => out.push_str(&self.started.to_string()),
                Some('t') => out.push_str(&self.total.to_string()),
                Some('r') => out.push_str(&self.running.to_string()),
                Some('u') => out.push_str(&(self.total as i64 - self.started as i64).to_string()),
                Some('f') => out.push_str(&self.finished.to_string()),
                Some('o') => out.push_str(&rate(self.finished as f64, secs)),
                Some('c') => {
                    let span = match (self.recent.front(), self.recent.back()) {
                        (Some(a), Some(b)) if self.recent.len() > 1 => (b - a) as f64 / 1e3,
                        _ => 0.0,
                    };
                    out.push_str(&rate(self.recent.len() as f64, span));
                }
                Some('p') => {
                    let pct = (100 * self.finished).checked_div(self.total).unwrap_or(0);
                    out.push_str(&format!("{pct:3}%"));
                }
                Some('e') => out.push_str(&format!("{secs:.3}")),
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elide() {
        assert_eq!(elide_middle("01234567890123456789", 10), "012...789");
        assert_eq!(elide_middle("short", 10), "short");
        assert_eq!(elide_middle("abc", 2), "..");
    }

    #[test]
    fn strips_colors() {
        assert_eq!(strip_ansi(b"\x1b[1mfoo\x1b[0m bar"), b"foo bar");
    }
}
