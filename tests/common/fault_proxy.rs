//! A fault-injecting HTTP/1.1 proxy on 127.0.0.1 for the remote fault tests:
//! put between ggninja and the Lambda emulator's Invoke API (point
//! `AWS_ENDPOINT_URL_LAMBDA` at `FaultProxy::url`), it numbers the
//! invocations it sees (POSTs to `.../invocations`, 1, 2, ...) and lets a
//! plan decide per number whether to forward the request and relay the
//! answer, throttle it as Lambda does (429), fail it as the emulator reports
//! a function error (500), or hang (accept it and never answer). Every
//! other request is forwarded. It counts what it did, and stops its threads
//! when dropped. Plain std threads and blocking sockets: the tests' crate
//! has no async runtime, and a handful of connections need none.
//!
//! HTTP support is what the AWS SDK and the emulator use: requests and
//! responses with a Content-Length or chunked body (a response may also end
//! at EOF), keep-alive client connections (the SDK reuses them, so requests
//! are read in a loop). Upstream gets one connection per request, closed
//! after it, and bodies are relayed with a Content-Length.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What to do with one invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward it and relay the emulator's answer.
    Forward,
    /// HTTP 429 with the headers and body Lambda sends when a function's
    /// concurrency is exhausted.
    Throttle,
    /// HTTP 500 with an error body, as the emulator reports a function
    /// that crashed.
    Error,
    /// Read it and never answer; the connection stays open until the
    /// client drops it or the proxy stops.
    Hang,
}

/// Decides per invocation number (from 1, in the order the proxy read them).
pub type Plan = dyn Fn(usize) -> Fault + Send + Sync;

/// What the proxy did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub invocations: usize,
    pub forwarded: usize,
    pub throttled: usize,
    pub errors: usize,
    pub hung: usize,
}

#[derive(Default)]
struct Counters {
    invocations: AtomicUsize,
    forwarded: AtomicUsize,
    throttled: AtomicUsize,
    errors: AtomicUsize,
    hung: AtomicUsize,
}

struct Inner {
    upstream: SocketAddr,
    plan: Box<Plan>,
    stop: AtomicBool,
    counters: Counters,
    /// Connection threads, joined on drop.
    threads: Mutex<Vec<JoinHandle<()>>>,
}

pub struct FaultProxy {
    addr: SocketAddr,
    inner: Arc<Inner>,
    acceptor: Option<JoinHandle<()>>,
}

/// How often blocked threads look at the stop flag.
const POLL: Duration = Duration::from_millis(50);

const THROTTLE_BODY: &str = r#"{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}"#;
const ERROR_BODY: &str =
    r#"{"errorType":"Runtime.ExitError","errorMessage":"fault proxy: injected function error"}"#;

impl FaultProxy {
    /// A proxy in front of `upstream` (`http://127.0.0.1:PORT`), following
    /// `plan`.
    pub fn start(
        upstream: &str,
        plan: impl Fn(usize) -> Fault + Send + Sync + 'static,
    ) -> FaultProxy {
        let upstream: SocketAddr = upstream
            .strip_prefix("http://")
            .unwrap_or(upstream)
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|e| panic!("upstream {upstream}: {e}"));
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the proxy");
        let addr = listener.local_addr().unwrap();
        // Non-blocking accept, so the acceptor sees the stop flag.
        listener.set_nonblocking(true).unwrap();
        let inner = Arc::new(Inner {
            upstream,
            plan: Box::new(plan),
            stop: AtomicBool::new(false),
            counters: Counters::default(),
            threads: Mutex::default(),
        });
        let acceptor = {
            let inner = Arc::clone(&inner);
            std::thread::spawn(move || accept_loop(listener, inner))
        };
        FaultProxy {
            addr,
            inner,
            acceptor: Some(acceptor),
        }
    }

    /// The endpoint to give the client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn counts(&self) -> Counts {
        let c = &self.inner.counters;
        let get = |a: &AtomicUsize| a.load(Ordering::SeqCst);
        Counts {
            invocations: get(&c.invocations),
            forwarded: get(&c.forwarded),
            throttled: get(&c.throttled),
            errors: get(&c.errors),
            hung: get(&c.hung),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        let threads = std::mem::take(&mut *self.inner.threads.lock().unwrap());
        for t in threads {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: TcpListener, inner: Arc<Inner>) {
    while !inner.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let inner2 = Arc::clone(&inner);
                let t = std::thread::spawn(move || {
                    // An I/O error ends the connection, as a real server's would;
                    // the client sees a reset and decides what to do.
                    let _ = serve(stream, &inner2);
                });
                inner.threads.lock().unwrap().push(t);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL / 5),
            Err(_) => std::thread::sleep(POLL / 5),
        }
    }
}

/// Serves one client connection: requests in a loop until the client
/// closes it or the proxy stops.
fn serve(stream: TcpStream, inner: &Inner) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(POLL))?;
    let mut client = Conn::new(stream, &inner.stop);
    loop {
        let Some(head) = client.read_head()? else {
            return Ok(());
        };
        let body = client.read_body(&head, false)?;
        let invocation = head.start.starts_with("POST ")
            && head
                .start
                .split(' ')
                .nth(1)
                .is_some_and(|p| p.split('?').next().unwrap_or(p).ends_with("/invocations"));
        let c = &inner.counters;
        let fault = match invocation {
            true => (inner.plan)(c.invocations.fetch_add(1, Ordering::SeqCst) + 1),
            false => Fault::Forward,
        };
        let counter = match fault {
            Fault::Forward => &c.forwarded,
            Fault::Throttle => &c.throttled,
            Fault::Error => &c.errors,
            Fault::Hang => &c.hung,
        };
        if invocation {
            counter.fetch_add(1, Ordering::SeqCst);
        }
        let response = match fault {
            Fault::Forward => forward(inner, &head, &body)?,
            Fault::Throttle => canned(
                "429 Too Many Requests",
                &[("x-amzn-ErrorType", "TooManyRequestsException")],
                THROTTLE_BODY,
            ),
            Fault::Error => canned("500 Internal Server Error", &[], ERROR_BODY),
            Fault::Hang => return client.wait_for_close(),
        };
        client.stream.write_all(&response)?;
        client.stream.flush()?;
    }
}

/// A response the proxy makes up itself.
fn canned(status: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("x-amzn-RequestId: 00000000-0000-0000-0000-fa017fa017fa\r\n");
    out.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

/// Sends the request upstream on a connection of its own and returns the
/// answer, re-framed with a Content-Length for the client.
fn forward(inner: &Inner, head: &Head, body: &[u8]) -> io::Result<Vec<u8>> {
    let up = TcpStream::connect(inner.upstream)?;
    up.set_read_timeout(Some(POLL))?;
    let mut upstream = Conn::new(up, &inner.stop);
    upstream
        .stream
        .write_all(&head.encode(body.len(), Some("close")))?;
    upstream.stream.write_all(body)?;
    upstream.stream.flush()?;
    let resp = upstream
        .read_head()?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "upstream closed"))?;
    let resp_body = upstream.read_body(&resp, true)?;
    let mut out = resp.encode(resp_body.len(), None);
    out.extend_from_slice(&resp_body);
    Ok(out)
}

/// A request's or response's start line and headers.
struct Head {
    start: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// No body whatever the headers say (HEAD answers aside, which the
    /// Invoke API never sees).
    fn bodiless_status(&self) -> bool {
        let code = self.start.split(' ').nth(1).unwrap_or("");
        code.starts_with('1') || code == "204" || code == "304"
    }

    /// The head again, framing a body of `len` bytes.
    fn encode(&self, len: usize, connection: Option<&str>) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.start);
        for (k, v) in &self.headers {
            let framing = ["content-length", "transfer-encoding", "connection"]
                .iter()
                .any(|h| k.eq_ignore_ascii_case(h));
            if !framing {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
        }
        if let Some(c) = connection {
            out.push_str(&format!("connection: {c}\r\n"));
        }
        out.push_str(&format!("content-length: {len}\r\n\r\n"));
        out.into_bytes()
    }
}

/// A socket with a read buffer that gives up when the proxy stops.
struct Conn<'a> {
    stream: TcpStream,
    buf: Vec<u8>,
    stop: &'a AtomicBool,
}

impl<'a> Conn<'a> {
    fn new(stream: TcpStream, stop: &'a AtomicBool) -> Conn<'a> {
        Conn {
            stream,
            buf: Vec::new(),
            stop,
        }
    }

    /// Reads more into the buffer; false at EOF.
    fn fill(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return Err(io::Error::other("proxy stopped"));
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next head; None when the peer closed before sending one.
    fn read_head(&mut self) -> io::Result<Option<Head>> {
        let end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i;
            }
            if !self.fill()? {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        };
        let text = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let mut lines = text.split("\r\n");
        let start = lines.next().unwrap_or_default().to_string();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Ok(Some(Head { start, headers }))
    }

    /// The body the head announces, de-chunked. A response without a
    /// length runs to EOF; a request without one has none.
    fn read_body(&mut self, head: &Head, response: bool) -> io::Result<Vec<u8>> {
        if response && head.bodiless_status() {
            return Ok(Vec::new());
        }
        let chunked = head
            .get("transfer-encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
        if chunked {
            let mut body = Vec::new();
            loop {
                let line = self.read_line()?;
                let size = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size, 16)
                    .map_err(|_| io::Error::other(format!("bad chunk size {line:?}")))?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    while !self.read_line()?.is_empty() {}
                    return Ok(body);
                }
                body.extend(self.take(size)?);
                self.take(2)?;
            }
        }
        if let Some(len) = head.get("content-length") {
            let len = len
                .parse()
                .map_err(|_| io::Error::other(format!("bad content-length {len}")))?;
            return self.take(len);
        }
        if !response {
            return Ok(Vec::new());
        }
        while self.fill()? {}
        Ok(std::mem::take(&mut self.buf))
    }

    fn take(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if !self.fill()? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn read_line(&mut self) -> io::Result<String> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..i]).into_owned();
                self.buf.drain(..i + 2);
                return Ok(line);
            }
            if !self.fill()? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Holds a hung request's connection until the client gives up on it
    /// (or the proxy stops).
    fn wait_for_close(&mut self) -> io::Result<()> {
        while self.fill()? {
            self.buf.clear();
        }
        Ok(())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
