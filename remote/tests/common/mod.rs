//! A real S3 server for the tests: s3s-fs on 127.0.0.1, a free port and a
//! temporary data directory, stopped by PID when the guard drops (panics
//! included). Missing binary: the test is skipped with a message, unless
//! `CI` is set, where that is a failure.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use ggninja_remote::{ObjectStore, S3Settings};

pub const BUCKET: &str = "ggninja-test";

fn s3s_fs_binary() -> PathBuf {
    let cache = std::env::var_os("GGNINJA_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                .join(".cache/ggninja-tests")
        });
    cache.join("aws-tools/s3s-fs/bin/s3s-fs")
}

/// Dummy credentials and nothing from the user's AWS setup; never the
/// instance metadata address. Set once, before any test touches the SDK.
pub fn isolate_aws_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for var in [
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_S3",
            "AWS_DEFAULT_REGION",
        ] {
            std::env::remove_var(var);
        }
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testtesttest");
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/ggninja-aws-config");
        std::env::set_var(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/ggninja-aws-creds",
        );
    });
}

pub struct Server {
    binary: PathBuf,
    child: Option<Child>,
    pub port: u16,
    data: tempfile::TempDir,
}

impl Server {
    /// Starts a server, or returns `None` (test skipped) when s3s-fs is not
    /// installed and `CI` is unset.
    pub fn start() -> Option<Server> {
        isolate_aws_env();
        let binary = s3s_fs_binary();
        if !binary.exists() {
            let msg = format!(
                "s3s-fs not found at {} (install: scripts/local-aws.sh install)",
                binary.display()
            );
            if std::env::var_os("CI").is_some() {
                panic!("{msg}");
            }
            eprintln!("SKIPPED: {msg}");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = Server {
            binary,
            child: None,
            port,
            data: tempfile::tempdir().expect("temp dir"),
        };
        server.launch();
        Some(server)
    }

    fn launch(&mut self) {
        let child = Command::new(&self.binary)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", "test", "--secret-key", "testtesttest"])
            .arg(self.data.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting s3s-fs");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "s3s-fs did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the server (by its PID) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and data.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Where s3s-fs keeps the bucket's objects.
    pub fn bucket_dir(&self) -> PathBuf {
        self.data.path().join(BUCKET)
    }

    pub fn settings(&self) -> S3Settings {
        let mut settings = S3Settings::new(BUCKET);
        settings.endpoint_url = Some(self.endpoint());
        settings
    }

    /// A store on a fresh bucket.
    pub async fn store(&self) -> Arc<ObjectStore> {
        self.store_with(self.settings()).await
    }

    pub async fn store_with(&self, settings: S3Settings) -> Arc<ObjectStore> {
        let store = ObjectStore::connect(settings).await.expect("S3 client");
        match store.client().create_bucket().bucket(BUCKET).send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_bucket_already_owned_by_you()) => {}
            Err(e) => panic!(
                "creating the bucket: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            ),
        }
        Arc::new(store)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Deletes every object in the bucket through the S3 API.
pub async fn empty_bucket(store: &ObjectStore) {
    let client = store.client();
    let bucket = &store.settings().bucket;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .send()
            .await
            .expect("listing");
        let keys: Vec<String> = page
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_string))
            .collect();
        if keys.is_empty() {
            return;
        }
        for key in keys {
            client
                .delete_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .expect("deleting");
        }
    }
}

/// `n` files of `size` bytes with distinct contents, with their hashes.
pub fn make_files(
    dir: &Path,
    n: usize,
    size: usize,
) -> Vec<(ggninja_store::hash::ContentHash, PathBuf)> {
    (0..n)
        .map(|i| {
            let mut bytes = Vec::with_capacity(size);
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ (i as u64).wrapping_mul(0x1000_0000_01b3);
            while bytes.len() < size {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                bytes.extend_from_slice(&x.to_le_bytes());
            }
            bytes.truncate(size);
            let path = dir.join(format!("f{i}"));
            std::fs::write(&path, &bytes).expect("writing a test file");
            (
                ggninja_store::hash::ContentHash::of(ggninja_store::hash::Kind::Value, &bytes),
                path,
            )
        })
        .collect()
}
