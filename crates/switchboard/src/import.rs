//! `switchboard import`: files of any supported format into the store.
//!
//! Threads share the work: a reader parses the files in order and hands each batch of changes
//! to the analysis workers (one per core, in parts) and to the writer over bounded channels;
//! the calling thread writes each batch, once its analyses are back, to the store: the changes
//! and their analyses in one transaction.
//! Every change is an idempotent upsert or delete, so a run killed at any moment and started
//! again ends with exactly the posts of a clean run. Rejected records go to a rejects file
//! beside the database (JSON Lines, one line per record with file, line and reason). The file
//! keeps the rejects of the last import of each file: importing a file again replaces its
//! lines, so a reject is listed once however often its file is imported, and goes once the
//! file is mended.

use std::{
    collections::{BTreeMap, HashSet},
    fs::File,
    io::{BufRead, BufWriter, Read, Write},
    ops::Range,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    thread,
    time::Instant,
};

use analyse::Analyser;
use anyhow::Context;
use clap::Args;
use crossbeam_channel::{Receiver, Sender, bounded};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ingest::{Format, ImportOptions, Record, Rejected, csv::Mapping};
use model::directory::Directory;
use model::{Change, Post};
use serde::{Deserialize, Serialize};
use store::{ApplySummary, PostAnalysis, PreparedAnalysis, Store};

use crate::common::{DbArgs, open_store};

/// Arguments of `switchboard import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to import: JSON, JSON Lines, server-sent events, CSV, RSS or Atom, gzip or not.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The format of every file, or `auto` to recognise each one from its content.
    #[arg(long, default_value = "auto", value_parser = parse_format)]
    pub format: FormatChoice,
    /// CSV column mapping, e.g. `text=FFT answer,time=Date,service=Ward,rating=Score,id=ID`.
    /// Columns not named are guessed from the header.
    #[arg(long, value_name = "FIELD=COLUMN,...")]
    pub csv_map: Option<Mapping>,
    /// Changes written per transaction.
    #[arg(long, default_value_t = 10_000)]
    pub batch: usize,
    /// The largest post imported: its text and title together, in bytes. A larger post is
    /// rejected (and listed in the rejects file), so one huge post cannot swell every page.
    #[arg(long, default_value_t = ingest::DEFAULT_MAX_POST_BYTES, value_name = "BYTES")]
    pub max_post_bytes: usize,
    /// Store the posts without analysing them (`switchboard analyse` can do it later).
    #[arg(long)]
    pub no_analyse: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

/// A `--format` value: a format, or `None` for `auto`.
#[derive(Debug, Clone, Copy)]
pub struct FormatChoice(pub Option<Format>);

fn parse_format(value: &str) -> Result<FormatChoice, String> {
    if value.eq_ignore_ascii_case("auto") {
        return Ok(FormatChoice(None));
    }
    value
        .parse()
        .map(|format| FormatChoice(Some(format)))
        .map_err(|error: ingest::detect::UnknownFormat| error.to_string())
}

/// What an import did, printed at the end.
#[derive(Debug, Default, Serialize)]
pub struct ImportSummary {
    /// Files read to the end (or to their first unreadable byte).
    pub files: u64,
    /// Files that could not be read at all.
    pub files_failed: u64,
    /// Records read: posts, deletions, skipped items and rejected records.
    pub read: u64,
    /// Posts new to the store.
    pub imported: u64,
    /// Posts changed by a newer version (an edit).
    pub updated: u64,
    /// Posts whose counts (likes, replies, reposts) were refreshed.
    pub refreshed: u64,
    /// Posts already stored exactly so, including older versions of edited posts.
    pub duplicates: u64,
    /// Posts marked deleted.
    pub deleted: u64,
    /// Account handles learnt (Bluesky identity events), shown instead of bare account ids.
    pub handles: u64,
    /// Analyses saved (new posts, edits, and posts analysed by an older engine).
    pub analysed: u64,
    /// Items understood and not imported, by kind.
    pub skipped: BTreeMap<String, u64>,
    /// Records that could not be imported (see the rejects file).
    pub rejected: u64,
    /// Where rejected records were written.
    pub rejects_file: Option<PathBuf>,
    /// Wall time in seconds.
    pub seconds: f64,
}

impl ImportSummary {
    fn add(&mut self, applied: &ApplySummary) {
        self.imported += applied.inserted;
        self.updated += applied.updated;
        self.refreshed += applied.refreshed;
        self.duplicates += applied.unchanged + applied.history_only;
        self.deleted += applied.deleted;
        self.handles += applied.handles;
    }

    fn print(&self) -> std::io::Result<()> {
        let rate = if self.seconds > 0.0 {
            self.read as f64 / self.seconds
        } else {
            0.0
        };
        outln!(
            "Read {} records from {} file(s) in {:.1} s ({rate:.0} records/s).",
            self.read,
            self.files,
            self.seconds
        )?;
        outln!("  imported   {:>10}", self.imported)?;
        outln!("  updated    {:>10}", self.updated)?;
        outln!("  refreshed  {:>10}", self.refreshed)?;
        outln!("  duplicates {:>10}", self.duplicates)?;
        outln!("  deleted    {:>10}", self.deleted)?;
        if self.handles > 0 {
            outln!("  handles    {:>10}", self.handles)?;
        }
        outln!("  analysed   {:>10}", self.analysed)?;
        let skipped: u64 = self.skipped.values().sum();
        outln!("  skipped    {skipped:>10}")?;
        for (kind, count) in &self.skipped {
            outln!("    {count:>8}  {kind}")?;
        }
        outln!("  rejected   {:>10}", self.rejected)?;
        if let (true, Some(path)) = (self.rejected > 0, &self.rejects_file) {
            outln!("Rejected records are listed in {}.", path.display())?;
        }
        if self.files_failed > 0 {
            outln!(
                "{} file(s) could not be read: see the messages above.",
                self.files_failed
            )?;
        }
        Ok(())
    }
}

/// A message from the reader thread to the writer.
enum Message {
    /// A batch of changes, with the answers of the analysis workers for its parts, in order.
    Changes(Arc<Vec<Change>>, Vec<Receiver<Vec<PreparedAnalysis>>>),
    Rejected(PathBuf, Rejected),
}

/// A part of a batch for an analysis worker: the posts of `changes[range]`, analysed and
/// prepared for the store, are sent to `reply`.
struct AnalysisJob {
    changes: Arc<Vec<Change>>,
    range: Range<usize>,
    reply: Sender<Vec<PreparedAnalysis>>,
}

/// Where the reader sends its batches: the writer, and the analysis workers if any.
struct Outlets<'a> {
    writer: &'a Sender<Message>,
    analysis: Option<&'a Sender<AnalysisJob>>,
    /// Parts each batch is split into for the workers.
    parts: usize,
}

impl Outlets<'_> {
    /// Hands a batch to the analysis workers, then to the writer.
    fn send_batch(&self, changes: Vec<Change>) -> Result<(), WriterGone> {
        let changes = Arc::new(changes);
        let mut answers = Vec::new();
        if let Some(analysis) = self.analysis {
            let part = changes.len().div_ceil(self.parts).max(1);
            for start in (0..changes.len()).step_by(part) {
                let (reply, answer) = bounded(1);
                let job = AnalysisJob {
                    changes: Arc::clone(&changes),
                    range: start..(start + part).min(changes.len()),
                    reply,
                };
                analysis.send(job).map_err(|_| WriterGone)?;
                answers.push(answer);
            }
        }
        self.writer
            .send(Message::Changes(changes, answers))
            .map_err(|_| WriterGone)
    }
}

/// Counts from the reader thread.
#[derive(Default)]
struct ReadCounts {
    files: u64,
    files_failed: u64,
    read: u64,
    skipped: BTreeMap<String, u64>,
    cursors: BTreeMap<String, String>,
}

/// A reader that counts the bytes read through it, for the progress bar.
struct Counting<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.bytes.fetch_add(read as u64, Ordering::Relaxed);
        Ok(read)
    }
}

/// Runs `switchboard import`.
pub fn run(args: &ImportArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = open_store(&args.db)?;
    let rejects_path = rejects_path(&args.db.path);
    let options = ImportOptions {
        format: args.format.0,
        csv: args.csv_map.clone().unwrap_or_default(),
        max_post_bytes: args.max_post_bytes,
    };
    let analyser = if args.no_analyse {
        None
    } else {
        Some(Analyser::new().context("cannot load the analysis models")?)
    };
    // Who is speaking is read from the directory kept in the store.
    let directory = match &analyser {
        Some(_) => store.directory().context("cannot read the directory")?,
        None => Directory::default(),
    };
    let pipeline = Pipeline {
        options: &options,
        analyser: analyser.as_ref(),
        directory: &directory,
        batch_size: args.batch,
    };
    let mut summary = import_paths(store.as_ref(), &args.paths, &pipeline, &rejects_path)?;
    // Closing the store writes the last of the log into the database file: part of the time.
    drop(store);
    summary.seconds = started.elapsed().as_secs_f64();
    crate::serve_cmd::tag_monitors(&args.db.path)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&summary)?)?;
    } else {
        summary.print()?;
    }
    if summary.files_failed > 0 && summary.files == 0 {
        anyhow::bail!("no file could be imported");
    }
    Ok(())
}

/// The rejects file beside a database: `switchboard.db` → `switchboard.rejects.jsonl`.
pub fn rejects_path(db: &Path) -> PathBuf {
    let mut name = db
        .file_stem()
        .map_or_else(|| "switchboard".into(), |stem| stem.to_os_string());
    name.push(".rejects.jsonl");
    db.with_file_name(name)
}

/// How an import reads and analyses.
#[derive(Clone, Copy)]
pub struct Pipeline<'a> {
    /// Format and CSV mapping.
    pub options: &'a ImportOptions,
    /// The analysis engine, or `None` to store posts unanalysed.
    pub analyser: Option<&'a Analyser>,
    /// The directory the analysis reads authors' kinds from (`Store::directory`).
    pub directory: &'a Directory,
    /// Changes per transaction.
    pub batch_size: usize,
}

/// Imports `paths` into `store`, writing rejected records to `rejects_path`. Parsing and
/// analysis run on other threads while this one writes.
pub fn import_paths(
    store: &dyn Store,
    paths: &[PathBuf],
    pipeline: &Pipeline<'_>,
    rejects_path: &Path,
) -> anyhow::Result<ImportSummary> {
    let total_bytes: u64 = paths
        .iter()
        .filter_map(|path| std::fs::metadata(path).ok())
        .map(|meta| meta.len())
        .sum();
    let progress = progress_bar(total_bytes);
    let bytes = Arc::new(AtomicU64::new(0));
    let (sender, receiver) = bounded::<Message>(4);
    let workers = thread::available_parallelism().map_or(1, usize::from);
    let (jobs, work) = bounded::<AnalysisJob>(4 * workers);
    let mut rejects = RejectsFile::new(rejects_path, paths);
    let mut summary = ImportSummary::default();

    let counts = thread::scope(|scope| -> anyhow::Result<ReadCounts> {
        if let Some(analyser) = pipeline.analyser {
            let directory = pipeline.directory;
            for _ in 0..workers {
                let work = work.clone();
                scope.spawn(move || analysis_worker(analyser, directory, &work));
            }
        }
        drop(work);
        let reader_bytes = Arc::clone(&bytes);
        let reader_progress = progress.clone();
        let reader = scope.spawn(move || {
            let mut counts = ReadCounts::default();
            let outlets = Outlets {
                writer: &sender,
                analysis: pipeline.analyser.is_some().then_some(&jobs),
                parts: 2 * workers,
            };
            for path in paths {
                let file = FileJob {
                    path,
                    pipeline,
                    bytes: &reader_bytes,
                };
                if read_file(&file, &outlets, &reader_progress, &mut counts).is_err() {
                    break;
                }
            }
            counts
        });

        // Freeing ten thousand posts and their analyses takes the writer a while: a thread of
        // its own does it, so that the writer goes straight on to the next batch.
        let (written, freed) = bounded::<(Arc<Vec<Change>>, Vec<PreparedAnalysis>)>(1);
        scope.spawn(move || freed.into_iter().for_each(drop));
        let mut write_error = None;
        for message in &receiver {
            progress.set_position(bytes.load(Ordering::Relaxed));
            match message {
                Message::Changes(changes, answers) => {
                    let mut analyses = Vec::with_capacity(changes.len());
                    for answer in answers {
                        match answer.recv() {
                            Ok(part) => analyses.extend(part),
                            Err(_) => tracing::error!(
                                "An analysis worker stopped: some posts were stored without \
                                 analysis; `switchboard analyse` will analyse them."
                            ),
                        }
                    }
                    match store.apply_analysed(&changes, &analyses) {
                        Ok((applied, saved)) => {
                            summary.add(&applied);
                            summary.analysed += saved;
                            // Only fails when the freeing thread is gone: then drop them here.
                            let _ = written.send((changes, analyses));
                        }
                        Err(error) => {
                            write_error = Some(error);
                            break;
                        }
                    }
                }
                Message::Rejected(path, rejected) => {
                    summary.rejected += 1;
                    if summary.rejected <= 10 {
                        progress.suspend(|| eprintln!("rejected: {}: {rejected}", path.display()));
                    } else if summary.rejected == 11 {
                        progress.suspend(|| {
                            eprintln!("rejected: more records; see {}", rejects_path.display());
                        });
                    }
                    rejects.write(&path, &rejected);
                }
            }
        }
        drop(receiver);
        drop(written);
        let counts = reader
            .join()
            .map_err(|_| anyhow::anyhow!("the reader thread stopped unexpectedly"))?;
        if let Some(error) = write_error {
            return Err(error).context(
                "writing to the store failed; everything up to the last completed batch is \
                 stored, so run the same import again to finish it",
            );
        }
        Ok(counts)
    })?;
    progress.finish_and_clear();
    for (source, cursor) in &counts.cursors {
        store.set_cursor(source, cursor)?;
    }
    rejects.finish()?;
    summary.files = counts.files;
    summary.files_failed = counts.files_failed;
    summary.read = counts.read;
    summary.skipped = counts.skipped;
    summary.rejects_file = (summary.rejected > 0).then(|| rejects_path.to_owned());
    Ok(summary)
}

/// The writer has gone away (it failed); the reader stops.
struct WriterGone;

/// One file to read and how.
struct FileJob<'a> {
    path: &'a Path,
    pipeline: &'a Pipeline<'a>,
    bytes: &'a Arc<AtomicU64>,
}

/// Parses one file and sends its changes and rejections to the writer.
fn read_file(
    job: &FileJob<'_>,
    outlets: &Outlets<'_>,
    progress: &ProgressBar,
    counts: &mut ReadCounts,
) -> Result<(), WriterGone> {
    let FileJob {
        path,
        pipeline,
        bytes,
    } = *job;
    let batch_size = pipeline.batch_size.max(1);
    let mut options = pipeline.options.clone();
    options.csv.default_time = options.csv.default_time.or_else(|| modified_time(path));
    let opened = File::open(path)
        .map_err(|source| ingest::InputError::Io {
            path: path.to_owned(),
            source,
        })
        .and_then(|file| {
            let counting = Counting {
                inner: file,
                bytes: Arc::clone(bytes),
            };
            ingest::input::open_reader(path, Box::new(counting), options.format)
        })
        .and_then(|(format, input)| {
            ingest::input::parse(path, format, input, &options).map(|records| (format, records))
        });
    let (format, records) = match opened {
        Ok(opened) => opened,
        Err(error) => {
            progress.suspend(|| eprintln!("error: {error}"));
            counts.files_failed += 1;
            return Ok(());
        }
    };
    let mut batch = Vec::with_capacity(batch_size);
    for item in records {
        match item {
            Ok(Record::Change(change)) => {
                counts.read += 1;
                batch.push(change);
                if batch.len() >= batch_size {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                    outlets.send_batch(full)?;
                }
            }
            Ok(Record::Skipped { kind }) => {
                counts.read += 1;
                *counts.skipped.entry(kind).or_insert(0) += 1;
            }
            Ok(Record::Cursor(cursor)) => {
                counts.cursors.insert(format!("import:{format}"), cursor);
            }
            Err(rejected) => {
                counts.read += 1;
                outlets
                    .writer
                    .send(Message::Rejected(path.to_owned(), rejected))
                    .map_err(|_| WriterGone)?;
            }
        }
    }
    if !batch.is_empty() {
        outlets.send_batch(batch)?;
    }
    counts.files += 1;
    tracing::info!(file = %path.display(), %format, "File imported.");
    Ok(())
}

/// An analysis worker of an import: analyses the posts of each part it is given and prepares
/// the analyses for the store, until the reader has no more. The workers live as long as the
/// import, so the per-thread caches of the engine stay warm from one batch to the next.
fn analysis_worker(analyser: &Analyser, directory: &Directory, work: &Receiver<AnalysisJob>) {
    for job in work {
        let posts = job.changes.get(job.range.clone()).unwrap_or_default();
        let prepared = posts
            .iter()
            .filter_map(Change::post)
            .filter_map(|post| {
                match PreparedAnalysis::new(&analyse_post(analyser, directory, post)) {
                    Ok(prepared) => Some(prepared),
                    Err(error) => {
                        tracing::error!(%error, "An analysis could not be stored.");
                        None
                    }
                }
            })
            .collect();
        // The writer has gone away only when it failed; it reports that itself.
        let _ = job.reply.send(prepared);
    }
}

/// Analyses posts split over every core, keeping their order (for `switchboard analyse` and
/// live ingestion; imports have their own workers, see [`analysis_worker`]).
pub fn analyse_posts(
    analyser: &Analyser,
    directory: &Directory,
    posts: &[&Post],
) -> Vec<PostAnalysis> {
    let analyse_part = |part: &[&Post]| -> Vec<PostAnalysis> {
        part.iter()
            .map(|post| analyse_post(analyser, directory, post))
            .collect()
    };
    let threads = thread::available_parallelism().map_or(1, usize::from);
    if threads < 2 || posts.len() < 256 {
        return analyse_part(posts);
    }
    let chunk = posts.len().div_ceil(threads);
    thread::scope(|scope| {
        let workers: Vec<_> = posts
            .chunks(chunk)
            .map(|part| scope.spawn(move || analyse_part(part)))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap_or_default())
            .collect()
    })
}

/// The analysis of one post (its author's kind from `directory` when it lists the account),
/// named for the store.
fn analyse_post(analyser: &Analyser, directory: &Directory, post: &Post) -> PostAnalysis {
    PostAnalysis {
        network: post.network,
        id: post.id.clone(),
        version_at: post.version_time(),
        analysis: analyser.analyse_with(post, directory),
    }
}

fn modified_time(path: &Path) -> Option<jiff::Timestamp> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    jiff::Timestamp::try_from(modified).ok()
}

fn progress_bar(total_bytes: u64) -> ProgressBar {
    let bar =
        ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr_with_hz(4));
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} importing [{bar:30}] {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// The rejects file of a run: the lines of files not imported in this run are kept, the lines
/// of this run's files replaced by this run's rejects. Written to a file beside it and renamed
/// over it at the end, so a run killed midway leaves the previous list whole.
struct RejectsFile {
    path: PathBuf,
    /// The files of this run, as the rejects file names them (absolute paths).
    files: HashSet<String>,
    /// The new list being written, once started.
    writer: Option<BufWriter<File>>,
    error: Option<std::io::Error>,
}

#[derive(Serialize)]
struct RejectLine<'a> {
    at: String,
    file: String,
    line: Option<u64>,
    pointer: Option<&'a str>,
    reason: &'a str,
    excerpt: Option<&'a str>,
}

/// The file a line of the rejects file is about.
#[derive(Deserialize)]
struct RejectFile {
    file: String,
}

/// A file as the rejects file names it: its absolute path.
fn reject_name(file: &Path) -> String {
    std::path::absolute(file)
        .unwrap_or_else(|_| file.to_owned())
        .display()
        .to_string()
}

impl RejectsFile {
    fn new(path: &Path, files: &[PathBuf]) -> Self {
        RejectsFile {
            path: path.to_owned(),
            files: files.iter().map(|file| reject_name(file)).collect(),
            writer: None,
            error: None,
        }
    }

    /// The new list, written beside the rejects file.
    fn temporary(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".new");
        PathBuf::from(name)
    }

    /// Starts the new list with the earlier lines about files not imported in this run.
    fn start(&mut self) -> std::io::Result<()> {
        let mut writer = BufWriter::new(File::create(self.temporary())?);
        match File::open(&self.path) {
            Ok(earlier) => {
                for line in std::io::BufReader::new(earlier).lines() {
                    let line = line?;
                    let replaced = serde_json::from_str::<RejectFile>(&line)
                        .is_ok_and(|reject| self.files.contains(&reject.file));
                    if !replaced && !line.trim().is_empty() {
                        writer.write_all(line.as_bytes())?;
                        writer.write_all(b"\n")?;
                    }
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        self.writer = Some(writer);
        Ok(())
    }

    fn write(&mut self, file: &Path, rejected: &Rejected) {
        if self.error.is_some() {
            return;
        }
        if self.writer.is_none()
            && let Err(error) = self.start()
        {
            self.error = Some(error);
            return;
        }
        let line = RejectLine {
            at: jiff::Timestamp::now().to_string(),
            file: reject_name(file),
            line: rejected.location.line,
            pointer: rejected.location.pointer.as_deref(),
            reason: &rejected.reason,
            excerpt: rejected.excerpt.as_deref(),
        };
        if let Some(writer) = &mut self.writer {
            let result = serde_json::to_writer(&mut *writer, &line)
                .map_err(std::io::Error::other)
                .and_then(|()| writer.write_all(b"\n"));
            if let Err(error) = result {
                self.error = Some(error);
            }
        }
    }

    /// Puts the new list in place (or removes the file when nothing is left in it).
    fn finish(mut self) -> anyhow::Result<()> {
        let shown = self.path.display().to_string();
        let context = || format!("cannot write the rejects file {shown}");
        if let Some(error) = self.error.take() {
            let _ = std::fs::remove_file(self.temporary());
            return Err(error).with_context(context);
        }
        if self.writer.is_none() {
            if !self.path.exists() {
                return Ok(());
            }
            // Earlier rejects of this run's files are gone now: the list is rewritten without.
            self.start().with_context(context)?;
        }
        if let Some(writer) = self.writer.take() {
            let file = writer.into_inner().map_err(|error| error.into_error());
            file.and_then(|file| file.sync_all())
                .with_context(context)?;
        }
        let temporary = self.temporary();
        if std::fs::metadata(&temporary).is_ok_and(|meta| meta.len() == 0) {
            std::fs::remove_file(&temporary).with_context(context)?;
            match std::fs::remove_file(&self.path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    return Err(error).with_context(context);
                }
                _ => {}
            }
            return Ok(());
        }
        std::fs::rename(&temporary, &self.path).with_context(context)
    }
}
