//! Integration tests of the `switchboard` binary: real processes, real SQLite files.

// This whole crate is tests: the production-code lints do not apply.
#![allow(
    clippy::tests_outside_test_module,
    clippy::unwrap_used,
    clippy::expect_used
)]

mod data_protection;
mod demo;
mod directory;
mod import;
mod serve_alerts;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// The recorded payloads shared with the project.
pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/api-samples")
}

/// A `switchboard` command with its database in `dir`.
pub fn switchboard(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command
        .env("SWITCHBOARD_DB", dir.join("switchboard.db"))
        .env_remove("SWITCHBOARD_LOG");
    command
}

/// Runs a command and returns its output, failing the test if it could not start.
pub fn run(command: &mut Command) -> Output {
    command.output().expect("the switchboard binary runs")
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
