//! Checkpoints on disk as one atomic unit.
//!
//! A checkpoint is a set of files (weights, optimizer state, best weights, training state)
//! that only make sense together. [`write()`] puts each new checkpoint in a folder of its
//! own, `gen-NNNNNN`, numbered one past the newest already there:
//!
//! 1. the files are written and synced inside a temporary folder `.ser-tmp-gen-NNNNNN`;
//! 2. that folder is synced and renamed to `gen-NNNNNN` in one step, so a `gen-*` folder
//!    exists only once it is whole;
//! 3. only then are the older generations, leftover temporary folders and files of the
//!    older one-folder layout removed.
//!
//! A process killed at any point therefore leaves the previous checkpoint whole, or the new
//! one whole beside it; [`latest`] picks the newest whole one, and the next [`write()`]
//! clears whatever the kill left behind. The unit tests inject a failure before every file
//! system operation (and in the middle of every file write) and check exactly that.
//!
//! Checkpoints written before this layout (the files directly in the folder) are still
//! read by [`latest`].

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The prefix of a whole checkpoint's folder.
const GEN_PREFIX: &str = "gen-";
/// The prefix of temporary files and folders, ours to remove.
pub(crate) use ser_core::fs::TMP_PREFIX;
/// The files of the one-folder layout of earlier versions, removed by the next [`write()`].
const LEGACY_FILES: [&str; 4] = [
    "weights.safetensors",
    "optimizer.safetensors",
    "best.safetensors",
    "state.json",
];

/// The generation number of a checkpoint folder's name, if it is one.
fn generation(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(GEN_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The whole checkpoint generations in `dir`, oldest first.
fn generations(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut gens = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(gens),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        if let Some(n) = entry.file_name().to_str().and_then(generation)
            && path.is_dir()
        {
            gens.push((n, path));
        }
    }
    gens.sort();
    Ok(gens)
}

/// The folder holding the newest whole checkpoint in `dir`: its newest `gen-*` folder, or
/// `dir` itself for a checkpoint of the older one-folder layout.
///
/// # Errors
/// [`Error::Checkpoint`] when `dir` holds no checkpoint; [`Error::Io`] if it cannot be read.
pub(crate) fn latest(dir: &Path) -> Result<PathBuf> {
    if let Some((_, path)) = generations(dir)?.pop() {
        return Ok(path);
    }
    if dir.join("state.json").is_file() {
        return Ok(dir.to_path_buf());
    }
    Err(Error::Checkpoint {
        path: dir.to_path_buf(),
        message: "no checkpoint here".into(),
    })
}

/// Writes `files` (name, contents) as a new checkpoint in `dir` (created if needed), as the
/// [module docs](self) describe, and returns the new checkpoint's folder.
///
/// # Errors
/// [`Error::Io`] naming the file or folder; the previous checkpoint is then still whole.
pub(crate) fn write(dir: &Path, files: &[(&str, &[u8])]) -> Result<PathBuf> {
    fault::point()?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let next = generations(dir)?.last().map_or(1, |(n, _)| n + 1);
    let name = format!("{GEN_PREFIX}{next:06}");
    let tmp = dir.join(format!("{TMP_PREFIX}{name}"));
    if tmp.exists() {
        // Left by a process killed while writing the same generation.
        fault::point()?;
        std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    }
    fault::point()?;
    std::fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
    for (file, bytes) in files {
        let path = tmp.join(file);
        fault::write(&path, bytes)?;
        let f = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        std::io::Write::write_all(&mut &f, bytes).map_err(|e| Error::io(&path, e))?;
        fault::point()?;
        f.sync_all().map_err(|e| Error::io(&path, e))?;
    }
    sync_dir(&tmp)?;
    let target = dir.join(&name);
    fault::point()?;
    std::fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
    sync_dir(dir)?;
    clear_except(dir, &name)?;
    Ok(target)
}

/// Removes what is ours in `dir` apart from the generation `keep`: older generations,
/// temporary files and folders, and files of the one-folder layout.
fn clear_except(dir: &Path, keep: &str) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = name != keep
            && (generation(name).is_some()
                || name.starts_with(TMP_PREFIX)
                || LEGACY_FILES.contains(&name));
        if ours {
            fault::point()?;
            remove_any(&entry.path())?;
        }
    }
    Ok(())
}

/// Removes a file or a whole folder; one already gone is fine.
pub(crate) fn remove_any(path: &Path) -> Result<()> {
    let removed = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match removed {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

/// Syncs a folder's entries to disk (a no-op where folders cannot be opened, as on Windows).
fn sync_dir(dir: &Path) -> Result<()> {
    fault::point()?;
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Failure injection for the tests: a "kill" before the n-th file system operation of a
/// thread, or in the middle of the n-th file write. Compiled out of the library.
mod fault {
    use std::path::Path;

    use crate::error::Result;

    #[cfg(test)]
    thread_local! {
        /// Operations left before the injected failure; `None` when off.
        pub(super) static LEFT: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
    }

    /// Whether the injected failure is due now (counting this operation).
    #[cfg(test)]
    fn due() -> bool {
        LEFT.with(|left| match left.get() {
            Some(0) => true,
            Some(n) => {
                left.set(Some(n - 1));
                false
            }
            None => false,
        })
    }

    #[cfg(test)]
    fn killed() -> crate::error::Error {
        crate::error::Error::io("<injected>", std::io::Error::other("killed here"))
    }

    /// A point where the process may be killed before the next operation.
    #[cfg(test)]
    pub(super) fn point() -> Result<()> {
        if due() { Err(killed()) } else { Ok(()) }
    }

    /// Before writing `bytes` to `path`: may "kill" with half of them written.
    #[cfg(test)]
    pub(super) fn write(path: &Path, bytes: &[u8]) -> Result<()> {
        if due() {
            let _ = std::fs::write(path, &bytes[..bytes.len() / 2]);
            return Err(killed());
        }
        Ok(())
    }

    #[cfg(not(test))]
    #[inline(always)]
    pub(super) fn point() -> Result<()> {
        Ok(())
    }

    #[cfg(not(test))]
    #[inline(always)]
    pub(super) fn write(_path: &Path, _bytes: &[u8]) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn files(step: u32) -> Vec<(String, Vec<u8>)> {
        ["weights.safetensors", "optimizer.safetensors", "state.json"]
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    format!("{n} at step {step} ").repeat(50).into_bytes(),
                )
            })
            .collect()
    }

    fn save(dir: &Path, step: u32) -> Result<PathBuf> {
        let f = files(step);
        let refs: Vec<(&str, &[u8])> = f.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        write(dir, &refs)
    }

    /// The step of the checkpoint [`latest`] finds, after checking every file is whole and
    /// of that step.
    fn whole_step(dir: &Path) -> u32 {
        let at = latest(dir).unwrap();
        let state = std::fs::read_to_string(at.join("state.json")).unwrap();
        let step: u32 = state
            .split_whitespace()
            .nth(3)
            .and_then(|s| s.parse().ok())
            .unwrap();
        for (name, bytes) in files(step) {
            assert_eq!(std::fs::read(at.join(&name)).unwrap(), bytes, "{name} torn");
        }
        step
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_kill_at_any_point_leaves_a_whole_checkpoint() {
        let mut kills = 0;
        for at in 0.. {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("checkpoint");
            save(&dir, 3).unwrap();
            fault::LEFT.with(|l| l.set(Some(at)));
            let result = save(&dir, 6);
            fault::LEFT.with(|l| l.set(None));
            let step = whole_step(&dir);
            if result.is_ok() {
                assert_eq!(step, 6);
                assert_eq!(names(&dir), ["gen-000002"]);
                break;
            }
            kills += 1;
            assert!(step == 3 || step == 6, "kill {at}: step {step}");
            // The next checkpoint clears whatever the kill left.
            save(&dir, 9).unwrap();
            assert_eq!(whole_step(&dir), 9);
            let left = names(&dir);
            assert_eq!(left.len(), 1, "kill {at} left {left:?}");
            assert!(left[0].starts_with(GEN_PREFIX), "{left:?}");
        }
        // create_dir_all, create_dir, 3 × (write, sync), sync, rename, sync, remove old.
        assert!(kills >= 11, "only {kills} failure points");
    }

    #[test]
    fn the_older_one_folder_layout_is_read_then_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for (name, bytes) in files(4) {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        assert_eq!(latest(dir).unwrap(), dir);
        assert_eq!(whole_step(dir), 4);
        save(dir, 5).unwrap();
        assert_eq!(whole_step(dir), 5);
        assert_eq!(
            names(dir),
            ["gen-000001", "notes.txt"],
            "the user's file stays"
        );
    }

    #[test]
    fn an_empty_or_missing_folder_holds_no_checkpoint() {
        let tmp = tempfile::tempdir().unwrap();
        let err = latest(tmp.path()).unwrap_err();
        assert!(err.to_string().contains("no checkpoint"), "{err}");
        assert!(latest(&tmp.path().join("nothing")).is_err());
        std::fs::create_dir(tmp.path().join("gen-x")).unwrap();
        std::fs::create_dir(tmp.path().join(".ser-tmp-gen-000001")).unwrap();
        assert!(latest(tmp.path()).is_err(), "only whole generations count");
    }
}
