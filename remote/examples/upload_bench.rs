//! Upload benchmark client (driven by bench/upload.sh): uploads every file
//! of a directory to a bucket and prints the time, as one of
//!   ggninja DIR BUCKET [CONCURRENCY]  the uploader as the engine runs it:
//!                                     objects under `BLIND_PUT_BELOW` PUT
//!                                     without a HEAD, signed with the content
//!                                     hash
//!   ggninja-head DIR BUCKET [CONC.]   every object HEAD first, then PUT if
//!                                     missing (run it again on the same
//!                                     bucket for HEADs only)
//!   raw DIR BUCKET [CONCURRENCY]      the simplest fast client: a PUT per
//!                                     file with the SDK's defaults, no HEAD
//!   raw-lean DIR BUCKET [CONCURRENCY] the same without payload hashing and
//!                                     CRC checksums (the least work per PUT)
//! Endpoint, region and credentials come from the environment
//! (AWS_ENDPOINT_URL_S3 ...). Hashing the files is not timed: a build has
//! the hashes already.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use ggninja_remote::upload::BLIND_PUT_BELOW;
use ggninja_remote::{ObjectStore, S3Settings, Uploader};
use ggninja_store::hash::{ContentHash, Kind};
use tokio::task::JoinSet;

fn files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("reading the directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: upload_bench ggninja|ggninja-head|raw|raw-lean DIR BUCKET [CONCURRENCY]");
        std::process::exit(2);
    }
    let (mode, dir, bucket) = (args[1].as_str(), &args[2], args[3].clone());
    let files = files(dir);
    match mode {
        "ggninja" | "ggninja-head" => {
            let blind_below = if mode == "ggninja" {
                BLIND_PUT_BELOW
            } else {
                0
            };
            let concurrency = args.get(4).map_or(64, |c| c.parse().expect("a number"));
            let t = Instant::now();
            let items: Vec<(ContentHash, PathBuf)> = files
                .iter()
                .map(|p| {
                    (
                        ContentHash::of(Kind::Value, &std::fs::read(p).unwrap()),
                        p.clone(),
                    )
                })
                .collect();
            let hashing = t.elapsed().as_secs_f64();
            let store = Arc::new(ObjectStore::connect(S3Settings::new(bucket)).await.unwrap());
            let t = Instant::now();
            let report = Uploader::with_blind_puts(store.clone(), concurrency, blind_below)
                .upload(items)
                .await
                .unwrap();
            let seconds = t.elapsed().as_secs_f64();
            let c = store.counts();
            println!(
                "ggninja objects={} seconds={seconds:.3} hashing_seconds={hashing:.3} uploaded={} present={} puts={} heads={} retries={}",
                files.len(),
                report.uploaded,
                report.already_present,
                c.puts,
                c.heads,
                c.retries
            );
        }
        "raw" | "raw-lean" => {
            let lean = mode == "raw-lean";
            let concurrency = args.get(4).map_or(128, |c| c.parse().expect("a number"));
            let shared = aws_config::defaults(BehaviorVersion::latest()).load().await;
            let mut config = aws_sdk_s3::config::Builder::from(&shared).force_path_style(true);
            if lean {
                config = config
                    .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                    .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
            }
            let client = aws_sdk_s3::Client::from_conf(config.build());
            let count = files.len();
            let t = Instant::now();
            let mut tasks = JoinSet::new();
            for path in files {
                while tasks.len() >= concurrency {
                    tasks.join_next().await.unwrap().unwrap();
                }
                let (client, bucket) = (client.clone(), bucket.clone());
                tasks.spawn(async move {
                    let bytes = tokio::fs::read(&path).await.unwrap();
                    let key = path.file_name().unwrap().to_str().unwrap().to_string();
                    let put = client
                        .put_object()
                        .bucket(bucket)
                        .key(key)
                        .body(bytes.into());
                    if lean {
                        put.customize().disable_payload_signing().send().await
                    } else {
                        put.send().await
                    }
                    .expect("PUT");
                });
            }
            while let Some(done) = tasks.join_next().await {
                done.unwrap();
            }
            println!(
                "{mode} objects={count} seconds={:.3}",
                t.elapsed().as_secs_f64()
            );
        }
        other => panic!("unknown mode {other}"),
    }
}
