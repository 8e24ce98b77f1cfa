//! Content-addressed blobs on local disk: a file's name is the SHA-256 of its bytes, so storing twice is free and
//! a name can never point at changed content.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Blobs under one directory, fanned out by the first two bytes of the hash.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// Blobs under `root` (created on first write).
    pub fn local(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, hash: &str) -> Option<PathBuf> {
        // Only a 64-character lower-case hex name is a blob name: nothing else reaches the file system.
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return None;
        }
        Some(self.root.join(&hash[..2]).join(&hash[2..4]).join(hash))
    }

    /// Stores bytes and returns their hash; the write is atomic.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let hash = hex::encode(Sha256::digest(bytes));
        let path = self.path(&hash).expect("a SHA-256 hex name is valid");
        if path.exists() {
            return Ok(hash);
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".{hash}.{}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)?;
        Ok(hash)
    }

    /// The bytes of a blob, if it exists.
    pub fn get(&self, hash: &str) -> std::io::Result<Option<Vec<u8>>> {
        let Some(path) = self.path(hash) else { return Ok(None) };
        match std::fs::read(path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_named_by_content_and_names_are_checked() {
        let dir = std::env::temp_dir().join(format!("wujia-blobs-{}", std::process::id()));
        let store = BlobStore::local(&dir);
        let a = store.put(b"photo").unwrap();
        assert_eq!(a, store.put(b"photo").unwrap());
        assert_eq!(store.get(&a).unwrap().as_deref(), Some(b"photo".as_slice()));
        assert_eq!(store.get("../../etc/passwd").unwrap(), None);
        assert_eq!(store.get(&"0".repeat(64)).unwrap(), None);
        let _ = std::fs::remove_dir_all(dir);
    }
}
