//! Rendered pages kept with the versions of the stored objects they were made from.
//!
//! A page is a function of a few stored objects (the index, a day's JSON, the track record). The
//! first request renders it through [`Reads`], which notes the version of every object it read;
//! the rendered page is kept with those versions. A later request asks the store for each of them
//! "unless still this version" ([`ObjectStore::get_if_changed`]: a conditional GET in S3, a stat
//! of a file) and, when none changed, answers the kept page without reading a body, parsing or
//! rendering. When one changed the page is rendered afresh from what the store holds now, so a
//! rewritten day or a new index is on the next request, on every instance. The kept pages live
//! as long as the process (a warm Lambda), at most [`CAPACITY`] of them.
//!
//! May use: the store port and the answer's headers; nothing of what the pages say.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    body::Bytes,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use platform::store::{Fetched, ObjectKey, ObjectStore, StoreError, Version};

use crate::headers::entity_tag;

/// At most this many pages are kept (a day page is about 27 KB, so a few MB in all).
pub(crate) const CAPACITY: usize = 128;

/// A rendered answer: its body with the headers that go with it, and the body's entity tag.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    body: Bytes,
    content_type: &'static str,
    cache_control: &'static str,
    etag: HeaderValue,
}

impl Rendered {
    /// An HTML page.
    pub(crate) fn html(body: String, cache_control: &'static str) -> Rendered {
        Rendered::new(body.into(), "text/html; charset=utf-8", cache_control)
    }

    /// A body of `content_type`; its entity tag is computed once, here.
    pub(crate) fn new(body: Bytes, content_type: &'static str, cache_control: &'static str) -> Rendered {
        let etag = entity_tag(&body);
        Rendered { body, content_type, cache_control, etag }
    }

    /// The answer. It carries its `ETag`, so [`crate::headers::entity_tags`] does not digest it again.
    pub(crate) fn response(&self) -> Response {
        let headers = [
            (header::CONTENT_TYPE, HeaderValue::from_static(self.content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(self.cache_control)),
            (header::ETAG, self.etag.clone()),
        ];
        (headers, self.body.clone()).into_response()
    }
}

/// The objects one rendering read, each with the version it got (`None`: there was none).
#[derive(Debug)]
pub(crate) struct Reads<'a> {
    store: &'a ObjectStore,
    seen: Vec<(ObjectKey, Option<Version>)>,
}

impl<'a> Reads<'a> {
    pub(crate) fn new(store: &'a ObjectStore) -> Reads<'a> {
        Reads { store, seen: Vec::new() }
    }

    /// The object under `key`, or `None`; its version is noted for the page being rendered.
    pub(crate) async fn get(&mut self, key: &ObjectKey) -> Result<Option<Vec<u8>>, StoreError> {
        let (body, version) = match self.store.get_if_changed(key, None).await? {
            Fetched::Changed { body, version } => (Some(body), Some(version)),
            Fetched::Missing | Fetched::Unchanged => (None, None),
        };
        self.seen.push((key.clone(), version));
        Ok(body)
    }
}

/// A kept page and the versions it was made from.
#[derive(Debug)]
struct Kept {
    inputs: Vec<(ObjectKey, Option<Version>)>,
    page: Rendered,
}

/// The kept pages by their address (path and query, as the handler names them).
#[derive(Debug, Default)]
pub(crate) struct Pages {
    kept: Mutex<HashMap<String, Arc<Kept>>>,
}

impl Pages {
    /// The kept page at `address` if every object it was made from is still the version it read.
    /// An object that changed, appeared or went makes it stale (`None`: render it again).
    pub(crate) async fn fresh(&self, store: &ObjectStore, address: &str) -> Result<Option<Response>, StoreError> {
        let Some(kept) = self.lock().get(address).cloned() else { return Ok(None) };
        for (key, version) in &kept.inputs {
            let fetched = store.get_if_changed(key, version.as_ref()).await?;
            if !matches!((fetched, version), (Fetched::Unchanged, Some(_)) | (Fetched::Missing, None)) {
                return Ok(None);
            }
        }
        Ok(Some(kept.page.response()))
    }

    /// Keeps `page`, rendered from `reads`, at `address`, and answers it.
    pub(crate) fn keep(&self, address: String, reads: Reads<'_>, page: Rendered) -> Response {
        let response = page.response();
        let mut kept = self.lock();
        if kept.len() >= CAPACITY && !kept.contains_key(&address) {
            // Bounded memory: make room by dropping any one page (it is rendered again if asked for).
            if let Some(victim) = kept.keys().next().cloned() {
                kept.remove(&victim);
            }
        }
        kept.insert(address, Arc::new(Kept { inputs: reads.seen, page }));
        response
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Kept>>> {
        self.kept.lock().unwrap_or_else(|it| it.into_inner())
    }

    /// How many pages are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn render(pages: &Pages, store: &ObjectStore, address: &str, keys: &[&str]) -> String {
        if let Some(hit) = pages.fresh(store, address).await.unwrap() {
            let body = axum::body::to_bytes(hit.into_body(), usize::MAX).await.unwrap();
            return format!("kept {}", String::from_utf8(body.to_vec()).unwrap());
        }
        let mut reads = Reads::new(store);
        let mut text = String::new();
        for key in keys {
            let body = reads.get(&ObjectKey::new(key).unwrap()).await.unwrap();
            text.push_str(&body.map_or("-".to_owned(), |it| String::from_utf8(it).unwrap()));
        }
        let response = pages.keep(address.to_owned(), reads, Rendered::html(text.clone(), "no-store"));
        assert!(response.headers().contains_key(header::ETAG));
        format!("rendered {text}")
    }

    #[tokio::test]
    async fn a_page_is_kept_until_an_object_it_read_changes_appears_or_goes() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local(dir.path());
        let key = |it: &str| ObjectKey::new(it).unwrap();
        store.put(&key("a"), b"A".to_vec(), "text/plain").await.unwrap();
        let pages = Pages::default();
        let page = |keys: &'static [&'static str]| {
            let (pages, store) = (&pages, &store);
            async move { render(pages, store, "/p", keys).await }
        };
        assert_eq!(page(&["a", "b"]).await, "rendered A-");
        assert_eq!(page(&["a", "b"]).await, "kept A-");
        store.put(&key("b"), b"B".to_vec(), "text/plain").await.unwrap();
        assert_eq!(page(&["a", "b"]).await, "rendered AB", "an object that appeared");
        assert_eq!(page(&["a", "b"]).await, "kept AB");
        store.put(&key("a"), b"a".to_vec(), "text/plain").await.unwrap();
        assert_eq!(page(&["a", "b"]).await, "rendered aB", "an object that changed");
        std::fs::remove_file(dir.path().join("b")).unwrap();
        assert_eq!(page(&["a", "b"]).await, "rendered a-", "an object that went");
        assert_eq!(page(&["a", "b"]).await, "kept a-");
    }

    #[tokio::test]
    async fn at_most_the_capacity_of_pages_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local(dir.path());
        let pages = Pages::default();
        for n in 0..CAPACITY + 10 {
            render(&pages, &store, &format!("/p{n}"), &["a"]).await;
        }
        assert_eq!(pages.len(), CAPACITY);
    }
}
