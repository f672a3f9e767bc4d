//! The one-line build status and command output, printed as ninja 1.13
//! prints them: `NINJA_STATUS` with its placeholders (the time ones
//! predicted by `eta`), the line elided to the terminal's width (`elide`).

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::time::Instant;

use crate::elide::elide_middle;
use crate::eta::Eta;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    NoStatusUpdate,
    Normal,
    Verbose,
}

/// Which of our streams text goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Out,
    Err,
}

/// Prints lines, overwriting the status line on a smart terminal.
pub struct LinePrinter {
    smart: bool,
    color: bool,
    have_blank_line: bool,
    console_locked: bool,
    line_buffer: Option<(String, bool)>,
    /// What was printed while a console command ran, in order.
    output_buffer: Vec<(Stream, Vec<u8>)>,
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
            let line = match terminal_width().filter(|_| elide) {
                Some(width) => elide_middle(text.as_bytes(), width),
                None => text.as_bytes().to_vec(),
            };
            let _ = out.write_all(b"\r");
            let _ = out.write_all(&line);
            let _ = out.write_all(b"\x1b[K");
            let _ = out.flush();
            self.have_blank_line = false;
        } else {
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }

    fn print_or_buffer(&mut self, stream: Stream, data: &[u8]) {
        if self.console_locked {
            match self.output_buffer.last_mut() {
                Some((s, buffered)) if *s == stream => buffered.extend_from_slice(data),
                _ => self.output_buffer.push((stream, data.to_vec())),
            }
        } else if stream == Stream::Err {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(data);
            let _ = err.flush();
        } else {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(data);
            let _ = out.flush();
        }
    }

    pub fn print_on_new_line(&mut self, text: &[u8]) {
        self.print_on_new_line_to(Stream::Out, text);
    }

    /// Prints `text` on `stream`, after ending the status line (on stdout).
    pub fn print_on_new_line_to(&mut self, stream: Stream, text: &[u8]) {
        if self.console_locked {
            if let Some((line, _)) = self.line_buffer.take() {
                self.print_or_buffer(Stream::Out, format!("{line}\n").as_bytes());
            }
        }
        if !self.have_blank_line {
            self.print_or_buffer(Stream::Out, b"\n");
        }
        if !text.is_empty() {
            self.print_or_buffer(stream, text);
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
            // As one print_on_new_line of everything buffered.
            let buffered = std::mem::take(&mut self.output_buffer);
            if !self.have_blank_line {
                self.print_or_buffer(Stream::Out, b"\n");
            }
            for (stream, text) in &buffered {
                self.print_or_buffer(*stream, text);
            }
            self.have_blank_line = buffered.last().is_none_or(|(_, t)| t.ends_with(b"\n"));
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
    /// For `%c`.
    rate: SlidingRate,
    /// For `%P`, `%E`, `%W`.
    eta: Eta,
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
    /// Times count from `start`: for ninja, when it began loading the
    /// manifest (the logged start and end times, `%e`, `%o`). A bad
    /// `NINJA_STATUS` is only an error once a status line is printed.
    pub fn new(verbosity: Verbosity, parallelism: usize, start: Instant) -> Self {
        let format = std::env::var("NINJA_STATUS").unwrap_or_else(|_| "[%f/%t] ".to_string());
        Status {
            printer: LinePrinter::new(verbosity),
            verbosity,
            format,
            started: 0,
            finished: 0,
            total: 0,
            running: 0,
            start,
            time_ms: 0,
            rate: SlidingRate::new(parallelism.max(1)),
            eta: Eta::default(),
            placement: None,
        }
    }

    /// Times count from `start` from now on (the next cycle's load, after
    /// a rebuilt manifest); the plan's counts stay, as in ninja 1.12+.
    pub fn restart_clock(&mut self, start: Instant) {
        self.start = start;
        self.time_ms = 0;
    }

    pub fn set_placement(&mut self, placement: Option<Placement>) {
        self.placement = placement;
    }

    pub fn elapsed_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// A command edge joined the plan; `prev_ms` is what it took last time.
    pub fn edge_added(&mut self, prev_ms: Option<i64>) {
        self.total += 1;
        self.eta.added(prev_ms);
    }

    /// A command edge left the plan.
    pub fn edge_removed(&mut self, prev_ms: Option<i64>) {
        self.total = self.total.saturating_sub(1);
        self.eta.removed(prev_ms);
    }

    /// An edge that took `elapsed_ms` (`prev_ms` last time) is finishing:
    /// counted before its `edge_finished` prints the status.
    pub fn edge_timed(&mut self, elapsed_ms: i64, prev_ms: Option<i64>) {
        self.eta.finished(elapsed_ms, prev_ms);
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
    ) -> Result<(), BadPlaceholder> {
        self.started += 1;
        self.running += 1;
        self.time_ms = ms;
        if console || self.printer.is_smart() {
            self.print_status(description, command, explain)?;
        }
        if console {
            self.printer.set_console_locked(true);
        }
        Ok(())
    }

    /// `output`: what the command printed on stdout (with its stderr, as
    /// ninja), then on stderr when kept apart (printed on ours).
    #[allow(clippy::too_many_arguments)]
    pub fn edge_finished(
        &mut self,
        description: &str,
        command: &str,
        console: bool,
        ms: u64,
        failed: Option<&Failed>,
        output: [&[u8]; 2],
        explain: &[String],
    ) -> Result<(), BadPlaceholder> {
        self.time_ms = ms;
        self.finished += 1;
        if console {
            self.printer.set_console_locked(false);
        }
        if self.verbosity == Verbosity::Quiet {
            return Ok(());
        }
        if !console {
            self.print_status(description, command, explain)?;
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
        for (stream, output) in [Stream::Out, Stream::Err].into_iter().zip(output) {
            if output.is_empty() {
                continue;
            }
            if self.printer.color {
                self.printer.print_on_new_line_to(stream, output);
            } else {
                self.printer
                    .print_on_new_line_to(stream, &strip_ansi(output));
            }
        }
        Ok(())
    }

    pub fn build_finished(&mut self) {
        self.printer.set_console_locked(false);
        self.printer.print_on_new_line(b"");
    }

    fn print_status(
        &mut self,
        description: &str,
        command: &str,
        explain: &[String],
    ) -> Result<(), BadPlaceholder> {
        if !explain.is_empty() {
            // Explanations start below the status line, on stderr.
            self.printer.print_on_new_line(b"");
            for line in explain {
                eprintln!("{line}");
            }
        }
        if matches!(self.verbosity, Verbosity::Quiet | Verbosity::NoStatusUpdate) {
            return Ok(());
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
        self.eta
            .recalculate(self.total as i64, self.finished as i64, self.time_ms as i64);
        let line = format!("{}{place}{}", self.format_progress()?, text);
        self.printer.print(&line, !verbose);
        Ok(())
    }

    fn format_progress(&mut self) -> Result<String, BadPlaceholder> {
        let mut out = String::new();
        let mut chars = self.format.chars();
        let secs = self.time_ms as f64 / 1e3;
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
                Some('o') => out.push_str(&per_second(self.finished, secs)),
                Some('c') => {
                    let rate = self.rate.update(self.finished, self.time_ms);
                    out.push_str(&rate.map_or("?".to_string(), |r| format!("{r:.1}")));
                }
                Some('p') => {
                    let pct = (100 * self.finished).checked_div(self.total).unwrap_or(0);
                    out.push_str(&format!("{pct:3}%"));
                }
                Some(t @ ('e' | 'w' | 'E' | 'W')) => out.push_str(&self.time(t)),
                Some('P') => {
                    let pct = (100.0 * self.eta.fraction()) as i32;
                    out.push_str(&format!("{pct:3}%"));
                }
                other => return Err(BadPlaceholder(other.unwrap_or('\0'))),
            }
        }
        Ok(out)
    }

    /// `%e`/`%w` (time so far) and `%E`/`%W` (time left, `?` until it
    /// can be predicted), in seconds or as [H:]MM:SS.
    fn time(&self, placeholder: char) -> String {
        let elapsed = self.time_ms as f64 / 1e3;
        let fraction = self.eta.fraction();
        let left = if fraction == 0.0 {
            -1.0
        } else {
            (self.time_ms as f64 / fraction - self.time_ms as f64) / 1e3
        };
        let with_hours = elapsed >= 3600.0 || left >= 3600.0;
        let sec = if matches!(placeholder, 'e' | 'w') {
            elapsed
        } else {
            left
        };
        if sec < 0.0 {
            return "?".to_string();
        }
        if matches!(placeholder, 'e' | 'E') {
            return format!("{sec:.3}");
        }
        let s = sec as i64;
        if with_hours {
            format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
        } else {
            format!("{:02}:{:02}", s / 60, s % 60)
        }
    }
}

/// `%c`: edges finished per second over the last `-j` of them, measured
/// when the status is printed, as ninja's sliding rate (None until two
/// different times are known).
struct SlidingRate {
    times: VecDeque<u64>,
    window: usize,
    last_finished: Option<usize>,
    rate: Option<f64>,
}

impl SlidingRate {
    fn new(window: usize) -> Self {
        SlidingRate {
            times: VecDeque::new(),
            window,
            last_finished: None,
            rate: None,
        }
    }

    fn update(&mut self, finished: usize, now_ms: u64) -> Option<f64> {
        if self.last_finished != Some(finished) {
            self.last_finished = Some(finished);
            if self.times.len() == self.window {
                self.times.pop_front();
            }
            self.times.push_back(now_ms);
            if let (Some(&a), Some(&b)) = (self.times.front(), self.times.back()) {
                if a != b {
                    self.rate = Some(self.times.len() as f64 / ((b - a) as f64 / 1e3));
                }
            }
        }
        self.rate
    }
}

/// `%o`: edges finished per second so far, divided as C divides (by no
/// time: `inf`, or x86's `-nan` when no edge finished either).
fn per_second(finished: usize, secs: f64) -> String {
    if secs != 0.0 {
        format!("{:.1}", finished as f64 / secs)
    } else if finished == 0 {
        "-nan".to_string()
    } else {
        "inf".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_divide_as_c() {
        assert_eq!(per_second(2, 3.0), "0.7");
        assert_eq!(per_second(1, 0.0), "inf");
        assert_eq!(per_second(0, 0.0), "-nan");
    }

    #[test]
    fn strips_colors() {
        assert_eq!(strip_ansi(b"\x1b[1mfoo\x1b[0m bar"), b"foo bar");
    }
}
