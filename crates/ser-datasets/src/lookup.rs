//! Finding the rows of a manifest written elsewhere (a run's `split.csv`) for the
//! utterances of a scan made now, wherever the corpus lies and however its path is typed.
//!
//! Paths as typed do not identify a clip: the same corpus given as `./ds`, `/data/ds` or
//! from another folder gives other paths, and a run moves between machines. A clip is
//! identified instead by its corpus, its speaker and its path *relative to the corpus*: a
//! row matches an utterance when both have the same corpus and speaker and one path ends
//! with the other's file name and as many folders above it as the two share. Where several
//! rows match (two copies of a corpus in one manifest), the one sharing the longest tail
//! of folders wins, and a tie is no match rather than a guess.
//!
//! [`relative_to_roots`] writes paths relative to their scan root, so that a manifest
//! names no folder of the machine it was made on.
//!
//! ```
//! use ser_datasets::{Assignment, Corpus, Emotion, Split, SplitLookup, Utterance};
//! let clip = |path: &str| Utterance {
//!     path: path.into(),
//!     corpus: Corpus::Ravdess,
//!     speaker: "ravdess:17".into(),
//!     gender: None,
//!     original_label: "angry".into(),
//!     intensity: None,
//!     emotion: Some(Emotion::Angry),
//!     language: None,
//! };
//! // Written on another machine, relative to the corpus root ...
//! let rows = vec![Assignment {
//!     utterance: clip("Actor_17/03-01-05-01-01-01-17.wav"),
//!     split: Some(Split::Test),
//! }];
//! // ... found from an absolute path here.
//! let lookup = SplitLookup::new(&rows);
//! let here = clip("/data/RAVDESS/Actor_17/03-01-05-01-01-01-17.wav");
//! assert_eq!(lookup.split_of(&here), Some(Split::Test));
//! ```

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

use crate::split::{Assignment, Split};

/// Manifest rows indexed for [`SplitLookup::find`]; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct SplitLookup<'a> {
    by_name: HashMap<&'a OsStr, Vec<&'a Assignment>>,
}

/// The normal components of a path (no `.`, no root, `..` kept as it is), last first.
fn tail(path: &Path) -> impl Iterator<Item = &OsStr> {
    path.components()
        .rev()
        .filter(|c| {
            !matches!(
                c,
                Component::CurDir | Component::RootDir | Component::Prefix(_)
            )
        })
        .map(Component::as_os_str)
}

/// How many trailing components `a` and `b` share.
fn shared_tail(a: &Path, b: &Path) -> usize {
    tail(a).zip(tail(b)).take_while(|(x, y)| x == y).count()
}

impl<'a> SplitLookup<'a> {
    /// Indexes `rows` by file name.
    pub fn new(rows: &'a [Assignment]) -> Self {
        let mut by_name: HashMap<&OsStr, Vec<&Assignment>> = HashMap::new();
        for row in rows {
            if let Some(name) = row.utterance.path.file_name() {
                by_name.entry(name).or_default().push(row);
            }
        }
        Self { by_name }
    }

    /// The row of `utterance`: same corpus, speaker and file name, and the longest shared
    /// tail of folders among such rows. `None` when no row matches, or two match equally
    /// well.
    pub fn find(&self, utterance: &crate::Utterance) -> Option<&'a Assignment> {
        let name = utterance.path.file_name()?;
        let mut best: Option<(usize, &Assignment)> = None;
        let mut tied = false;
        for row in self.by_name.get(name)? {
            let u = &row.utterance;
            if u.corpus != utterance.corpus || u.speaker != utterance.speaker {
                continue;
            }
            let shared = shared_tail(&u.path, &utterance.path);
            match best {
                Some((b, _)) if shared < b => {}
                Some((b, _)) if shared == b => tied = true,
                _ => {
                    best = Some((shared, row));
                    tied = false;
                }
            }
        }
        if tied { None } else { best.map(|(_, row)| row) }
    }

    /// The split of `utterance`'s row, if it has a row and the row a split.
    pub fn split_of(&self, utterance: &crate::Utterance) -> Option<Split> {
        self.find(utterance).and_then(|row| row.split)
    }

    /// The `utterances` (as scanned now, so that their paths open) that have a row, each
    /// with its row's split; those without a row are left out.
    pub fn assign(&self, utterances: &[crate::Utterance]) -> Vec<Assignment> {
        utterances
            .iter()
            .filter_map(|u| {
                self.find(u).map(|row| Assignment {
                    utterance: u.clone(),
                    split: row.split,
                })
            })
            .collect()
    }
}

/// `assignments` with each path made relative to the first of `roots` it lies under, so
/// that a manifest names no folder of the machine it was written on. Paths under no root
/// stay as they are.
pub fn relative_to_roots(assignments: &[Assignment], roots: &[PathBuf]) -> Vec<Assignment> {
    assignments
        .iter()
        .map(|a| {
            let mut a = a.clone();
            if let Some(rel) = roots
                .iter()
                .find_map(|r| a.utterance.path.strip_prefix(r).ok())
                .filter(|rel| !rel.as_os_str().is_empty())
            {
                a.utterance.path = rel.to_path_buf();
            }
            a
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{Corpus, Utterance};

    fn row(path: &str, speaker: &str, split: Split) -> Assignment {
        Assignment {
            utterance: Utterance {
                path: path.into(),
                corpus: Corpus::Savee,
                speaker: speaker.into(),
                gender: None,
                original_label: "a".into(),
                intensity: None,
                emotion: None,
                language: None,
            },
            split: Some(split),
        }
    }

    #[test]
    fn paths_typed_any_way_find_their_row() {
        let rows = vec![
            row("AudioData/DC/a01.wav", "savee:DC", Split::Test),
            row("AudioData/JE/a01.wav", "savee:JE", Split::Train),
        ];
        let lookup = SplitLookup::new(&rows);
        for (path, speaker, want) in [
            (
                "/abs/savee/AudioData/DC/a01.wav",
                "savee:DC",
                Some(Split::Test),
            ),
            ("./AudioData/DC/a01.wav", "savee:DC", Some(Split::Test)),
            ("../x/AudioData/JE/a01.wav", "savee:JE", Some(Split::Train)),
            ("JE/a01.wav", "savee:JE", Some(Split::Train)),
            // Another speaker, corpus or file: no row.
            ("AudioData/KL/a01.wav", "savee:KL", None),
            ("AudioData/DC/a02.wav", "savee:DC", None),
        ] {
            let u = row(path, speaker, Split::Train).utterance;
            assert_eq!(lookup.split_of(&u), want, "{path}");
        }
        let scanned: Vec<Utterance> = ["/new/AudioData/DC/a01.wav", "/new/AudioData/DC/a09.wav"]
            .iter()
            .map(|p| row(p, "savee:DC", Split::Train).utterance)
            .collect();
        let assigned = lookup.assign(&scanned);
        assert_eq!(assigned.len(), 1);
        assert_eq!(
            assigned[0].utterance.path, scanned[0].path,
            "the path as scanned"
        );
        assert_eq!(assigned[0].split, Some(Split::Test));
        let mut other = row("AudioData/DC/a01.wav", "savee:DC", Split::Test).utterance;
        other.corpus = Corpus::Tess;
        assert_eq!(lookup.find(&other), None);
    }

    #[test]
    fn the_longest_shared_tail_wins_and_a_tie_is_no_match() {
        let rows = vec![
            row("copy1/DC/a01.wav", "savee:DC", Split::Test),
            row("copy2/DC/a01.wav", "savee:DC", Split::Train),
        ];
        let lookup = SplitLookup::new(&rows);
        let u = |p: &str| row(p, "savee:DC", Split::Train).utterance;
        assert_eq!(
            lookup.split_of(&u("/d/copy2/DC/a01.wav")),
            Some(Split::Train)
        );
        assert_eq!(
            lookup.split_of(&u("/d/copy1/DC/a01.wav")),
            Some(Split::Test)
        );
        assert_eq!(lookup.find(&u("/d/DC/a01.wav")), None, "ambiguous");
    }

    #[test]
    fn paths_become_relative_to_their_root() {
        let rows = vec![
            row("/data/savee/DC/a01.wav", "savee:DC", Split::Test),
            row("elsewhere/a02.wav", "savee:DC", Split::Test),
        ];
        let roots = [PathBuf::from("/other"), PathBuf::from("/data/savee")];
        let rel = relative_to_roots(&rows, &roots);
        assert_eq!(rel[0].utterance.path, Path::new("DC/a01.wav"));
        assert_eq!(rel[1].utterance.path, Path::new("elsewhere/a02.wav"));
        assert_eq!(rel[0].split, rows[0].split);
    }
}
