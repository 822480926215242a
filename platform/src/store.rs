//! The object store port: where reports and job state live. A folder locally, a bucket in the cloud.
//!
//! Keys are [`ObjectKey`]s, checked once when made, so no adapter ever sees `..`, an absolute path
//! or an empty segment.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use aws_sdk_s3::primitives::ByteStream;

use crate::{date::TradeDate, strategy::DmaParams};

/// A boxed error from an adapter's client.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An object key: `/`-separated segments of ASCII letters, digits, `.`, `_` and `-`; no empty, `.`
/// or `..` segment; at most 1024 bytes. Valid as an S3 key and as a relative path on any OS.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey(String);

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("object key {key:?} is not allowed: {reason}")]
pub struct InvalidKey {
    /// The rejected key.
    pub key: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl ObjectKey {
    /// Checks and wraps a key.
    pub fn new(key: &str) -> Result<ObjectKey, InvalidKey> {
        let invalid = |reason| Err(InvalidKey { key: key.to_owned(), reason });
        if key.is_empty() || key.len() > 1024 {
            return invalid("it must have 1 to 1024 bytes");
        }
        if key.starts_with('/') {
            return invalid("it must not be absolute");
        }
        for segment in key.split('/') {
            if segment.is_empty() {
                return invalid("it has an empty segment");
            }
            if segment == "." || segment == ".." {
                return invalid("it has a `.` or `..` segment");
            }
            if !segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
                return invalid("only ASCII letters, digits, `.`, `_`, `-` and `/` are allowed");
            }
        }
        Ok(ObjectKey(key.to_owned()))
    }

    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored report of `params` for `date`, as text (`txt`) or JSON (`json`).
    pub fn report(params: &DmaParams, date: TradeDate, format: ReportFormat) -> ObjectKey {
        ObjectKey(format!("reports/{}/{date}.{}", params.id(), format.extension()))
    }

    /// The index of stored days of `params`: `reports/index/dma-11-22.json`, beside the day reports'
    /// folder so that folder holds nothing but one `.txt` and one `.json` per trading day.
    pub fn report_index(params: &DmaParams) -> ObjectKey {
        ObjectKey(format!("reports/index/{}.json", params.id()))
    }

    /// The marker that `date`'s report was published.
    pub fn published_marker(date: TradeDate) -> ObjectKey {
        ObjectKey(format!("state/published/{date}"))
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A key prefix that names a folder: valid key segments followed by `/`, e.g. `reports/dma-11-22/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    /// Checks and wraps a prefix: a valid key followed by `/`.
    pub fn new(prefix: &str) -> Result<KeyPrefix, InvalidKey> {
        let Some(folder) = prefix.strip_suffix('/') else {
            return Err(InvalidKey { key: prefix.to_owned(), reason: "a prefix must end with `/`" });
        };
        ObjectKey::new(folder).map_err(|err| InvalidKey { key: prefix.to_owned(), reason: err.reason })?;
        Ok(KeyPrefix(prefix.to_owned()))
    }

    /// The reports of `params`: `reports/dma-11-22/`.
    pub fn reports(params: &DmaParams) -> KeyPrefix {
        KeyPrefix(format!("reports/{}/", params.id()))
    }

    /// The prefix text, ending in `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The two stored forms of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// The e-mail text.
    Text,
    /// The JSON with every number.
    Json,
}

impl ReportFormat {
    /// `txt` or `json`.
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Text => "txt",
            ReportFormat::Json => "json",
        }
    }

    /// The HTTP content type.
    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Text => "text/plain; charset=utf-8",
            ReportFormat::Json => "application/json",
        }
    }
}

/// Why an object-store operation failed. The message names the key and the store; the cause is `source`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading failed (a missing object is not an error: it is `None`).
    #[error("cannot read {key} from {store}")]
    Read { key: String, store: String, source: BoxError },
    /// Writing failed; nothing was half-written.
    #[error("cannot write {key} to {store}")]
    Write { key: String, store: String, source: BoxError },
    /// Listing failed.
    #[error("cannot list {prefix} in {store}")]
    List { prefix: String, store: String, source: BoxError },
}

/// The object store port.
#[derive(Debug, Clone)]
pub enum ObjectStore {
    /// An S3 bucket.
    S3(S3Store),
    /// A folder on disk.
    Local(LocalStore),
}

impl ObjectStore {
    /// A store on the folder `root` (created on first write).
    pub fn local(root: &Path) -> ObjectStore {
        ObjectStore::Local(LocalStore { root: root.to_owned() })
    }

    /// A store on the S3 bucket `bucket`, through `client` (see [`crate::aws::AwsConfig::s3`]).
    pub fn s3(client: aws_sdk_s3::Client, bucket: &str) -> ObjectStore {
        ObjectStore::S3(S3Store { client, bucket: bucket.to_owned() })
    }

    /// Where the objects are, for messages: `folder /x/y` or `bucket b`.
    pub fn describe(&self) -> String {
        match self {
            ObjectStore::S3(store) => store.describe(),
            ObjectStore::Local(store) => format!("folder {}", store.root.display()),
        }
    }

    /// Stores `body` under `key`, replacing what was there; readers see the old or the new object, never a part.
    pub async fn put(&self, key: &ObjectKey, body: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        match self {
            ObjectStore::S3(store) => store.put(key, body, content_type).await,
            ObjectStore::Local(store) => store.put(key, body, content_type).await,
        }
    }

    /// The object under `key`, or `None` when there is none.
    pub async fn get(&self, key: &ObjectKey) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            ObjectStore::S3(store) => store.get(key).await,
            ObjectStore::Local(store) => store.get(key).await,
        }
    }

    /// Every key under `prefix`, sorted.
    pub async fn list(&self, prefix: &KeyPrefix) -> Result<Vec<ObjectKey>, StoreError> {
        match self {
            ObjectStore::S3(store) => store.list(prefix).await,
            ObjectStore::Local(store) => store.list(prefix).await,
        }
    }
}

/// An S3 bucket. A missing key reads as `None`; every other failure names the bucket and the key.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Store {
    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn describe(&self) -> String {
        format!("bucket {}", self.bucket)
    }

    /// One `PutObject`: S3 replaces objects atomically, readers never see a part.
    async fn put(&self, key: &ObjectKey, body: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        let res = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(err) => Err(StoreError::Write { key: key.to_string(), store: self.describe(), source: err.into() }),
        }
    }

    async fn get(&self, key: &ObjectKey) -> Result<Option<Vec<u8>>, StoreError> {
        let error = |source: BoxError| StoreError::Read { key: key.to_string(), store: self.describe(), source };
        let res = self.client.get_object().bucket(&self.bucket).key(key.as_str()).send().await;
        let output = match res {
            Ok(it) => it,
            Err(err) if err.as_service_error().is_some_and(|it| it.is_no_such_key()) => return Ok(None),
            Err(err) => return Err(error(err.into())),
        };
        match output.body.collect().await {
            Ok(bytes) => Ok(Some(bytes.into_bytes().to_vec())),
            Err(err) => Err(error(err.into())),
        }
    }

    async fn list(&self, prefix: &KeyPrefix) -> Result<Vec<ObjectKey>, StoreError> {
        let mut pages =
            self.client.list_objects_v2().bucket(&self.bucket).prefix(prefix.as_str()).into_paginator().send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|err| StoreError::List {
                prefix: prefix.to_string(),
                store: self.describe(),
                source: err.into(),
            })?;
            // Objects whose keys this program would never write (e.g. put there by hand) are skipped.
            keys.extend(page.contents().iter().filter_map(|it| it.key()).filter_map(|it| ObjectKey::new(it).ok()));
        }
        keys.sort();
        Ok(keys)
    }
}

/// A folder standing in for the bucket: the key is the relative path.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl LocalStore {
    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &ObjectKey) -> PathBuf {
        key.as_str().split('/').fold(self.root.clone(), |path, segment| path.join(segment))
    }

    /// Writes a temporary file beside the target and renames it over the target: atomic on one filesystem.
    /// The content type is not kept: locally it follows from the key's extension.
    async fn put(&self, key: &ObjectKey, body: Vec<u8>, _content_type: &str) -> Result<(), StoreError> {
        let path = self.path(key);
        let error = |source: std::io::Error| StoreError::Write {
            key: key.to_string(),
            store: format!("folder {}", self.root.display()),
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

    async fn get(&self, key: &ObjectKey) -> Result<Option<Vec<u8>>, StoreError> {
        match tokio::fs::read(self.path(key)).await {
            Ok(body) => Ok(Some(body)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(StoreError::Read {
                key: key.to_string(),
                store: format!("folder {}", self.root.display()),
                source: err.into(),
            }),
        }
    }

    async fn list(&self, prefix: &KeyPrefix) -> Result<Vec<ObjectKey>, StoreError> {
        let root = self.root.clone();
        let prefix_text = prefix.as_str().to_owned();
        let listed = tokio::task::spawn_blocking(move || list_files(&root, &prefix_text)).await;
        let error = |source: BoxError| StoreError::List {
            prefix: prefix.to_string(),
            store: format!("folder {}", self.root.display()),
            source,
        };
        match listed {
            Ok(Ok(keys)) => Ok(keys),
            Ok(Err(err)) => Err(error(err.into())),
            Err(err) => Err(error(err.into())),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_could_escape_the_folder_are_refused() {
        for key in ["", "/etc/passwd", "a//b", "a/", "../x", "a/../b", "a/./b", "a\\b", "a b", "报告.txt"] {
            assert!(ObjectKey::new(key).is_err(), "{key:?}");
        }
        for key in ["reports/dma-11-22/20261127.txt", "state/published/20261127", "a", ".hidden"] {
            assert!(ObjectKey::new(key).is_ok(), "{key:?}");
        }
    }

    #[test]
    fn report_keys_follow_the_documented_layout() {
        let date = TradeDate::parse("20261127").unwrap();
        let params = DmaParams::STANDARD;
        assert_eq!(ObjectKey::report(&params, date, ReportFormat::Text).as_str(), "reports/dma-11-22/20261127.txt");
        assert_eq!(ObjectKey::report(&params, date, ReportFormat::Json).as_str(), "reports/dma-11-22/20261127.json");
        assert_eq!(ObjectKey::report_index(&params).as_str(), "reports/index/dma-11-22.json");
        assert_eq!(ObjectKey::published_marker(date).as_str(), "state/published/20261127");
    }

    #[tokio::test]
    async fn a_folder_store_round_trips_and_lists_by_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local(dir.path());
        let key = |it: &str| ObjectKey::new(it).unwrap();
        assert_eq!(store.get(&key("reports/x.txt")).await.unwrap(), None);
        store.put(&key("reports/x.txt"), b"one".to_vec(), "text/plain").await.unwrap();
        store.put(&key("reports/x.txt"), b"two".to_vec(), "text/plain").await.unwrap();
        store.put(&key("reports/sub/y.json"), b"{}".to_vec(), "application/json").await.unwrap();
        store.put(&key("state/z"), b"".to_vec(), "text/plain").await.unwrap();
        assert_eq!(store.get(&key("reports/x.txt")).await.unwrap(), Some(b"two".to_vec()));
        assert!(KeyPrefix::new("reports").is_err());
        assert!(KeyPrefix::new("../").is_err());
        let listed = store.list(&KeyPrefix::new("reports/").unwrap()).await.unwrap();
        let listed: Vec<&str> = listed.iter().map(ObjectKey::as_str).collect();
        assert_eq!(listed, ["reports/sub/y.json", "reports/x.txt"]);
        let leftovers = std::fs::read_dir(dir.path().join("reports")).unwrap().count();
        assert_eq!(leftovers, 2, "no temporary files are left behind");
    }
}
