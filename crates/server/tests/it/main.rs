//! Integration tests of the web application: the real server on 127.0.0.1 over a temporary
//! SQLite file, driven over HTTP (and by headless Chromium in `browser`).

// This whole crate is tests: the production-code lints do not apply.
#![allow(
    clippy::tests_outside_test_module,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

mod alerts;
mod app;
mod browser;
mod desk;
mod engage;
mod http;
mod layout;
mod protection;
mod signin;
mod walk;
