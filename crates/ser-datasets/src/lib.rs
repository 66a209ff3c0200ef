//! Emotional-speech corpora from their real layouts into one labelled, balanced,
//! speaker-aware set (work in progress).
#![deny(missing_docs)]

pub mod emotion;
pub mod record;

pub use emotion::{Emotion, UnknownEmotion};
pub use record::{Corpus, Gender, UnknownCorpus, Utterance};
