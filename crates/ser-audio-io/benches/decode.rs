//! Decoding speed: 3 s of 16 kHz mono FLAC and 3 s of 48 kHz mono 16-bit WAV, written to a
//! temporary directory when the bench starts. The WAV file is loaded twice: by the default bulk
//! WAV reader, and by Symphonia (`WavDecoder::Symphonia`) for comparison.
//!
//! ```text
//! cargo bench -p ser-audio-io --bench decode
//! ```
//!
//! No FLAC encoder is among our dependencies, so the bench writes its FLAC file itself: fixed
//! order-2 prediction with one Rice partition per 4096-sample block, a valid stream whose
//! decoding exercises the same residual path as files from `flac` or `sox`. The file is checked
//! to decode to the exact input before timing.

// Bench setup: a failing expect is a failed bench, with its message.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ser_audio_io::{LoadOptions, WavDecoder, WavFormat, load, load_with, save_wav};
use ser_dsp::Audio;

/// A deterministic speech-band test signal as 16-bit codes: two partials and some noise.
fn signal(rate: u32, seconds: u32) -> Vec<i16> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..rate * seconds)
        .map(|n| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state >> 40) as f64 / (1u64 << 24) as f64 - 0.5;
            let t = f64::from(n) / f64::from(rate);
            let x = 8_000.0 * (2.0 * std::f64::consts::PI * 220.0 * t).sin()
                + 4_000.0 * (2.0 * std::f64::consts::PI * 1_330.0 * t + 0.3).sin()
                + 1_000.0 * noise;
            x.round() as i16
        })
        .collect()
}

/// An MSB-first bit writer.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    /// Appends the low `bits` (at most 32) bits of `value`.
    fn put(&mut self, value: u64, bits: u32) {
        self.acc = (self.acc << bits) | (value & ((1u64 << bits) - 1));
        self.n += bits;
        while self.n >= 8 {
            self.n -= 8;
            self.bytes.push((self.acc >> self.n) as u8);
        }
        self.acc &= (1u64 << self.n) - 1;
    }

    /// Appends `q` zeros and a one.
    fn unary(&mut self, mut q: u64) {
        while q >= 32 {
            self.put(0, 32);
            q -= 32;
        }
        self.put(1, q as u32 + 1);
    }

    /// Pads with zeros to a byte boundary and returns the bytes.
    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.put(0, 8 - self.n);
        }
        self.bytes
    }
}

fn crc8(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |mut crc, &b| {
        crc ^= b;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
        }
        crc
    })
}

fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |mut crc, &b| {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x8005
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// A mono 16-bit FLAC stream of `codes`: fixed order-2 subframes, Rice-coded residuals.
fn encode_flac(codes: &[i16], rate: u32) -> Vec<u8> {
    const BLOCK: usize = 4096;
    let mut out = b"fLaC".to_vec();
    // The only metadata block: STREAMINFO (last-block flag set, type 0, 34 bytes).
    out.extend_from_slice(&[0x80, 0x00, 0x00, 34]);
    let mut info = Bits::default();
    info.put(BLOCK as u64, 16); // min block size
    info.put(BLOCK as u64, 16); // max block size
    info.put(0, 24); // min frame size: unknown
    info.put(0, 24); // max frame size: unknown
    info.put(u64::from(rate), 20);
    info.put(0, 3); // channels - 1
    info.put(15, 5); // bits per sample - 1
    let total = codes.len() as u64;
    info.put(total >> 32, 4);
    info.put(total & 0xffff_ffff, 32);
    out.extend(info.finish());
    out.extend_from_slice(&[0; 16]); // MD5: not computed

    for (index, block) in codes.chunks(BLOCK).enumerate() {
        let mut header = vec![0xff, 0xf8];
        let full = block.len() == BLOCK;
        // Block size 4096, or "16-bit size - 1 at the end"; rate from STREAMINFO.
        header.push(if full { 0xc0 } else { 0x70 });
        header.push(0x08); // mono, 16 bits per sample
        assert!(index < 0x800, "frame number fits two UTF-8 bytes");
        if index < 0x80 {
            header.push(index as u8);
        } else {
            header.extend_from_slice(&[0xc0 | (index >> 6) as u8, 0x80 | (index & 0x3f) as u8]);
        }
        if !full {
            header.extend_from_slice(&((block.len() - 1) as u16).to_be_bytes());
        }
        header.push(crc8(&header));

        let mut bits = Bits {
            bytes: header,
            ..Bits::default()
        };
        bits.put(0b0001_0100, 8); // padding 0, FIXED order 2 (0b001010), no wasted bits
        for &warm_up in &block[..2] {
            bits.put(u64::from(warm_up as u16), 16);
        }
        let residual: Vec<u64> = block
            .windows(3)
            .map(|w| {
                let r = i32::from(w[2]) - 2 * i32::from(w[1]) + i32::from(w[0]);
                u64::from(((r << 1) ^ (r >> 31)) as u32) // zigzag
            })
            .collect();
        let mean = residual.iter().sum::<u64>() / residual.len().max(1) as u64;
        let k = (64 - (mean + 1).leading_zeros() - 1).min(14);
        bits.put(0, 2); // Rice coding with 4-bit parameters
        bits.put(0, 4); // partition order 0
        bits.put(u64::from(k), 4);
        for &u in &residual {
            bits.unary(u >> k);
            bits.put(u, k);
        }
        let mut frame = bits.finish();
        let crc = crc16(&frame);
        frame.extend_from_slice(&crc.to_be_bytes());
        out.extend(frame);
    }
    out
}

/// Writes both inputs into `dir` and checks that they decode to what was written.
fn write_inputs(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let flac_path = dir.join("speech_16k_3s.flac");
    let flac_codes = signal(16_000, 3);
    std::fs::write(&flac_path, encode_flac(&flac_codes, 16_000)).expect("write the FLAC input");
    let decoded = load(&flac_path).expect("the bench FLAC decodes");
    let expected: Vec<f32> = flac_codes
        .iter()
        .map(|&c| f32::from(c) / 32_768.0)
        .collect();
    assert_eq!(
        decoded.samples(),
        expected.as_slice(),
        "the bench FLAC round-trips"
    );

    let wav_path = dir.join("speech_48k_3s.wav");
    let wav_codes = signal(48_000, 3);
    let samples = wav_codes.iter().map(|&c| f32::from(c) / 32_768.0).collect();
    let audio = Audio::new(samples, 48_000).expect("a valid rate");
    save_wav(&wav_path, &audio, WavFormat::Pcm16).expect("write the WAV input");
    (flac_path, wav_path)
}

fn bench_decode(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (flac, wav) = write_inputs(dir.path());

    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(48_000));
    group.bench_function("flac_16k_mono_3s", |b| b.iter(|| load(black_box(&flac))));
    group.throughput(Throughput::Elements(144_000));
    group.bench_function("wav_48k_pcm16_mono_3s", |b| {
        b.iter(|| load(black_box(&wav)))
    });
    // The same file through Symphonia's PCM decoder, the reference the bulk reader replaces.
    let symphonia = LoadOptions::default().with_wav_decoder(WavDecoder::Symphonia);
    group.bench_function("wav_48k_pcm16_mono_3s_symphonia", |b| {
        b.iter(|| load_with(black_box(&wav), &symphonia))
    });
    group.finish();
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
