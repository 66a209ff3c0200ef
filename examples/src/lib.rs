//! Helpers shared by the example programs of `ser`: finding audio files, writing `.npy`
//! and PNG files atomically, and drawing spectrograms.

pub mod alloc;
pub mod plot;
pub mod runs;
pub mod timeline_out;
pub mod timeline_plot;
pub mod training;

use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use ndarray::Array2;
use ser_core::fs::{Overwrite, WriteError};
use ser_dsp::ndarray;

/// Finds `relative` (a path inside the ser repository, such as `fixtures/corpora/quickstart`)
/// at run time: below the current folder or one of its parents, else below the repository
/// the program was built from. A program therefore keeps working when it is run from
/// anywhere in a clone, and after its build folder is gone.
///
/// # Errors
/// Neither place holds it; the message names where it looked.
pub fn repo_path(relative: &str) -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("the current folder cannot be read")?;
    let built = Path::new(env!("CARGO_MANIFEST_DIR"));
    let built = built.parent().unwrap_or(built);
    cwd.ancestors()
        .chain(std::iter::once(built))
        .map(|d| d.join(relative))
        .find(|p| p.exists())
        .with_context(|| {
            format!(
                "cannot find {relative} in {} or its parents, nor in {}: run this from a clone \
                 of the ser repository",
                cwd.display(),
                built.display()
            )
        })
}

/// Whether `path` has an audio extension (case-insensitive): the list the corpus scanner
/// uses ([`ser_datasets::is_audio_path`]).
pub fn is_audio(path: &Path) -> bool {
    ser_datasets::is_audio_path(path)
}

/// An input file and the path of its output relative to the output directory (without
/// extension): the path below the directory that was given, or the file name.
#[derive(Debug, Clone)]
pub struct Input {
    /// The audio file.
    pub path: PathBuf,
    /// Its relative output path, without extension.
    pub relative: PathBuf,
}

/// Expands files and directories (recursively, sorted) into audio inputs.
///
/// # Errors
/// A path that does not exist, or a directory that cannot be read; two inputs that would
/// write the same output (`a.wav` and `a.flac`, or `a.WAV`, in one folder).
pub fn collect_inputs(paths: &[PathBuf]) -> Result<Vec<Input>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            for entry in walkdir::WalkDir::new(p).sort_by_file_name() {
                let entry = entry.with_context(|| format!("cannot read {}", p.display()))?;
                if entry.file_type().is_file() && is_audio(entry.path()) {
                    let rel = entry.path().strip_prefix(p).unwrap_or(entry.path());
                    found.push(Input {
                        path: entry.path().to_path_buf(),
                        relative: rel.with_extension(""),
                    });
                }
            }
            if found.is_empty() {
                bail!("no audio files under {}", p.display());
            }
            out.extend(found);
        } else if p.is_file() {
            let name = p
                .file_stem()
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("out"));
            out.push(Input {
                path: p.clone(),
                relative: name,
            });
        } else {
            bail!("{}: no such file or directory", p.display());
        }
    }
    // `a.wav`, `a.flac` and `a.WAV` would write the same `a.npy`: refuse rather than let
    // one output replace another. (Case-insensitively, for case-insensitive file systems.)
    let mut seen: std::collections::HashMap<String, &Path> = std::collections::HashMap::new();
    for input in &out {
        let key = input.relative.to_string_lossy().to_lowercase();
        if let Some(first) = seen.insert(key, &input.path) {
            bail!(
                "{} and {} would write the same output ({}): rename one or run them separately",
                first.display(),
                input.path.display(),
                input.relative.display()
            );
        }
    }
    Ok(out)
}

/// Writes a file at `path` atomically through [`ser_core::fs::write_atomic`] (a temporary
/// file in the same folder, then a rename), creating the folder if needed. An existing file
/// is replaced only with [`Overwrite::Replace`].
///
/// # Errors
/// The file exists (with [`Overwrite::Refuse`]), an I/O error, or the error of `write`.
pub fn write_atomic(
    path: &Path,
    overwrite: Overwrite,
    write: impl FnOnce(&mut BufWriter<&mut fs::File>) -> Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    ser_core::fs::write_atomic(path, overwrite, write).map_err(|e| match e {
        WriteError::Exists { path } => {
            anyhow::anyhow!("{} exists (pass --overwrite to replace it)", path.display())
        }
        WriteError::Io { path, source } => {
            anyhow::Error::new(source).context(format!("cannot write {}", path.display()))
        }
        WriteError::Write(e) => e.context(format!("cannot write {}", path.display())),
    })
}

/// Writes a float32 `.npy` file atomically.
///
/// # Errors
/// As [`write_atomic`].
pub fn write_npy(path: &Path, array: &Array2<f32>, overwrite: Overwrite) -> Result<()> {
    use ndarray_npy::WriteNpyExt;
    write_atomic(path, overwrite, |w| Ok(array.write_npy(w)?))
}

/// Draws a `(n_freq, n_frames)` dB map as a PNG with the magma colormap (librosa's
/// `specshow` default for such data), low frequencies at the bottom, the data range mapped
/// to the full colormap, each bin `scale` x `scale` pixels.
///
/// # Errors
/// As [`write_atomic`], or a PNG encoding error.
pub fn write_spectrogram_png(
    path: &Path,
    db: &Array2<f32>,
    scale: usize,
    overwrite: Overwrite,
) -> Result<()> {
    let (rows, cols) = db.dim();
    if rows == 0 || cols == 0 {
        bail!("nothing to draw: the spectrogram is {rows} x {cols}");
    }
    let scale = scale.max(1);
    // The picture is allocated whole: refuse sizes no one can look at (a scale of 10 000
    // once asked for 3.6 TB).
    let pixels_wanted = rows.saturating_mul(cols).saturating_mul(scale * scale);
    if scale > 64 || pixels_wanted > 1 << 28 {
        bail!("a {rows} x {cols} spectrogram at {scale} pixels per bin is too large to draw");
    }
    let (lo, hi) = db
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    let (w, h) = (cols * scale, rows * scale);
    let mut pixels = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let r = rows - 1 - y / scale;
        for x in 0..w {
            let t = f64::from((db[[r, x / scale]] - lo) / span);
            let c = colorous::MAGMA.eval_continuous(t.clamp(0.0, 1.0));
            pixels.extend_from_slice(&[c.r, c.g, c.b]);
        }
    }
    write_rgb_png(
        path,
        (u32::try_from(w)?, u32::try_from(h)?),
        &pixels,
        overwrite,
    )
}

/// Writes 8-bit RGB `pixels` (row by row, `width x height`) as a PNG file, atomically.
///
/// # Errors
/// As [`write_atomic`], or a PNG encoding error.
pub fn write_rgb_png(
    path: &Path,
    (width, height): (u32, u32),
    pixels: &[u8],
    overwrite: Overwrite,
) -> Result<()> {
    write_atomic(path, overwrite, |out| {
        let mut enc = png::Encoder::new(out, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(pixels)?;
        writer.finish()?;
        Ok(())
    })
}

/// The flags of the programs that load a model (`predict`, `evaluate`,
/// `bench_recognizer`): which runs, and how many of an ensemble's members.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArgs {
    /// A run directory written by the train example (an ensemble run, `train`'s default,
    /// loads with all its members); repeat it for the ensemble of runs trained alike from
    /// other seeds (the mean of their probabilities). Default: the shipped model.
    #[arg(long)]
    pub run: Vec<PathBuf>,
    /// Use the first N models of the ensemble only (the shipped model has 3; each costs
    /// one model's time per window). Default: all.
    #[arg(long)]
    pub members: Option<usize>,
}

impl ModelArgs {
    /// The recognizer of the run folders `--run` (one run or ensemble run, or the
    /// ensemble of several trained alike: [`ser_models::Recognizer::from_runs`]), or with
    /// none the shipped
    /// model (saying on stderr what it was trained on and under which licence), on the
    /// device named `device`; with `--members`, its first models only
    /// ([`ser_models::Recognizer::with_members`]).
    ///
    /// # Errors
    /// An unknown device; a run that cannot be loaded, named; more members than there are.
    pub fn recognizer(&self, device: &str) -> Result<ser_models::Recognizer> {
        let (device, _) = ser_models::parse_device(device)?;
        let r = if self.run.is_empty() {
            eprintln!(
                "shipped model: three CNN-BLSTM-attention networks trained on RAVDESS actors \
                 01-16; weights CC BY-NC-SA 4.0 (non-commercial), see docs/model-card.md"
            );
            ser_models::Recognizer::shipped(&device)?
        } else {
            let names: Vec<String> = self.run.iter().map(|r| r.display().to_string()).collect();
            ser_models::Recognizer::from_runs(&self.run, &device)
                .with_context(|| format!("loading the run {}", names.join(" + ")))?
        };
        Ok(match self.members {
            Some(n) => r.with_members(n)?,
            None => r,
        })
    }
}

/// Runs `main`, printing an error as one line (with its causes) and exiting with status 1.
pub fn run(main: impl FnOnce() -> Result<()>) {
    // A panic (a bug, or stdout closed under `| head`) is one line too, never a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        if msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error{at}: {msg} (please report it)");
        std::process::exit(101);
    }));
    if let Err(e) = main() {
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        eprintln!("error: {}", chain.join(": "));
        std::process::exit(1);
    }
}

/// The root README's library example, compiled as a doctest.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
