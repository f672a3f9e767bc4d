//! The object store and the uploader against a real S3 server (s3s-fs).

mod common;

use std::time::Duration;

use common::{empty_bucket, make_files, Server};
use ggninja_remote::{Error, RetryPolicy, Uploader};
use ggninja_store::hash::{ContentHash, Kind};

macro_rules! server_or_skip {
    () => {
        match Server::start() {
            Some(server) => server,
            None => return,
        }
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip() {
    let server = server_or_skip!();
    let store = server.store().await;

    let hash = store.put(&b"int main() { return 0; }\n"[..]).await.unwrap();
    assert_eq!(
        hash,
        ContentHash::of(Kind::Value, b"int main() { return 0; }\n")
    );
    assert!(store.exists(&hash).await.unwrap());
    assert_eq!(
        &store.get(&hash).await.unwrap()[..],
        b"int main() { return 0; }\n"
    );
    // Flat keys: the printed hash is the object's name.
    assert!(server.bucket_dir().join(hash.to_string()).exists());

    let thunk = store.put_as(Kind::Thunk, &b"{}"[..]).await.unwrap();
    assert!(thunk.to_string().starts_with('T'));
    assert_eq!(&store.get(&thunk).await.unwrap()[..], b"{}");

    let empty = store.put(Vec::new()).await.unwrap();
    assert!(store.get(&empty).await.unwrap().is_empty());

    let absent = ContentHash::of(Kind::Value, b"never stored");
    assert!(!store.exists(&absent).await.unwrap());
    assert!(matches!(store.get(&absent).await, Err(Error::NotFound(h)) if h == absent));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_object_is_an_error_never_data() {
    let server = server_or_skip!();
    let store = server.store().await;
    let hash = store.put(&b"the real bytes"[..]).await.unwrap();
    let key = store.key(&hash);
    let overwrite = |body: &'static [u8]| {
        let store = store.clone();
        let key = key.clone();
        async move {
            store
                .client()
                .put_object()
                .bucket(&store.settings().bucket)
                .key(key)
                .body(body.to_vec().into())
                .send()
                .await
                .unwrap();
        }
    };

    // Same size, other bytes: HEAD cannot tell, GET must.
    overwrite(b"the fake bytes").await;
    assert!(store.exists(&hash).await.unwrap());
    match store.get(&hash).await {
        Err(Error::Corrupt {
            expected,
            actual,
            size,
        }) => {
            assert_eq!(expected, hash);
            assert_eq!(actual, ContentHash::of(Kind::Value, b"the fake bytes"));
            assert_eq!(size, 14);
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }

    // Another size: HEAD already says it is not our object.
    overwrite(b"short").await;
    assert!(!store.exists(&hash).await.unwrap());
    assert!(matches!(store.get(&hash).await, Err(Error::Corrupt { .. })));

    // Putting the real bytes again repairs it.
    store.put(&b"the real bytes"[..]).await.unwrap();
    assert_eq!(&store.get(&hash).await.unwrap()[..], b"the real bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_that_no_longer_matches_its_hash_is_refused() {
    let server = server_or_skip!();
    let mut settings = server.settings();
    // s3s-fs answers a payload mismatch with 500 (AWS: 400
    // XAmzContentSHA256Mismatch), which is retried; keep the retries short.
    settings.retry = RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
    };
    let store = server.store_with(settings).await;
    let dir = tempfile::tempdir().unwrap();
    let files = make_files(dir.path(), 2, 1000);

    // Same size, other bytes: the server checks the payload against the
    // signed SHA-256 (the hash) and refuses it.
    std::fs::write(&files[0].1, vec![b'x'; 1000]).unwrap();
    let err = store.put_file(&files[0].0, &files[0].1).await.unwrap_err();
    match &err {
        Error::S3 { op: "PUT", .. } => {}
        other => panic!("expected a refused PUT, got {other:?}"),
    }
    assert!(!store.exists(&files[0].0).await.unwrap());

    // Another size: caught before sending.
    std::fs::write(&files[1].1, b"shorter").unwrap();
    assert!(matches!(
        store.put_file(&files[1].0, &files[1].1).await,
        Err(Error::SourceChanged { actual: 7, .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_objects_are_not_uploaded_again() {
    let server = server_or_skip!();
    let store = server.store().await;
    let dir = tempfile::tempdir().unwrap();
    let files = make_files(dir.path(), 40, 5000);

    let uploader = Uploader::new(store.clone());
    // Duplicates in one call count once.
    let mut items = files.clone();
    items.extend(files[..5].iter().cloned());
    let first = uploader.upload(items).await.unwrap();
    assert_eq!(
        (first.items, first.uploaded, first.already_present),
        (40, 40, 0)
    );
    assert_eq!(first.bytes_uploaded, 40 * 5000);
    let after_first = store.counts();
    assert_eq!((after_first.heads, after_first.puts), (40, 40));

    // Same run: known, so not even a HEAD.
    let again = uploader.upload(files.clone()).await.unwrap();
    assert_eq!((again.already_known, again.uploaded), (40, 0));
    assert_eq!(store.counts(), after_first);

    // A new run: one HEAD each, no PUT.
    let next_run = Uploader::new(store.clone());
    let report = next_run.upload(files.clone()).await.unwrap();
    assert_eq!((report.already_present, report.uploaded), (40, 0));
    let counts = store.counts();
    assert_eq!((counts.heads, counts.puts), (80, 40));

    // Half old, half new: only the new ones go up.
    let more = make_files(&dir.path().join(""), 0, 0);
    assert!(more.is_empty());
    let new_dir = tempfile::tempdir().unwrap();
    let new_files: Vec<_> = make_files(new_dir.path(), 60, 5000)
        .into_iter()
        .skip(40)
        .collect();
    let mixed = next_run
        .upload(files.iter().cloned().chain(new_files.iter().cloned()))
        .await
        .unwrap();
    assert_eq!((mixed.already_known, mixed.uploaded), (40, 20));
    assert_eq!(store.counts().puts, 60);
}

/// Small objects go up without a HEAD (one request each), larger ones
/// are asked for first; either way each is PUT once per run and lands
/// whole, and one item alone is sent like many.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_objects_are_put_without_asking() {
    let server = server_or_skip!();
    let store = server.store().await;
    let (small_dir, large_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let small = make_files(small_dir.path(), 20, 3000);
    let large = make_files(large_dir.path(), 10, 9000);

    let uploader = Uploader::with_blind_puts(store.clone(), 8, 4096);
    let all: Vec<_> = small.iter().chain(&large).cloned().collect();
    let report = uploader.upload(all.clone()).await.unwrap();
    assert_eq!((report.uploaded, report.blind), (30, 20));
    assert_eq!((store.counts().heads, store.counts().puts), (10, 30));
    for (hash, path) in &all {
        assert_eq!(store.get(hash).await.unwrap(), std::fs::read(path).unwrap());
    }

    // Present already: the small ones are sent again (the bytes, not a
    // second object), the large ones found by HEAD.
    let next_run = Uploader::with_blind_puts(store.clone(), 8, 4096);
    let report = next_run.upload(all.clone()).await.unwrap();
    assert_eq!((report.blind, report.already_present), (20, 10));
    let single = Uploader::with_blind_puts(store.clone(), 8, 4096);
    let one = single.upload(vec![large[0].clone()]).await.unwrap();
    assert_eq!((one.items, one.already_present), (1, 1));
    let one = single.upload(vec![large[0].clone()]).await.unwrap();
    assert_eq!(one.already_known, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emptied_bucket_costs_uploads_never_a_failure() {
    let server = server_or_skip!();
    let store = server.store().await;
    let dir = tempfile::tempdir().unwrap();
    let files = make_files(dir.path(), 30, 4000);

    let uploader = Uploader::new(store.clone());
    assert_eq!(uploader.upload(files.clone()).await.unwrap().uploaded, 30);
    empty_bucket(&store).await;
    assert!(!store.exists(&files[0].0).await.unwrap());

    // A new run asks the bucket (HEAD: missing) and uploads again.
    let next_run = Uploader::new(store.clone());
    let report = next_run.upload(files.clone()).await.unwrap();
    assert_eq!((report.uploaded, report.already_present), (30, 0));
    for (hash, path) in &files {
        assert_eq!(store.get(hash).await.unwrap(), std::fs::read(path).unwrap());
    }

    // Within a run the known set goes stale when the bucket is emptied;
    // `forget` (a function reported the object missing) heals it.
    empty_bucket(&store).await;
    let stale = next_run.upload(files.clone()).await.unwrap();
    assert_eq!((stale.already_known, stale.uploaded), (30, 0));
    for (hash, _) in &files {
        next_run.forget(hash);
    }
    let healed = next_run.upload(files.clone()).await.unwrap();
    assert_eq!(healed.uploaded, 30);
    for (hash, _) in &files {
        assert!(store.exists(hash).await.unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_mid_upload_is_retried_to_completion() {
    let mut server = server_or_skip!();
    let store = server.store().await;
    let dir = tempfile::tempdir().unwrap();
    let files = make_files(dir.path(), 800, 20_000);

    let uploader = Uploader::with_concurrency(store.clone(), 16);
    let upload = tokio::spawn({
        let uploader = uploader.clone();
        let files = files.clone();
        async move { uploader.upload(files).await }
    });
    // Let part of it land, then pull the server away for a while.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::fs::read_dir(server.bucket_dir()).unwrap().count() < 50 {
        assert!(std::time::Instant::now() < deadline, "no upload progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.stop();
    tokio::time::sleep(Duration::from_millis(400)).await;
    server.restart();

    let report = upload.await.unwrap().expect("retries complete the upload");
    assert_eq!(report.items, 800);
    assert_eq!(report.uploaded + report.already_present, 800);
    assert!(
        report.retries > 0,
        "the restart should have cost retries: {report:?}"
    );
    // Checked concurrently: s3s-fs answers one GET at a time ~40 ms late
    // (Nagle against delayed ACKs: it writes headers and body apart).
    let mut gets = tokio::task::JoinSet::new();
    for (hash, _) in files {
        let store = store.clone();
        gets.spawn(async move { store.get(&hash).await.map(|b| b.len()) });
    }
    while let Some(got) = gets.join_next().await {
        assert_eq!(got.unwrap().unwrap(), 20_000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_gone_is_a_clear_error_past_the_retry_cap() {
    let mut server = server_or_skip!();
    let mut settings = server.settings();
    settings.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(20),
    };
    let store = server.store_with(settings).await;
    let dir = tempfile::tempdir().unwrap();
    let files = make_files(dir.path(), 5, 100);
    server.stop();

    let started = std::time::Instant::now();
    let err = Uploader::new(store.clone())
        .upload(files)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    match &err {
        Error::S3 {
            op: "HEAD",
            attempts: 3,
            retryable: true,
            ..
        } => {}
        other => panic!("expected HEAD failing 3 times, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("after 3 attempt(s) (retry cap reached)"),
        "{text}"
    );
    assert_eq!(store.counts().retries, 5 * 2);
}
