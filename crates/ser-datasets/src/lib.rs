//! Emotional-speech corpora from their real layouts into one labelled, balanced,
//! speaker-aware set (work in progress).
#![deny(missing_docs)]

pub mod emotion;
pub mod record;

pub use emotion::{Emotion, UnknownEmotion};
pub use record::{Corpus, Gender, UnknownCorpus, Utterance};

pub mod balance;
pub mod counts;
pub mod error;
pub mod manifest;
pub mod split;

pub use balance::{oversampling_plan, undersample};
pub use counts::Counts;
pub use error::{Error, Result};
pub use manifest::{MANIFEST_COLUMNS, RowError, WriteMode, read_manifest, write_manifest};
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
