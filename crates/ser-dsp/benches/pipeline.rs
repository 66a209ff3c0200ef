//! Per-stage timings of the research pipeline on a 3 s clip, single-threaded.
//!
//! `cargo bench -p ser-dsp --bench pipeline`; the comparison with librosa and torchaudio is
//! `scripts/bench_reference.py` (see docs/benchmarks.md).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use ser_dsp::{
    Crop, DbConfig, LogMel, LogMelConfig, MelSpectrogram, MelSpectrogramConfig, Precision,
    Resampler, Stft, StftConfig, TrimConfig, pad_or_truncate, peak_normalize, power_to_db, trim,
};

fn clip(name: &str) -> (Vec<f32>, u32) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/audio")
        .join(name);
    let mut r = hound::WavReader::open(path).unwrap();
    let sr = r.spec().sample_rate;
    let y = r
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    (y, sr)
}

fn stages(c: &mut Criterion) {
    // 4.2 s of speech at 16 kHz; the 3 s stages use its first 48000 samples.
    let (long, sr) = clip("speech_long_16k.wav");
    let three: Vec<f32> = pad_or_truncate(&long, 48_000, Crop::Start);
    let (y48, sr48) = clip("speech_48k.wav");
    let y48_3s = pad_or_truncate(&y48, 144_000, Crop::Start);

    let mut g = c.benchmark_group("stage_3s");
    g.bench_function("normalize", |b| {
        b.iter(|| {
            let mut y = three.clone();
            peak_normalize(black_box(&mut y)).unwrap();
            y
        })
    });
    g.bench_function("trim", |b| {
        b.iter(|| trim(black_box(&three), &TrimConfig::with_top_db(20.0)).unwrap())
    });
    let mut r = Resampler::new(sr48, 16_000).unwrap();
    g.bench_function("resample_48k_to_16k", |b| {
        b.iter(|| r.process(black_box(&y48_3s)).unwrap())
    });
    g.bench_function("pad", |b| {
        b.iter(|| pad_or_truncate(black_box(&long), 48_000, Crop::Start))
    });
    let stft32 = Stft::new(StftConfig::default().with_precision(Precision::F32)).unwrap();
    let stft64 = Stft::new(StftConfig::default()).unwrap();
    g.bench_function("stft_power_f32", |b| {
        b.iter(|| stft32.power(black_box(&three)).unwrap())
    });
    g.bench_function("stft_power_f64", |b| {
        b.iter(|| stft64.power(black_box(&three)).unwrap())
    });
    // f64 samples in and out (`Stft<f64>`), against f32 in and out at f64 precision above.
    let three64: Vec<f64> = three.iter().map(|&v| f64::from(v)).collect();
    let stft64_in = Stft::<f64>::plan(StftConfig::default()).unwrap();
    g.bench_function("stft_power_f64_input", |b| {
        b.iter(|| stft64_in.power(black_box(&three64)).unwrap())
    });
    let mut mel_config = MelSpectrogramConfig::default();
    mel_config.stft.hop_length = Some(512);
    mel_config.mel.fmax = Some(8000.0);
    let mel = MelSpectrogram::new(mel_config).unwrap();
    let power = stft32.power(&three).unwrap();
    g.bench_function("mel_projection", |b| {
        b.iter(|| mel.filterbank().apply(black_box(power.view())).unwrap())
    });
    let m = mel.compute(&three).unwrap();
    // The whole mel spectrogram, f32 (the default f32 FFT) and f64 in and out.
    let mel64 = MelSpectrogram::<f64>::plan(mel_config).unwrap();
    g.bench_function("mel_spectrogram_f32", |b| {
        b.iter(|| mel.compute(black_box(&three)).unwrap())
    });
    g.bench_function("mel_spectrogram_f64_input", |b| {
        b.iter(|| mel64.compute(black_box(&three64)).unwrap())
    });
    g.bench_function("db", |b| {
        b.iter(|| power_to_db(black_box(m.view()), &DbConfig::research()))
    });
    g.bench_function("logmel_stage", |b| {
        b.iter(|| {
            let mut s = mel.compute(black_box(&three)).unwrap();
            ser_dsp::db::power_to_db_array_in_place(&mut s, &DbConfig::research()).unwrap();
            s
        })
    });
    g.finish();

    let logmel = LogMel::new(LogMelConfig::default()).unwrap();
    let mut g = c.benchmark_group("pipeline");
    g.bench_function("logmel_16k_input", |b| {
        b.iter(|| logmel.extract_samples(black_box(&long), sr).unwrap())
    });
    g.bench_function("logmel_48k_input", |b| {
        b.iter(|| logmel.extract_samples(black_box(&y48), sr48).unwrap())
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
