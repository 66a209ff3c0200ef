//! The picture of a timeline: the file's log-mel spectrogram on top, the seven emotions'
//! probabilities over time under it, on one time axis.

use std::path::Path;

use anyhow::{Context, Result, bail};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use ser_core::Overwrite;
use ser_datasets::Emotion;
use ser_dsp::{LogMel, LogMelConfig};
use ser_models::Recognizer;
use ser_models::timeline::Timeline;

use crate::plot::{Direction, Pen, render_png_with, tick_label, ticks};

/// One colour per emotion (matplotlib's tab10), in [`Emotion::ALL`]'s order.
const EMOTION_COLORS: [RGBColor; 7] = [
    RGBColor(214, 39, 40),   // angry: red
    RGBColor(140, 86, 75),   // disgust: brown
    RGBColor(148, 103, 189), // fearful: purple
    RGBColor(255, 127, 14),  // happy: orange
    RGBColor(127, 127, 127), // neutral: grey
    RGBColor(31, 119, 180),  // sad: blue
    RGBColor(44, 160, 44),   // surprise: green
];

const WIDTH: u32 = 1200;
const LEFT: i32 = 80;
const RIGHT: i32 = 150;

/// Draws `timeline` (computed from `file` by `recognizer`) to `path` as a PNG: the file's
/// 128-band log-mel spectrogram (the recognizer's features, without trimming or a fixed
/// duration) above the probability of each emotion at the centre of each window; windows
/// without speech are shaded. Replaces `path` only with [`Overwrite::Replace`].
///
/// The file is decoded whole for the picture (minutes are fine; the spectrogram's columns
/// are averaged down to the picture's width).
///
/// # Errors
/// A file that cannot be decoded, an empty timeline, a drawing or I/O error.
pub fn draw_timeline(
    path: &Path,
    file: &Path,
    recognizer: &Recognizer,
    timeline: &Timeline,
    overwrite: Overwrite,
) -> Result<()> {
    if timeline.segments.is_empty() || timeline.duration <= 0.0 {
        bail!("nothing to draw: the timeline is empty");
    }
    let audio = ser_audio_io::load(file)?;
    let config = LogMelConfig {
        trim_db: None,
        duration_secs: None,
        ..recognizer.config().features
    };
    let db = LogMel::new(config)?
        .extract_owned(audio)
        .with_context(|| format!("the spectrogram of {}", file.display()))?;
    let (bands, frames) = db.dim();
    let plot_w = (WIDTH as i32 - LEFT - RIGHT) as usize;
    let spec_h = 256usize;
    // Columns: the mean of the frames under each pixel; rows: bands stretched to spec_h.
    let (lo, hi) = db
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    let mut column = vec![0f32; bands];
    let mut image = vec![[0u8; 3]; plot_w * spec_h];
    for x in 0..plot_w {
        let f0 = x * frames / plot_w;
        let f1 = ((x + 1) * frames / plot_w).max(f0 + 1).min(frames);
        column.iter_mut().for_each(|c| *c = 0.0);
        for f in f0..f1 {
            for (c, v) in column.iter_mut().zip(db.column(f)) {
                *c += v;
            }
        }
        for y in 0..spec_h {
            let band = (spec_h - 1 - y) * bands / spec_h;
            let v = column[band] / (f1 - f0) as f32;
            let c = colorous::MAGMA.eval_continuous(f64::from((v - lo) / span).clamp(0.0, 1.0));
            image[y * plot_w + x] = [c.r, c.g, c.b];
        }
    }

    let pen = Pen::new()?;
    let duration = timeline.duration;
    let (top, gap, prob_h, bottom) = (50i32, 30i32, 300i32, 60i32);
    let height = (top + spec_h as i32 + gap + prob_h + bottom) as u32;
    let x_of = |t: f64| LEFT + ((t / duration).clamp(0.0, 1.0) * plot_w as f64).round() as i32;
    let prob_top = top + spec_h as i32 + gap;
    let y_of = |p: f64| prob_top + ((1.0 - p.clamp(0.0, 1.0)) * f64::from(prob_h)).round() as i32;
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let title = match timeline.overall {
        Some(p) => format!(
            "{name}: {} ({:.0} %) over {:.1} s",
            p.emotion,
            100.0 * p.confidence(),
            duration
        ),
        None => format!("{name}: no speech found"),
    };
    let h = HPos::Center;

    render_png_with(path, (WIDTH, height), overwrite, |root| {
        pen.draw(
            root,
            &title,
            (WIDTH as i32 / 2, 14),
            20.0,
            BLACK,
            (h, VPos::Top),
            Direction::Horizontal,
        )?;
        // The spectrogram.
        for (i, px) in image.iter().enumerate() {
            let (x, y) = ((i % plot_w) as i32, (i / plot_w) as i32);
            root.draw_pixel((LEFT + x, top + y), &RGBColor(px[0], px[1], px[2]))?;
        }
        let right = LEFT + plot_w as i32;
        root.draw(&Rectangle::new(
            [(LEFT, top), (right, top + spec_h as i32)],
            BLACK,
        ))?;
        pen.draw(
            root,
            "log-mel",
            (LEFT - 45, top + spec_h as i32 / 2),
            15.0,
            BLACK,
            (HPos::Center, VPos::Center),
            Direction::Upward,
        )?;
        // Windows without speech, shaded; then the grid.
        let bottom_y = prob_top + prob_h;
        for s in timeline.segments.iter().filter(|s| s.prediction.is_none()) {
            root.draw(&Rectangle::new(
                [(x_of(s.start), prob_top), (x_of(s.end), bottom_y)],
                RGBColor(238, 238, 238).filled(),
            ))?;
        }
        for p in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let y = y_of(p);
            root.draw(&PathElement::new(
                vec![(LEFT, y), (right, y)],
                RGBColor(225, 225, 225),
            ))?;
            let label = format!("{p:.2}");
            pen.draw(
                root,
                &label,
                (LEFT - 8, y),
                14.0,
                BLACK,
                (HPos::Right, VPos::Center),
                Direction::Horizontal,
            )?;
        }
        let x_ticks = ticks(&(0.0..duration), 12, 0.0);
        let step = match x_ticks.as_slice() {
            [a, b, ..] => b - a,
            _ => 1.0,
        };
        for &t in &x_ticks {
            let x = x_of(t);
            root.draw(&PathElement::new(
                vec![(x, bottom_y), (x, bottom_y + 5)],
                BLACK,
            ))?;
            pen.draw(
                root,
                &tick_label(t, step),
                (x, bottom_y + 8),
                14.0,
                BLACK,
                (h, VPos::Top),
                Direction::Horizontal,
            )?;
        }
        pen.draw(
            root,
            "time (s)",
            (LEFT + plot_w as i32 / 2, bottom_y + 32),
            16.0,
            BLACK,
            (h, VPos::Top),
            Direction::Horizontal,
        )?;
        pen.draw(
            root,
            "probability",
            (LEFT - 55, prob_top + prob_h / 2),
            15.0,
            BLACK,
            (HPos::Center, VPos::Center),
            Direction::Upward,
        )?;
        // One line per emotion through the window centres; a window without speech breaks it.
        for (k, color) in EMOTION_COLORS.iter().enumerate() {
            let mut run: Vec<(i32, i32)> = Vec::new();
            let mut runs = Vec::new();
            for s in &timeline.segments {
                match s.prediction {
                    Some(p) => run.push((
                        x_of(0.5 * (s.start + s.end)),
                        y_of(f64::from(p.probabilities[k])),
                    )),
                    None => runs.push(std::mem::take(&mut run)),
                }
            }
            runs.push(run);
            for r in runs.into_iter().filter(|r| !r.is_empty()) {
                if r.len() == 1 {
                    root.draw(&Circle::new(r[0], 3, color.filled()))?;
                } else {
                    root.draw(&PathElement::new(r, color.stroke_width(2)))?;
                }
            }
        }
        root.draw(&Rectangle::new(
            [(LEFT, prob_top), (right, bottom_y)],
            BLACK,
        ))?;
        // Legend.
        for (k, (e, color)) in Emotion::ALL.iter().zip(EMOTION_COLORS).enumerate() {
            let y = prob_top + 12 + 22 * k as i32;
            root.draw(&PathElement::new(
                vec![(right + 15, y), (right + 40, y)],
                color.stroke_width(3),
            ))?;
            pen.draw(
                root,
                e.as_str(),
                (right + 48, y),
                15.0,
                BLACK,
                (HPos::Left, VPos::Center),
                Direction::Horizontal,
            )?;
        }
        Ok(())
    })
}
