//! The object store port: where reports and job state live. A folder locally ([`LocalStore`]),
//! a bucket in the cloud ([`S3Store`]); both take the checked keys of [`object`](ObjectKey).
//!
//! May use: nothing of the domain: the store knows objects, not what they mean (see [`crate::reports`]).

mod local;
mod object;
mod s3;

use std::path::Path;

pub use self::{
    local::LocalStore,
    object::{Fetched, InvalidKey, KeyPrefix, ObjectKey, StoreError, Version},
    s3::S3Store,
};

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
        ObjectStore::Local(LocalStore::new(root))
    }

    /// A store on the S3 bucket `bucket`, through `client` (see [`crate::aws::AwsConfig::s3`]).
    pub fn s3(client: aws_sdk_s3::Client, bucket: &str) -> ObjectStore {
        ObjectStore::S3(S3Store::new(client, bucket))
    }

    /// Where the objects are, for messages: `folder /x/y` or `bucket b`.
    pub fn describe(&self) -> String {
        match self {
            ObjectStore::S3(store) => store.describe(),
            ObjectStore::Local(store) => store.describe(),
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

    /// The object under `key` unless it is still the version `seen` (from an earlier answer): S3's
    /// conditional GET (`If-None-Match` with the ETag, `304 Not Modified` without a body), the
    /// folder's file identity (inode, size, modification time). Readers that keep what they made of
    /// an object ask with its version and skip the body, and its parsing, while it stays the same.
    pub async fn get_if_changed(&self, key: &ObjectKey, seen: Option<&Version>) -> Result<Fetched, StoreError> {
        match self {
            ObjectStore::S3(store) => store.get_if_changed(key, seen).await,
            ObjectStore::Local(store) => store.get_if_changed(key, seen).await,
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[tokio::test]
    async fn a_folder_store_answers_unchanged_for_the_version_seen_and_the_body_once_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local(dir.path());
        let key = ObjectKey::new("reports/index.json").unwrap();
        assert_eq!(store.get_if_changed(&key, None).await.unwrap(), Fetched::Missing);
        store.put(&key, b"one".to_vec(), "application/json").await.unwrap();
        let Fetched::Changed { body, version } = store.get_if_changed(&key, None).await.unwrap() else {
            panic!("a stored object is fetched whole when no version was seen")
        };
        assert_eq!(body, b"one");
        assert_eq!(store.get_if_changed(&key, Some(&version)).await.unwrap(), Fetched::Unchanged);
        // The same size and content, rewritten: a new file, a new version.
        store.put(&key, b"one".to_vec(), "application/json").await.unwrap();
        let Fetched::Changed { version: second, .. } = store.get_if_changed(&key, Some(&version)).await.unwrap() else {
            panic!("a rewritten object is fetched again")
        };
        assert_ne!(second, version);
        std::fs::remove_file(dir.path().join("reports/index.json")).unwrap();
        assert_eq!(store.get_if_changed(&key, Some(&second)).await.unwrap(), Fetched::Missing);
    }
}
