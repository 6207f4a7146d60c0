//! `switchboard analyse`: fills in the analysis of every stored post that lacks one by the
//! current engine (new posts imported with `--no-analyse`, edited posts, and every post after
//! the models change), or analyses free text with `--text`.
//!
//! Pages of the backlog are read in store order; each page is analysed on all cores
//! ([`import::analyse_posts`]) and saved
//! in one transaction, so a run stopped at any point resumes where it stopped.

use std::time::Instant;

use analyse::Analyser;
use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{
    analysis_cli,
    common::{DbArgs, open_store},
    import,
};

/// Arguments of `switchboard analyse`.
#[derive(Debug, Args)]
pub struct AnalyseArgs {
    #[command(flatten)]
    pub text: analysis_cli::TextArgs,
    /// Posts read, analysed and saved per step.
    #[arg(long, default_value_t = 5_000)]
    pub batch: usize,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Runs `switchboard analyse`.
pub fn run(args: &AnalyseArgs) -> anyhow::Result<()> {
    if args.text.text.is_some() {
        return analysis_cli::analyse_text(&args.text);
    }
    let started = Instant::now();
    let analyser = Analyser::new().context("cannot load the analysis models")?;
    let engine = analyser.engine().to_owned();
    let store = open_store(&args.db)?;
    let directory = store.directory().context("cannot read the directory")?;
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(4));
    bar.set_style(
        ProgressStyle::with_template("{spinner} analysed {pos} posts ({per_sec}, {elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let mut after: Option<String> = None;
    let mut saved = 0u64;
    let mut read = 0u64;
    loop {
        let page = store.posts_to_analyse(&engine, after.as_deref(), args.batch.max(1))?;
        read += page.posts.len() as u64;
        let posts: Vec<&model::Post> = page.posts.iter().map(|stored| &stored.post).collect();
        let analyses = import::analyse_posts(&analyser, &directory, &posts);
        saved += store.save_analyses(&analyses)?;
        bar.set_position(read);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    bar.finish_and_clear();
    drop(store);
    let seconds = started.elapsed().as_secs_f64();
    outln!(
        "Analysed {read} posts ({saved} analyses saved) in {seconds:.1} s with {engine}; \
         {} posts/s.",
        if seconds > 0.0 {
            (read as f64 / seconds) as u64
        } else {
            0
        }
    )?;
    Ok(())
}
