//! The S3 adapter of the object store: one `PutObject` per write (atomic for readers), a missing key
//! reads as `None`, listings follow the paginator.

use aws_sdk_s3::primitives::ByteStream;

use super::object::{Fetched, KeyPrefix, ObjectKey, StoreError, Version};
use crate::BoxError;

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

    pub(super) fn new(client: aws_sdk_s3::Client, bucket: &str) -> S3Store {
        S3Store { client, bucket: bucket.to_owned() }
    }

    pub(super) fn describe(&self) -> String {
        format!("bucket {}", self.bucket)
    }

    /// One `PutObject`: S3 replaces objects atomically, readers never see a part.
    pub(super) async fn put(&self, key: &ObjectKey, body: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
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

    pub(super) async fn get(&self, key: &ObjectKey) -> Result<Option<Vec<u8>>, StoreError> {
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

    /// `GetObject` with `If-None-Match: <the ETag seen>`: S3 answers `304 Not Modified` without a
    /// body while the object is that version (the SDK reports the 304 as an error of that status).
    pub(super) async fn get_if_changed(&self, key: &ObjectKey, seen: Option<&Version>) -> Result<Fetched, StoreError> {
        let error = |source: BoxError| StoreError::Read { key: key.to_string(), store: self.describe(), source };
        let request = self.client.get_object().bucket(&self.bucket).key(key.as_str());
        let res = request.set_if_none_match(seen.map(|it| it.0.clone())).send().await;
        let output = match res {
            Ok(it) => it,
            Err(err) if err.as_service_error().is_some_and(|it| it.is_no_such_key()) => return Ok(Fetched::Missing),
            Err(err) if seen.is_some() && err.raw_response().is_some_and(|it| it.status().as_u16() == 304) => {
                return Ok(Fetched::Unchanged);
            }
            Err(err) => return Err(error(err.into())),
        };
        let Some(etag) = output.e_tag().map(str::to_owned) else {
            return Err(error(format!("GetObject of {key} answered without an ETag").into()));
        };
        match output.body.collect().await {
            Ok(bytes) => Ok(Fetched::Changed { body: bytes.into_bytes().to_vec(), version: Version(etag) }),
            Err(err) => Err(error(err.into())),
        }
    }

    pub(super) async fn list(&self, prefix: &KeyPrefix) -> Result<Vec<ObjectKey>, StoreError> {
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
