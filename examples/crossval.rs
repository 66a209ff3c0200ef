//! Speaker-independent k-fold cross-validation over RAVDESS's actors: one accuracy with
//! its spread instead of a single split's figure (which moves by several points between
//! seeds on 24 actors).
//!
//! ```text
//! cargo run --release --example crossval -- --data DIR [--data DIR]... --out RUNS/cv
//!     [--folds 5] [--jobs 2] [any flag of train: --model, --epochs, --patience, --balance,
//!     --hop-length, --seed, --device, ...] [--cache DIR] [--resume | --overwrite]
//! cargo run --release --example crossval -- --data ../shared/corpus/RAVDESS --out runs/cv --jobs 2
//! ```
//!
//! **Folds.** RAVDESS's actors under `--data` (odd numbers are men, even women) are sorted
//! by number, the men and the women apart; each list is cut into `--folds` consecutive
//! blocks of equal size, and fold `i` tests on block `i` of the men and block `i` of the
//! women. For actors 01–20 and 5 folds that is fold 1 = 01–04, fold 2 = 05–08, …, fold 5 =
//! 17–20: two men and two women each, every actor tested exactly once; all other actors
//! train (16 of 20), for `--epochs` epochs, as `train` does by default. With `--validate`,
//! the validation actors (early stopping) are the first man and the first woman of the next
//! fold's block (fold 5 takes fold 1's): 05 and 06 for fold 1, …, 01 and 02 for fold 5, and
//! they do not train. Both lists must divide by `--folds` and leave at least two men and
//! two women outside each test block. Other corpora given with `--data` (TESS, CREMA-D, …)
//! only ever train: their speakers are in no fold's validation or test split, so every
//! figure is on RAVDESS actors the model never heard.
//!
//! **Runs.** Each fold is an ordinary `train` run in `OUT/fold-K/` (the same code:
//! `ser_examples::training`), so `evaluate --run OUT/fold-K --data …` works on it: by
//! default an ensemble of three members (`OUT/fold-K/member-J`, seeds `--seed` to
//! `--seed` + 2), scored as one model, with its members' mean UA alone beside;
//! `--members 1` trains one model per fold. Features
//! are computed once into `--cache` (default `OUT/feature-cache`) and shared by the folds.
//! `--resume` continues unfinished folds from their checkpoints and skips finished ones
//! (those with a `metrics.json`; in an unfinished ensemble, its finished members); `OUT/folds.json` records the assignment and a resume
//! with another one is refused.
//!
//! **Threads.** `--jobs N` (default 2) trains N folds side by side, each in its own rayon
//! pool of (cores / N) threads; `--jobs 1` trains one fold at a time on all cores. On 2
//! cores two folds at one thread each finished 5 one-epoch folds in 122 s against 162 s
//! for one fold at a time at two threads (docs/results.md): candle's kernels scale
//! poorly from one thread to two at these sizes, two independent folds do not share.
//!
//! **Summary.** Per fold: accuracy, UA (unweighted average recall), macro-F1 and the
//! accuracy on the fold's women and on its men; then the mean ± sample standard deviation
//! (n − 1) over folds. Printed, and written to `OUT/summary.json` and `OUT/summary.md`
//! (a markdown table for docs/results.md).
//!
//! **Ensembles.** `--ensemble CV_DIR` (repeated) trains nothing: each fold's test clips are
//! scored by the mean of the class probabilities of the members' fold models (the members
//! must be finished cross-validations of the same folds; an ensemble fold brings all its
//! models), and the summary goes to `--out`, a folder of its own:
//!
//! ```text
//! cargo run --release --example crossval -- --data ../shared/corpus/RAVDESS --out runs/ens \
//!     --cache runs/cv-cache --ensemble runs/cv-a --ensemble runs/cv-b
//! ```

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use indicatif::MultiProgress;
use ser_datasets::{Corpus, Gender, Utterance};
use ser_examples::run;
use ser_examples::runs::{dataset, featurize, labelled, prepare_for};
use ser_examples::training::{SplitArg, TrainArgs, Ui, train};
use ser_models::features::BandStats;
use ser_models::run::{is_run, load_run, run_members};
use ser_models::train::{Predictions, predict};
use ser_models::{InputMode, parse_device};
use serde::{Deserialize, Serialize};

#[global_allocator]
static GLOBAL: ser_examples::alloc::Allocator = ser_examples::alloc::Allocator;

/// Speaker-independent k-fold cross-validation over RAVDESS actors.
// `train`'s flags that choose the split are refused here: hidden from --help.
#[derive(Parser, Debug)]
#[command(
    version,
    mut_arg("manifest", |a| a.hide(true)),
    mut_arg("split", |a| a.hide(true)),
    mut_arg("test_speakers", |a| a.hide(true)),
    mut_arg("val_speakers", |a| a.hide(true)),
    mut_arg("limit", |a| a.hide(true)),
    mut_arg("out", |a| a.help("Folder of the folds (OUT/fold-K) and the summary")),
    mut_arg("resume", |a| a.help("Continue unfinished folds; skip finished ones")),
    mut_arg("overwrite", |a| a.help("Retrain every fold, replacing its run")),
    mut_arg("cache", |a| a.help("Feature cache folder (default: OUT/feature-cache)"))
)]
struct Args {
    /// Training settings, as `train` takes them; `--out` is the folder of the folds.
    #[command(flatten)]
    train: TrainArgs,
    /// Number of folds (each tests on an equal share of the men and of the women).
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Folds trained side by side, each in a rayon pool of cores / jobs threads (two folds
    /// at one thread each went 1.3x faster than one at two threads on 2 cores).
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Train nothing: score the ensemble of these finished cross-validations (repeat;
    /// the same folds), each fold's clips by the mean of the members' fold models' class
    /// probabilities; the summary goes to --out.
    #[arg(long, value_name = "CV_DIR")]
    ensemble: Vec<PathBuf>,
}

/// One fold: the actors it tests on and the actors it validates on (everyone else
/// trains).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Fold {
    /// 1-based fold number (`OUT/fold-K`).
    fold: usize,
    /// Test speakers (`ravdess:NN`), sorted.
    test: Vec<String>,
    /// Validation speakers: one man, one woman.
    validation: Vec<String>,
}

/// The folds of `speakers` (speaker id and gender), by the rule in the module docs.
fn assign_folds(speakers: &BTreeMap<String, Gender>, k: usize) -> Result<Vec<Fold>> {
    if k < 2 {
        bail!("--folds {k}: cross-validation needs at least 2 folds");
    }
    let of = |g: Gender| -> Vec<&String> {
        speakers
            .iter()
            .filter(|(_, x)| **x == g)
            .map(|(s, _)| s)
            .collect()
    };
    let (men, women) = (of(Gender::Male), of(Gender::Female));
    for (what, list) in [("men", &men), ("women", &women)] {
        if list.len() % k != 0 || list.len() / k == 0 {
            bail!(
                "{} RAVDESS {what} do not divide into {k} equal test blocks: choose --folds \
                 among the common divisors of the numbers of men ({}) and women ({})",
                list.len(),
                men.len(),
                women.len()
            );
        }
        if list.len() / k * (k - 1) < 2 {
            bail!(
                "with {k} folds of {} RAVDESS {what}, fewer than two {what} are left outside \
                 a test block: one validates, so none would train",
                list.len()
            );
        }
    }
    let (bm, bw) = (men.len() / k, women.len() / k);
    Ok((0..k)
        .map(|i| {
            let mut test: Vec<String> = men[i * bm..(i + 1) * bm]
                .iter()
                .chain(&women[i * bw..(i + 1) * bw])
                .map(|s| (*s).clone())
                .collect();
            test.sort();
            let next = (i + 1) % k;
            let mut validation = vec![men[next * bm].clone(), women[next * bw].clone()];
            validation.sort();
            Fold {
                fold: i + 1,
                test,
                validation,
            }
        })
        .collect())
}

/// RAVDESS's labelled speakers and their genders.
fn ravdess_speakers(utterances: &[Utterance]) -> Result<BTreeMap<String, Gender>> {
    let mut out = BTreeMap::new();
    for u in utterances.iter().filter(|u| u.corpus == Corpus::Ravdess) {
        let Some(g) = u.gender else {
            bail!("{} has no gender", u.path.display());
        };
        out.insert(u.speaker.clone(), g);
    }
    if out.is_empty() {
        bail!("no RAVDESS actor under --data: the folds are RAVDESS actors");
    }
    Ok(out)
}

/// What a fold's folder says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FoldState {
    /// No run yet.
    New,
    /// A run without `metrics.json`: training was interrupted.
    Started,
    /// A run with `metrics.json`: trained and tested.
    Done,
}

fn fold_state(dir: &Path) -> FoldState {
    if dir.join("metrics.json").is_file() {
        FoldState::Done
    } else if is_run(dir) {
        FoldState::Started
    } else {
        FoldState::New
    }
}

/// What to do with a fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Finished earlier: only summarised.
    Skip,
    /// Continue from its checkpoint.
    Resume,
    /// Train from the start (replacing an old run with `--overwrite`).
    Train,
}

/// The action for each fold from its state: `--resume` skips finished folds and
/// continues started ones, `--overwrite` retrains all, and without either a fold with a
/// run is refused before anything is trained.
fn plan(states: &[(PathBuf, FoldState)], resume: bool, overwrite: bool) -> Result<Vec<Action>> {
    if resume && overwrite {
        bail!("--resume and --overwrite contradict each other");
    }
    states
        .iter()
        .map(|(dir, s)| {
            Ok(match (s, resume, overwrite) {
                (_, _, true) | (FoldState::New, _, _) => Action::Train,
                (FoldState::Done, true, _) => Action::Skip,
                (FoldState::Started, true, _) => Action::Resume,
                (_, false, false) => bail!(
                    "{} holds a run: pass --resume to continue the cross-validation or \
                     --overwrite to replace it",
                    dir.display()
                ),
            })
        })
        .collect()
}

/// The `train` arguments of one fold.
fn fold_args(base: &TrainArgs, fold: &Fold, dir: &Path, cache: &Path, action: Action) -> TrainArgs {
    let mut a = base.clone();
    a.out = dir.to_path_buf();
    a.split = SplitArg::Speaker;
    a.test_speakers = fold.test.clone();
    a.val_speakers = fold.validation.clone();
    a.cache = Some(cache.to_path_buf());
    a.resume = action == Action::Resume;
    a
}

/// Mean and sample standard deviation (n − 1; `None` for fewer than two values).
fn mean_std(values: &[f64]) -> (f64, Option<f64>) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let std = (values.len() > 1)
        .then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    (mean, std)
}

/// One fold's figures (fractions, not percent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FoldResult {
    fold: usize,
    test: Vec<String>,
    validation: Vec<String>,
    items: usize,
    accuracy: f64,
    ua: f64,
    macro_f1: f64,
    accuracy_women: f64,
    accuracy_men: f64,
    epochs_run: usize,
    best_epoch: Option<usize>,
    train_minutes: f64,
    /// Speaker-standardised models only: accuracy and UA when each test clip is
    /// standardised alone (its own statistics and the model's prior), as a recognizer
    /// does a single clip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    accuracy_one_clip: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ua_one_clip: Option<f64>,
    /// An ensemble's models (1: one model).
    #[serde(default = "one")]
    models: usize,
    /// An ensemble's only: the mean of its models' UA alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ua_members: Option<f64>,
}

fn one() -> usize {
    1
}

/// A metric over folds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Spread {
    mean: f64,
    /// Sample standard deviation (n − 1).
    std: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Summary {
    folds: Vec<FoldResult>,
    /// Metric name → mean and standard deviation over folds.
    over_folds: BTreeMap<String, Spread>,
}

const METRICS: [&str; 8] = [
    "accuracy",
    "ua",
    "macro_f1",
    "accuracy_women",
    "accuracy_men",
    "accuracy_one_clip",
    "ua_one_clip",
    "ua_members",
];

fn summarise(folds: Vec<FoldResult>) -> Summary {
    let over_folds = METRICS
        .iter()
        .filter_map(|m| {
            let v: Option<Vec<f64>> = folds
                .iter()
                .map(|f| match *m {
                    "accuracy" => Some(f.accuracy),
                    "ua" => Some(f.ua),
                    "macro_f1" => Some(f.macro_f1),
                    "accuracy_women" => Some(f.accuracy_women),
                    "accuracy_men" => Some(f.accuracy_men),
                    "accuracy_one_clip" => f.accuracy_one_clip,
                    "ua_one_clip" => f.ua_one_clip,
                    _ => f.ua_members,
                })
                .collect();
            // A metric only some folds have (or none) is left out.
            let v = v.filter(|v| !v.is_empty())?;
            let (mean, std) = mean_std(&v);
            Some(((*m).to_string(), Spread { mean, std }))
        })
        .collect();
    Summary { folds, over_folds }
}

fn pct(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

fn pm(s: &Spread) -> String {
    match s.std {
        Some(d) => format!("{} ± {}", pct(s.mean), pct(d)),
        None => pct(s.mean),
    }
}

/// The summary as a markdown table (percent).
fn markdown(s: &Summary) -> String {
    let mut t = String::from(
        "| fold | test actors | validation | accuracy % | UA % | macro-F1 % | women % | men % | epochs |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    let short = |v: &[String]| {
        v.iter()
            .map(|x| x.rsplit(':').next().unwrap_or(x).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for f in &s.folds {
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            f.fold,
            short(&f.test),
            short(&f.validation),
            pct(f.accuracy),
            pct(f.ua),
            pct(f.macro_f1),
            pct(f.accuracy_women),
            pct(f.accuracy_men),
            // An ensemble's folds trained nothing of their own.
            if f.epochs_run == 0 {
                "-".to_string()
            } else {
                f.epochs_run.to_string()
            }
        ));
    }
    let g = |m: &str| s.over_folds.get(m).map_or("-".into(), pm);
    t.push_str(&format!(
        "| **mean ± sd** | | | {} | {} | {} | {} | {} | |\n",
        g("accuracy"),
        g("ua"),
        g("macro_f1"),
        g("accuracy_women"),
        g("accuracy_men")
    ));
    if s.over_folds.contains_key("ua_one_clip") {
        t.push_str(&format!(
            "\nEach test clip standardised alone (its own statistics and the model's \
             population prior, no other clip of its speaker): accuracy {} %, UA {} %.\n",
            g("accuracy_one_clip"),
            g("ua_one_clip")
        ));
    }
    if s.over_folds.contains_key("ua_members") {
        let models = s.folds.first().map_or(0, |f| f.models);
        t.push_str(&format!(
            "\nAn ensemble of {models} models; each alone: UA {} % (the mean of the models' UA \
             per fold, then over folds).\n",
            g("ua_members")
        ));
    }
    t
}

/// A finished fold model's predictions on its fold's test clips.
struct FoldPredictions {
    /// The model's class names.
    classes: Vec<String>,
    /// With the test speakers' statistics (or the model's own normalisation).
    speaker: Predictions,
    /// Speaker-standardised models only: each clip standardised alone (its own statistics
    /// and the model's prior), as a recognizer does a single clip.
    one_clip: Option<Predictions>,
}

/// The predictions of the model saved in `dir` on `test`.
fn fold_predictions(
    dir: &Path,
    test: &[Utterance],
    cache: &Path,
    device: &str,
) -> Result<FoldPredictions> {
    let (dev, _) = parse_device(device)?;
    let (cfg, model) = load_run(dir, &dev)?;
    let feats = featurize(test, cfg.features, Some(cache), true)?;
    let one_clip = if cfg.model.input.mode == InputMode::LogMelSpeakerCmvn {
        let own = feats
            .iter()
            .map(|(p, x)| {
                let y = BandStats::standardize_alone(x.view(), cfg.model.band_prior.as_ref())?;
                Ok((p.clone(), y))
            })
            .collect::<Result<HashMap<_, _>>>()?;
        Some(predict(&model, &dataset(test, &own, 64)?)?)
    } else {
        None
    };
    let feats = prepare_for(&cfg.model, test, feats)?;
    let speaker = predict(&model, &dataset(test, &feats, 64)?)?;
    Ok(FoldPredictions {
        classes: cfg.classes,
        speaker,
        one_clip,
    })
}

/// The test clips of `fold`.
fn test_clips(fold: &Fold, utterances: &[Utterance]) -> Vec<Utterance> {
    utterances
        .iter()
        .filter(|u| fold.test.contains(&u.speaker))
        .cloned()
        .collect()
}

/// The scores on `fold`'s test clips of the ensemble of `members` (one model's or more:
/// the mean of their class probabilities), with the models' mean UA alone for more than
/// one; the figures of training (epochs, minutes) are left empty.
fn scores(fold: &Fold, test: &[Utterance], members: &[FoldPredictions]) -> Result<FoldResult> {
    let Some(first) = members.first() else {
        bail!("fold {}: no model to score", fold.fold);
    };
    if members.iter().any(|m| m.classes != first.classes) {
        bail!(
            "fold {}: the ensemble's models have different classes",
            fold.fold
        );
    }
    let names: Vec<&str> = first.classes.iter().map(String::as_str).collect();
    let speaker = Predictions::mean(&members.iter().map(|m| &m.speaker).collect::<Vec<_>>())?;
    let one: Option<Vec<&Predictions>> = members.iter().map(|m| m.one_clip.as_ref()).collect();
    let one_clip = one.map(|o| Predictions::mean(&o)).transpose()?;
    let ua_members = if members.len() > 1 {
        let each = members
            .iter()
            .map(|m| Ok(m.speaker.report(&names, None)?.balanced_accuracy))
            .collect::<Result<Vec<f64>>>()?;
        Some(each.iter().sum::<f64>() / each.len() as f64)
    } else {
        None
    };
    let gender: HashMap<&Path, &str> = test
        .iter()
        .map(|u| (u.path.as_path(), u.gender.map_or("?", |g| g.as_str())))
        .collect();
    let group = |p: &Path| gender.get(p).copied().unwrap_or("?").to_string();
    let rep = speaker.report(&names, Some(&group))?;
    let by = |g: &str| {
        rep.per_group
            .get(g)
            .map(|m| m.accuracy)
            .with_context(|| format!("fold {} tests no {g} speaker", fold.fold))
    };
    let one_clip = match &one_clip {
        Some(p) => {
            let r = p.report(&names, None)?;
            Some((r.accuracy, r.balanced_accuracy))
        }
        None => None,
    };
    Ok(FoldResult {
        fold: fold.fold,
        test: fold.test.clone(),
        validation: fold.validation.clone(),
        items: speaker.labels.len(),
        accuracy: rep.accuracy,
        ua: rep.balanced_accuracy,
        macro_f1: rep.macro_f1,
        accuracy_women: by("female")?,
        accuracy_men: by("male")?,
        epochs_run: 0,
        best_epoch: None,
        train_minutes: f64::NAN,
        accuracy_one_clip: one_clip.map(|c| c.0),
        ua_one_clip: one_clip.map(|c| c.1),
        models: members.len(),
        ua_members,
    })
}

/// The predictions on `test` of every model in the run folders `dirs`: each a run, or an
/// ensemble run (`train --members N`), whose members all count.
fn models_predictions(
    dirs: &[PathBuf],
    test: &[Utterance],
    cache: &Path,
    device: &str,
) -> Result<Vec<FoldPredictions>> {
    let mut out = Vec::new();
    for d in dirs {
        for m in run_members(d)? {
            out.push(
                fold_predictions(&m, test, cache, device)
                    .with_context(|| m.display().to_string())?,
            );
        }
    }
    Ok(out)
}

/// The figures of a finished fold: its `metrics.json` (accuracy, UA and macro-F1 as
/// training reported them), and the accuracy on its women and men from its saved model
/// (or ensemble) on its test clips.
fn fold_result(
    fold: &Fold,
    dir: &Path,
    utterances: &[Utterance],
    cache: &Path,
    device: &str,
) -> Result<FoldResult> {
    let metrics: serde_json::Value = ser_models::io::load_json(&dir.join("metrics.json"))?;
    let num = |v: &serde_json::Value, what: &str| {
        v.as_f64()
            .with_context(|| format!("{}/metrics.json has no {what}", dir.display()))
    };
    let report = &metrics["report"];
    let test = test_clips(fold, utterances);
    let members = models_predictions(&[dir.to_path_buf()], &test, cache, device)?;
    Ok(FoldResult {
        accuracy: num(&report["accuracy"], "accuracy")?,
        ua: num(&report["balanced_accuracy"], "balanced_accuracy")?,
        macro_f1: num(&report["macro_f1"], "macro_f1")?,
        epochs_run: metrics["epochs_run"].as_u64().unwrap_or(0) as usize,
        best_epoch: metrics["best_epoch"].as_u64().map(|e| e as usize),
        train_minutes: metrics["train_minutes"].as_f64().unwrap_or(f64::NAN),
        ..scores(fold, &test, &members)?
    })
}

/// The figures of `fold` for the ensemble of the fold models `dirs` (one per member
/// cross-validation; an ensemble fold brings all its models): the mean of their class
/// probabilities, scored as one model.
fn ensemble_result(
    fold: &Fold,
    dirs: &[PathBuf],
    utterances: &[Utterance],
    cache: &Path,
    device: &str,
) -> Result<FoldResult> {
    let test = test_clips(fold, utterances);
    scores(
        fold,
        &test,
        &models_predictions(dirs, &test, cache, device)?,
    )
}

/// Evaluates the ensemble of the finished cross-validations `members` (the same folds as
/// `folds`) into `out`, training nothing.
fn ensemble(
    args: &Args,
    folds: &[Fold],
    utterances: &[Utterance],
    cache: &Path,
) -> Result<Summary> {
    let out = &args.train.out;
    if out.join("folds.json").exists() {
        bail!(
            "{} holds a cross-validation: an ensemble's summary goes to a folder of its own",
            out.display()
        );
    }
    for m in &args.ensemble {
        let theirs: Vec<Fold> = ser_models::io::load_json(&m.join("folds.json"))
            .with_context(|| format!("{} is not a finished cross-validation", m.display()))?;
        if theirs != folds {
            bail!(
                "{} holds another fold assignment than --data and --folds give now",
                m.display()
            );
        }
    }
    let results = folds
        .iter()
        .map(|f| {
            let dirs: Vec<PathBuf> = args
                .ensemble
                .iter()
                .map(|m| m.join(format!("fold-{}", f.fold)))
                .collect();
            ensemble_result(f, &dirs, utterances, cache, &args.train.device)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(summarise(results))
}

/// Runs the cross-validation of `args`; returns the summary (also written to
/// `OUT/summary.json` and `OUT/summary.md`) and how many folds were trained now.
fn crossval(args: &Args, multi: &MultiProgress) -> Result<(Summary, usize)> {
    let base = &args.train;
    if base.manifest.is_some() || !base.test_speakers.is_empty() || !base.val_speakers.is_empty() {
        bail!(
            "crossval chooses each fold's speakers: --manifest, --test-speakers and --val-speakers do not apply"
        );
    }
    if matches!(base.split, SplitArg::Random) {
        bail!("crossval is speaker-independent: --split random does not apply");
    }
    if base.limit.is_some() {
        bail!("--limit would drop whole actors from some folds: it does not apply");
    }
    if args.jobs == 0 {
        bail!("--jobs 0: at least one fold must train");
    }
    let say = |s: &str| {
        if multi.is_hidden() {
            eprintln!("{s}");
        } else {
            let _ = multi.println(s);
        }
    };
    let out = &base.out;
    let (utterances, _) = labelled(&base.data)?;
    let mut folds = assign_folds(&ravdess_speakers(&utterances)?, args.folds)?;
    // Without `--validate` (train's default) the validation actors train too.
    if !base.validate {
        for f in &mut folds {
            f.validation.clear();
        }
    }
    let states: Vec<(PathBuf, FoldState)> = folds
        .iter()
        .map(|f| {
            let d = out.join(format!("fold-{}", f.fold));
            let s = fold_state(&d);
            (d, s)
        })
        .collect();
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    if !args.ensemble.is_empty() {
        let cache = base
            .cache
            .clone()
            .unwrap_or_else(|| out.join("feature-cache"));
        let summary = ensemble(args, &folds, &utterances, &cache)?;
        ser_models::io::save_json(&out.join("summary.json"), &summary)?;
        ser_models::io::write_atomic(&out.join("summary.md"), markdown(&summary).as_bytes())?;
        return Ok((summary, 0));
    }
    let actions = plan(&states, base.resume, base.overwrite)?;
    let folds_json = out.join("folds.json");
    if base.resume && folds_json.is_file() {
        let before: Vec<Fold> = ser_models::io::load_json(&folds_json)?;
        if before != folds {
            bail!(
                "{} holds another fold assignment ({} folds) than --data and --folds give now \
                 ({}): resume with the data and folds it was started with",
                folds_json.display(),
                before.len(),
                folds.len()
            );
        }
    }
    ser_models::io::save_json(&folds_json, &folds)?;
    let cache = base
        .cache
        .clone()
        .unwrap_or_else(|| out.join("feature-cache"));
    let todo: VecDeque<(usize, Action)> = actions
        .iter()
        .enumerate()
        .filter(|(_, a)| **a != Action::Skip)
        .map(|(i, a)| (i, *a))
        .collect();
    let trained = todo.len();
    say(&format!(
        "{} folds of {} RAVDESS actors ({} labelled clips in all); {} to train, {} finished",
        folds.len(),
        folds.iter().map(|f| f.test.len()).sum::<usize>(),
        utterances.len(),
        trained,
        folds.len() - trained
    ));
    if trained > 0 {
        // Once, so that the folds only read the cache.
        let t0 = Instant::now();
        let logmel = base.logmel();
        featurize(&utterances, logmel, Some(&cache), false)?;
        say(&format!(
            "features of {} clips in {} in {:.1} s",
            utterances.len(),
            cache.display(),
            t0.elapsed().as_secs_f64()
        ));
        let jobs = args.jobs.min(trained);
        let threads = (rayon::current_num_threads() / jobs).max(1);
        say(&format!(
            "{jobs} fold(s) at a time, {threads} thread(s) each"
        ));
        let queue = Mutex::new(todo);
        let errors: Mutex<Vec<anyhow::Error>> = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(|| {
                    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
                        Ok(p) => p,
                        Err(e) => {
                            errors.lock().map(|mut v| v.push(e.into())).ok();
                            return;
                        }
                    };
                    loop {
                        let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                        let Some((i, action)) = next else { break };
                        let (fold, dir) = (&folds[i], &states[i].0);
                        let ui = Ui::shared(multi.clone(), format!("fold {}", fold.fold));
                        let t0 = Instant::now();
                        let r = pool
                            .install(|| train(&fold_args(base, fold, dir, &cache, action), &ui))
                            .with_context(|| format!("fold {} ({})", fold.fold, dir.display()));
                        match r {
                            Ok(()) => ui.line(&format!(
                                "done in {:.1} min",
                                t0.elapsed().as_secs_f64() / 60.0
                            )),
                            Err(e) => {
                                errors.lock().map(|mut v| v.push(e)).ok();
                            }
                        }
                    }
                });
            }
        });
        let mut errors = errors.into_inner().unwrap_or_default();
        if let Some(first) = errors.pop() {
            for e in &errors {
                say(&format!("error: {e:#}"));
            }
            return Err(first);
        }
    }
    let results = folds
        .iter()
        .zip(&states)
        .map(|(f, (dir, _))| fold_result(f, dir, &utterances, &cache, &base.device))
        .collect::<Result<Vec<_>>>()?;
    let summary = summarise(results);
    ser_models::io::save_json(&out.join("summary.json"), &summary)?;
    ser_models::io::write_atomic(&out.join("summary.md"), markdown(&summary).as_bytes())?;
    Ok((summary, trained))
}

fn main() {
    run(|| {
        let args = Args::parse();
        let multi = MultiProgress::new();
        let (summary, _) = crossval(&args, &multi)?;
        println!("{}", markdown(&summary));
        eprintln!(
            "wrote {0}/summary.json and {0}/summary.md",
            args.train.out.display()
        );
        Ok(())
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn ravdess(n: usize) -> BTreeMap<String, Gender> {
        (1..=n)
            .map(|a| {
                let g = if a % 2 == 1 {
                    Gender::Male
                } else {
                    Gender::Female
                };
                (format!("ravdess:{a:02}"), g)
            })
            .collect()
    }

    #[test]
    fn twenty_actors_make_five_balanced_disjoint_folds() {
        let speakers = ravdess(20);
        let folds = assign_folds(&speakers, 5).unwrap();
        assert_eq!(folds.len(), 5);
        let s = |v: &[&str]| v.iter().map(|x| format!("ravdess:{x}")).collect::<Vec<_>>();
        assert_eq!(folds[0].test, s(&["01", "02", "03", "04"]));
        assert_eq!(folds[0].validation, s(&["05", "06"]));
        assert_eq!(folds[4].test, s(&["17", "18", "19", "20"]));
        assert_eq!(folds[4].validation, s(&["01", "02"]));
        let mut tested = BTreeSet::new();
        for f in &folds {
            let men = f
                .test
                .iter()
                .filter(|t| speakers[*t] == Gender::Male)
                .count();
            assert_eq!((men, f.test.len() - men), (2, 2), "fold {}", f.fold);
            let vmen = f
                .validation
                .iter()
                .filter(|t| speakers[*t] == Gender::Male)
                .count();
            assert_eq!((vmen, f.validation.len()), (1, 2), "fold {}", f.fold);
            for v in &f.validation {
                assert!(
                    !f.test.contains(v),
                    "fold {} validates on a test actor",
                    f.fold
                );
            }
            for t in &f.test {
                assert!(tested.insert(t.clone()), "{t} is tested twice");
            }
        }
        assert_eq!(tested.len(), 20, "every actor is tested once");
    }

    #[test]
    fn folds_that_cannot_balance_genders_are_refused() {
        // 24 actors (12 men) do not divide into 5 folds; 3 folds of 8 do.
        assert!(assign_folds(&ravdess(24), 5).is_err());
        assert_eq!(assign_folds(&ravdess(24), 3).unwrap()[0].test.len(), 8);
        assert!(assign_folds(&ravdess(20), 1).is_err());
        // 10 folds of one man and one woman leave nine of each: allowed; 4 actors in 2
        // folds leave one man to train and validate: refused.
        assert!(assign_folds(&ravdess(20), 10).is_ok());
        let err = assign_folds(&ravdess(4), 2).unwrap_err().to_string();
        assert!(err.contains("none would train"), "{err}");
    }

    #[test]
    fn mean_and_sample_std() {
        let (m, s) = mean_std(&[0.5, 0.6, 0.7, 0.8]);
        assert!((m - 0.65).abs() < 1e-12);
        // Squared deviations 0.0225 + 0.0025 + 0.0025 + 0.0225 = 0.05, over n - 1 = 3.
        assert!((s.unwrap() - (0.05f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(mean_std(&[0.4]), (0.4, None));
        let summary = summarise(
            [0.5, 0.7]
                .iter()
                .enumerate()
                .map(|(i, &a)| FoldResult {
                    fold: i + 1,
                    test: vec![],
                    validation: vec![],
                    items: 10,
                    accuracy: a,
                    ua: a / 2.0,
                    macro_f1: 0.3,
                    accuracy_women: 1.0,
                    accuracy_men: a,
                    epochs_run: 1,
                    best_epoch: Some(1),
                    train_minutes: 0.1,
                    accuracy_one_clip: None,
                    ua_one_clip: (i == 0).then_some(0.2),
                    models: 1,
                    ua_members: None,
                })
                .collect(),
        );
        // A figure only one fold has is not averaged.
        assert!(!summary.over_folds.contains_key("ua_one_clip"));
        assert!(!summary.over_folds.contains_key("accuracy_one_clip"));
        let acc = summary.over_folds["accuracy"];
        assert!((acc.mean - 0.6).abs() < 1e-12);
        assert!((acc.std.unwrap() - 0.02f64.sqrt()).abs() < 1e-12);
        assert!((summary.over_folds["ua"].mean - 0.3).abs() < 1e-12);
        assert_eq!(summary.over_folds["macro_f1"].std, Some(0.0));
        let md = markdown(&summary);
        assert!(
            md.contains("| **mean ± sd** | | | 60.0 ± 14.1 | 30.0 ± 7.1 |"),
            "{md}"
        );
    }

    #[test]
    fn flags_that_choose_the_split_are_refused() {
        let multi = MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden());
        for extra in [
            &["--test-speakers", "ravdess:01"][..],
            &["--val-speakers", "ravdess:01"],
            &["--manifest", "m.csv"],
            &["--split", "random"],
            &["--limit", "10"],
            &["--jobs", "0"],
        ] {
            let mut argv = vec!["crossval", "--data", "nowhere", "--out", "nowhere"];
            argv.extend(extra);
            let args = Args::try_parse_from(argv).unwrap();
            let err = crossval(&args, &multi).unwrap_err().to_string();
            assert!(
                err.contains("does not apply")
                    || err.contains("do not apply")
                    || err.contains("--jobs 0"),
                "{extra:?}: {err}"
            );
        }
    }

    #[test]
    fn resume_skips_finished_folds_and_continues_started_ones() {
        let dir = tempfile::tempdir().unwrap();
        let d = |k: usize| dir.path().join(format!("fold-{k}"));
        std::fs::create_dir_all(d(1)).unwrap();
        std::fs::write(d(1).join("config.json"), "{}").unwrap();
        std::fs::write(d(1).join("metrics.json"), "{}").unwrap();
        std::fs::create_dir_all(d(2)).unwrap();
        std::fs::write(d(2).join("config.json"), "{}").unwrap();
        let states: Vec<_> = (1..=3).map(|k| (d(k), fold_state(&d(k)))).collect();
        assert_eq!(
            states.iter().map(|s| s.1).collect::<Vec<_>>(),
            [FoldState::Done, FoldState::Started, FoldState::New]
        );
        assert_eq!(
            plan(&states, true, false).unwrap(),
            [Action::Skip, Action::Resume, Action::Train]
        );
        assert_eq!(plan(&states, false, true).unwrap(), [Action::Train; 3]);
        let err = plan(&states, false, false).unwrap_err().to_string();
        assert!(err.contains("fold-1") && err.contains("--resume"), "{err}");
        assert!(plan(&states, true, true).is_err());
    }

    /// An 8-actor corpus in RAVDESS's layout, from the quickstart corpus's clips (one per
    /// emotion per actor): actor `a` speaks with quickstart actor `(a - 1) % 4 + 1` (the
    /// same gender), statement 01 for actors 1–4 and 02 for 5–8, so that no two files hold
    /// the same bytes (the scanner drops copies).
    fn eight_actor_corpus(root: &Path) {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/corpora/quickstart");
        for actor in 1..=8usize {
            let from = (actor - 1) % 4 + 1;
            let statement = if actor <= 4 { "01" } else { "02" };
            let dir = root.join(format!("Actor_{actor:02}"));
            std::fs::create_dir_all(&dir).unwrap();
            for e in ["01", "03", "04", "05", "06", "07", "08"] {
                let name = |a: usize| format!("03-01-{e}-01-{statement}-01-{a:02}.flac");
                std::fs::copy(
                    src.join(format!("Actor_{from:02}")).join(name(from)),
                    dir.join(name(actor)),
                )
                .unwrap();
            }
        }
    }

    /// A quick cross-validation of the eight-actor corpus `data` into `out`: 2 folds side
    /// by side, each an ensemble of 2 one-epoch LSTMs (hop 2048), plus `extra` flags.
    fn tiny_args(data: &Path, out: &Path, extra: &[&str]) -> Args {
        let mut v = vec![
            "crossval".to_string(),
            "--data".into(),
            data.display().to_string(),
            "--out".into(),
            out.display().to_string(),
            "--folds".into(),
            "2".into(),
            "--jobs".into(),
            "2".into(),
            "--model".into(),
            "lstm".into(),
            "--epochs".into(),
            "1".into(),
            "--hop-length".into(),
            "2048".into(),
            "--members".into(),
            "2".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        Args::try_parse_from(v).unwrap()
    }

    /// Members fitted on over-sampled data with the global mean and standard deviation:
    /// they share their augmented copies (the first's seed), hence their statistics, so
    /// that they make one ensemble.
    #[test]
    fn an_ensemble_over_augmented_copies_shares_its_statistics() {
        let tmp = tempfile::tempdir().unwrap();
        let (data, out) = (tmp.path().join("RAVDESS"), tmp.path().join("cv"));
        eight_actor_corpus(&data);
        let args = tiny_args(
            &data,
            &out,
            &[
                "--balance",
                "oversample",
                "--oversample-to",
                "5",
                "--input-norm",
                "global",
            ],
        );
        let multi = MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden());
        let (summary, trained) = crossval(&args, &multi).unwrap();
        assert_eq!(trained, 2);
        for f in &summary.folds {
            assert_eq!(f.models, 2);
            let fold = out.join(format!("fold-{}", f.fold));
            let cfg =
                |k| ser_models::run::RunConfig::load(&fold.join(format!("member-{k}"))).unwrap();
            let (a, b) = (cfg(1), cfg(2));
            assert_eq!(a.oversampled_to, Some(5));
            assert!(matches!(
                a.model.input.mode,
                ser_models::InputMode::LogMel { .. }
            ));
            assert_eq!(a.model, b.model);
            assert_ne!(a.seed, b.seed);
        }
    }

    #[test]
    fn two_folds_end_to_end_then_resume_skips_them() {
        let tmp = tempfile::tempdir().unwrap();
        let (data, out) = (tmp.path().join("RAVDESS"), tmp.path().join("cv"));
        eight_actor_corpus(&data);
        let argv = |extra: &[&str]| tiny_args(&data, &out, extra);
        let multi = MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden());
        let (summary, trained) = crossval(&argv(&[]), &multi).unwrap();
        assert_eq!(trained, 2);
        assert_eq!(summary.folds.len(), 2);
        for f in &summary.folds {
            // Two men and two women, seven clips each.
            assert_eq!(f.items, 28, "fold {}", f.fold);
            for v in [
                f.accuracy,
                f.ua,
                f.macro_f1,
                f.accuracy_women,
                f.accuracy_men,
            ] {
                assert!((0.0..=1.0).contains(&v), "fold {}: {v}", f.fold);
            }
            // Women and men are half the clips each: their accuracies average to the whole.
            assert!(
                ((f.accuracy_women + f.accuracy_men) / 2.0 - f.accuracy).abs() < 1e-9,
                "{f:?}"
            );
            // Each fold is an ensemble run of two members from seeds 42 and 43, on one split.
            assert_eq!(f.models, 2);
            assert!(f.ua_members.is_some_and(|u| (0.0..=1.0).contains(&u)));
            let dir = out.join(format!("fold-{}", f.fold));
            for file in ["split.csv", "metrics.json", "confusion.png"] {
                assert!(dir.join(file).is_file(), "{}", dir.join(file).display());
            }
            for (k, seed) in [(1, 42), (2, 43)] {
                let member = dir.join(format!("member-{k}"));
                for file in [
                    "config.json",
                    "split.csv",
                    "model.safetensors",
                    "metrics.json",
                ] {
                    assert!(
                        member.join(file).is_file(),
                        "{}",
                        member.join(file).display()
                    );
                }
                assert_eq!(
                    ser_models::run::RunConfig::load(&member).unwrap().seed,
                    seed
                );
                assert_eq!(
                    std::fs::read(member.join("split.csv")).unwrap(),
                    std::fs::read(dir.join("split.csv")).unwrap()
                );
            }
            let metrics: serde_json::Value =
                ser_models::io::load_json(&dir.join("metrics.json")).unwrap();
            assert_eq!(metrics["members"].as_array().map(Vec::len), Some(2));
        }
        assert!(
            std::fs::read_to_string(out.join("summary.md"))
                .unwrap()
                .contains("An ensemble of 2 models")
        );
        let (m, s) = mean_std(&[summary.folds[0].accuracy, summary.folds[1].accuracy]);
        assert_eq!(summary.over_folds["accuracy"], Spread { mean: m, std: s });
        let path = out.join("summary.json");
        let expected = ser_models::io::json_bytes(&path, &summary).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), expected);
        assert!(
            std::fs::read_to_string(out.join("summary.md"))
                .unwrap()
                .contains("mean ± sd")
        );
        // Again without --resume: refused, nothing touched.
        let err = crossval(&argv(&[]), &multi).unwrap_err().to_string();
        assert!(err.contains("--resume"), "{err}");
        // With --resume: both folds are finished, nothing trains, same figures.
        let weights = out.join("fold-1/member-1/model.safetensors");
        let before = std::fs::metadata(&weights).unwrap().modified().unwrap();
        let (again, trained) = crossval(&argv(&["--resume"]), &multi).unwrap();
        assert_eq!(trained, 0);
        assert_eq!(again, summary);
        assert_eq!(
            std::fs::metadata(&weights).unwrap().modified().unwrap(),
            before
        );
        // A fold stopped after its first member: the resume trains the second only, and
        // the fold's figures come back the same.
        std::fs::remove_file(out.join("fold-1/metrics.json")).unwrap();
        std::fs::remove_dir_all(out.join("fold-1/member-2")).unwrap();
        let (again, trained) = crossval(&argv(&["--resume"]), &multi).unwrap();
        assert_eq!(trained, 1);
        assert_eq!(again.folds[0].models, 2);
        assert!(out.join("fold-1/member-2/metrics.json").is_file());
        assert_eq!(
            std::fs::metadata(&weights).unwrap().modified().unwrap(),
            before
        );
    }
}
