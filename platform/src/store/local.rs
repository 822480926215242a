//! The folder adapter of the object store: the key is the relative path; writes go to a temporary
//! file beside the target and are renamed over it, so readers never see a part.

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use super::object::{Fetched, KeyPrefix, ObjectKey, StoreError, Version};
use crate::BoxError;

/// A folder standing in for the bucket: the key is the relative path.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl LocalStore {
    pub(super) fn new(root: &Path) -> LocalStore {
        LocalStore { root: root.to_owned() }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(super) fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }

    fn path(&self, key: &ObjectKey) -> PathBuf {
        key.as_str().split('/').fold(self.root.clone(), |path, segment| path.join(segment))
    }

    /// Writes a temporary file beside the target and renames it over the target: atomic on one filesystem.
    /// The content type is not kept: locally it follows from the key's extension.
    pub(super) async fn put(&self, key: &ObjectKey, body: Vec<u8>, _content_type: &str) -> Result<(), StoreError> {
        let path = self.path(key);
        let error = |source: std::io::Error| StoreError::Write {
            key: key.to_string(),
            store: self.describe(),
            source: source.into(),
        };
        let dir = path.parent().expect("a key has at least one segment under the root");
        tokio::fs::create_dir_all(dir).await.map_err(error)?;
        let file_name = path.file_name().expect("a key's last segment is a name").to_string_lossy();
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{file_name}.{}.{n}.tmp", std::process::id()));
        if let Err(err) = tokio::fs::write(&temp, &body).await {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(error(err));
        }
        if let Err(err) = tokio::fs::rename(&temp, &path).await {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(error(err));
        }
        Ok(())
    }

    pub(super) async fn get(&self, key: &ObjectKey) -> Result<Option<Vec<u8>>, StoreError> {
        match tokio::fs::read(self.path(key)).await {
            Ok(body) => Ok(Some(body)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(StoreError::Read { key: key.to_string(), store: self.describe(), source: err.into() }),
        }
    }

    /// Opens the file and compares the identity of what was opened (inode, size, modification time)
    /// with `seen`: a write renames a new file over the key, so the open file's identity and its
    /// body always belong together. One blocking task for the open, the stat and the read.
    pub(super) async fn get_if_changed(&self, key: &ObjectKey, seen: Option<&Version>) -> Result<Fetched, StoreError> {
        let path = self.path(key);
        let seen = seen.cloned();
        let fetched = tokio::task::spawn_blocking(move || read_if_changed(&path, seen.as_ref())).await;
        let error = |source: BoxError| StoreError::Read { key: key.to_string(), store: self.describe(), source };
        match fetched {
            Ok(Ok(fetched)) => Ok(fetched),
            Ok(Err(err)) => Err(error(err.into())),
            Err(err) => Err(error(err.into())),
        }
    }

    pub(super) async fn list(&self, prefix: &KeyPrefix) -> Result<Vec<ObjectKey>, StoreError> {
        let root = self.root.clone();
        let prefix_text = prefix.as_str().to_owned();
        let listed = tokio::task::spawn_blocking(move || list_files(&root, &prefix_text)).await;
        let error = |source: BoxError| StoreError::List { prefix: prefix.to_string(), store: self.describe(), source };
        match listed {
            Ok(Ok(keys)) => Ok(keys),
            Ok(Err(err)) => Err(error(err.into())),
            Err(err) => Err(error(err.into())),
        }
    }
}

/// The file at `path` unless its identity is `seen`.
fn read_if_changed(path: &Path, seen: Option<&Version>) -> std::io::Result<Fetched> {
    use std::{io::Read, os::unix::fs::MetadataExt};
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Fetched::Missing),
        Err(err) => return Err(err),
    };
    let meta = file.metadata()?;
    let version = Version(format!("{}-{}-{}.{:09}", meta.ino(), meta.len(), meta.mtime(), meta.mtime_nsec()));
    if seen == Some(&version) {
        return Ok(Fetched::Unchanged);
    }
    let mut body = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or_default());
    file.read_to_end(&mut body)?;
    Ok(Fetched::Changed { body, version })
}

/// Walks the prefix's folder and returns the keys of the files under it.
fn list_files(root: &Path, prefix: &str) -> std::io::Result<Vec<ObjectKey>> {
    let start = prefix.split('/').filter(|it| !it.is_empty()).fold(root.to_owned(), |path, it| path.join(it));
    let mut keys = Vec::new();
    let mut pending = vec![start];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(it) => it,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path);
                continue;
            }
            let Ok(relative) = path.strip_prefix(root) else { continue };
            let text: Vec<String> =
                relative.components().map(|it| it.as_os_str().to_string_lossy().into_owned()).collect();
            // Temporary files of writes in progress and anything that is not a valid key are not objects.
            if let Ok(key) = ObjectKey::new(&text.join("/")) {
                let is_temp = text.last().is_some_and(|name| name.starts_with('.'));
                if key.as_str().starts_with(prefix) && !is_temp {
                    keys.push(key);
                }
            }
        }
    }
    keys.sort();
    Ok(keys)
}
