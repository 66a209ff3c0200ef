//! Probabilistic YIN (Mauch and Dixon, 2014) as `librosa.pyin` (0.11): [`pyin`] with a
//! [`PyinConfig`], giving a [`Pyin`] (f0, voicing decision, voicing probability per frame).
//!
//! Per frame, as librosa's `__pyin_helper`: the normalised difference function
//! (`difference.rs`, shared with YIN); its troughs; for each of `n_thresholds` thresholds
//! `s` (`linspace(0, 1, n_thresholds + 1)[1:]`), weighted by the beta distribution's mass
//! between consecutive thresholds, the troughs below `s` share that weight under a
//! Boltzmann prior favouring short periods, or, when none is below, the global minimum
//! gets `no_trough_prob` of it. Each trough's period, refined by a parabola, is mapped to
//! the nearest bin of a grid of `resolution` semitones from `fmin`; the voiced
//! observation of that bin is the trough's probability, the unvoiced observation of every
//! bin is `(1 - voiced_prob) / n_bins`. Viterbi (`viterbi.rs`) then picks the path through
//! voiced and unvoiced bins, with pitch jumps limited to `max_transition_rate` octaves per
//! second and a voicing switch costing `switch_prob`.

use ndarray::Array1;

use super::difference::{Difference, is_trough, parabolic_shift};
use super::numeric::{beta_cdf, pairwise_sum};
use super::viterbi::Transition;
use crate::error::{Error, Result, invalid};

/// The most thresholds accepted (librosa's default is 100).
pub const MAX_THRESHOLDS: usize = 1 << 20;

/// What [`pyin`] writes as the f0 of unvoiced frames (librosa's `fill_na`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum FillNa {
    /// NaN, librosa's default (`fill_na=np.nan`).
    #[default]
    Nan,
    /// This value, in Hz (`fill_na=value`).
    Value(f32),
    /// The frequency of the most likely pitch bin, as if the frame were voiced
    /// (`fill_na=None`).
    BestGuess,
}

/// Parameters of [`pyin`]; [`PyinConfig::new`] and `Default` give librosa's defaults
/// (`Default` with `fmin`, `fmax` at C2 and C7, the notes librosa's docs recommend).
///
/// librosa's `win_length` is left out: it is deprecated in 0.11 and has no effect there.
/// `center` pads with zeros (`pad_mode='constant'`, librosa's default).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct PyinConfig {
    /// The lowest f0 searched, in Hz (`fmin`, > 0, and `sample_rate / fmin < frame_length -
    /// 1`: one period must fit in a frame). Also the lowest pitch bin.
    pub fmin: f64,
    /// The highest f0 searched, in Hz (`fmax`, > `fmin`, at most the Nyquist frequency).
    pub fmax: f64,
    /// Samples per frame (`frame_length`, default 2048).
    pub frame_length: usize,
    /// Samples between frame starts (`hop_length`, > 0); `None` is `frame_length / 4`.
    pub hop_length: Option<usize>,
    /// Thresholds the trough probabilities are summed over (`n_thresholds`, default 100,
    /// 1 ..= [`MAX_THRESHOLDS`]).
    pub n_thresholds: usize,
    /// The shape parameters `(a, b)` of the beta distribution of thresholds
    /// (`beta_parameters`, default `(2, 18)`, both finite and > 0).
    pub beta_parameters: (f64, f64),
    /// The Boltzmann prior's parameter over the troughs below a threshold
    /// (`boltzmann_parameter`, default 2, finite and > 0): larger favours the first trough.
    pub boltzmann_parameter: f64,
    /// The pitch grid's step in semitones (`resolution`, default 0.1, in (0, 1]): the grid
    /// has `ceil(1 / resolution)` bins per semitone.
    pub resolution: f64,
    /// The largest pitch change in octaves per second (`max_transition_rate`, default
    /// 35.92, finite and >= 0).
    pub max_transition_rate: f64,
    /// The probability of switching between voiced and unvoiced from one frame to the next
    /// (`switch_prob`, default 0.01, in [0, 1]).
    pub switch_prob: f64,
    /// The probability given to the global minimum for a threshold no trough is below
    /// (`no_trough_prob`, default 0.01, in [0, 1]).
    pub no_trough_prob: f64,
    /// The f0 written for unvoiced frames (`fill_na`, default NaN).
    pub fill_na: FillNa,
    /// Pad `frame_length / 2` zeros on both sides so that frame `t` is centred on sample
    /// `t · hop_length` (`center`, default true, `pad_mode='constant'`).
    pub center: bool,
}

impl Default for PyinConfig {
    fn default() -> Self {
        Self::new(super::C2_HZ, super::C7_HZ)
    }
}

impl PyinConfig {
    /// librosa's defaults with the given `fmin` and `fmax` (Hz).
    pub fn new(fmin: f64, fmax: f64) -> Self {
        Self {
            fmin,
            fmax,
            frame_length: 2048,
            hop_length: None,
            n_thresholds: 100,
            beta_parameters: (2.0, 18.0),
            boltzmann_parameter: 2.0,
            resolution: 0.1,
            max_transition_rate: 35.92,
            switch_prob: 0.01,
            no_trough_prob: 0.01,
            fill_na: FillNa::Nan,
            center: true,
        }
    }

    /// Sets `frame_length` and `hop_length`.
    pub fn with_frames(mut self, frame_length: usize, hop_length: Option<usize>) -> Self {
        self.frame_length = frame_length;
        self.hop_length = hop_length;
        self
    }

    /// Sets `fill_na`.
    pub fn with_fill_na(mut self, fill_na: FillNa) -> Self {
        self.fill_na = fill_na;
        self
    }

    /// Sets `center`.
    pub fn with_center(mut self, center: bool) -> Self {
        self.center = center;
        self
    }

    /// The hop in samples: `hop_length`, or `frame_length / 4` when `None`.
    pub fn hop(&self) -> usize {
        self.hop_length.unwrap_or(self.frame_length / 4)
    }

    /// The number of frames for `n_samples` samples, or `None` when the (padded) input is
    /// shorter than one frame.
    pub fn n_frames(&self, n_samples: usize) -> Option<usize> {
        super::n_frames(n_samples, self.frame_length, self.hop(), self.center)
    }

    /// Checks the config against `sample_rate` as librosa does (see the fields), plus the
    /// sizes librosa would fail on or could not hold (at least 2 and at most 32768 pitch
    /// bins, a transition window no wider than the grid).
    ///
    /// # Errors
    /// [`Error::ZeroSampleRate`], or [`Error::InvalidConfig`] naming the field.
    pub fn validate(&self, sample_rate: u32) -> Result<()> {
        Plan::new(self, sample_rate).map(|_| ())
    }
}

/// The output of [`pyin`], one value per frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Pyin {
    /// The f0 in Hz (a frequency of the pitch grid, `fmin · 2^(k / (12 ·
    /// bins_per_semitone))`); unvoiced frames hold [`PyinConfig::fill_na`].
    pub f0: Array1<f32>,
    /// Whether the frame is voiced (the Viterbi path is in a voiced state).
    pub voiced_flag: Array1<bool>,
    /// The probability that the frame is voiced, in [0, 1] (before Viterbi smoothing).
    pub voiced_prob: Array1<f32>,
}

/// Everything fixed by the config and the rate.
struct Plan {
    min_period: usize,
    max_period: usize,
    /// `linspace(0, 1, n_thresholds + 1)[1:]`.
    thresholds: Vec<f64>,
    /// `np.diff(beta.cdf(linspace(0, 1, n_thresholds + 1), a, b))`.
    beta_probs: Vec<f64>,
    bins_per_semitone: usize,
    n_bins: usize,
    transition_width: usize,
}

impl Plan {
    fn new(config: &PyinConfig, sample_rate: u32) -> Result<Self> {
        let hop = config.hop();
        let (min_period, max_period) = super::check_periods(
            sample_rate,
            config.fmin,
            config.fmax,
            config.frame_length,
            hop,
        )?;
        let sr = f64::from(sample_rate);
        if config.n_thresholds == 0 || config.n_thresholds > MAX_THRESHOLDS {
            return Err(invalid(
                "n_thresholds",
                config.n_thresholds,
                "must be 1 ..= 2^20",
            ));
        }
        let (a, b) = config.beta_parameters;
        if !(a.is_finite() && a > 0.0 && b.is_finite() && b > 0.0) {
            return Err(invalid(
                "beta_parameters",
                format!("({a}, {b})"),
                "must both be finite and > 0",
            ));
        }
        let lambda = config.boltzmann_parameter;
        if !(lambda.is_finite() && lambda > 0.0) {
            return Err(invalid(
                "boltzmann_parameter",
                lambda,
                "must be finite and > 0",
            ));
        }
        let resolution = config.resolution;
        if !(resolution.is_finite() && resolution > 0.0 && resolution <= 1.0) {
            return Err(invalid(
                "resolution",
                resolution,
                "must be in (0, 1] semitones",
            ));
        }
        let rate = config.max_transition_rate;
        if !(rate.is_finite() && rate >= 0.0) {
            return Err(invalid(
                "max_transition_rate",
                rate,
                "must be finite and >= 0",
            ));
        }
        for (field, p) in [
            ("switch_prob", config.switch_prob),
            ("no_trough_prob", config.no_trough_prob),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(invalid(field, p, "must be a probability, in [0, 1]"));
            }
        }
        // n_bins_per_semitone = int(np.ceil(1.0 / resolution)).
        let per_semitone = (1.0 / resolution).ceil();
        // n_pitch_bins = int(np.floor(12 * n_bins_per_semitone * np.log2(fmax / fmin))) + 1;
        // bounded before the casts (Transition checks the exact limit).
        let n_bins = (12.0 * per_semitone * (config.fmax / config.fmin).log2()).floor() + 1.0;
        if n_bins > super::viterbi::MAX_STATES as f64 {
            return Err(invalid(
                "resolution",
                resolution,
                "gives more than 32768 pitch bins between fmin and fmax",
            ));
        }
        let (bins_per_semitone, n_bins) = (per_semitone as usize, n_bins as usize);
        // max_semitones_per_frame = round(max_transition_rate * 12 * hop_length / sr)
        // (Python's round: half to even); transition_width = that * bins + 1.
        let semitones = (rate * 12.0 * hop as f64 / sr).round_ties_even();
        let width = semitones * per_semitone + 1.0;
        if width > n_bins as f64 {
            return Err(invalid(
                "max_transition_rate",
                rate,
                "allows a jump wider than the whole pitch grid per frame \
                 (librosa's transition_local raises); lower it, or widen fmin..fmax",
            ));
        }
        let transition_width = width as usize;

        let n = config.n_thresholds;
        // np.linspace(0, 1, n + 1): i * (1 / n), the last exactly 1.
        let step = 1.0 / n as f64;
        let grid: Vec<f64> = (0..=n)
            .map(|i| if i == n { 1.0 } else { i as f64 * step })
            .collect();
        let cdf: Vec<f64> = grid.iter().map(|x| beta_cdf(*x, a, b)).collect();
        let beta_probs = cdf.windows(2).map(|w| w[1] - w[0]).collect();
        Ok(Self {
            min_period,
            max_period,
            thresholds: grid[1..].to_vec(),
            beta_probs,
            bins_per_semitone,
            n_bins,
            transition_width,
        })
    }
}

/// One frame's observations: the voiced bins with a non-zero probability, in increasing
/// bin order, and the voicing probability.
struct Observation {
    bins: Vec<(u32, f64)>,
    voiced_prob: f64,
}

/// The f0, voicing decision and voicing probability of each frame of `y`, as
/// `librosa.pyin(y, fmin=config.fmin, fmax=config.fmax, sr=sample_rate, ...)` with the
/// other parameters from `config`.
///
/// librosa computes the difference function in `f32`, here it is `f64`; a trough within
/// rounding of a threshold or a period within rounding of a bin edge may therefore go the
/// other way (see `tests/pyin.rs` for the measured agreement). Otherwise the arithmetic is
/// librosa's, down to the order of its sums, so that Viterbi ties break the same way.
///
/// Memory: the Viterbi back-pointers take 2 bytes per state per frame (1200 states with
/// the default grid from C2 to C7: about 270 MB for an hour at 16 kHz with a 512 hop), the
/// transition band `2 · n_bins · transition_width` `f64`s (1.4 MB by default).
///
/// ```
/// use ser_dsp::{PyinConfig, pyin};
///
/// // 0.5 s of silence, then 0.5 s of a 220 Hz tone, at 16 kHz.
/// let y: Vec<f32> = (0..16_000)
///     .map(|n| if n < 8000 { 0.0 } else {
///         0.5 * (2.0 * std::f32::consts::PI * 220.0 * n as f32 / 16_000.0).sin()
///     })
///     .collect();
/// let out = pyin(&y, 16_000, &PyinConfig::new(65.41, 2093.0))?; // 2048-sample frames, hop 512
/// assert_eq!(out.f0.len(), 32);
/// assert!(!out.voiced_flag[4] && out.f0[4].is_nan());
/// assert!(out.voiced_flag[24] && (out.f0[24] - 220.0).abs() < 1.0);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] (see [`PyinConfig::validate`]), [`Error::ZeroSampleRate`],
/// [`Error::Empty`], [`Error::NonFinite`], and [`Error::TooShort`] when `center` is off and
/// `y` is shorter than a frame.
pub fn pyin(y: &[f32], sample_rate: u32, config: &PyinConfig) -> Result<Pyin> {
    const WHAT: &str = "pyin";
    let plan = Plan::new(config, sample_rate)?;
    crate::error::check_non_empty(WHAT, y)?;
    crate::error::check_finite(WHAT, y)?;
    let n_frames = config.n_frames(y.len()).ok_or(Error::TooShort {
        what: WHAT,
        needed: config.frame_length,
        got: y.len(),
    })?;
    let transition = Transition::new(plan.n_bins, plan.transition_width, config.switch_prob)?;
    let pad = if config.center {
        config.frame_length / 2
    } else {
        0
    };
    let mut difference = Difference::new(
        config.frame_length,
        config.hop(),
        pad,
        plan.min_period,
        plan.max_period,
    );
    let priors = BoltzmannPrior::new(config.boltzmann_parameter, difference.n_lags());
    let mut cmnd = vec![0.0f64; difference.n_lags()];
    let sr = f64::from(sample_rate);
    let mut observations = Vec::with_capacity(n_frames);
    for t in 0..n_frames {
        difference.frame(y, t, &mut cmnd)?;
        observations.push(observe(&cmnd, &plan, config, sr, &priors));
    }

    let n = plan.n_bins;
    let tiny = f64::MIN_POSITIVE;
    let log_tiny = (0.0 + tiny).ln();
    let states = transition.decode(n_frames, |t, out| {
        let obs = &observations[t];
        out[..n].fill(log_tiny);
        for &(bin, p) in &obs.bins {
            out[bin as usize] = (p + tiny).ln();
        }
        out[n..].fill(((1.0 - obs.voiced_prob) / n as f64 + tiny).ln());
    });
    debug_assert_eq!(transition.n_states(), 2 * n);

    // freqs = fmin * 2 ** (np.arange(n_pitch_bins) / (12 * n_bins_per_semitone)).
    let per_octave = (12 * plan.bins_per_semitone) as f64;
    let freq = |bin: usize| config.fmin * 2f64.powf(bin as f64 / per_octave);
    let mut f0 = Vec::with_capacity(n_frames);
    let mut voiced_flag = Vec::with_capacity(n_frames);
    for &s in &states {
        let voiced = s < n;
        voiced_flag.push(voiced);
        f0.push(match (voiced, config.fill_na) {
            (false, FillNa::Nan) => f32::NAN,
            (false, FillNa::Value(v)) => v,
            _ => freq(s % n) as f32,
        });
    }
    let voiced_prob = observations.iter().map(|o| o.voiced_prob as f32).collect();
    Ok(Pyin {
        f0: Array1::from(f0),
        voiced_flag: Array1::from(voiced_flag),
        voiced_prob: Array1::from_vec(voiced_prob),
    })
}

/// scipy's `stats.boltzmann.pmf(k, lambda_, N)` = `(1 - exp(-λ)) / (1 - exp(-λ N)) ·
/// exp(-λ k)`, with its factors cached per `N` and `k`.
struct BoltzmannPrior {
    /// `(1 - exp(-λ)) / (1 - exp(-λ N))` for `N = 0 ..`.
    fact: Vec<f64>,
    /// `exp(-λ k)` for `k = 0 ..`.
    decay: Vec<f64>,
}

impl BoltzmannPrior {
    /// For up to `max_n` troughs.
    fn new(lambda: f64, max_n: usize) -> Self {
        let neg = -lambda;
        let head = 1.0 - neg.exp();
        Self {
            fact: (0..=max_n)
                .map(|n| head / (1.0 - (neg * n as f64).exp()))
                .collect(),
            decay: (0..=max_n).map(|k| (neg * k as f64).exp()).collect(),
        }
    }

    /// `pmf(k, λ, n)`, `k < n`.
    fn pmf(&self, k: usize, n: usize) -> f64 {
        self.fact[n] * self.decay[k]
    }
}

/// librosa's `__pyin_helper` for one frame: the troughs' probabilities, mapped to pitch
/// bins.
fn observe(
    cmnd: &[f64],
    plan: &Plan,
    config: &PyinConfig,
    sr: f64,
    prior: &BoltzmannPrior,
) -> Observation {
    let troughs: Vec<usize> = (0..cmnd.len()).filter(|&i| is_trough(cmnd, i)).collect();
    if troughs.is_empty() {
        return Observation {
            bins: Vec::new(),
            voiced_prob: 0.0,
        };
    }
    let heights: Vec<f64> = troughs.iter().map(|&i| cmnd[i]).collect();
    // For threshold c: n_troughs[c] troughs lie below it; trough r is the
    // (position)-th of them. probs[r] = Σ_c prior[r, c] · beta_probs[c] (a matrix-vector
    // product in librosa, summed in threshold order here).
    let mut probs = vec![0.0f64; troughs.len()];
    for (&s, &beta) in plan.thresholds.iter().zip(&plan.beta_probs) {
        let below = heights.iter().filter(|h| **h < s).count();
        if below == 0 {
            continue;
        }
        let mut position = 0;
        for (p, h) in probs.iter_mut().zip(&heights) {
            if *h < s {
                *p += prior.pmf(position, below) * beta;
                position += 1;
            }
        }
    }
    // The global minimum (first of equals) gets no_trough_prob of the mass of the
    // thresholds it is not below.
    let mut global_min = 0;
    for (r, h) in heights.iter().enumerate() {
        if *h < heights[global_min] {
            global_min = r;
        }
    }
    let above = plan
        .thresholds
        .iter()
        .filter(|s| heights[global_min] >= **s)
        .count();
    let mass = pairwise_sum(above, &|c| plan.beta_probs[c], &|_, _| false);
    probs[global_min] += config.no_trough_prob * mass;

    // Candidates in increasing period: f0 = sr / (min_period + lag + shift), its bin
    // round(12 · bins · log2(f0 / fmin)) clipped to 0 ..= n_bins; a later trough in the
    // same bin overwrites an earlier one (numpy's fancy assignment), zero probabilities
    // are no candidates, and bin n_bins (above fmax) is dropped.
    let n = plan.n_bins;
    let per_octave = (12 * plan.bins_per_semitone) as f64;
    let mut dense: Vec<(u32, f64)> = Vec::with_capacity(troughs.len());
    for (&lag, &p) in troughs.iter().zip(&probs) {
        if p == 0.0 {
            continue;
        }
        let period = (plan.min_period + lag) as f64 + parabolic_shift(cmnd, lag);
        let f0 = sr / period;
        let bin = (per_octave * (f0 / config.fmin).log2())
            .round_ties_even()
            .clamp(0.0, n as f64) as usize;
        if bin >= n {
            continue;
        }
        match dense.iter_mut().find(|(b, _)| *b as usize == bin) {
            Some(slot) => slot.1 = p,
            None => dense.push((bin as u32, p)),
        }
    }
    dense.sort_by_key(|(b, _)| *b);
    // voiced_prob = clip(sum over bins, 0, 1), summed in bin order.
    let mut voiced = 0.0f64;
    for (_, p) in &dense {
        voiced += p;
    }
    Observation {
        bins: dense,
        voiced_prob: voiced.clamp(0.0, 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boltzmann_pmf_sums_to_one() {
        let prior = BoltzmannPrior::new(2.0, 10);
        for n in 1..=10 {
            let total: f64 = (0..n).map(|k| prior.pmf(k, n)).sum();
            assert!((total - 1.0).abs() < 1e-15, "{n}");
        }
        // scipy.stats.boltzmann.pmf(1, 2, 3) = (1 - e^-2) e^-2 / (1 - e^-6).
        let want = (1.0 - (-2f64).exp()) * (-2f64).exp() / (1.0 - (-6f64).exp());
        assert!((prior.pmf(1, 3) - want).abs() < 1e-16);
    }

    #[test]
    fn plan_matches_librosa_sizes() {
        // fmin 65.41, fmax 2093 at 16 kHz, hop 512: 600 bins, 14 semitones a frame.
        let plan = Plan::new(&PyinConfig::new(65.41, 2093.0), 16_000).unwrap();
        assert_eq!((plan.min_period, plan.max_period), (7, 245));
        assert_eq!((plan.bins_per_semitone, plan.n_bins), (10, 600));
        assert_eq!(plan.transition_width, 141);
        assert_eq!(plan.thresholds.len(), 100);
        let total: f64 = plan.beta_probs.iter().sum();
        assert!((total - 1.0).abs() < 1e-12);
    }
}
