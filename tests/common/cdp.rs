//! Headless Chromium driven over the DevTools protocol through
//! `--remote-debugging-pipe` (JSON messages ended by NUL on fds 3 and 4),
//! so a test can open a page and await a script's result without a
//! WebSocket client. Ignores events but a page's load.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

/// How every test runs Debian's Chromium: headless, as root in a
/// container (no sandbox, no GPU, a small /dev/shm), no first-run setup.
pub const HEADLESS: [&str; 5] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
];

/// A headless Chromium, killed with its process group when dropped.
pub struct Browser {
    child: Child,
    to: std::io::PipeWriter,
    from: Receiver<Value>,
    /// Events read while waiting for a reply, kept for `wait_for`.
    events: Vec<Value>,
    next_id: u64,
    stderr: PathBuf,
}

/// The session of one open page.
pub struct Page(String);

impl Browser {
    /// Starts Chromium with a fresh profile in `dir` (its stderr beside it),
    /// allowed to read file:// URLs from file:// pages: the viewers load
    /// their scripts and WebAssembly that way.
    pub fn launch(chromium: &Path, dir: &Path) -> Browser {
        let (ours_in, theirs_out) = std::io::pipe().unwrap();
        let (theirs_in, ours_out) = std::io::pipe().unwrap();
        let stderr = dir.join("chromium.err");
        let fds = (theirs_in.as_raw_fd(), theirs_out.as_raw_fd());
        let mut command = Command::new(chromium);
        command
            .args(HEADLESS)
            .args(["--remote-debugging-pipe", "--allow-file-access-from-files"])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&stderr).unwrap())
            .process_group(0);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe { command.pre_exec(move || onto_3_and_4(fds)) };
        let child = command.spawn().expect("starting chromium");
        drop((theirs_in, theirs_out));
        Browser {
            child,
            to: ours_out,
            from: messages(ours_in),
            events: Vec::new(),
            next_id: 0,
            stderr,
        }
    }

    /// Opens `url` in a new page, attaches to it and waits for its load
    /// event (before it, a script would run in the blank page it replaces).
    pub fn open(&mut self, url: &str) -> Page {
        let target = self.call("Target.createTarget", json!({"url": "about:blank"}), None);
        let params = json!({"targetId": target["targetId"], "flatten": true});
        let attached = self.call("Target.attachToTarget", params, None);
        let page = Page(attached["sessionId"].as_str().unwrap().to_string());
        self.call("Page.enable", json!({}), Some(&page.0));
        self.call("Page.navigate", json!({"url": url}), Some(&page.0));
        self.wait_for("Page.loadEventFired", &page);
        page
    }

    /// Waits for the event `method` of `page`, up to `TIMEOUT`.
    fn wait_for(&mut self, method: &str, page: &Page) {
        let is_it = |m: &Value| m["method"] == method && m["sessionId"] == page.0.as_str();
        if let Some(at) = self.events.iter().position(is_it) {
            self.events.drain(..=at);
            return;
        }
        while !is_it(&self.next(method)) {}
        self.events.clear();
    }

    /// The value `expression` evaluates to in `page`, promises awaited; a
    /// thrown exception fails the test with its description.
    pub fn evaluate(&mut self, page: &Page, expression: &str) -> Value {
        let params = json!({
            "expression": expression, "awaitPromise": true, "returnByValue": true,
        });
        let reply = self.call("Runtime.evaluate", params, Some(&page.0));
        if let Some(e) = reply.get("exceptionDetails") {
            panic!(
                "the page's script threw: {:#}",
                e["exception"]["description"]
            );
        }
        reply["result"]["value"].clone()
    }

    /// Sends one call and waits for its reply, up to `TIMEOUT`.
    fn call(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).expect("writing to chromium");
        loop {
            let reply = self.next(method);
            if reply["id"] != id {
                if reply.get("method").is_some() {
                    self.events.push(reply);
                }
                continue;
            }
            if let Some(error) = reply.get("error") {
                panic!("{method}: {error}");
            }
            return reply["result"].clone();
        }
    }

    /// The next message, failing the test (with Chromium's log) when none
    /// comes within `TIMEOUT` for what we wait for, `what`.
    fn next(&self, what: &str) -> Value {
        (self.from.recv_timeout(TIMEOUT))
            .unwrap_or_else(|e| panic!("{what}: nothing from chromium ({e}):\n{}", self.log()))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

/// How long one call may take: loading a viewer and importing a trace
/// take seconds; a loaded machine gets generous slack.
const TIMEOUT: Duration = Duration::from_secs(120);

impl Drop for Browser {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the group this test started; ESRCH once gone.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// In the child: Chromium reads calls on fd 3 and writes replies on fd 4.
/// Both ends are first moved above 10 so that neither is overwritten
/// before it is copied.
fn onto_3_and_4((read, write): (RawFd, RawFd)) -> std::io::Result<()> {
    // SAFETY: fcntl and dup2 on descriptors this process owns.
    let ok = unsafe {
        let high_read = libc::fcntl(read, libc::F_DUPFD_CLOEXEC, 10);
        let high_write = libc::fcntl(write, libc::F_DUPFD_CLOEXEC, 10);
        high_read >= 0
            && high_write >= 0
            && libc::dup2(high_read, 3) == 3
            && libc::dup2(high_write, 4) == 4
    };
    if ok {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Chromium's messages, split at NUL and parsed, on a reading thread that
/// ends when Chromium closes its end.
fn messages(mut pipe: std::io::PipeReader) -> Receiver<Value> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut pending = Vec::new();
        let mut chunk = vec![0; 1 << 16];
        while let Ok(n @ 1..) = pipe.read(&mut chunk) {
            pending.extend_from_slice(&chunk[..n]);
            while let Some(end) = pending.iter().position(|&b| b == 0) {
                let message: Vec<u8> = pending.drain(..=end).collect();
                let value = serde_json::from_slice(&message[..end]).expect("chromium's JSON");
                if send.send(value).is_err() {
                    return;
                }
            }
        }
    });
    receive
}
