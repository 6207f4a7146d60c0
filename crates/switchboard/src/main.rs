//! The `switchboard` command line: a thin layer that wires the library crates together.

mod analysis_cli;

use clap::{Parser, Subcommand};

/// Switchboard: the social media switchboard of an NHS organisation.
#[derive(Debug, Parser)]
#[command(version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train the analysis models from the training splits in ../shared/data.
    Train(analysis_cli::TrainArgs),
    /// Measure an analysis task on a labelled file, printing the data set's own metric.
    Eval(analysis_cli::EvalArgs),
    /// Analyse stored posts that lack an analysis, or free text with --text.
    Analyse(analysis_cli::TextArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Train(args) => analysis_cli::train(&args),
        Command::Eval(args) => analysis_cli::eval(&args),
        Command::Analyse(args) => analysis_cli::analyse_text(&args),
    }
}
