//! The streaming STFT and mel spectrogram give the offline frames bit for bit, whatever the
//! chunking: on the committed clips and on random signals, with chunks of 1, 7, 512 and 4096
//! samples, the whole input at once and random mixtures, for both pad modes, both precisions,
//! odd FFT lengths, hops longer than the FFT and `center = false`.

// A failed unwrap in a test is a failed test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ndarray::{Array2, Axis, concatenate};
use ser_dsp::num_complex::Complex32;
use ser_dsp::{
    Error, MelSpectrogram, MelSpectrogramConfig, PadMode, Precision, Stft, StftConfig,
    StreamingMelSpectrogram, StreamingStft, Window,
};

/// A committed clip (`name` with its extension) as librosa reads it.
fn clip(name: &str) -> Vec<f32> {
    common::read_wav(&common::root().join("fixtures/audio").join(name)).0
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn signal(&mut self, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| (self.next() >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
            .collect()
    }
}

/// Chunk lengths that add up to `len`.
#[derive(Debug, Clone, Copy)]
enum Chunking {
    Fixed(usize),
    Whole,
    /// Random lengths in 0..=max (empty chunks included), from a seed.
    Mixed(u64, usize),
}

fn chunks(len: usize, how: Chunking) -> Vec<usize> {
    let mut out = Vec::new();
    let mut left = len;
    match how {
        Chunking::Fixed(n) => {
            while left > 0 {
                out.push(n.min(left));
                left -= n.min(left);
            }
        }
        Chunking::Whole => out.push(len),
        Chunking::Mixed(seed, max) => {
            let mut rng = Rng(seed);
            let sizes = [0, 1, 7, 512, 4096];
            while left > 0 {
                let n = if rng.below(3) == 0 {
                    sizes[rng.below(sizes.len())]
                } else {
                    rng.below(max + 1)
                };
                out.push(n.min(left));
                left -= n.min(left);
            }
        }
    }
    out
}

const CHUNKINGS: [Chunking; 7] = [
    Chunking::Fixed(1),
    Chunking::Fixed(7),
    Chunking::Fixed(512),
    Chunking::Fixed(4096),
    Chunking::Whole,
    Chunking::Mixed(1, 100),
    Chunking::Mixed(2, 3000),
];

fn cat<T: Clone>(parts: &[Array2<T>], rows: usize) -> Array2<T> {
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    if views.is_empty() {
        return Array2::from_shape_vec((rows, 0), vec![]).unwrap();
    }
    concatenate(Axis(1), &views).unwrap()
}

fn bits(a: &Array2<f32>) -> Vec<u32> {
    a.iter().map(|v| v.to_bits()).collect()
}

/// Streams `y` through `stream` in the given chunks; checks that each push emits every frame
/// it completes (and no other), and returns the power, magnitude and complex frames.
fn stream_stft(
    stream: &mut StreamingStft,
    y: &[f32],
    how: Chunking,
) -> (Array2<f32>, Array2<f32>, Array2<Complex32>) {
    let stft = stream.stft().clone();
    let n_bins = stft.n_bins();
    let (mut pow, mut mag, mut cpx) = (Vec::new(), Vec::new(), Vec::new());
    let mut at = 0;
    // Three streams fed alike: one per output form.
    let mut s_mag = stream.clone();
    let mut s_cpx = stream.clone();
    for n in chunks(y.len(), how) {
        let chunk = &y[at..at + n];
        at += n;
        let p = stream.push_spectrogram(chunk, 2.0).unwrap();
        assert_eq!(stream.n_samples(), at);
        assert_eq!(stream.n_frames_emitted(), stream.n_frames_ready(at));
        // Every frame emitted so far has all its samples (its end at t * hop - p + n_fft).
        let pad = if stft.config().center {
            stft.n_fft() / 2
        } else {
            0
        };
        if let Some(last) = stream.n_frames_emitted().checked_sub(1) {
            assert!(last * stft.hop_length() + stft.n_fft() - pad <= at);
        }
        pow.push(p);
        mag.push(s_mag.push_spectrogram(chunk, 1.0).unwrap());
        cpx.push(s_cpx.push(chunk).unwrap());
    }
    pow.push(stream.finish_spectrogram(2.0).unwrap());
    mag.push(s_mag.finish_spectrogram(1.0).unwrap());
    cpx.push(s_cpx.finish().unwrap());
    // `finish` started a new stream.
    assert_eq!((stream.n_samples(), stream.n_frames_emitted()), (0, 0));
    (cat(&pow, n_bins), cat(&mag, n_bins), cat(&cpx, n_bins))
}

/// The streamed frames equal the offline ones: power and magnitude bit for bit, complex bins
/// by value.
fn check_stft(config: StftConfig, y: &[f32], chunkings: &[Chunking], what: &str) {
    let stft = Stft::new(config).unwrap();
    let n = stft.n_frames(y.len());
    let (power, magnitude, complex) = if n == 0 {
        let z = Array2::zeros((stft.n_bins(), 0));
        (z.clone(), z, Array2::zeros((stft.n_bins(), 0)))
    } else {
        (
            stft.power(y).unwrap(),
            stft.magnitude(y).unwrap(),
            stft.complex(y).unwrap(),
        )
    };
    let mut stream = stft.streaming();
    for &how in chunkings {
        let (p, m, c) = stream_stft(&mut stream, y, how);
        let ctx = format!("{what}, {} samples, {how:?}, {config:?}", y.len());
        assert_eq!(p.dim(), (stft.n_bins(), n), "{ctx}");
        assert!(bits(&p) == bits(&power), "power differs: {ctx}");
        assert!(bits(&m) == bits(&magnitude), "magnitude differs: {ctx}");
        assert!(c == complex, "complex differs: {ctx}");
    }
}

fn stream_mel(stream: &mut StreamingMelSpectrogram, y: &[f32], how: Chunking) -> Array2<f32> {
    let mut parts = Vec::new();
    let mut at = 0;
    for n in chunks(y.len(), how) {
        parts.push(stream.push(&y[at..at + n]).unwrap());
        at += n;
    }
    parts.push(stream.finish().unwrap());
    cat(&parts, stream.n_mels())
}

fn check_mel(config: MelSpectrogramConfig, y: &[f32], chunkings: &[Chunking], what: &str) {
    let mel = MelSpectrogram::new(config).unwrap();
    let offline = mel.compute(y).unwrap();
    let mut stream = StreamingMelSpectrogram::new(config).unwrap();
    for &how in chunkings {
        let streamed = stream_mel(&mut stream, y, how);
        assert_eq!(streamed.dim(), offline.dim(), "{what}, {how:?}");
        assert!(
            bits(&streamed) == bits(&offline),
            "mel differs: {what}, {how:?}, {config:?}"
        );
    }
}

/// The configurations checked on random signals.
fn configs() -> Vec<StftConfig> {
    let base = StftConfig::new(512).with_hop_length(128);
    vec![
        StftConfig::default(),
        StftConfig::default().with_pad_mode(PadMode::Reflect),
        base.with_precision(Precision::F32),
        base.with_pad_mode(PadMode::Reflect)
            .with_precision(Precision::F32),
        // Odd FFT length, window shorter than the FFT.
        StftConfig::new(511)
            .with_hop_length(100)
            .with_win_length(400)
            .with_window(Window::Hamming),
        StftConfig::new(511)
            .with_hop_length(100)
            .with_pad_mode(PadMode::Reflect),
        // Hop longer than the FFT: samples between frames are never kept.
        StftConfig::new(64).with_hop_length(100),
        StftConfig::new(64)
            .with_hop_length(100)
            .with_pad_mode(PadMode::Reflect),
        // Hop of one sample.
        StftConfig::new(16).with_hop_length(1),
        StftConfig::new(16)
            .with_hop_length(1)
            .with_pad_mode(PadMode::Reflect),
        base.with_center(false),
        base.with_center(false).with_pad_mode(PadMode::Reflect),
    ]
}

#[test]
fn stft_on_clips_equals_offline_bit_for_bit() {
    for name in [
        "speech_16k.wav",
        "tone_440_16k.wav",
        "speech_44k_stereo.wav",
    ] {
        let y = clip(name);
        check_stft(StftConfig::default(), &y, &CHUNKINGS, name);
    }
    let y = clip("noise_22k.wav");
    check_stft(
        StftConfig::new(512)
            .with_hop_length(128)
            .with_pad_mode(PadMode::Reflect),
        &y,
        &[
            Chunking::Fixed(7),
            Chunking::Whole,
            Chunking::Mixed(3, 2000),
        ],
        "noise_22k.wav",
    );
}

#[test]
fn mel_on_clips_equals_offline_bit_for_bit() {
    let mut f64_reflect = MelSpectrogramConfig::default();
    f64_reflect.stft = f64_reflect
        .stft
        .with_precision(Precision::F64)
        .with_pad_mode(PadMode::Reflect)
        .with_hop_length(160)
        .with_win_length(400);
    for name in ["speech_16k.wav", "silence_16k.wav", "tone_440_16k.wav"] {
        let y = clip(name);
        check_mel(MelSpectrogramConfig::default(), &y, &CHUNKINGS, name);
        check_mel(
            f64_reflect,
            &y,
            &[Chunking::Fixed(1), Chunking::Mixed(4, 5000)],
            name,
        );
    }
    let mut sr22 = MelSpectrogramConfig::default();
    sr22.mel.sample_rate = 22_050;
    sr22.mel.n_mels = 64;
    sr22.power = 1.0;
    check_mel(
        sr22,
        &clip("speech_22k.wav"),
        &[Chunking::Fixed(512), Chunking::Mixed(5, 700)],
        "speech_22k.wav",
    );
}

#[test]
fn stft_on_random_signals_equals_offline_bit_for_bit() {
    let mut rng = Rng(15);
    for config in configs() {
        for len in [3000, 5000 + rng.below(3000)] {
            let y = rng.signal(len);
            check_stft(config, &y, &CHUNKINGS, "random");
        }
    }
}

#[test]
fn random_signals_with_silent_stretches_skip_nothing_they_should_not() {
    // Digital silence at the start, in the middle and at the end: frames that read only
    // zeros are skipped offline and here.
    let mut rng = Rng(99);
    let mut y = vec![0.0f32; 3000];
    y.extend(rng.signal(2000));
    y.extend(vec![0.0; 5000]);
    y.extend(rng.signal(1000));
    y.extend(vec![-0.0; 4000]);
    for config in configs() {
        check_stft(config, &y, &CHUNKINGS[..5], "silent stretches");
    }
    check_mel(
        MelSpectrogramConfig::default(),
        &y,
        &CHUNKINGS,
        "silent stretches",
    );
}

#[test]
fn short_inputs_and_edges() {
    let mut rng = Rng(7);
    for config in configs() {
        let n_fft = config.n_fft;
        let p = n_fft / 2;
        let mut lens = vec![1, 2, 3, p.saturating_sub(1).max(1), p, p + 1, p + 2];
        lens.extend([n_fft - 1, n_fft, n_fft + 1, n_fft + p, 2 * n_fft + 3]);
        for len in lens {
            let y = rng.signal(len);
            check_stft(
                config,
                &y,
                &[
                    Chunking::Fixed(1),
                    Chunking::Fixed(7),
                    Chunking::Whole,
                    Chunking::Mixed(len as u64, 5),
                ],
                "short",
            );
        }
    }
    // Shorter than n_fft / 2 through the mel spectrogram.
    let y = rng.signal(300);
    check_mel(MelSpectrogramConfig::default(), &y, &CHUNKINGS, "short mel");
}

#[test]
fn an_empty_stream_gives_no_frames() {
    for config in configs() {
        let mut stream = StreamingStft::new(config).unwrap();
        assert_eq!(stream.push(&[]).unwrap().dim(), (config.n_fft / 2 + 1, 0));
        assert_eq!(stream.finish().unwrap().dim(), (config.n_fft / 2 + 1, 0));
        assert_eq!(stream.finish_spectrogram(2.0).unwrap().ncols(), 0);
        assert_eq!(stream.finish_with(|_, _| panic!("a frame")).unwrap(), 0);
    }
    let mut mel = StreamingMelSpectrogram::new(MelSpectrogramConfig::default()).unwrap();
    assert_eq!(mel.push(&[]).unwrap().dim(), (128, 0));
    assert_eq!(mel.finish().unwrap().dim(), (128, 0));
}

#[test]
fn too_short_without_center_gives_no_frames() {
    let config = StftConfig::new(512).with_hop_length(128).with_center(false);
    let mut stream = StreamingStft::new(config).unwrap();
    assert_eq!(stream.push(&[0.5; 511]).unwrap().ncols(), 0);
    assert_eq!(stream.finish().unwrap().ncols(), 0);
}

#[test]
fn non_finite_samples_are_typed_errors_and_leave_the_stream_as_it_was() {
    let mut rng = Rng(3);
    let y = rng.signal(9000);
    let stft = Stft::new(StftConfig::new(512).with_hop_length(128)).unwrap();
    let mel = MelSpectrogram::new(MelSpectrogramConfig::default()).unwrap();
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut s = stft.streaming();
        let mut m = mel.streaming();
        let mut parts = vec![s.push_spectrogram(&y[..4000], 2.0).unwrap()];
        let mut mel_parts = vec![m.push(&y[..4000]).unwrap()];
        let mut chunk = y[4000..5000].to_vec();
        chunk[123] = bad;
        for r in [
            s.push_spectrogram(&chunk, 2.0).map(|_| ()),
            s.push(&chunk).map(|_| ()),
            s.push_with(&chunk, |_, _| panic!("a frame")).map(|_| ()),
            m.push(&chunk).map(|_| ()),
            m.push_with(&chunk, |_, _| panic!("a frame")).map(|_| ()),
        ] {
            match r {
                Err(Error::NonFinite { index, value, .. }) => {
                    assert_eq!(index, 4123);
                    assert_eq!(value.to_bits(), bad.to_bits());
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert_eq!(s.n_samples(), 4000);
        // The stream goes on as if the bad chunk had not been pushed.
        parts.push(s.push_spectrogram(&y[4000..], 2.0).unwrap());
        parts.push(s.finish_spectrogram(2.0).unwrap());
        mel_parts.push(m.push(&y[4000..]).unwrap());
        mel_parts.push(m.finish().unwrap());
        assert!(bits(&cat(&parts, 257)) == bits(&stft.power(&y).unwrap()));
        assert!(bits(&cat(&mel_parts, 128)) == bits(&mel.compute(&y).unwrap()));
    }
}

#[test]
fn finish_and_reset_start_a_new_stream() {
    let mut rng = Rng(11);
    let (a, b) = (rng.signal(7000), rng.signal(3001));
    let stft = Stft::new(StftConfig::new(1024).with_pad_mode(PadMode::Reflect)).unwrap();
    let mut s = stft.streaming();
    s.push(&a[..5000]).unwrap();
    s.reset();
    for y in [&a, &b] {
        let mut parts = vec![s.push_spectrogram(y, 2.0).unwrap()];
        parts.push(s.finish_spectrogram(2.0).unwrap());
        assert!(bits(&cat(&parts, 513)) == bits(&stft.power(y).unwrap()));
    }
    let mel = MelSpectrogram::new(MelSpectrogramConfig::default()).unwrap();
    let mut m = mel.streaming();
    m.push(&a[..100]).unwrap();
    m.reset();
    for y in [&b, &a] {
        assert_eq!(
            stream_mel(&mut m, y, Chunking::Fixed(333)),
            mel.compute(y).unwrap()
        );
    }
}

#[test]
fn frames_are_emitted_as_soon_as_they_are_complete() {
    // n_fft = 8, hop = 2, center: frame t ends at sample 2t + 4.
    let stft = Stft::new(StftConfig::new(8).with_hop_length(2)).unwrap();
    let mut s = stft.streaming();
    let mut emitted = Vec::new();
    for i in 0..12 {
        let n = s
            .push_with(&[1.0], |t, _| emitted.push((i + 1, t)))
            .unwrap();
        assert!(n <= 1);
    }
    assert_eq!(emitted, vec![(4, 0), (6, 1), (8, 2), (10, 3), (12, 4)]);
    let mut tail = Vec::new();
    assert_eq!(s.finish_with(|t, _| tail.push(t)).unwrap(), 2);
    assert_eq!(tail, vec![5, 6]);
    assert_eq!(stft.n_frames(12), 7);

    // Reflect padding: the left frames also wait for the first n_fft / 2 + 1 samples.
    let stft = Stft::new(
        StftConfig::new(8)
            .with_hop_length(2)
            .with_pad_mode(PadMode::Reflect),
    )
    .unwrap();
    let mut s = stft.streaming();
    let mut emitted = Vec::new();
    for i in 0..8 {
        s.push_with(&[i as f32], |t, _| emitted.push((i + 1, t)))
            .unwrap();
    }
    assert_eq!(emitted, vec![(5, 0), (6, 1), (8, 2)]);
}
