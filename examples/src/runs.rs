//! What the `train`, `evaluate` and `quickstart` programs share: featurizing a corpus with
//! a progress bar, the in-memory dataset, augmented over-sampling. (A run directory's
//! `config.json` and loading it live in `ser_models::run`.)

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::Array2;
use rayon::prelude::*;
use ser_augment::{augment_seeded, research_waveform};
use ser_datasets::{
    Corpus, FeatureCache, Item, LabelPolicy, Loader, OversamplingPlan, ScanReport, Split,
    Utterance, scan,
};
use ser_dsp::ndarray;
use ser_dsp::{LogMel, LogMelConfig};
use ser_models::features::BandStats;
use ser_models::train::Dataset;
use ser_models::{BandPrior, InputMode, ModelConfig};

/// The labelled utterances under `roots` (those the label policy gives an emotion), with
/// the scan's report of what it rejected.
///
/// # Errors
/// A root that is not a folder, or unreadable corpus metadata.
pub fn labelled(roots: &[PathBuf]) -> Result<(Vec<Utterance>, ScanReport)> {
    let mut report = scan(roots, None, &LabelPolicy::default())?;
    let utterances = std::mem::take(&mut report.utterances)
        .into_iter()
        .filter(|u| u.emotion.is_some())
        .collect();
    Ok((utterances, report))
}

/// A progress bar with the house style.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix:>10} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_prefix(what.to_string());
    pb
}

/// Log-mel spectrograms of `utterances` (in parallel, through `cache` if given), by path.
///
/// # Errors
/// The first file that cannot be decoded or featurized, named.
pub fn featurize(
    utterances: &[Utterance],
    config: LogMelConfig,
    cache: Option<&Path>,
    quiet: bool,
) -> Result<HashMap<PathBuf, Array2<f32>>> {
    let labelled: Vec<Utterance> = utterances
        .iter()
        .filter(|u| u.emotion.is_some())
        .cloned()
        .collect();
    if labelled.is_empty() {
        bail!("no labelled utterance to featurize");
    }
    let mut loader = Loader::new(&labelled, LogMel::new(config)?, 32)?;
    if let Some(dir) = cache {
        loader = loader.with_cache(FeatureCache::open(dir)?);
    }
    let pb = if quiet {
        ProgressBar::hidden()
    } else {
        bar(labelled.len() as u64, "features")
    };
    let mut out = HashMap::with_capacity(labelled.len());
    for batch in loader.epoch(0) {
        let batch = batch.context("featurizing")?;
        pb.inc(batch.len() as u64);
        for (path, f) in batch.paths.iter().zip(batch.features.outer_iter()) {
            out.insert(path.clone(), f.to_owned());
        }
    }
    pb.finish_and_clear();
    Ok(out)
}

/// The labelled utterances that have features, as an in-memory [`Dataset`] (ids = paths).
///
/// # Errors
/// As [`Dataset::with_ids`].
pub fn dataset<'a>(
    utterances: impl IntoIterator<Item = &'a Utterance>,
    feats: &HashMap<PathBuf, Array2<f32>>,
    batch_size: usize,
) -> Result<Dataset> {
    let (mut f, mut l, mut ids) = (Vec::new(), Vec::new(), Vec::new());
    for u in utterances {
        if let (Some(x), Some(e)) = (feats.get(&u.path), u.emotion) {
            f.push(x.clone());
            l.push(e.index());
            ids.push(u.path.clone());
        }
    }
    Ok(Dataset::with_ids(f, l, ids, batch_size)?)
}

/// The key of `u`'s speaker across corpora: `corpus:speaker`.
pub fn speaker_key(u: &Utterance) -> String {
    format!("{}:{}", u.corpus, u.speaker)
}

/// Standardises every featurized clip of `utterances` in `feats` by its speaker's
/// per-band statistics over all of that speaker's clips there, shrunk towards `prior`
/// ([`InputMode::LogMelSpeakerCmvn`]); returns the statistics by [`speaker_key`].
///
/// # Errors
/// A spectrogram with another band count than the speaker's others.
pub fn standardize_by_speaker(
    utterances: &[Utterance],
    feats: &mut HashMap<PathBuf, Array2<f32>>,
    prior: Option<&BandPrior>,
) -> Result<HashMap<String, BandStats>> {
    let mut stats: HashMap<String, BandStats> = HashMap::new();
    for u in utterances {
        if let Some(x) = feats.get(&u.path) {
            stats
                .entry(speaker_key(u))
                .or_insert_with(|| BandStats::with_prior(x.nrows(), prior))
                .add(x.view())?;
        }
    }
    let mut done = std::collections::HashSet::new();
    for u in utterances {
        if let (Some(x), Some(s)) = (feats.get_mut(&u.path), stats.get(&speaker_key(u))) {
            // A clip listed twice is standardised once.
            if done.insert(u.path.clone()) {
                *x = s.standardize(x.view())?;
            }
        }
    }
    Ok(stats)
}

/// Standardises training clips as a recognizer's running statistics see a recording: each
/// by the statistics of itself and `k` other clips of its speaker drawn at random (with the
/// prior, if any), `k` log-uniform in `0..=n` (`n`: the speaker's other clips), so that the
/// model learns from a single clip's statistics up to a whole speaker's. Seeded: the same
/// `seed` gives the same draws.
#[derive(Debug)]
pub struct SpeakerHistory {
    /// Each speaker's raw clips, by [`speaker_key`], with their paths.
    clips: HashMap<String, Vec<(PathBuf, Array2<f32>)>>,
    prior: Option<BandPrior>,
    all_fraction: f64,
    rng: ser_augment::ChaCha8Rng,
}

impl SpeakerHistory {
    /// The raw (not yet standardised) features of `utterances`, grouped by speaker.
    pub fn new(
        utterances: &[&Utterance],
        feats: &HashMap<PathBuf, Array2<f32>>,
        prior: Option<&BandPrior>,
        seed: u64,
    ) -> Self {
        use ser_augment::rand::SeedableRng;
        let mut clips: HashMap<String, Vec<(PathBuf, Array2<f32>)>> = HashMap::new();
        for u in utterances {
            if let Some(x) = feats.get(&u.path) {
                clips
                    .entry(speaker_key(u))
                    .or_default()
                    .push((u.path.clone(), x.clone()));
            }
        }
        Self {
            clips,
            prior: prior.cloned(),
            all_fraction: 0.0,
            rng: ser_augment::ChaCha8Rng::seed_from_u64(seed ^ 0x6869_7374_6f72_7900),
        }
    }

    /// With probability `p`, a clip is standardised by all of its speaker's clips instead
    /// of a random number (0, the default, draws nothing extra).
    pub fn with_all_fraction(mut self, p: f64) -> Self {
        self.all_fraction = p.clamp(0.0, 1.0);
        self
    }

    /// The raw features of `u` as given to [`SpeakerHistory::new`].
    pub fn raw(&self, u: &Utterance) -> Option<Array2<f32>> {
        self.clips
            .get(&speaker_key(u))?
            .iter()
            .find(|(p, _)| *p == u.path)
            .map(|(_, x)| x.clone())
    }

    /// `x` (a clip of `u`'s speaker, or an augmented copy of the clip at `source`)
    /// standardised by itself and a random number of the speaker's other clips.
    ///
    /// # Errors
    /// Shapes that disagree.
    pub fn standardize(
        &mut self,
        u: &Utterance,
        source: &Path,
        x: &Array2<f32>,
    ) -> Result<Array2<f32>> {
        use ser_augment::rand::RngExt;
        use ser_augment::rand::seq::SliceRandom;
        let mut stats = BandStats::with_prior(x.nrows(), self.prior.as_ref());
        stats.add(x.view())?;
        if let Some(clips) = self.clips.get(&speaker_key(u)) {
            let mut others: Vec<&Array2<f32>> = clips
                .iter()
                .filter(|(p, _)| p != source)
                .map(|(_, c)| c)
                .collect();
            // k other clips, log-uniform in 0..=n: as many draws see a few clips as see
            // many, the way a recording's first windows are as common as its later ones.
            let n = others.len();
            let all = self.all_fraction > 0.0 && self.rng.random::<f64>() < self.all_fraction;
            let u: f64 = self.rng.random();
            let k = if all {
                n
            } else {
                (((n + 1) as f64).powf(u).floor() as usize)
                    .saturating_sub(1)
                    .min(n)
            };
            others.shuffle(&mut self.rng);
            for c in &others[..k] {
                stats.add(c.view())?;
            }
        }
        Ok(stats.standardize(x.view())?)
    }
}

/// The features of `utterances` as `model` takes them: standardised by speaker (shrunk
/// towards its prior) for [`InputMode::LogMelSpeakerCmvn`], as they are otherwise.
///
/// # Errors
/// As [`standardize_by_speaker`].
pub fn prepare_for(
    model: &ModelConfig,
    utterances: &[Utterance],
    mut feats: HashMap<PathBuf, Array2<f32>>,
) -> Result<HashMap<PathBuf, Array2<f32>>> {
    if model.input.mode == InputMode::LogMelSpeakerCmvn {
        standardize_by_speaker(utterances, &mut feats, model.band_prior.as_ref())?;
    }
    Ok(feats)
}

/// One augmented training clip: its id (`SOURCE#augN`), class index and log-mel.
pub type AugmentedCopy = (PathBuf, usize, Array2<f32>);

/// What separates an augmented copy's source from its number in its id.
const AUGMENTED_MARK: &str = "#aug";

/// The clip a training item's id comes from: the source of an augmented copy
/// (`SOURCE#augN`, see [`oversample`]), or the id itself.
pub fn augmented_source(id: &Path) -> PathBuf {
    let s = id.to_string_lossy();
    match s.rsplit_once(AUGMENTED_MARK) {
        Some((source, _)) => PathBuf::from(source),
        None => id.to_path_buf(),
    }
}

/// Augmented copies that bring every class of `train` up to `target` clips (default: the
/// largest class), by an [`OversamplingPlan`] seeded with `seed`: each copy is its source
/// decoded again, put through the research's waveform pipeline
/// ([`research_waveform`]: time stretch 0.8–1.2, pitch shift ±2 semitones, noise 0.005,
/// each with probability 0.5) with the plan entry's seed, and featurized with `config`.
/// Only the training split is ever passed here, so validation and test clips are never
/// augmented. Returns the plan and the copies as `(id, class index, log-mel)`, the id
/// being `SOURCE#augN`; the same arguments always give the same copies.
///
/// # Errors
/// A plan that cannot be made (no training clip); a source that no longer decodes; an
/// augmentation or featurization error, naming the file.
pub fn oversample(
    train: &[&Utterance],
    target: Option<usize>,
    config: LogMelConfig,
    seed: u64,
    quiet: bool,
) -> Result<(OversamplingPlan, Vec<AugmentedCopy>)> {
    let items: Vec<Item> = train
        .iter()
        .filter_map(|u| {
            u.emotion
                .map(|e| Item::new(u.path.clone(), e, Split::Train))
        })
        .collect();
    let plan = OversamplingPlan::new(items, target, seed)?;
    let extractor = LogMel::new(config)?;
    let pipeline = research_waveform();
    let pb = if quiet {
        ProgressBar::hidden()
    } else {
        bar(plan.entries().len() as u64, "augmenting")
    };
    let copies = plan
        .entries()
        .par_iter()
        .map(|entry| {
            let path = entry.source();
            let class = entry.emotion().index();
            let audio =
                ser_audio_io::load(path).with_context(|| format!("decoding {}", path.display()))?;
            let (augmented, _) = augment_seeded(&pipeline, &audio, entry.seed())
                .with_context(|| format!("augmenting {}", path.display()))?;
            let mel = extractor
                .extract_owned(augmented)
                .with_context(|| format!("featurizing an augmented copy of {}", path.display()))?;
            pb.inc(1);
            let mut id = path.as_os_str().to_owned();
            id.push(format!("{AUGMENTED_MARK}{}", entry.copy()));
            Ok((PathBuf::from(id), class, mel))
        })
        .collect::<Result<Vec<_>>>()?;
    pb.finish_and_clear();
    Ok((plan, copies))
}

/// The corpus of each file, for per-corpus figures.
pub fn corpus_of(utterances: &[Utterance]) -> HashMap<PathBuf, Corpus> {
    utterances
        .iter()
        .map(|u| (u.path.clone(), u.corpus))
        .collect()
}
