//! The `switchboard` command line: a thin layer that wires the library crates together.
//!
//! Standard output is written with [`out!`] and [`outln!`], never `print!`: a command whose
//! reader goes away (`switchboard search … | head`) then ends quietly instead of panicking.
#![deny(clippy::print_stdout)]

/// Writes to standard output like `print!`, but returns the `io::Result` instead of panicking
/// when the reader has gone (`switchboard search … | head`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// Writes a line to standard output like `println!`, but returns the `io::Result` instead of
/// panicking when the reader has gone.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod analyse_cmd;
mod analysis_cli;
mod bench;
mod common;
mod demo;
mod directory_cmd;
mod engage_cmd;
mod generate_cmd;
mod import;
mod listen_cmd;
mod protection_cmd;
mod search;
mod serve_cmd;
mod user_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Switchboard: the social media switchboard of an NHS organisation.
#[derive(Debug, Parser)]
#[command(version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job on the embedded default: a demo fortnight for a fictional trust.
    Demo(demo::DemoArgs),
    /// Import files from X, Mastodon, Bluesky, Facebook, RSS/Atom feeds and CSV feedback exports.
    Import(import::ImportArgs),
    /// Search stored posts, newest first.
    Search(search::SearchArgs),
    /// Counts of stored posts by network and by day.
    Stats(search::StatsArgs),
    /// Write realistic traffic about a fictional NHS trust in a network's own format.
    Generate(generate_cmd::GenerateArgs),
    /// Measure throughput, memory and latency (see README for the figures).
    Bench(bench::BenchArgs),
    /// Train the analysis models from the training splits in ../shared/data.
    Train(analysis_cli::TrainArgs),
    /// Measure an analysis task on a labelled file, printing the data set's own metric.
    Eval(analysis_cli::EvalArgs),
    /// Analyse stored posts that lack an analysis, or free text with --text.
    Analyse(analyse_cmd::AnalyseArgs),
    /// Run the configured live connectors, store and analyse what they bring, and raise alerts.
    Listen(listen_cmd::ListenArgs),
    /// Serve the web application: live stream, needs attention, dashboard, search, settings.
    Serve(serve_cmd::ServeArgs),
    /// Add and list the people who may log in to the web application.
    User(user_cmd::UserArgs),
    /// The response matrix: check, set (versioned), show, test on stored posts, bench.
    Matrix(engage_cmd::MatrixArgs),
    /// The audit log: verify its hash chain, export it as CSV.
    Audit(engage_cmd::AuditArgs),
    /// Retention periods: remove posts and raw payloads past their period now.
    Retention(protection_cmd::RetentionArgs),
    /// Erase everything stored about one author, on their request.
    Erase(protection_cmd::EraseArgs),
    /// Publish scheduled posts on time (and, at start-up, those that fell due while stopped).
    Publish(engage_cmd::PublishArgs),
    /// The directory of organisations, people and accounts: list, import, export, add by ODS code.
    Directory(directory_cmd::DirectoryArgs),
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of the output went away (`| head`): what it wanted, it has.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Error: {error:?}");
            ExitCode::FAILURE
        }
    }
}

/// Whether the error comes from writing to a pipe whose reader has gone.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|error| error.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("SWITCHBOARD_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Search(args) => search::search(&args),
        Command::Stats(args) => search::stats(&args),
        Command::Generate(args) => generate_cmd::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Train(args) => analysis_cli::train(&args),
        Command::Eval(args) => analysis_cli::eval(&args),
        Command::Analyse(args) => analyse_cmd::run(&args),
        Command::Listen(args) => listen_cmd::run(&args),
        Command::Serve(args) => serve_cmd::run(&args),
        Command::User(args) => user_cmd::run(&args),
        Command::Matrix(args) => engage_cmd::matrix(&args),
        Command::Audit(args) => engage_cmd::audit(&args),
        Command::Publish(args) => engage_cmd::publish(&args),
        Command::Retention(args) => protection_cmd::retention(&args),
        Command::Erase(args) => protection_cmd::erase(&args),
        Command::Directory(args) => directory_cmd::run(&args),
    }
}
