//! Utterance counts per corpus, speaker and emotion class, printable as a table.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::emotion::Emotion;
use crate::record::{Corpus, Utterance};

/// Utterance counts per corpus × speaker × emotion (`None`: label left out).
///
/// `Display` prints one row per corpus (columns: the seven classes, `left out`, `total`,
/// `speakers`) and a total row; the alternate form (`{:#}`) adds one row per speaker.
///
/// ```
/// use ser_datasets::{Corpus, Counts, Emotion, Utterance};
/// let u = Utterance {
///     path: "a.wav".into(),
///     corpus: Corpus::Tess,
///     speaker: "tess:OAF".into(),
///     gender: None,
///     original_label: "angry".into(),
///     intensity: None,
///     emotion: Some(Emotion::Angry),
///     language: None,
/// };
/// let counts = Counts::from_utterances([&u, &u]);
/// assert_eq!(counts.total(), 2);
/// assert_eq!(counts.by_emotion()[&Some(Emotion::Angry)], 2);
/// assert!(counts.to_string().contains("tess"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Counts per corpus, speaker id and class.
    pub cells: BTreeMap<Corpus, BTreeMap<String, BTreeMap<Option<Emotion>, usize>>>,
}

impl Counts {
    /// Counts utterances.
    pub fn from_utterances<'a>(utterances: impl IntoIterator<Item = &'a Utterance>) -> Self {
        let mut counts = Self::default();
        for u in utterances {
            counts.add(u);
        }
        counts
    }

    /// Counts one more utterance.
    pub fn add(&mut self, u: &Utterance) {
        *self
            .cells
            .entry(u.corpus)
            .or_default()
            .entry(u.speaker.clone())
            .or_default()
            .entry(u.emotion)
            .or_default() += 1;
    }

    /// Counts per corpus and class.
    pub fn by_corpus(&self) -> BTreeMap<Corpus, BTreeMap<Option<Emotion>, usize>> {
        self.cells
            .iter()
            .map(|(c, speakers)| (*c, sum_rows(speakers.values())))
            .collect()
    }

    /// Counts per class over all corpora.
    pub fn by_emotion(&self) -> BTreeMap<Option<Emotion>, usize> {
        sum_rows(self.cells.values().flat_map(BTreeMap::values))
    }

    /// Counts per speaker id and class over all corpora.
    pub fn by_speaker(&self) -> BTreeMap<&str, &BTreeMap<Option<Emotion>, usize>> {
        self.cells
            .values()
            .flat_map(|s| s.iter().map(|(k, v)| (k.as_str(), v)))
            .collect()
    }

    /// All utterances counted.
    pub fn total(&self) -> usize {
        self.by_emotion().values().sum()
    }

    /// Distinct speakers counted.
    pub fn speakers(&self) -> usize {
        self.cells
            .values()
            .flat_map(BTreeMap::keys)
            .collect::<BTreeSet<_>>()
            .len()
    }
}

fn sum_rows<'a>(
    rows: impl IntoIterator<Item = &'a BTreeMap<Option<Emotion>, usize>>,
) -> BTreeMap<Option<Emotion>, usize> {
    let mut out = BTreeMap::new();
    for row in rows {
        for (e, n) in row {
            *out.entry(*e).or_default() += n;
        }
    }
    out
}

/// Writes one table row: a name, the seven classes, left out, total, and an extra column.
fn row(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    cells: &BTreeMap<Option<Emotion>, usize>,
    extra: &str,
) -> fmt::Result {
    write!(f, "{name:<16}")?;
    for e in Emotion::ALL {
        write!(
            f,
            " {:>8}",
            cells.get(&Some(e)).copied().unwrap_or_default()
        )?;
    }
    let total: usize = cells.values().sum();
    let left_out = cells.get(&None).copied().unwrap_or_default();
    writeln!(f, " {left_out:>8} {total:>8} {extra:>8}")
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<16}", "corpus")?;
        for e in Emotion::ALL {
            write!(f, " {:>8}", e.as_str())?;
        }
        writeln!(f, " {:>8} {:>8} {:>8}", "left out", "total", "speakers")?;
        for (corpus, speakers) in &self.cells {
            let sums = sum_rows(speakers.values());
            row(f, corpus.as_str(), &sums, &speakers.len().to_string())?;
            if f.alternate() {
                for (speaker, cells) in speakers {
                    row(f, &format!("  {speaker}"), cells, "")?;
                }
            }
        }
        row(f, "total", &self.by_emotion(), &self.speakers().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utt(corpus: Corpus, speaker: &str, emotion: Option<Emotion>) -> Utterance {
        Utterance {
            path: format!("{speaker}.wav").into(),
            corpus,
            speaker: speaker.to_string(),
            gender: None,
            original_label: String::new(),
            intensity: None,
            emotion,
            language: None,
        }
    }

    #[test]
    fn counts_sum_per_corpus_emotion_and_speaker() {
        let u = [
            utt(Corpus::Ravdess, "ravdess:01", Some(Emotion::Sad)),
            utt(Corpus::Ravdess, "ravdess:01", Some(Emotion::Sad)),
            utt(Corpus::Ravdess, "ravdess:02", None),
            utt(Corpus::Tess, "tess:OAF", Some(Emotion::Happy)),
        ];
        let c = Counts::from_utterances(&u);
        assert_eq!(c.total(), 4);
        assert_eq!(c.speakers(), 3);
        assert_eq!(c.by_corpus()[&Corpus::Ravdess][&Some(Emotion::Sad)], 2);
        assert_eq!(c.by_corpus()[&Corpus::Ravdess][&None], 1);
        assert_eq!(c.by_emotion()[&Some(Emotion::Happy)], 1);
        assert_eq!(c.by_speaker()["ravdess:01"][&Some(Emotion::Sad)], 2);
        let table = c.to_string();
        assert_eq!(table.lines().count(), 4, "{table}");
        assert!(table.lines().last().is_some_and(|l| l.starts_with("total")));
        let long = format!("{c:#}");
        assert_eq!(long.lines().count(), 7, "{long}");
        assert!(long.contains("  tess:OAF"));
        assert_eq!(Counts::default().total(), 0);
    }
}
