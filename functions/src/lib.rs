//! The HTTP functions: the subscribe API and the web site.
//!
//! Each will be an axum `Router` that runs under `lambda_http` on Lambda and as a plain server on
//! 127.0.0.1 locally. The site issue fills this crate; for now it only pins the dependency direction
//! (`functions` -> `platform`).
