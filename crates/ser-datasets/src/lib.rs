//! Emotional-speech corpora from their real layouts into one labelled, balanced,
//! speaker-aware set.
//!
//! ```
//! use std::path::PathBuf;
//! use ser_datasets::{LabelPolicy, SplitFractions, check_no_speaker_leak, scan, speaker_split};
//!
//! let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/corpora/ravdess"));
//! // Parse the tree (the corpus is detected from its layout); bad names are reported.
//! let report = scan(&[root], None, &LabelPolicy::default())?;
//! assert!(!report.utterances.is_empty());
//! // A speaker-independent 70/15/15 split: no actor in two splits.
//! let split = speaker_split(&report.utterances, &SplitFractions::default(), 42)?;
//! check_no_speaker_leak(&split)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Parsers ([`CorpusParser`]) turn file names into [`Utterance`]s with a globally unique
//! speaker and one of the seven [`Emotion`]s (labels outside them follow a [`LabelPolicy`]);
//! [`scan()`] walks trees and reports what does not parse and what is duplicated; the split
//! functions, [`undersample`], over-sampling plans ([`OversamplingPlan`], [`oversampling_plan`])
//! and the CSV manifest
//! ([`write_manifest`], [`read_manifest`]) turn the set into reproducible experiments.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod emotion;
pub mod record;

pub use emotion::{Emotion, UnknownEmotion};
pub use record::{Corpus, Gender, UnknownCorpus, Utterance};

pub mod balance;
pub mod counts;
pub mod error;
pub mod lookup;
pub mod manifest;
pub mod plan;
pub mod split;

pub use balance::{oversampling_plan, undersample};
pub use counts::Counts;
pub use error::{Error, Result};
pub use lookup::{SplitLookup, relative_to_roots};
pub use manifest::{MANIFEST_COLUMNS, RowError, read_manifest, write_manifest};
pub use plan::{ClassCount, Item, OversamplingPlan, PlanEntry, PlanError};
pub use ser_core::Overwrite;
pub use split::{
    Assignment, LeakError, SPLITS, Split, SplitFractions, check_no_speaker_leak, parse_split,
    random_split, speaker_kfold, speaker_split, speakers_of,
};

pub mod parse;
pub mod scan;

pub use parse::{
    CorpusParser, CremaDParser, EsdParser, JlCorpusParser, LabelPolicy, MetadataError, ParseError,
    RavdessParser, SaveeParser, TessParser, is_audio_path, parser_for,
};
pub use scan::{Duplicate, Rejected, RootCorpus, ScanError, ScanReport, scan};

pub mod cache;
pub mod loader;

pub use cache::{CacheKey, FeatureCache};
pub use loader::{Batch, Epoch, Loader, item_seed};

/// The crate README's examples, compiled (and the runnable ones run) as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
