//! A sparse linear classifier over hashed features: multinomial (softmax) for one label out of
//! several, or one-vs-rest logistic regressions for multi-label tasks.
//!
//! Training is AdaGrad stochastic gradient descent with L2 on the weights a step touches,
//! shuffled by a seeded SplitMix64 generator, single-threaded, so the same data and seed give the
//! same bytes. Weights are stored bucket-major and quantised to `i8` with one scale per class,
//! which keeps a model of 2^18 buckets and three classes under 800 KB.

use crate::Error;
use crate::features::Features;

const MAGIC: &[u8; 8] = b"SWBLIN01";

/// How the classes of a model relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Exactly one class per example (softmax).
    Softmax,
    /// Any number of classes per example (one sigmoid per class).
    MultiLabel,
}

/// A trained, quantised linear model.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearModel {
    /// Softmax or multi-label.
    pub kind: Kind,
    /// Log2 of the number of buckets.
    pub bits: u32,
    /// Whether character n-grams are used.
    pub use_chars: bool,
    /// Class names.
    pub classes: Vec<String>,
    /// Decision threshold per class (multi-label).
    pub thresholds: Vec<f32>,
    scales: Vec<f32>,
    bias: Vec<f32>,
    weights: Vec<i8>,
    /// The weights again, each bucket's row padded to whole blocks of [`LANES`] classes, for
    /// models with more than [`NARROW`] classes (summed with 16-bit lanes the compiler
    /// vectorises).
    blocks: Vec<[i8; LANES]>,
}

/// Classes per block of the padded layout.
const LANES: usize = 16;
/// Models with up to this many classes are summed row by row, without the padded layout.
const NARROW: usize = 4;
/// Blocks of the padded layout the fast sum handles (64 classes).
const MAX_BLOCKS: usize = 4;
/// Sparse features summed in 16-bit lanes before spilling to 32 bits (256 × 127 < 2^15).
const SPILL: usize = 256;

/// One training example: bucket indices with values, and its classes.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Feature buckets and values: the hashed n-grams first, then the dense values.
    pub x: Vec<(u32, f32)>,
    /// How many of the first entries of `x` are hashed n-grams (the rest are dense values).
    pub sparse: usize,
    /// Class indices (exactly one for softmax).
    pub y: Vec<u16>,
    /// For a row labelled on one class only (multi-label): the loss of the other classes is
    /// not counted, since the row says nothing about them.
    pub only: Option<u16>,
}

/// Settings of a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Log2 of the number of buckets.
    pub bits: u32,
    /// Whether character n-grams are used.
    pub use_chars: bool,
    /// Passes over the data.
    pub epochs: u32,
    /// AdaGrad learning rate.
    pub rate: f32,
    /// L2 penalty.
    pub l2: f32,
    /// Shuffle seed.
    pub seed: u64,
    /// Weight examples so that every class counts the same in total (softmax), or positives as
    /// much as negatives up to this factor (multi-label; 1 means no weighting).
    pub balance: f32,
    /// Models trained on differently shuffled data (seeds `seed`, `seed + 1`, ...) whose
    /// weights are averaged (1 means one model).
    pub bags: u32,
    /// Naive-Bayes scaling of the sparse features (NB-LR): each bucket's value is multiplied
    /// per class by |log-count ratio|^`nb` of that class against the rest, and the ratio is
    /// folded into the weights after training (0 means no scaling).
    pub nb: f32,
}

/// SplitMix64, a small deterministic generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Shuffles a slice (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// One run of AdaGrad SGD: the float weights (bucket-major) and biases. With `scaling`, each
/// sparse value of bucket `b` is multiplied by `scaling[b * c + k]` for class `k`.
fn train_weights(
    examples: &[Example],
    c: usize,
    kind: Kind,
    cfg: &TrainConfig,
    scaling: Option<&[f32]>,
) -> (Vec<f32>, Vec<f32>) {
    let buckets = 1usize << cfg.bits;
    let mut w = vec![0f32; buckets * c];
    let mut g = vec![0f32; buckets * c];
    let mut bias = vec![0f32; c];
    let mut gb = vec![0f32; c];
    let mut counts = vec![0usize; c];
    for e in examples {
        for y in &e.y {
            if let Some(n) = counts.get_mut(usize::from(*y)) {
                *n += 1;
            }
        }
    }
    let n = examples.len().max(1) as f32;
    let class_weight: Vec<f32> = counts
        .iter()
        .map(|k| {
            let k = (*k).max(1) as f32;
            match kind {
                Kind::Softmax if cfg.balance > 0.0 => (n / (c as f32 * k)).powf(cfg.balance),
                Kind::Softmax => 1.0,
                Kind::MultiLabel => ((n - k) / k).clamp(1.0, cfg.balance.max(1.0)),
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = Rng::new(cfg.seed);
    let mut z = vec![0f32; c];
    let mut grad = vec![0f32; c];
    for _ in 0..cfg.epochs {
        rng.shuffle(&mut order);
        for &i in &order {
            let Some(e) = examples.get(i) else { continue };
            for (k, zk) in z.iter_mut().enumerate() {
                *zk = bias.get(k).copied().unwrap_or(0.0);
            }
            for (b, v) in &e.x {
                let base = *b as usize * c;
                if let Some(row) = w.get(base..base + c) {
                    match scaling.and_then(|s| s.get(base..base + c)) {
                        Some(scale) => {
                            for ((zk, wk), r) in z.iter_mut().zip(row).zip(scale) {
                                *zk += wk * v * r;
                            }
                        }
                        None => {
                            for (zk, wk) in z.iter_mut().zip(row) {
                                *zk += wk * v;
                            }
                        }
                    }
                }
            }
            match kind {
                Kind::Softmax => {
                    softmax(&mut z);
                    let y = e.y.first().map_or(0, |y| usize::from(*y));
                    let sw = class_weight.get(y).copied().unwrap_or(1.0);
                    for (k, gk) in grad.iter_mut().enumerate() {
                        let target = if k == y { 1.0 } else { 0.0 };
                        *gk = (z.get(k).copied().unwrap_or(0.0) - target) * sw;
                    }
                }
                Kind::MultiLabel => {
                    for (k, gk) in grad.iter_mut().enumerate() {
                        if e.only.is_some_and(|o| usize::from(o) != k) {
                            *gk = 0.0;
                            continue;
                        }
                        let p = sigmoid(z.get(k).copied().unwrap_or(0.0));
                        let pos = e.y.contains(&(k as u16));
                        let sw = if pos {
                            class_weight.get(k).copied().unwrap_or(1.0)
                        } else {
                            1.0
                        };
                        *gk = (p - if pos { 1.0 } else { 0.0 }) * sw;
                    }
                }
            }
            for (k, gk) in grad.iter().enumerate() {
                if let (Some(bk), Some(gbk)) = (bias.get_mut(k), gb.get_mut(k)) {
                    *gbk += gk * gk;
                    *bk -= cfg.rate * gk / (gbk.sqrt() + 1e-6);
                }
            }
            for (b, v) in &e.x {
                let base = *b as usize * c;
                let (Some(row), Some(grow)) =
                    (w.get_mut(base..base + c), g.get_mut(base..base + c))
                else {
                    continue;
                };
                let scale = scaling.and_then(|s| s.get(base..base + c));
                for (k, ((wk, gsk), gk)) in
                    row.iter_mut().zip(grow.iter_mut()).zip(&grad).enumerate()
                {
                    let r = scale.and_then(|s| s.get(k)).copied().unwrap_or(1.0);
                    let step = gk * v * r + cfg.l2 * *wk;
                    if step == 0.0 {
                        continue;
                    }
                    *gsk += step * step;
                    *wk -= cfg.rate * step / (gsk.sqrt() + 1e-6);
                }
            }
        }
    }
    (w, bias)
}

/// The per-class NB scaling of every bucket ([`TrainConfig::nb`]): |log((p + 1) / (P + B) ÷
/// (q + 1) / (Q + B))|^nb, with p/q the rows with/without the class holding the bucket, P/Q
/// their totals over all buckets, B the buckets. The buckets of dense values keep 1. `None` when `nb` is 0.
fn nb_scaling(examples: &[Example], c: usize, kind: Kind, cfg: &TrainConfig) -> Option<Vec<f32>> {
    if cfg.nb <= 0.0 {
        return None;
    }
    let buckets = 1usize << cfg.bits;
    let mut pos = vec![0f32; buckets * c];
    let mut neg = vec![0f32; buckets * c];
    let mut dense = vec![false; buckets];
    for e in examples {
        let (ngrams, values) = e.x.split_at(e.sparse.min(e.x.len()));
        let mut seen: Vec<u32> = ngrams.iter().map(|(b, _)| *b).collect();
        for (b, _) in values {
            if let Some(d) = dense.get_mut(*b as usize) {
                *d = true;
            }
        }
        seen.sort_unstable();
        seen.dedup();
        for k in 0..c {
            if e.only.is_some_and(|o| usize::from(o) != k) {
                continue;
            }
            let has = match kind {
                Kind::Softmax => e.y.first().is_some_and(|y| usize::from(*y) == k),
                Kind::MultiLabel => e.y.contains(&(k as u16)),
            };
            let table = if has { &mut pos } else { &mut neg };
            for b in &seen {
                if let Some(n) = table.get_mut(*b as usize * c + k) {
                    *n += 1.0;
                }
            }
        }
    }
    let mut pt = vec![0f32; c];
    let mut nt = vec![0f32; c];
    for (i, (p, q)) in pos.iter().zip(&neg).enumerate() {
        if let (Some(a), Some(b)) = (pt.get_mut(i % c), nt.get_mut(i % c)) {
            *a += p;
            *b += q;
        }
    }
    let b = buckets as f32;
    Some(
        pos.iter()
            .zip(&neg)
            .enumerate()
            .map(|(i, (p, q))| {
                if dense.get(i / c).copied().unwrap_or(false) {
                    return 1.0;
                }
                let (tp, tn) = (
                    pt.get(i % c).copied().unwrap_or(0.0),
                    nt.get(i % c).copied().unwrap_or(0.0),
                );
                let r = (((p + 1.0) / (tp + b)) / ((q + 1.0) / (tn + b))).ln();
                r.abs().powf(cfg.nb)
            })
            .collect(),
    )
}

/// Folds a 64-bit feature hash into `bits` buckets.
pub fn bucket(hash: u64, bits: u32) -> u32 {
    (hash >> (64 - bits)) as u32
}

/// Turns features into bucket/value pairs for a model with these settings.
pub fn vectorise(f: &Features, bits: u32, use_chars: bool) -> Vec<(u32, f32)> {
    let n = f.words.len() + if use_chars { f.chars.len() } else { 0 };
    let v = if n > 0 { 1.0 / (n as f32).sqrt() } else { 0.0 };
    let mut out: Vec<(u32, f32)> = f.words.iter().map(|h| (bucket(*h, bits), v)).collect();
    if use_chars {
        out.extend(f.chars.iter().map(|h| (bucket(*h, bits), v)));
    }
    out.extend(f.dense.iter().map(|(h, x)| (bucket(*h, bits), *x)));
    out
}

/// The logistic function, as the multi-label models apply it to their scores.
pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

fn softmax(z: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    if sum > 0.0 {
        for v in z.iter_mut() {
            *v /= sum;
        }
    }
}

impl LinearModel {
    /// Probabilities per class for these features.
    pub fn predict(&self, f: &Features) -> Vec<f32> {
        self.predict_with(f, &[])
    }

    /// Probabilities per class for these features plus extra dense values.
    pub fn predict_with(&self, f: &Features, extra: &[(u64, f32)]) -> Vec<f32> {
        let c = self.classes.len();
        let mut z = vec![0f32; c];
        self.scores_into(f, extra, &mut z);
        match self.kind {
            Kind::Softmax => softmax(&mut z),
            Kind::MultiLabel => z.iter_mut().for_each(|v| *v = sigmoid(*v)),
        }
        z
    }

    /// The integer sums of the sparse features' weights per class, into `acc`.
    fn sparse_sums(&self, f: &Features, acc: &mut [i32]) {
        let shift = 64 - self.bits;
        let chars: &[u64] = if self.use_chars { &f.chars } else { &[] };
        let hashes = f.words.iter().chain(chars);
        let c = self.classes.len();
        if c <= NARROW || c > LANES * MAX_BLOCKS {
            for h in hashes {
                let b = (h >> shift) as usize * c;
                if let Some(row) = self.weights.get(b..b + c) {
                    for (a, w) in acc.iter_mut().zip(row) {
                        *a += i32::from(*w);
                    }
                }
            }
            return;
        }
        let per_row = c.div_ceil(LANES);
        let mut lanes = [[0i16; LANES]; MAX_BLOCKS];
        let spill = |lanes: &mut [[i16; LANES]; MAX_BLOCKS], acc: &mut [i32]| {
            for (block, chunk) in lanes.iter_mut().zip(acc.chunks_mut(LANES)) {
                for (a, l) in chunk.iter_mut().zip(block.iter_mut()) {
                    *a += i32::from(*l);
                    *l = 0;
                }
            }
        };
        for (n, h) in hashes.enumerate() {
            let b = (h >> shift) as usize * per_row;
            if let Some(row) = self.blocks.get(b..b + per_row) {
                for (block, w) in lanes.iter_mut().zip(row) {
                    for (l, x) in block.iter_mut().zip(w) {
                        *l += i16::from(*x);
                    }
                }
            }
            if n % SPILL == SPILL - 1 {
                spill(&mut lanes, acc);
            }
        }
        spill(&mut lanes, acc);
    }

    /// How many sparse features of `f` this model reads.
    fn sparse_count(&self, f: &Features) -> usize {
        f.words.len() + if self.use_chars { f.chars.len() } else { 0 }
    }

    /// The raw scores (before softmax or sigmoid) per class, into `z` (one slot per class).
    pub fn scores_into(&self, f: &Features, extra: &[(u64, f32)], z: &mut [f32]) {
        let c = self.classes.len();
        let mut small = [0i32; LANES * MAX_BLOCKS];
        let mut large = Vec::new();
        let acc: &mut [i32] = if c <= small.len() {
            small.get_mut(..c).unwrap_or_default()
        } else {
            large.resize(c, 0);
            &mut large
        };
        self.sparse_sums(f, acc);
        self.scores_from_sums(acc, self.sparse_count(f), f, extra, z);
    }

    /// Probabilities per class from the sums of `sparse` sparse features computed elsewhere (by
    /// [`Fused::sums`]), plus the dense features of `f` and `extra`.
    pub fn predict_from_sums(
        &self,
        acc: &[i32],
        sparse: usize,
        f: &Features,
        extra: &[(u64, f32)],
    ) -> Vec<f32> {
        let mut z = vec![0f32; self.classes.len()];
        self.scores_from_sums(acc, sparse, f, extra, &mut z);
        match self.kind {
            Kind::Softmax => softmax(&mut z),
            Kind::MultiLabel => z.iter_mut().for_each(|v| *v = sigmoid(*v)),
        }
        z
    }

    /// The raw scores (before softmax or sigmoid) from sums computed elsewhere, exactly as
    /// [`LinearModel::predict_from_sums`] computes them before its activation.
    pub fn raw_from_sums(
        &self,
        acc: &[i32],
        sparse: usize,
        f: &Features,
        extra: &[(u64, f32)],
    ) -> Vec<f32> {
        let mut z = vec![0f32; self.classes.len()];
        self.scores_from_sums(acc, sparse, f, extra, &mut z);
        z
    }

    fn scores_from_sums(
        &self,
        acc: &[i32],
        sparse: usize,
        f: &Features,
        extra: &[(u64, f32)],
        z: &mut [f32],
    ) {
        let c = self.classes.len();
        let mask_shift = 64 - self.bits;
        let x = if sparse > 0 {
            1.0 / (sparse as f32).sqrt()
        } else {
            0.0
        };
        for (k, zk) in z.iter_mut().enumerate() {
            let s = self.scales.get(k).copied().unwrap_or(0.0);
            let a = acc.get(k).copied().unwrap_or(0) as f32;
            *zk = s * a * x + self.bias.get(k).copied().unwrap_or(0.0);
        }
        for (h, v) in f.dense.iter().chain(extra) {
            let b = (h >> mask_shift) as usize * c;
            if let Some(row) = self.weights.get(b..b + c) {
                for ((d, w), s) in z.iter_mut().zip(row).zip(&self.scales) {
                    *d += f32::from(*w) * s * v;
                }
            }
        }
    }

    /// Builds the padded layout of the weights for wide models.
    fn with_blocks(mut self) -> Self {
        let c = self.classes.len();
        self.blocks = Vec::new();
        if c > NARROW && c <= LANES * MAX_BLOCKS {
            let per_row = c.div_ceil(LANES);
            self.blocks = vec![[0i8; LANES]; per_row << self.bits];
            for (row, padded) in self.weights.chunks(c).zip(self.blocks.chunks_mut(per_row)) {
                for (k, w) in row.iter().enumerate() {
                    if let Some(slot) = padded
                        .get_mut(k / LANES)
                        .and_then(|block| block.get_mut(k % LANES))
                    {
                        *slot = *w;
                    }
                }
            }
        }
        self
    }

    /// The weight of one feature hash for one class (for explaining a decision).
    pub fn weight(&self, hash: u64, class: usize) -> f32 {
        let c = self.classes.len();
        let b = bucket(hash, self.bits) as usize * c + class;
        let w = self.weights.get(b).copied().unwrap_or(0);
        f32::from(w) * self.scales.get(class).copied().unwrap_or(0.0)
    }

    /// Trains a model: [`TrainConfig::bags`] runs averaged, then quantised.
    pub fn train(
        examples: &[Example],
        classes: Vec<String>,
        kind: Kind,
        cfg: &TrainConfig,
    ) -> LinearModel {
        let c = classes.len();
        let scaling = nb_scaling(examples, c, kind, cfg);
        let bags = cfg.bags.max(1);
        let mut w = vec![0f32; (1usize << cfg.bits) * c];
        let mut bias = vec![0f32; c];
        for bag in 0..bags {
            let run = TrainConfig {
                seed: cfg.seed.wrapping_add(u64::from(bag)),
                ..cfg.clone()
            };
            let (wb, bb) = train_weights(examples, c, kind, &run, scaling.as_deref());
            for (a, b) in w.iter_mut().zip(&wb) {
                *a += b / bags as f32;
            }
            for (a, b) in bias.iter_mut().zip(&bb) {
                *a += b / bags as f32;
            }
        }
        if let Some(scaling) = &scaling {
            for (a, r) in w.iter_mut().zip(scaling) {
                *a *= r;
            }
        }
        Self::quantised(&w, bias, classes, kind, cfg)
    }

    fn quantised(
        w: &[f32],
        bias: Vec<f32>,
        classes: Vec<String>,
        kind: Kind,
        cfg: &TrainConfig,
    ) -> LinearModel {
        let c = classes.len();
        let mut scales = vec![0f32; c];
        for row in w.chunks(c) {
            for (s, v) in scales.iter_mut().zip(row) {
                *s = s.max(v.abs());
            }
        }
        for s in &mut scales {
            *s = if *s > 0.0 { *s / 127.0 } else { 1.0 };
        }
        let weights = w
            .chunks(c)
            .flat_map(|row| {
                row.iter()
                    .zip(&scales)
                    .map(|(v, s)| (v / s).round().clamp(-127.0, 127.0) as i8)
                    .collect::<Vec<_>>()
            })
            .collect();
        LinearModel {
            kind,
            bits: cfg.bits,
            use_chars: cfg.use_chars,
            thresholds: vec![0.5; c],
            classes,
            scales,
            bias,
            weights,
            blocks: Vec::new(),
        }
        .with_blocks()
    }

    /// Serialises the model (little-endian, deterministic).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.weights.len() + 256);
        out.extend_from_slice(MAGIC);
        out.push(match self.kind {
            Kind::Softmax => 0,
            Kind::MultiLabel => 1,
        });
        out.push(u8::from(self.use_chars));
        out.extend_from_slice(&self.bits.to_le_bytes());
        out.extend_from_slice(&(self.classes.len() as u32).to_le_bytes());
        for (k, name) in self.classes.iter().enumerate() {
            out.extend_from_slice(&(name.len() as u32).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            for v in [&self.thresholds, &self.scales, &self.bias] {
                out.extend_from_slice(&v.get(k).copied().unwrap_or(0.0).to_le_bytes());
            }
        }
        out.extend(self.weights.iter().map(|w| *w as u8));
        out
    }

    /// Reads a model written by [`LinearModel::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(8)? != MAGIC {
            return Err(Error::Model("not a Switchboard linear model".into()));
        }
        let kind = match r.take(1)? {
            [0] => Kind::Softmax,
            [1] => Kind::MultiLabel,
            _ => return Err(Error::Model("unknown model kind".into())),
        };
        let use_chars = r.take(1)? == [1];
        let bits = r.u32()?;
        if !(8..=24).contains(&bits) {
            return Err(Error::Model(format!("bad bucket count 2^{bits}")));
        }
        let c = r.u32()? as usize;
        let mut classes = Vec::with_capacity(c);
        let (mut thresholds, mut scales, mut bias) = (vec![], vec![], vec![]);
        for _ in 0..c {
            let len = r.u32()? as usize;
            let name = std::str::from_utf8(r.take(len)?)
                .map_err(|_| Error::Model("class name is not UTF-8".into()))?;
            classes.push(name.to_owned());
            thresholds.push(r.f32()?);
            scales.push(r.f32()?);
            bias.push(r.f32()?);
        }
        let weights: Vec<i8> = r.take(c << bits)?.iter().map(|b| *b as i8).collect();
        if r.pos != bytes.len() {
            return Err(Error::Model("trailing bytes after the weights".into()));
        }
        Ok(LinearModel {
            kind,
            bits,
            use_chars,
            classes,
            thresholds,
            scales,
            bias,
            weights,
            blocks: Vec::new(),
        }
        .with_blocks())
    }
}

/// Several models over the same buckets laid side by side, so that one feature's weights for
/// every model sit in one 64-byte row (one cache line): one sparse pass serves all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Fused {
    bits: u32,
    rows: Vec<[i8; FUSED]>,
    spans: Vec<(usize, usize)>,
}

/// The width of a fused row, in classes.
pub const FUSED: usize = LANES * MAX_BLOCKS;

/// The sparse sums of a [`Fused`] pass: over the word features only, and over words and
/// character n-grams, with the number of features in each.
#[derive(Debug, Clone, PartialEq)]
pub struct FusedSums {
    words: [i32; FUSED],
    all: [i32; FUSED],
    word_count: usize,
    char_count: usize,
}

impl FusedSums {
    /// Sums put together from the word sums and the character n-gram sums (each exact).
    pub fn from_parts(
        words: [i32; FUSED],
        word_count: usize,
        chars: &[i32; FUSED],
        char_count: usize,
    ) -> FusedSums {
        let mut all = words;
        for (a, c) in all.iter_mut().zip(chars) {
            *a += c;
        }
        FusedSums {
            words,
            all,
            word_count,
            char_count,
        }
    }

    /// The sums for model `i` of the fused set, as that model reads its features, and how many
    /// sparse features they sum.
    pub fn of(&self, fused: &Fused, i: usize, model: &LinearModel) -> (&[i32], usize) {
        let (start, len) = fused.spans.get(i).copied().unwrap_or((0, 0));
        let (src, count) = if model.use_chars {
            (&self.all, self.word_count + self.char_count)
        } else {
            (&self.words, self.word_count)
        };
        (src.get(start..start + len).unwrap_or_default(), count)
    }
}

#[inline(always)]
fn add_row(lanes: &mut [i16; FUSED], row: &[i8; FUSED]) {
    for (l, x) in lanes.iter_mut().zip(row.iter()) {
        *l = l.wrapping_add(i16::from(*x));
    }
}

fn spill_lanes(lanes: &mut [i16; FUSED], acc: &mut [i32; FUSED]) {
    for (a, l) in acc.iter_mut().zip(lanes.iter_mut()) {
        *a += i32::from(*l);
        *l = 0;
    }
}

impl Fused {
    /// Lays the models side by side; `None` when their bucket counts differ or they have more
    /// than [`FUSED`] classes together.
    pub fn new(models: &[&LinearModel]) -> Option<Fused> {
        let bits = models.first()?.bits;
        let total: usize = models.iter().map(|m| m.classes.len()).sum();
        if total > FUSED || models.iter().any(|m| m.bits != bits) {
            return None;
        }
        let mut rows = vec![[0i8; FUSED]; 1usize << bits];
        let mut spans = Vec::with_capacity(models.len());
        let mut start = 0;
        for m in models {
            let c = m.classes.len();
            for (row, w) in rows.iter_mut().zip(m.weights.chunks_exact(c)) {
                if let Some(dst) = row.get_mut(start..start + c) {
                    dst.copy_from_slice(w);
                }
            }
            spans.push((start, c));
            start += c;
        }
        Some(Fused { bits, rows, spans })
    }

    /// One pass over the features for every model.
    pub fn sums(&self, f: &Features) -> FusedSums {
        let words = self.row_sums(&f.words);
        let chars = self.row_sums(&f.chars);
        FusedSums::from_parts(words, f.words.len(), &chars, f.chars.len())
    }

    /// The exact sums of the rows of these feature hashes (16-bit lanes spilled to 32 bits
    /// every [`SPILL`] rows, so they cannot overflow).
    pub fn row_sums(&self, hashes: &[u64]) -> [i32; FUSED] {
        let shift = 64 - self.bits;
        let mut lanes = [0i16; FUSED];
        let mut acc = [0i32; FUSED];
        for (n, h) in hashes.iter().enumerate() {
            if let Some(row) = self.rows.get((h >> shift) as usize) {
                add_row(&mut lanes, row);
            }
            if n % SPILL == SPILL - 1 {
                spill_lanes(&mut lanes, &mut acc);
            }
        }
        spill_lanes(&mut lanes, &mut acc);
        acc
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let s = self
            .bytes
            .get(self.pos..self.pos + n)
            .ok_or_else(|| Error::Model("model file is truncated".into()))?;
        self.pos += n;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, Error> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }

    fn f32(&mut self) -> Result<f32, Error> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(f32::from_le_bytes(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Vec<Example> {
        (0..200u32)
            .map(|i| Example {
                x: vec![(i % 7, 0.5), (100 + i % 2, 0.5)],
                sparse: 2,
                y: vec![(i % 2) as u16],
                only: None,
            })
            .collect()
    }

    fn cfg(seed: u64) -> TrainConfig {
        TrainConfig {
            bits: 10,
            use_chars: false,
            epochs: 3,
            rate: 0.2,
            l2: 1e-6,
            seed,
            balance: 0.0,
            bags: 1,
            nb: 0.0,
        }
    }

    #[test]
    fn training_is_reproducible_and_round_trips() {
        let classes = vec!["a".to_owned(), "b".to_owned()];
        let a = LinearModel::train(&data(), classes.clone(), Kind::Softmax, &cfg(7));
        let b = LinearModel::train(&data(), classes.clone(), Kind::Softmax, &cfg(7));
        assert_eq!(a.to_bytes(), b.to_bytes());
        let back = LinearModel::from_bytes(&a.to_bytes()).unwrap();
        assert_eq!(back, a);
        assert!(LinearModel::from_bytes(&a.to_bytes()[..20]).is_err());
    }

    #[test]
    fn nb_scaling_and_averaged_runs_are_reproducible_and_learn() {
        let classes = vec!["b".to_owned()];
        let rows: Vec<Example> = data()
            .into_iter()
            .map(|mut e| {
                e.y = if e.y == [1] { vec![0] } else { Vec::new() };
                e.x.push((900, 1.0));
                e
            })
            .collect();
        let plain = LinearModel::train(&rows, classes.clone(), Kind::MultiLabel, &cfg(7));
        let tuned = TrainConfig {
            nb: 1.0,
            bags: 3,
            ..cfg(7)
        };
        let a = LinearModel::train(&rows, classes.clone(), Kind::MultiLabel, &tuned);
        let b = LinearModel::train(&rows, classes, Kind::MultiLabel, &tuned);
        assert_eq!(a.to_bytes(), b.to_bytes());
        assert_ne!(a.to_bytes(), plain.to_bytes());
        let score = |m: &LinearModel, bucket: u64| {
            let f = Features {
                words: vec![bucket << (64 - m.bits)],
                ..Features::default()
            };
            m.predict(&f).first().copied().unwrap_or(0.0)
        };
        assert!(score(&a, 101) > 0.5, "the bucket of the class scores high");
        assert!(
            score(&a, 100) < 0.5,
            "the bucket of the other rows scores low"
        );
    }
}
