//! PNG pictures for the example programs: a confusion-matrix heat map and training curves.
//!
//! Shapes are drawn with [plotters](https://docs.rs/plotters) into an in-memory RGB buffer,
//! which is encoded with the `png` crate and written atomically ([`crate::write_atomic`]).
//! Text is laid out and rasterised here with [ab_glyph](https://docs.rs/ab_glyph) from DejaVu
//! Sans embedded in the binary (`examples/assets/DejaVuSans.ttf`, Bitstream Vera licence, see
//! `examples/assets/DejaVu-LICENSE.txt`), so no system font is needed at run time. (plotters'
//! own `ab_glyph` text path ignores each glyph's left side bearing, which spaces letters
//! unevenly, so it is not used.)

use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use anyhow::{Result, bail};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use ser_core::Overwrite;
use ser_models::metrics::{ClassificationReport, EpochRecord, History};

/// The embedded font: DejaVu Sans 2.37.
static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const VAL_COLOR: RGBColor = RGBColor(255, 127, 14);
const BEST_COLOR: RGBColor = RGBColor(44, 160, 44);
const GRID_COLOR: RGBColor = RGBColor(225, 225, 225);
const CELL_LINE_COLOR: RGBColor = RGBColor(200, 200, 200);

/// The parsed embedded font.
fn font() -> Result<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    match FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok()) {
        Some(f) => Ok(f),
        None => bail!("the embedded font (examples/assets/DejaVuSans.ttf) cannot be parsed"),
    }
}

/// Text drawing with the embedded font.
#[derive(Clone, Copy)]
pub(crate) struct Pen {
    font: &'static FontRef<'static>,
}

/// Text direction.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Left to right.
    Horizontal,
    /// Bottom to top (rotated by 90 degrees counter-clockwise).
    Upward,
}

impl Pen {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self { font: font()? })
    }

    /// The advance width of `text` at `size` pixels (ascent minus descent), in pixels.
    fn width(&self, text: &str, size: f32) -> u32 {
        let scaled = self.font.as_scaled(PxScale::from(size));
        let mut width = 0.0;
        let mut prev = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                width += scaled.kern(p, id);
            }
            width += scaled.h_advance(id);
            prev = Some(id);
        }
        width.ceil().max(0.0) as u32
    }

    /// Draws `text` anchored at `at` (`anchor` says which side or centre of the text box
    /// `at` is; the vertical centre is the middle of the capital letters).
    #[allow(clippy::too_many_arguments)] // a private helper; the arguments are all distinct
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        text: &str,
        at: (i32, i32),
        size: f32,
        color: RGBColor,
        anchor: (HPos, VPos),
        direction: Direction,
    ) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let scaled = self.font.as_scaled(PxScale::from(size));
        let width = self.width(text, size) as f32;
        let ascent = scaled.ascent();
        // The height of the capital letters, measured on "H".
        let cap = self
            .font
            .outline_glyph(scaled.scaled_glyph('H'))
            .map_or(0.63 * (ascent - scaled.descent()), |o| {
                o.px_bounds().height()
            });
        let x0 = match anchor.0 {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let baseline = match anchor.1 {
            VPos::Top => ascent,
            VPos::Center => cap / 2.0,
            VPos::Bottom => scaled.descent(),
        };
        let mut caret = x0;
        let mut prev = None;
        let mut pixels = Vec::new();
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                caret += scaled.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(scaled.scale(), point(caret, baseline));
            caret += scaled.h_advance(id);
            if let Some(outline) = self.font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    let dx = b.min.x as i32 + gx as i32;
                    let dy = b.min.y as i32 + gy as i32;
                    pixels.push((dx, dy, coverage));
                });
            }
        }
        for (dx, dy, coverage) in pixels {
            if coverage <= 0.0 {
                continue;
            }
            let p = match direction {
                Direction::Horizontal => (at.0 + dx, at.1 + dy),
                Direction::Upward => (at.0 + dy, at.1 - dx),
            };
            area.draw_pixel(p, &color.mix(f64::from(coverage.min(1.0))))?;
        }
        Ok(())
    }
}

/// Renders a `width` x `height` picture with `draw` and writes it to `path` as an RGB PNG,
/// replacing an existing file.
fn render_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
) -> Result<()> {
    render_png_with(path, size, Overwrite::Replace, draw)
}

/// [`render_png`], replacing an existing file only with [`Overwrite::Replace`].
pub(crate) fn render_png_with(
    path: &Path,
    (width, height): (u32, u32),
    overwrite: Overwrite,
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
) -> Result<()> {
    let mut pixels = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    crate::write_rgb_png(path, (width, height), &pixels, overwrite)
}

/// Draws `report`'s confusion matrix as a PNG heat map at `path` (replacing an existing
/// file): rows are true classes, columns predicted classes, each cell coloured by its share
/// of the row (the row's recall spread over the predictions) and labelled with its count
/// and, for non-zero counts in cells of at least 50 pixels, that share in percent. The title is `title` followed by a line with accuracy,
/// balanced accuracy (UA), macro F1 and the number of samples.
///
/// The picture grows with the number of classes (about 700 x 700 pixels for 7 classes).
///
/// # Errors
/// A report without classes, a drawing or PNG encoding error, or an I/O error.
pub fn draw_confusion(path: &Path, report: &ClassificationReport, title: &str) -> Result<()> {
    let n = report.classes.len();
    if n == 0 || report.confusion.len() != n {
        bail!("nothing to draw: the report has {n} classes");
    }
    let pen = Pen::new()?;
    let cell: u32 = match n {
        0..=8 => 80,
        _ => (640 / n as u32).max(36),
    };
    let (label_size, axis_size, title_size, count_size, pct_size) = (17.0, 18.0, 23.0, 17.0, 14.0);
    let subtitle = format!(
        "accuracy {:.3}   UA {:.3}   macro-F1 {:.3}   n = {}",
        report.accuracy, report.balanced_accuracy, report.macro_f1, report.total
    );
    let row_label_w = report
        .classes
        .iter()
        .map(|c| pen.width(c, label_size))
        .max()
        .unwrap_or(0);
    // Full class names under the columns when they fit, else the short names.
    let col_labels = if report
        .classes
        .iter()
        .all(|c| pen.width(c, label_size) + 6 <= cell)
    {
        report.classes.clone()
    } else {
        report.short_class_names()
    };
    let left = 40 + row_label_w + 10;
    let top = 80;
    let grid = n as u32 * cell;
    let title_w = pen
        .width(title, title_size)
        .max(pen.width(&subtitle, label_size));
    let width = (left + grid + 30).max(title_w + 40);
    let height = top + grid + 70;
    let centre = (HPos::Center, VPos::Center);
    let horizontal = Direction::Horizontal;

    render_png(path, (width, height), |root| {
        let mid_x = width as i32 / 2;
        let top_centre = (HPos::Center, VPos::Top);
        pen.draw(
            root,
            title,
            (mid_x, 14),
            title_size,
            BLACK,
            top_centre,
            horizontal,
        )?;
        pen.draw(
            root,
            &subtitle,
            (mid_x, 46),
            label_size,
            BLACK,
            top_centre,
            horizontal,
        )?;

        let normalized = report.normalized_confusion();
        let (x0, y0) = (left as i32, top as i32);
        let cell = cell as i32;
        for (t, (row, shares)) in report.confusion.iter().zip(&normalized).enumerate() {
            for (p, (&count, &share)) in row.iter().zip(shares).enumerate() {
                let (cx, cy) = (x0 + p as i32 * cell, y0 + t as i32 * cell);
                let c = colorous::BLUES.eval_continuous(share.clamp(0.0, 1.0));
                root.draw(&Rectangle::new(
                    [(cx, cy), (cx + cell, cy + cell)],
                    RGBColor(c.r, c.g, c.b).filled(),
                ))?;
                let ink = if share > 0.5 { WHITE } else { BLACK };
                let mid = (cx + cell / 2, cy + cell / 2);
                let count = count.to_string();
                if cell >= 50 && count != "0" {
                    let pct = format!("{:.1}%", 100.0 * share);
                    pen.draw(
                        root,
                        &count,
                        (mid.0, mid.1 - 9),
                        count_size,
                        ink,
                        centre,
                        horizontal,
                    )?;
                    pen.draw(
                        root,
                        &pct,
                        (mid.0, mid.1 + 12),
                        pct_size,
                        ink,
                        centre,
                        horizontal,
                    )?;
                } else {
                    let size = if cell >= 50 { count_size } else { pct_size };
                    pen.draw(root, &count, mid, size, ink, centre, horizontal)?;
                }
            }
        }
        // Cell borders and the frame.
        let end = n as i32 * cell;
        for i in 0..=n as i32 {
            let style = if i == 0 || i == n as i32 {
                BLACK
            } else {
                CELL_LINE_COLOR
            };
            let (a, b) = (y0 + i * cell, x0 + i * cell);
            root.draw(&PathElement::new(vec![(x0, a), (x0 + end, a)], style))?;
            root.draw(&PathElement::new(vec![(b, y0), (b, y0 + end)], style))?;
        }
        // Class names: rows (true) on the left, columns (predicted) below.
        let right_centre = (HPos::Right, VPos::Center);
        for (i, name) in report.classes.iter().enumerate() {
            let at = (x0 - 8, y0 + i as i32 * cell + cell / 2);
            pen.draw(root, name, at, label_size, BLACK, right_centre, horizontal)?;
        }
        for (i, name) in col_labels.iter().enumerate() {
            let at = (x0 + i as i32 * cell + cell / 2, y0 + end + 8);
            pen.draw(root, name, at, label_size, BLACK, top_centre, horizontal)?;
        }
        let at = (x0 + end / 2, y0 + end + 38);
        pen.draw(
            root,
            "predicted",
            at,
            axis_size,
            BLACK,
            top_centre,
            horizontal,
        )?;
        let at = (18, y0 + end / 2);
        pen.draw(
            root,
            "true",
            at,
            axis_size,
            BLACK,
            centre,
            Direction::Upward,
        )?;
        Ok(())
    })
}

/// Up to about `max` round tick values (steps of 1, 2 or 5 times a power of ten, at least
/// `min_step`) inside `range`.
pub(crate) fn ticks(range: &Range<f64>, max: usize, min_step: f64) -> Vec<f64> {
    let span = range.end - range.start;
    if !(span.is_finite() && span > 0.0) || max == 0 {
        return Vec::new();
    }
    let rough = span / max as f64;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * magnitude)
        .max(min_step);
    let first = (range.start / step).ceil() as i64;
    let last = (range.end / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Formats a tick value with as many decimals as its step needs.
pub(crate) fn tick_label(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{value:.decimals$}")
}

/// One curve of a panel: the value of an epoch record, if any.
type Getter = fn(&EpochRecord) -> Option<f64>;

/// One panel of [`draw_curves`].
struct Panel {
    title: &'static str,
    y_desc: &'static str,
    y_range: Range<f64>,
    curves: [(&'static str, RGBColor, Getter); 2],
    legend_top: bool,
}

/// Draws the training curves of `history` as a PNG at `path` (replacing an existing file):
/// loss (left) and accuracy in percent (right) against the epoch, for training and
/// validation, with a dashed green vertical line at [`History::best_epoch`]. Non-finite values
/// are left out. The picture is 1200 x 480 pixels.
///
/// # Errors
/// An empty history, a drawing or PNG encoding error, or an I/O error.
pub fn draw_curves(path: &Path, history: &History) -> Result<()> {
    let epochs = &history.epochs;
    let (Some(first), Some(last)) = (
        epochs.iter().map(|r| r.epoch).min(),
        epochs.iter().map(|r| r.epoch).max(),
    ) else {
        bail!("nothing to draw: the training history is empty");
    };
    let pen = Pen::new()?;
    let best = history.best_epoch();
    let span = (last - first) as f64;
    let pad = (span * 0.03).max(0.5);
    let x_range = (first as f64 - pad)..(last as f64 + pad);

    let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
    let train_loss: Getter = |r| Some(r.train_loss);
    let val_loss: Getter = |r| r.val_loss;
    let train_acc: Getter = |r| Some(100.0 * r.train_accuracy);
    let val_acc: Getter = |r| r.val_accuracy.map(|a| 100.0 * a);
    let max_loss = epochs
        .iter()
        .flat_map(|r| [finite(train_loss(r)), finite(val_loss(r))])
        .flatten()
        .fold(0.0_f64, f64::max);
    let loss_top = if max_loss > 0.0 { max_loss * 1.08 } else { 1.0 };
    let panels = [
        Panel {
            title: "loss",
            y_desc: "loss",
            y_range: 0.0..loss_top,
            curves: [
                ("train", TRAIN_COLOR, train_loss),
                ("validation", VAL_COLOR, val_loss),
            ],
            legend_top: true,
        },
        Panel {
            title: "accuracy",
            y_desc: "accuracy (%)",
            y_range: 0.0..100.0,
            curves: [
                ("train", TRAIN_COLOR, train_acc),
                ("validation", VAL_COLOR, val_acc),
            ],
            legend_top: false,
        },
    ];
    let (tick_size, desc_size, title_size, legend_size) = (15.0, 17.0, 21.0, 15.0);
    let horizontal = Direction::Horizontal;

    render_png(path, (1200, 480), |root| {
        let areas = root.split_evenly((1, 2));
        for (area, panel) in areas.iter().zip(&panels) {
            let mut chart = ChartBuilder::on(area)
                .margin_top(45)
                .margin_bottom(60)
                .margin_left(85)
                .margin_right(20)
                .build_cartesian_2d(x_range.clone(), panel.y_range.clone())?;
            let at = |x: f64, y: f64| chart.backend_coord(&(x, y));
            let (px0, py0) = at(x_range.start, panel.y_range.end);
            let (px1, py1) = at(x_range.end, panel.y_range.start);

            // Grid and tick labels.
            let x_ticks = ticks(&x_range, 10, 1.0);
            let y_ticks = ticks(&panel.y_range, 8, 0.0);
            let y_step = match y_ticks.as_slice() {
                [a, b, ..] => b - a,
                _ => 1.0,
            };
            for &x in &x_ticks {
                let (px, _) = at(x, 0.0);
                root.draw(&PathElement::new(vec![(px, py0), (px, py1)], GRID_COLOR))?;
                root.draw(&PathElement::new(vec![(px, py1), (px, py1 + 5)], BLACK))?;
                let label = tick_label(x, 1.0);
                let anchor = (HPos::Center, VPos::Top);
                pen.draw(
                    root,
                    &label,
                    (px, py1 + 8),
                    tick_size,
                    BLACK,
                    anchor,
                    horizontal,
                )?;
            }
            for &y in &y_ticks {
                let (_, py) = at(x_range.start, y);
                root.draw(&PathElement::new(vec![(px0, py), (px1, py)], GRID_COLOR))?;
                root.draw(&PathElement::new(vec![(px0 - 5, py), (px0, py)], BLACK))?;
                let label = tick_label(y, y_step);
                let anchor = (HPos::Right, VPos::Center);
                pen.draw(
                    root,
                    &label,
                    (px0 - 8, py),
                    tick_size,
                    BLACK,
                    anchor,
                    horizontal,
                )?;
            }
            root.draw(&Rectangle::new([(px0, py0), (px1, py1)], BLACK))?;
            let (mid_x, mid_y) = ((px0 + px1) / 2, (py0 + py1) / 2);
            let top_centre = (HPos::Center, VPos::Top);
            let centre = (HPos::Center, VPos::Center);
            let at_title = (mid_x, py0 - 36);
            pen.draw(
                root,
                panel.title,
                at_title,
                title_size,
                BLACK,
                top_centre,
                horizontal,
            )?;
            let at_x_desc = (mid_x, py1 + 32);
            pen.draw(
                root, "epoch", at_x_desc, desc_size, BLACK, top_centre, horizontal,
            )?;
            let at_y_desc = (px0 - 62, mid_y);
            let upward = Direction::Upward;
            pen.draw(
                root,
                panel.y_desc,
                at_y_desc,
                desc_size,
                BLACK,
                centre,
                upward,
            )?;

            // The best epoch, then the curves on top.
            let mut legend: Vec<(String, RGBColor, bool)> = Vec::new();
            if let Some(b) = best {
                let (bx, _) = at(b as f64, 0.0);
                let mut y = py0;
                while y < py1 {
                    let y_end = (y + 6).min(py1);
                    root.draw(&PathElement::new(
                        vec![(bx, y), (bx, y_end)],
                        BEST_COLOR.stroke_width(2),
                    ))?;
                    y += 11;
                }
                legend.push((format!("best (epoch {b})"), BEST_COLOR, true));
            }
            for &(name, color, get) in &panel.curves {
                let points: Vec<(f64, f64)> = epochs
                    .iter()
                    .filter_map(|r| finite(get(r)).map(|v| (r.epoch as f64, v)))
                    .collect();
                if points.is_empty() {
                    continue;
                }
                chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?;
                let radius = if points.len() > 60 { 2 } else { 3 };
                chart.draw_series(
                    points
                        .iter()
                        .map(|&p| Circle::new(p, radius, color.filled())),
                )?;
                legend.push((name.to_string(), color, false));
            }

            // Legend in the upper (loss) or lower (accuracy) right corner.
            let row_h = 22;
            let legend_w = legend
                .iter()
                .map(|(l, _, _)| pen.width(l, legend_size) as i32)
                .max()
                .unwrap_or(0)
                + 50;
            let legend_h = row_h * legend.len() as i32 + 10;
            let lx1 = px1 - 10;
            let lx0 = lx1 - legend_w;
            let ly0 = if panel.legend_top {
                py0 + 10
            } else {
                py1 - 10 - legend_h
            };
            root.draw(&Rectangle::new(
                [(lx0, ly0), (lx1, ly0 + legend_h)],
                WHITE.mix(0.9).filled(),
            ))?;
            root.draw(&Rectangle::new([(lx0, ly0), (lx1, ly0 + legend_h)], BLACK))?;
            for (i, (label, color, dashed)) in legend.iter().enumerate() {
                let y = ly0 + 5 + row_h * i as i32 + row_h / 2;
                if *dashed {
                    for x in [lx0 + 8, lx0 + 20] {
                        let seg = vec![(x, y), (x + 7, y)];
                        root.draw(&PathElement::new(seg, color.stroke_width(2)))?;
                    }
                } else {
                    let seg = vec![(lx0 + 8, y), (lx0 + 35, y)];
                    root.draw(&PathElement::new(seg, color.stroke_width(2)))?;
                    root.draw(&Circle::new((lx0 + 21, y), 3, color.filled()))?;
                }
                let anchor = (HPos::Left, VPos::Center);
                pen.draw(
                    root,
                    label,
                    (lx0 + 42, y),
                    legend_size,
                    BLACK,
                    anchor,
                    horizontal,
                )?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
        let file = std::fs::File::open(path).unwrap();
        let mut reader = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    /// Fraction of pixels that are not white.
    fn ink(pixels: &[u8]) -> f64 {
        let px = pixels.chunks_exact(3);
        let n = px.len();
        px.filter(|p| p.iter().any(|&v| v < 250)).count() as f64 / n as f64
    }

    fn report() -> ClassificationReport {
        let classes = [
            "neutral",
            "happy",
            "sad",
            "angry",
            "fearful",
            "disgust",
            "surprised",
        ];
        let truth: Vec<usize> = (0..140).map(|i| i % 7).collect();
        let predicted: Vec<usize> = truth
            .iter()
            .enumerate()
            .map(|(i, &t)| if i % 3 == 0 { (t + i) % 7 } else { t })
            .collect();
        let groups: Vec<&str> = (0..140)
            .map(|i| if i % 2 == 0 { "a" } else { "b" })
            .collect();
        ClassificationReport::from_predictions(&truth, &predicted, &classes, Some(&groups)).unwrap()
    }

    fn history(n: usize) -> History {
        let mut history = History::new();
        for e in 1..=n {
            let x = e as f64;
            history.push(EpochRecord {
                epoch: e,
                train_loss: 2.0 / x,
                train_accuracy: 1.0 - 0.7 / x,
                val_loss: Some(2.2 / x + 0.01 * x),
                val_accuracy: Some(0.9 - 0.6 / x),
                learning_rate: 1e-3,
                seconds: 3.0,
                speaker_accuracy: None,
            });
        }
        history
    }

    #[test]
    fn draw_confusion_writes_a_nonblank_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("confusion.png");
        draw_confusion(&path, &report(), "test set").unwrap();
        let (w, h, pixels) = decode(&path);
        // 7 classes: 80-pixel cells plus margins.
        assert_eq!(h, 80 + 7 * 80 + 70);
        assert!(w >= 7 * 80, "{w}");
        let ink = ink(&pixels);
        assert!(ink > 0.2 && ink < 0.95, "ink {ink}");
        // Drawing again replaces the file.
        draw_confusion(&path, &report(), "again").unwrap();
        assert_eq!(decode(&path).1, h);
    }

    #[test]
    fn draw_curves_writes_a_nonblank_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("curves.png");
        let mut history = history(12);
        draw_curves(&path, &history).unwrap();
        let (w, h, pixels) = decode(&path);
        assert_eq!((w, h), (1200, 480));
        let ink = ink(&pixels);
        assert!(ink > 0.01 && ink < 0.5, "ink {ink}");

        // One epoch without validation still draws.
        history.epochs.truncate(1);
        history.epochs[0].val_loss = None;
        history.epochs[0].val_accuracy = None;
        draw_curves(&path, &history).unwrap();
        assert_eq!(decode(&path).0, 1200);
    }

    #[test]
    fn draw_curves_empty_history_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = draw_curves(&dir.path().join("x.png"), &History::new()).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn ticks_are_round_and_inside() {
        let labels: Vec<String> = ticks(&(0.0..1.0), 5, 0.0)
            .iter()
            .map(|&t| tick_label(t, 0.2))
            .collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(ticks(&(0.5..3.5), 10, 1.0), vec![1.0, 2.0, 3.0]);
        assert_eq!(
            ticks(&(-0.6..29.6), 10, 1.0),
            vec![0.0, 5.0, 10.0, 15.0, 20.0, 25.0]
        );
        assert!(ticks(&(1.0..1.0), 5, 0.0).is_empty());
        assert_eq!(tick_label(0.4, 0.2), "0.4");
        assert_eq!(tick_label(20.0, 5.0), "20");
    }
}
