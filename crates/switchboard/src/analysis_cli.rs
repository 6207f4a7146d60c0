//! Placeholder: the `train`, `eval` and `analyse --text` commands are being written.

use clap::Args;

/// Arguments of `switchboard train`.
#[derive(Debug, Args)]
pub struct TrainArgs {}

/// Arguments of `switchboard eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {}

/// Arguments of `switchboard analyse` when it reads free text rather than the store.
#[derive(Debug, Args)]
pub struct TextArgs {
    /// Analyse this text and print the result instead of analysing stored posts (`-` reads
    /// lines from standard input).
    #[arg(long)]
    pub text: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `switchboard train`.
pub fn train(_args: &TrainArgs) -> anyhow::Result<()> {
    anyhow::bail!("training is not available yet")
}

/// Runs `switchboard eval`.
pub fn eval(_args: &EvalArgs) -> anyhow::Result<()> {
    anyhow::bail!("evaluation is not available yet")
}

/// Runs `switchboard analyse --text`.
pub fn analyse_text(_args: &TextArgs) -> anyhow::Result<()> {
    anyhow::bail!("text analysis is not available yet")
}
