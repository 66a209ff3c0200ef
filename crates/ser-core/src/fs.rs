//! Atomic file writing with one overwrite policy.
//!
//! [`write_atomic`] writes into a temporary file in the destination's folder (named
//! [`TMP_PREFIX`]`*`, with the usual `0o666 & !umask` permissions on Unix), syncs it, and
//! renames it over the destination: the destination is either untouched or whole, never
//! partial. On an error the temporary file is removed; a process killed meanwhile leaves
//! it behind under the prefix, where a later clean-up can find it. An existing destination
//! is replaced only with [`Overwrite::Replace`]; with [`Overwrite::Refuse`] it is checked
//! first, and again atomically at the rename, so a file created meanwhile is not replaced.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The prefix of every temporary file and folder the `ser` crates write: what a clean-up
/// of a killed write may remove.
pub const TMP_PREFIX: &str = ".ser-tmp-";

/// Whether writing may replace an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Overwrite {
    /// Fail if the destination exists (the default): nothing a user has is replaced
    /// without asking.
    #[default]
    Refuse,
    /// Replace an existing destination, atomically.
    Replace,
}

impl Overwrite {
    /// [`Overwrite::Replace`] when `replace` is true, else [`Overwrite::Refuse`]: for a
    /// program's `--overwrite` flag.
    pub fn replace_if(replace: bool) -> Self {
        if replace { Self::Replace } else { Self::Refuse }
    }
}

/// Why [`write_atomic`] failed; `E` is the error of the caller's writing function.
#[derive(Debug, thiserror::Error)]
pub enum WriteError<E> {
    /// The destination exists and [`Overwrite::Refuse`] was asked for.
    #[error("{path} exists; refusing to overwrite it")]
    Exists {
        /// The destination.
        path: PathBuf,
    },
    /// Creating, syncing or renaming the temporary file failed.
    #[error("{path}: {source}")]
    Io {
        /// The destination.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The caller's writing function failed.
    #[error(transparent)]
    Write(E),
}

/// Writes a file at `path` atomically, as the [module docs](self) say: `write` fills a
/// buffered writer on the temporary file. The destination's folder must exist.
///
/// # Errors
/// [`WriteError::Exists`] for an existing destination under [`Overwrite::Refuse`];
/// [`WriteError::Io`] for the temporary file, the sync or the rename;
/// [`WriteError::Write`] with the error of `write`. Nothing is left at `path` on error.
pub fn write_atomic<E>(
    path: &Path,
    overwrite: Overwrite,
    write: impl FnOnce(&mut BufWriter<&mut std::fs::File>) -> Result<(), E>,
) -> Result<(), WriteError<E>> {
    let exists = || WriteError::Exists {
        path: path.to_path_buf(),
    };
    let io_at = |at: &Path| {
        let at = at.to_path_buf();
        move |source| WriteError::Io { path: at, source }
    };
    if overwrite == Overwrite::Refuse && path.symlink_metadata().is_ok() {
        return Err(exists());
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(TMP_PREFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(io_at(path))?;
    {
        let mut w = BufWriter::new(tmp.as_file_mut());
        write(&mut w).map_err(WriteError::Write)?;
        w.flush().map_err(io_at(path))?;
    }
    tmp.as_file().sync_all().map_err(io_at(path))?;
    // On error the temporary file inside `PersistError` is dropped, which deletes it.
    let persisted = match overwrite {
        Overwrite::Replace => tmp.persist(path),
        Overwrite::Refuse => tmp.persist_noclobber(path),
    };
    match persisted {
        Ok(_) => Ok(()),
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Err(exists()),
        Err(e) => Err(io_at(path)(e.error)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn files_appear_whole_and_are_replaced_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        let put = |text: &'static str, o| write_atomic(&path, o, |w| w.write_all(text.as_bytes()));
        put("one", Overwrite::Refuse).unwrap();
        assert!(matches!(
            put("two", Overwrite::Refuse),
            Err(WriteError::Exists { .. })
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one");
        put("three", Overwrite::Replace).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three");
        // A failing writer leaves the old file and no temporary file.
        let err = write_atomic(&path, Overwrite::Replace, |w| {
            w.write_all(b"half")?;
            Err::<(), io::Error>(io::Error::other("disk on fire"))
        })
        .unwrap_err();
        assert!(matches!(err, WriteError::Write(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three");
        assert_eq!(names(dir.path()), ["a.txt"]);
        // A missing folder is an I/O error naming it.
        let err = write_atomic(&dir.path().join("no/a.txt"), Overwrite::Replace, |_| {
            Ok::<(), io::Error>(())
        })
        .unwrap_err();
        assert!(err.to_string().contains("no"), "{err}");
        assert_eq!(Overwrite::replace_if(true), Overwrite::Replace);
        assert_eq!(Overwrite::default(), Overwrite::Refuse);
    }
}
