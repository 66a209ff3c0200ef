//! Helpers shared by the integration tests: fixture paths, hand-built WAV bytes and a small
//! deterministic random generator.

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::PathBuf;

/// The committed format fixtures.
pub(crate) const FORMATS_DIR: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/audio/formats/");

/// The path of fixture `name` in `fixtures/audio/formats/`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    PathBuf::from(FORMATS_DIR).join(name)
}

/// Every fixture file name (not the README), sorted.
pub(crate) fn all_fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(FORMATS_DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".md"))
        .collect();
    names.sort();
    names
}

/// A WAV `fmt ` chunk body.
#[derive(Debug, Clone)]
pub(crate) struct Fmt {
    pub(crate) tag: u16,
    pub(crate) channels: u16,
    pub(crate) rate: u32,
    pub(crate) bits: u16,
    pub(crate) block_align: u16,
    /// Bytes after the 16 standard ones (cbSize and the extension), possibly empty.
    pub(crate) extension: Vec<u8>,
}

impl Fmt {
    /// Plain `WAVE_FORMAT_PCM`.
    pub(crate) fn pcm(channels: u16, rate: u32, bits: u16) -> Self {
        Self {
            tag: 1,
            channels,
            rate,
            bits,
            block_align: channels * bits / 8,
            extension: vec![],
        }
    }

    /// `WAVE_FORMAT_IEEE_FLOAT` with `cbSize = 0`.
    pub(crate) fn float(channels: u16, rate: u32, bits: u16) -> Self {
        Self {
            tag: 3,
            channels,
            rate,
            bits,
            block_align: channels * bits / 8,
            extension: vec![0, 0],
        }
    }

    /// `WAVE_FORMAT_EXTENSIBLE` with the PCM (`subtype = 1`) or IEEE float (`subtype = 3`)
    /// sub-format GUID.
    pub(crate) fn extensible(
        channels: u16,
        rate: u32,
        container_bits: u16,
        valid_bits: u16,
        channel_mask: u32,
        subtype: u8,
    ) -> Self {
        let mut extension = Vec::new();
        extension.extend_from_slice(&22u16.to_le_bytes());
        extension.extend_from_slice(&valid_bits.to_le_bytes());
        extension.extend_from_slice(&channel_mask.to_le_bytes());
        extension.extend_from_slice(&[
            subtype, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38,
            0x9b, 0x71,
        ]);
        Self {
            tag: 0xfffe,
            channels,
            rate,
            bits: container_bits,
            block_align: channels * container_bits / 8,
            extension,
        }
    }

    /// The chunk body bytes.
    pub(crate) fn body(&self) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&self.tag.to_le_bytes());
        v.extend_from_slice(&self.channels.to_le_bytes());
        v.extend_from_slice(&self.rate.to_le_bytes());
        let byte_rate = self.rate.wrapping_mul(u32::from(self.block_align));
        v.extend_from_slice(&byte_rate.to_le_bytes());
        v.extend_from_slice(&self.block_align.to_le_bytes());
        v.extend_from_slice(&self.bits.to_le_bytes());
        v.extend_from_slice(&self.extension);
        v
    }
}

/// A RIFF/WAVE file with `fmt` and a data chunk holding `data`, whose header declares
/// `declared_data_len` bytes of data.
pub(crate) fn wav_declaring(fmt: &Fmt, data: &[u8], declared_data_len: u32) -> Vec<u8> {
    let body = fmt.body();
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    let riff_len = 4 + 8 + body.len() as u32 + 8 + declared_data_len;
    v.extend_from_slice(&riff_len.to_le_bytes());
    v.extend_from_slice(b"WAVE");
    v.extend_from_slice(b"fmt ");
    v.extend_from_slice(&(body.len() as u32).to_le_bytes());
    v.extend_from_slice(&body);
    v.extend_from_slice(b"data");
    v.extend_from_slice(&declared_data_len.to_le_bytes());
    v.extend_from_slice(data);
    v
}

/// A well-formed RIFF/WAVE file.
pub(crate) fn wav(fmt: &Fmt, data: &[u8]) -> Vec<u8> {
    wav_declaring(fmt, data, data.len() as u32)
}

/// xorshift64*: a tiny deterministic generator for test data.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `[-1, 1)`.
    pub(crate) fn signed_unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

/// Asserts bit-identical `f32` slices (`got` from the code under test, `expected` from the
/// reference), naming the first difference.
pub(crate) fn assert_bits_eq(got: &[f32], expected: &[f32], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    if let Some(i) = got
        .iter()
        .zip(expected)
        .position(|(g, e)| g.to_bits() != e.to_bits())
    {
        panic!(
            "{what}: sample {i}: got {:e}, expected {:e}",
            got[i], expected[i]
        );
    }
}
