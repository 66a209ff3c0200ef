//! Time-stretch and pitch-shift of a 3 s 16 kHz speech clip, single-threaded.
//!
//! `cargo bench -p ser-augment --bench augment`; the comparison with librosa and
//! audiomentations is `scripts/bench_augment.py` (see docs/benchmarks.md).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use ser_augment::{pitch_shift, time_stretch};

/// The first 48000 samples (3 s) of `fixtures/audio/speech_long_16k.wav`.
fn clip() -> Vec<f32> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/audio/speech_long_16k.wav");
    let mut r = hound::WavReader::open(path).unwrap();
    assert_eq!(r.spec().sample_rate, 16_000);
    let mut y: Vec<f32> = r
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    y.resize(48_000, 0.0);
    y
}

fn augment(c: &mut Criterion) {
    let y = clip();
    let mut g = c.benchmark_group("augment_3s");
    for rate in [0.8f32, 1.2] {
        g.bench_function(format!("time_stretch_{rate}"), |b| {
            b.iter(|| time_stretch(black_box(&y), rate).unwrap())
        });
    }
    for n in [2.0f32, -2.0] {
        g.bench_function(format!("pitch_shift_{n:+}"), |b| {
            b.iter(|| pitch_shift(black_box(&y), 16_000, n, 12).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, augment);
criterion_main!(benches);
