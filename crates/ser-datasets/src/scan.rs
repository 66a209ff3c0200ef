//! Walking corpus trees: [`scan`] turns folders into [`Utterance`]s and a report of
//! everything it did not take.
//!
//! For each root, in the order given:
//!
//! 1. the tree is walked (symbolic links followed, loops reported) in file-name order, so
//!    the result does not depend on the file system;
//! 2. files without an audio extension ([`is_audio_path`]) are counted in
//!    [`ScanReport::ignored`]; entries that cannot be read are [`Rejected`];
//! 3. each audio file is parsed by the named corpus's parser, or, when no corpus is named,
//!    by every parser: the corpus that recognises most files of the root is tried first, and
//!    a file no parser accepts is rejected with the reason its most likely corpus gives;
//! 4. the accepted files are hashed (in parallel, file bytes with std's SipHash); a file
//!    with the same bytes as an earlier one (byte-compared, so a hash collision cannot
//!    merge two recordings) is reported in [`ScanReport::duplicates`] and left out of
//!    [`ScanReport::utterances`].
//!
//! ```
//! use std::path::PathBuf;
//! use ser_datasets::{Corpus, LabelPolicy, scan};
//!
//! let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/corpora/tess");
//! let report = scan(&[root], None, &LabelPolicy::default())?;
//! assert_eq!(report.roots[0].corpus, Some(Corpus::Tess));
//! assert_eq!(report.utterances.len(), 15);
//! assert_eq!(report.rejected.len(), 3); // bad names, each with its reason
//! assert_eq!(report.ignored, 1); // README.txt
//! # Ok::<(), ser_datasets::ScanError>(())
//! ```

use std::collections::HashMap;
use std::hash::Hasher;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::parse::{
    CorpusParser, CremaDParser, EsdParser, JlCorpusParser, LabelPolicy, MetadataError, ParseError,
    RavdessParser, SaveeParser, TessParser, is_audio_path, parser_for,
};
use crate::record::{Corpus, Utterance};

/// A file that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Rejected {
    /// The file (or unreadable entry).
    pub path: PathBuf,
    /// The corpus whose convention it breaks, where one was recognised.
    pub corpus: Option<Corpus>,
    /// What is wrong.
    pub reason: String,
}

/// A recording whose bytes equal an earlier one's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Duplicate {
    /// The later copy (left out of the utterances).
    pub path: PathBuf,
    /// The first file with the same bytes (kept).
    pub same_as: PathBuf,
    /// The later copy as parsed, so that a caller can still take it.
    pub utterance: Utterance,
}

/// The corpus used for one root.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RootCorpus {
    /// The root as given.
    pub root: PathBuf,
    /// The corpus named or detected (the one recognising most files); `None` when no
    /// file of the root follows any corpus's convention.
    pub corpus: Option<Corpus>,
}

/// What [`scan`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ScanReport {
    /// The parsed recordings, root by root, in path order, without duplicates.
    pub utterances: Vec<Utterance>,
    /// Audio files that break their corpus's convention, and unreadable entries.
    pub rejected: Vec<Rejected>,
    /// Later copies of recordings already in `utterances`.
    pub duplicates: Vec<Duplicate>,
    /// How many non-audio files were skipped.
    pub ignored: usize,
    /// The corpus of each root, in the order given.
    pub roots: Vec<RootCorpus>,
}

/// Why a scan could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// A root is missing or is not a folder.
    #[error("{path:?} is not a folder")]
    NotADirectory {
        /// The root.
        path: PathBuf,
    },
    /// A corpus side file (CREMA-D `VideoDemographics.csv`) is unreadable or malformed.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
}

/// Every parser, in [`Corpus::ALL`] order, with CREMA-D's demographics from `root`.
fn all_parsers(root: &Path) -> Result<Vec<Box<dyn CorpusParser>>, MetadataError> {
    Ok(vec![
        Box::new(RavdessParser),
        Box::new(SaveeParser),
        Box::new(CremaDParser::from_root(root)?),
        Box::new(EsdParser),
        Box::new(TessParser),
        Box::new(JlCorpusParser),
    ])
}

/// Walks `roots` and parses every audio file below them.
///
/// `corpus` names the corpus of every root, or `None` to detect it per root (and per
/// file, so a root holding several corpora works). See the [module docs](self) for the
/// steps. A strange tree never fails the scan: unreadable entries and files breaking the
/// convention end up in [`ScanReport::rejected`].
///
/// # Errors
///
/// [`ScanError::NotADirectory`] when a root is not a folder, and
/// [`ScanError::Metadata`] when a CREMA-D `VideoDemographics.csv` next to a root is
/// unreadable or malformed.
pub fn scan(
    roots: &[PathBuf],
    corpus: Option<Corpus>,
    policy: &LabelPolicy,
) -> Result<ScanReport, ScanError> {
    let mut report = ScanReport::default();
    for root in roots {
        if !root.is_dir() {
            return Err(ScanError::NotADirectory { path: root.clone() });
        }
        let files = walk(root, &mut report);
        let detected = match corpus {
            Some(c) => {
                let parser = parser_for(c, root)?;
                for path in files {
                    match parser.parse(root, &path, policy) {
                        Ok(Some(u)) => report.utterances.push(u),
                        Ok(None) => report.rejected.push(Rejected {
                            corpus: Some(c),
                            reason: format!("not a {c} file name"),
                            path,
                        }),
                        Err(e) => report.rejected.push(rejected(e)),
                    }
                }
                Some(c)
            }
            None => detect_and_parse(root, files, policy, &mut report)?,
        };
        report.roots.push(RootCorpus {
            root: root.clone(),
            corpus: detected,
        });
    }
    remove_duplicates(&mut report);
    Ok(report)
}

fn rejected(e: ParseError) -> Rejected {
    Rejected {
        path: e.path,
        corpus: Some(e.corpus),
        reason: e.reason,
    }
}

/// The audio files below `root`, sorted; counts the rest and records unreadable entries.
fn walk(root: &Path, report: &mut ScanReport) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_dir() => {}
            Ok(e) if is_audio_path(e.path()) => files.push(e.into_path()),
            Ok(_) => report.ignored += 1,
            Err(e) => report.rejected.push(Rejected {
                path: e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.into()),
                corpus: None,
                reason: format!("unreadable: {e}"),
            }),
        }
    }
    files
}

/// Parses `files` with every parser; returns the corpus that recognised most.
fn detect_and_parse(
    root: &Path,
    files: Vec<PathBuf>,
    policy: &LabelPolicy,
    report: &mut ScanReport,
) -> Result<Option<Corpus>, ScanError> {
    let parsers = all_parsers(root)?;
    let results: Vec<Vec<Result<Option<Utterance>, ParseError>>> = files
        .par_iter()
        .map(|path| {
            parsers
                .iter()
                .map(|p| p.parse(root, path, policy))
                .collect()
        })
        .collect();
    let mut hits = vec![0usize; parsers.len()];
    for per_file in &results {
        for (h, r) in hits.iter_mut().zip(per_file) {
            if matches!(r, Ok(Some(_))) {
                *h += 1;
            }
        }
    }
    // The most recognised corpus first; ties keep `Corpus::ALL` order.
    let mut order: Vec<usize> = (0..parsers.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(hits.get(i).copied().unwrap_or(0)));
    let best = order
        .first()
        .copied()
        .filter(|&i| hits.get(i).is_some_and(|&h| h > 0));
    for (path, mut per_file) in files.into_iter().zip(results) {
        let mut found = None;
        let mut first_err = None;
        for &i in &order {
            match per_file.get_mut(i).map(|r| std::mem::replace(r, Ok(None))) {
                Some(Ok(Some(u))) => {
                    found = Some(u);
                    break;
                }
                Some(Err(e)) if first_err.is_none() => first_err = Some(e),
                _ => {}
            }
        }
        match (found, first_err) {
            (Some(u), _) => report.utterances.push(u),
            (None, Some(e)) => report.rejected.push(rejected(e)),
            (None, None) => report.rejected.push(Rejected {
                path,
                corpus: None,
                reason: "follows no corpus's naming convention".to_string(),
            }),
        }
    }
    Ok(best.and_then(|i| parsers.get(i)).map(|p| p.corpus()))
}

/// Hashes a file's bytes.
fn hash_file(path: &Path) -> std::io::Result<(u64, u64)> {
    let bytes = std::fs::read(path)?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    h.write(&bytes);
    Ok((bytes.len() as u64, h.finish()))
}

/// Moves later copies of the same bytes from `utterances` to `duplicates`, and
/// unreadable files to `rejected`.
fn remove_duplicates(report: &mut ScanReport) {
    let hashes: Vec<std::io::Result<(u64, u64)>> = report
        .utterances
        .par_iter()
        .map(|u| hash_file(&u.path))
        .collect();
    let mut seen: HashMap<(u64, u64), Vec<PathBuf>> = HashMap::new();
    let mut kept = Vec::with_capacity(report.utterances.len());
    for (u, h) in std::mem::take(&mut report.utterances)
        .into_iter()
        .zip(hashes)
    {
        let key = match h {
            Ok(k) => k,
            Err(e) => {
                report.rejected.push(Rejected {
                    corpus: Some(u.corpus),
                    reason: format!("unreadable: {e}"),
                    path: u.path,
                });
                continue;
            }
        };
        let earlier = seen.entry(key).or_default();
        let same = earlier.iter().find(|p| same_bytes(p, &u.path)).cloned();
        match same {
            Some(same_as) => report.duplicates.push(Duplicate {
                path: u.path.clone(),
                same_as,
                utterance: u,
            }),
            None => {
                earlier.push(u.path.clone());
                kept.push(u);
            }
        }
    }
    report.utterances = kept;
}

/// Whether two files (already known to share length and hash) have the same bytes.
fn same_bytes(a: &Path, b: &Path) -> bool {
    match (std::fs::read(a), std::fs::read(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
