//! Fixing a waveform's length: symmetric zero padding or cropping, as the research pipeline.

/// Which part of a too-long signal [`pad_or_truncate`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Crop {
    /// Keep the first `n` samples (`y[:n]`), as the research pipeline does.
    #[default]
    Start,
    /// Keep the middle `n` samples, from `(len - n) / 2` (rounded down).
    Center,
}

/// The `(left_pad, right_pad, crop_start)` that [`pad_or_truncate`] applies to `len`
/// samples for a target of `n`.
pub fn pad_plan(len: usize, n: usize, crop: Crop) -> (usize, usize, usize) {
    if len <= n {
        let total = n - len;
        (total / 2, total - total / 2, 0)
    } else {
        let start = match crop {
            Crop::Start => 0,
            Crop::Center => (len - n) / 2,
        };
        (0, 0, start)
    }
}

/// Returns exactly `n` samples: a shorter `y` is zero-padded symmetrically (an odd
/// remainder goes to the end), a longer one is cropped as `crop` says.
///
/// ```
/// use ser_dsp::{Crop, pad_or_truncate};
/// assert_eq!(pad_or_truncate(&[1.0, 2.0], 5, Crop::Start), vec![0.0, 1.0, 2.0, 0.0, 0.0]);
/// assert_eq!(pad_or_truncate(&[1.0, 2.0, 3.0, 4.0], 2, Crop::Center), vec![2.0, 3.0]);
/// ```
pub fn pad_or_truncate(y: &[f32], n: usize, crop: Crop) -> Vec<f32> {
    let (left, _right, start) = pad_plan(y.len(), n, crop);
    let mut out = vec![0.0f32; n];
    if y.len() <= n {
        out[left..left + y.len()].copy_from_slice(y);
    } else {
        out.copy_from_slice(&y[start..start + n]);
    }
    out
}

/// [`pad_or_truncate`] in place: `y` ends with exactly `n` samples, reusing its allocation.
///
/// ```
/// use ser_dsp::{Crop, pad_or_truncate_in_place};
/// let mut y = vec![1.0, 2.0, 3.0];
/// pad_or_truncate_in_place(&mut y, 6, Crop::Start);
/// assert_eq!(y, vec![0.0, 1.0, 2.0, 3.0, 0.0, 0.0]);
/// ```
pub fn pad_or_truncate_in_place(y: &mut Vec<f32>, n: usize, crop: Crop) {
    let len = y.len();
    let (left, _right, start) = pad_plan(len, n, crop);
    if len <= n {
        y.resize(n, 0.0);
        y.copy_within(0..len, left);
        y[..left].fill(0.0);
    } else {
        y.copy_within(start..start + n, 0);
        y.truncate(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_padding_goes_to_the_end() {
        assert_eq!(pad_plan(10, 15, Crop::Start), (2, 3, 0));
        assert_eq!(pad_plan(10, 16, Crop::Start), (3, 3, 0));
        assert_eq!(pad_plan(17, 10, Crop::Center), (0, 0, 3));
    }

    #[test]
    fn in_place_equals_copying() {
        for len in [0usize, 1, 5, 9, 10, 11, 17] {
            for n in [1usize, 4, 10, 15] {
                for crop in [Crop::Start, Crop::Center] {
                    let y: Vec<f32> = (0..len).map(|i| i as f32 + 1.0).collect();
                    let mut z = y.clone();
                    pad_or_truncate_in_place(&mut z, n, crop);
                    assert_eq!(z, pad_or_truncate(&y, n, crop), "{len} -> {n} {crop:?}");
                }
            }
        }
    }

    #[test]
    fn empty_input_gives_zeros() {
        assert_eq!(pad_or_truncate(&[], 3, Crop::Start), vec![0.0; 3]);
    }
}
