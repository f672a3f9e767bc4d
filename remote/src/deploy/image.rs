//! A `Tree` written as an OCI image layout (image-spec v1.0: `oci-layout`,
//! `index.json`, content-addressed `blobs/sha256/`): one gzip layer, the
//! image config (entrypoint, PATH, amd64/linux) and the manifest. The layer
//! is reproducible — entries sorted, mtime 0, uid/gid 0, no user names, a
//! gzip header without time — so the same toolchain gives the same digest.
//! Owns the bytes of the layout; ignores registries and pushing.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use ggninja_executor::disk;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::tree::{Node, Tree};
use super::BOOTSTRAP;

const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";

/// The image's PATH (Lambda's own, plus the host's usual dirs).
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: changed while it was written into the layer ({expected} bytes expected)", path.display())]
    Changed { path: PathBuf, expected: u64 },
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The manifest's digest (`sha256:…`): the image's name by content.
    pub digest: String,
    pub layer_digest: String,
    /// The gzip layer's size.
    pub layer_bytes: u64,
    /// Regular files in the layer, and their bytes before compression.
    pub files: u64,
    pub file_bytes: u64,
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    sha: Sha256,
    len: u64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Hashing {
            inner,
            sha: Sha256::new(),
            len: 0,
        }
    }

    /// `sha256:<hex>`, the size, and the inner writer.
    fn finish(self) -> (String, u64, W) {
        (digest_of(self.sha), self.len, self.inner)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn digest_of(sha: Sha256) -> String {
    let hex: String = sha.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Writes `tree` as an OCI image layout in `dir` (created; blobs of an
/// earlier image there are removed).
pub fn write_layout(tree: &Tree, dir: &Path) -> Result<Written, ImageError> {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).map_err(io_at(&blobs))?;
    let layer = write_layer(tree, &blobs)?;
    let config = json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Entrypoint": [BOOTSTRAP],
            "Env": [format!("PATH={PATH}")],
            "WorkingDir": "/var/task",
        },
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
        "history": [{"created_by": "ggninja -t lambda-deploy"}],
    });
    let (config_digest, config_size) = write_blob(&blobs, &config)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": LAYER_TYPE, "digest": layer.digest, "size": layer.size}],
    });
    let (digest, manifest_size) = write_blob(&blobs, &manifest)?;
    let index = json!({
        "schemaVersion": 2,
        "mediaType": INDEX_TYPE,
        "manifests": [{
            "mediaType": MANIFEST_TYPE,
            "digest": digest,
            "size": manifest_size,
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"org.opencontainers.image.ref.name": "latest"},
        }],
    });
    write_file(&dir.join("index.json"), &to_bytes(&index))?;
    write_file(
        &dir.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )?;
    remove_other_blobs(&blobs, &[&layer.digest, &config_digest, &digest])?;
    Ok(Written {
        digest,
        layer_digest: layer.digest,
        layer_bytes: layer.size,
        files: layer.files,
        file_bytes: layer.file_bytes,
    })
}

struct Layer {
    digest: String,
    size: u64,
    /// The uncompressed tar's digest (the config's `diff_ids`).
    diff_id: String,
    files: u64,
    file_bytes: u64,
}

/// The layer: a tar of every node (paths without the leading `/`), gzip'd
/// into a temp file, then renamed to its digest.
fn write_layer(tree: &Tree, blobs: &Path) -> Result<Layer, ImageError> {
    let file = disk::beside(&blobs.join("layer")).map_err(io_at(blobs))?;
    let tmp = file.path().to_path_buf();
    let gz = GzEncoder::new(Hashing::new(BufWriter::new(file)), Compression::default());
    let mut tar = tar::Builder::new(Hashing::new(gz));
    let (mut files, mut file_bytes) = (0, 0);
    for (path, node) in tree.nodes() {
        let size = append(&mut tar, path, node)?;
        if let Node::File { .. } = node {
            files += 1;
            file_bytes += size;
        }
    }
    let finish = |e| io_at(&tmp)(e);
    let raw = tar.into_inner().map_err(finish)?;
    let (diff_id, _, gz) = raw.finish();
    let (digest, size, out) = gz.finish().map_err(finish)?.finish();
    let file = out.into_inner().map_err(|e| finish(e.into_error()))?;
    let at = blob_path(blobs, &digest);
    file.persist(&at).map_err(|e| io_at(&at)(e.error))?;
    Ok(Layer {
        digest,
        size,
        diff_id,
        files,
        file_bytes,
    })
}

/// One tar entry; returns a regular file's size.
fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &Path,
    node: &Node,
) -> Result<u64, ImageError> {
    let name = path.strip_prefix("/").unwrap_or(path);
    let mut header = tar::Header::new_gnu();
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    let err = io_at(path);
    match node {
        Node::Dir { mode } => {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(*mode);
            header.set_size(0);
            tar.append_data(&mut header, name, io::empty())
                .map_err(err)?;
            Ok(0)
        }
        Node::Symlink { target } => {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_mode(0o777);
            header.set_size(0);
            tar.append_link(&mut header, name, target).map_err(err)?;
            Ok(0)
        }
        Node::File { mode, source } => {
            let file = File::open(source).map_err(io_at(source))?;
            let size = file.metadata().map_err(io_at(source))?.len();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(*mode);
            header.set_size(size);
            // Exactly `size` bytes, or the archive would be corrupt.
            let mut counted = Counted {
                inner: file.take(size),
                n: 0,
            };
            tar.append_data(&mut header, name, &mut counted)
                .map_err(io_at(source))?;
            if counted.n != size {
                return Err(ImageError::Changed {
                    path: source.clone(),
                    expected: size,
                });
            }
            Ok(size)
        }
    }
}

/// A reader that counts what it gave.
struct Counted<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

fn to_bytes(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON values always serialize")
}

/// Writes a JSON blob; its digest and size.
fn write_blob(blobs: &Path, value: &serde_json::Value) -> Result<(String, u64), ImageError> {
    let bytes = to_bytes(value);
    let digest = digest_of(Sha256::new_with_prefix(&bytes));
    write_file(&blob_path(blobs, &digest), &bytes)?;
    Ok((digest, bytes.len() as u64))
}

fn blob_path(blobs: &Path, digest: &str) -> PathBuf {
    blobs.join(digest.trim_start_matches("sha256:"))
}

/// Temp file + rename: a reader never sees half a file.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ImageError> {
    let mut tmp = disk::beside(path).map_err(io_at(path))?;
    tmp.write_all(bytes).map_err(io_at(path))?;
    tmp.persist(path)
        .map(drop)
        .map_err(|e| io_at(path)(e.error))
}

/// Blobs of earlier images in the same dir would only take space.
fn remove_other_blobs(blobs: &Path, keep: &[&str]) -> Result<(), ImageError> {
    let keep: Vec<&str> = keep
        .iter()
        .map(|d| d.trim_start_matches("sha256:"))
        .collect();
    for entry in std::fs::read_dir(blobs).map_err(io_at(blobs))? {
        let entry = entry.map_err(io_at(blobs))?;
        let name = entry.file_name();
        if !keep.iter().any(|k| name.as_os_str() == *k) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

fn io_at(path: &Path) -> impl Fn(io::Error) -> ImageError + '_ {
    move |source| ImageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_json(dir: &Path, digest: &str) -> serde_json::Value {
        let bytes = std::fs::read(blob_path(&dir.join("blobs/sha256"), digest)).unwrap();
        assert_eq!(digest_of(Sha256::new_with_prefix(&bytes)), digest);
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn a_layout_is_reproducible_and_its_digests_match() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("bin");
        std::fs::write(&src, vec![7u8; 5000]).unwrap();
        let mut tree = Tree::default();
        tree.add_file_as(Path::new(BOOTSTRAP), &src, 0o755).unwrap();
        tree.add_dir(Path::new("/tmp"), 0o1777);
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        let first = write_layout(&tree, &a).unwrap();
        // Something else in the way: removed.
        std::fs::write(a.join("blobs/sha256/stale"), "x").unwrap();
        assert_eq!(write_layout(&tree, &a).unwrap(), first);
        assert!(!a.join("blobs/sha256/stale").exists());
        assert_eq!(write_layout(&tree, &b).unwrap().digest, first.digest);
        assert_eq!((first.files, first.file_bytes), (1, 5000));

        let manifest = read_json(&a, &first.digest);
        let config = read_json(&a, manifest["config"]["digest"].as_str().unwrap());
        assert_eq!(config["config"]["Entrypoint"][0], BOOTSTRAP);
        let layer = std::fs::read(blob_path(&a.join("blobs/sha256"), &first.layer_digest)).unwrap();
        assert_eq!(layer.len() as u64, first.layer_bytes);
        let mut names = Vec::new();
        let gz = flate2::read::GzDecoder::new(&layer[..]);
        for entry in tar::Archive::new(gz).entries().unwrap() {
            let entry = entry.unwrap();
            let h = entry.header();
            assert_eq!((h.uid().unwrap(), h.mtime().unwrap()), (0, 0));
            names.push(entry.path().unwrap().display().to_string());
        }
        assert_eq!(
            names,
            ["tmp", "var", "var/runtime", "var/runtime/bootstrap"]
        );
    }
}
