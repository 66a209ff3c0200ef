//! The bulk WAV reader ([`WavDecoder::Bulk`], the default) against Symphonia
//! ([`WavDecoder::Symphonia`]), the oracle: for every sample format, channel count, header
//! variant, truncation and damaged header, both must return the same samples bit for bit, or
//! the same error with the same partial audio, under every [`DecodeErrorPolicy`], from readers
//! and from files, mono and multichannel.
#![cfg(all(feature = "wav", feature = "pcm"))]
// Helpers outside `#[test]` functions are test code too: a failing unwrap is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Cursor;
use std::path::Path;

use common::{Fmt, Rng, all_fixtures, assert_bits_eq, fixture, wav, wav_declaring};
use ser_audio_io::{
    DecodeErrorPolicy, Error, LoadOptions, MultiChannelAudio, WavDecoder, load_multichannel,
    load_reader, load_reader_multichannel, load_with,
};

const POLICIES: [DecodeErrorPolicy; 3] = [
    DecodeErrorPolicy::Fail,
    DecodeErrorPolicy::ReturnPartial,
    DecodeErrorPolicy::SkipPacket,
];

fn options(decoder: WavDecoder, policy: DecodeErrorPolicy) -> LoadOptions {
    LoadOptions::default()
        .with_wav_decoder(decoder)
        .with_on_decode_error(policy)
}

fn assert_audio_eq(bulk: &MultiChannelAudio, symphonia: &MultiChannelAudio, what: &str) {
    assert_eq!(bulk.channels(), symphonia.channels(), "{what}: channels");
    assert_eq!(
        bulk.sample_rate(),
        symphonia.sample_rate(),
        "{what}: sample rate"
    );
    assert_bits_eq(bulk.samples(), symphonia.samples(), what);
}

/// Asserts the same outcome: equal audio, or the same error (variant, fields, message, source
/// and partial audio).
fn assert_same(
    bulk: &ser_audio_io::Result<MultiChannelAudio>,
    symphonia: &ser_audio_io::Result<MultiChannelAudio>,
    what: &str,
) {
    match (bulk, symphonia) {
        (Ok(b), Ok(s)) => assert_audio_eq(b, s, what),
        (Err(b), Err(s)) => {
            assert_eq!(format!("{b:?}"), format!("{s:?}"), "{what}");
            assert_eq!(b.to_string(), s.to_string(), "{what}");
            match (b.partial(), s.partial()) {
                (Some(b), Some(s)) => assert_audio_eq(b, s, &format!("{what} (partial)")),
                (None, None) => {}
                other => panic!("{what}: partial audio differs: {other:?}"),
            }
        }
        _ => panic!("{what}: bulk {bulk:?}, Symphonia {symphonia:?}"),
    }
}

/// A load that may panic: Symphonia 0.6.1 overflows `channels * (bits / 8)` on hostile WAV
/// headers in debug builds (`wave/chunks.rs`, `read_pcm_fmt`). Such a panic is an outcome both
/// decoders must share (the bulk reader hands those headers to Symphonia).
fn guarded<T>(load: impl FnOnce() -> ser_audio_io::Result<T>) -> Option<ser_audio_io::Result<T>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(load)).ok()
}

/// Asserts the same outcome, a panic included.
fn assert_same_guarded(
    bulk: &Option<ser_audio_io::Result<MultiChannelAudio>>,
    symphonia: &Option<ser_audio_io::Result<MultiChannelAudio>>,
    what: &str,
) {
    match (bulk, symphonia) {
        (Some(bulk), Some(symphonia)) => assert_same(bulk, symphonia, what),
        (None, None) => {}
        _ => panic!("{what}: only one decoder panicked: bulk {bulk:?}, Symphonia {symphonia:?}"),
    }
}

/// Mono results as one-channel audio, for [`assert_same`].
fn mono(result: ser_audio_io::Result<ser_dsp::Audio>) -> ser_audio_io::Result<MultiChannelAudio> {
    result.map(MultiChannelAudio::from_mono)
}

/// Decodes `bytes` from a reader, mono and multichannel, with both decoders under `policy`, and
/// asserts the same outcomes. Returns the multichannel result (`None` if Symphonia panicked).
fn check_reader(
    bytes: &[u8],
    policy: DecodeErrorPolicy,
    what: &str,
) -> Option<ser_audio_io::Result<MultiChannelAudio>> {
    let run = |decoder| {
        let options = options(decoder, policy);
        (
            guarded(|| mono(load_reader(Cursor::new(bytes), None, &options))),
            guarded(|| load_reader_multichannel(Cursor::new(bytes), Some("wav"), &options)),
        )
    };
    let (bulk_mono, bulk_multi) = run(WavDecoder::Bulk);
    let (symphonia_mono, symphonia_multi) = run(WavDecoder::Symphonia);
    assert_same_guarded(&bulk_mono, &symphonia_mono, &format!("{what}, mono"));
    assert_same_guarded(
        &bulk_multi,
        &symphonia_multi,
        &format!("{what}, multichannel"),
    );
    // The mono loaders average the channels kept by the multichannel ones.
    if let (Some(Ok(mono)), Some(Ok(multi))) = (&bulk_mono, &bulk_multi) {
        assert_bits_eq(
            mono.samples(),
            multi.to_mono().samples(),
            &format!("{what}, downmix"),
        );
    }
    bulk_multi
}

/// As [`check_reader`], from a file on disk.
fn check_file(path: &Path, policy: DecodeErrorPolicy, what: &str) {
    let run = |decoder| {
        let options = options(decoder, policy);
        (
            mono(load_with(path, &options)),
            load_multichannel(path, &options),
        )
    };
    let (bulk_mono, bulk_multi) = run(WavDecoder::Bulk);
    let (symphonia_mono, symphonia_multi) = run(WavDecoder::Symphonia);
    assert_same(&bulk_mono, &symphonia_mono, &format!("{what}, file, mono"));
    assert_same(
        &bulk_multi,
        &symphonia_multi,
        &format!("{what}, file, multichannel"),
    );
}

/// Checks `bytes` every way: reader and file, every policy.
fn check_all(bytes: &[u8], what: &str) -> ser_audio_io::Result<MultiChannelAudio> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.wav");
    std::fs::write(&path, bytes).unwrap();
    for policy in POLICIES {
        check_file(&path, policy, what);
    }
    check_reader(bytes, DecodeErrorPolicy::ReturnPartial, what);
    check_reader(bytes, DecodeErrorPolicy::SkipPacket, what);
    check_reader(bytes, DecodeErrorPolicy::Fail, what)
        .unwrap_or_else(|| panic!("{what}: Symphonia panicked"))
}

/// `n` random bytes.
fn random_bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.next_u64() as u8).collect()
}

/// Sample formats: (name, fmt for `channels`, bytes per sample).
fn formats(channels: u16) -> Vec<(&'static str, Fmt, usize)> {
    vec![
        ("u8", Fmt::pcm(channels, 16_000, 8), 1),
        ("s16", Fmt::pcm(channels, 16_000, 16), 2),
        ("s24", Fmt::pcm(channels, 22_050, 24), 3),
        ("s32", Fmt::pcm(channels, 44_100, 32), 4),
        ("f32", Fmt::float(channels, 48_000, 32), 4),
        ("f32 no cbSize", float_without_cb_size(channels), 4),
    ]
}

/// `WAVE_FORMAT_IEEE_FLOAT` with the 16-byte `fmt ` chunk.
fn float_without_cb_size(channels: u16) -> Fmt {
    let mut fmt = Fmt::float(channels, 8_000, 32);
    fmt.extension.clear();
    fmt
}

/// Random float data: ordinary values, with some specials (NaN, infinities, subnormals, -0.0).
fn float_data(rng: &mut Rng, n_samples: usize) -> Vec<u8> {
    let specials = [
        f32::NAN,
        -f32::NAN,
        f32::from_bits(0x7fc0_1234),
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE / 8.0,
        -0.0,
        1.5,
        -7.25,
    ];
    (0..n_samples)
        .flat_map(|i| {
            let v = specials
                .get(i % 97)
                .copied()
                .unwrap_or_else(|| rng.signed_unit());
            v.to_le_bytes()
        })
        .collect()
}

fn data_for(rng: &mut Rng, name: &str, n_samples: usize, bytes_per_sample: usize) -> Vec<u8> {
    if name.starts_with("f32") {
        float_data(rng, n_samples)
    } else {
        random_bytes(rng, n_samples * bytes_per_sample)
    }
}

#[test]
fn every_format_and_channel_count_matches_symphonia() {
    let mut rng = Rng::new(0xb01c);
    // 40_000 frames of 3 × 3 bytes span several 64 KiB blocks with frames cut at their edges.
    for channels in [1u16, 2, 3] {
        for (name, fmt, bytes_per_sample) in formats(channels) {
            for frames in [0usize, 1, 2, 1_001, 40_000] {
                let data = data_for(
                    &mut rng,
                    name,
                    frames * usize::from(channels),
                    bytes_per_sample,
                );
                let what = format!("{name}, {channels} ch, {frames} frames");
                let audio = check_all(&wav(&fmt, &data), &what).unwrap();
                assert_eq!(
                    (audio.frames(), audio.channels()),
                    (frames, usize::from(channels)),
                    "{what}"
                );
            }
        }
    }
}

#[test]
fn conversions_are_the_documented_formulas() {
    // Every 8- and 16-bit code, and the 24/32-bit extremes, through the bulk reader.
    let u8_data: Vec<u8> = (0..=255).collect();
    let audio = check_all(&wav(&Fmt::pcm(1, 8_000, 8), &u8_data), "all u8").unwrap();
    let expected: Vec<f32> = (0..=255u8)
        .map(|u| (f32::from(u) - 128.0) / 128.0)
        .collect();
    assert_bits_eq(audio.samples(), &expected, "u8");

    let codes: Vec<i16> = (i16::MIN..=i16::MAX).collect();
    let data: Vec<u8> = codes.iter().flat_map(|c| c.to_le_bytes()).collect();
    let audio = check_all(&wav(&Fmt::pcm(1, 8_000, 16), &data), "all s16").unwrap();
    let expected: Vec<f32> = codes.iter().map(|&c| f32::from(c) / 32_768.0).collect();
    assert_bits_eq(audio.samples(), &expected, "s16");

    let codes = [-(1 << 23), -(1 << 23) + 1, -1, 0, 1, (1 << 23) - 1];
    let data: Vec<u8> = codes
        .iter()
        .flat_map(|c: &i32| c.to_le_bytes()[..3].to_vec())
        .collect();
    let audio = check_all(&wav(&Fmt::pcm(1, 8_000, 24), &data), "s24 extremes").unwrap();
    let expected: Vec<f32> = codes.iter().map(|&c| c as f32 / 8_388_608.0).collect();
    assert_bits_eq(audio.samples(), &expected, "s24");

    let codes = [
        i32::MIN,
        i32::MIN + 1,
        -1,
        0,
        1,
        0x0123_4567,
        0x7fff_ffbf,
        i32::MAX,
    ];
    let data: Vec<u8> = codes.iter().flat_map(|c| c.to_le_bytes()).collect();
    let audio = check_all(&wav(&Fmt::pcm(1, 8_000, 32), &data), "s32 extremes").unwrap();
    let expected: Vec<f32> = codes
        .iter()
        .map(|&c| (f64::from(c) / 2_147_483_648.0) as f32)
        .collect();
    assert_bits_eq(audio.samples(), &expected, "s32");
}

#[test]
fn extensible_formats_match_symphonia() {
    let mut rng = Rng::new(0xe7);
    // (what, channels, container bits, valid bits, mask, sub-format 1 = PCM / 3 = float)
    let cases: [(&str, u16, u16, u16, u32, u8); 14] = [
        ("pcm8 mono", 1, 8, 8, 0b100, 1),
        ("pcm16 stereo", 2, 16, 16, 0b11, 1),
        ("pcm16 stereo, mask 0", 2, 16, 16, 0, 1),
        ("pcm16 stereo, 12 valid bits", 2, 16, 12, 0b11, 1),
        ("pcm24 3 ch", 3, 24, 24, 0b111, 1),
        ("pcm24 in 32", 1, 32, 24, 0b100, 1),
        ("pcm32, 0 valid bits", 1, 32, 0, 0b100, 1),
        ("pcm32 stereo", 2, 32, 32, 0b11, 1),
        ("float32 stereo", 2, 32, 32, 0b11, 3),
        ("float32, 0 valid bits", 1, 32, 0, 0b100, 3),
        ("float64", 1, 64, 64, 0b100, 3),
        // Masks Symphonia fixes up, or refuses.
        ("mask with too few bits", 3, 16, 16, 0b1, 1),
        ("mask with too many bits", 1, 16, 16, 0b11, 1),
        ("mask beyond the standard positions", 1, 16, 16, 1 << 20, 1),
    ];
    for (what, channels, bits, valid, mask, subtype) in cases {
        let fmt = Fmt::extensible(channels, 32_000, bits, valid, mask, subtype);
        let bytes_per_sample = usize::from(bits / 8);
        for frames in [0usize, 7, 30_001] {
            let n = frames * usize::from(channels);
            let data = if subtype == 3 && bits == 32 {
                float_data(&mut rng, n)
            } else {
                random_bytes(&mut rng, n * bytes_per_sample)
            };
            let outcome = check_all(
                &wav(&fmt, &data),
                &format!("extensible {what}, {frames} frames"),
            );
            // Symphonia refuses masks with bits beyond the standard positions, and float with
            // fewer valid bits than stored (hound reads that one: a case its parse alone
            // would get wrong).
            let ok = mask >> 18 == 0 && (subtype == 1 || valid == bits);
            assert_eq!(outcome.is_ok(), ok, "{what}: {outcome:?}");
        }
    }
}

/// A RIFF/WAVE file from raw chunks `(tag, body)`, padded to even lengths, with a correct RIFF
/// length.
fn riff(chunks: &[(&[u8; 4], Vec<u8>)], pad: bool) -> Vec<u8> {
    let mut body = b"WAVE".to_vec();
    for (tag, data) in chunks {
        body.extend_from_slice(*tag);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if pad && data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut v = b"RIFF".to_vec();
    v.extend_from_slice(&(body.len() as u32).to_le_bytes());
    v.extend(body);
    v
}

/// An `INFO` list holding `items`.
fn info_list(items: &[(&[u8; 4], &[u8])], pad: bool) -> Vec<u8> {
    let mut v = b"INFO".to_vec();
    for (tag, data) in items {
        v.extend_from_slice(*tag);
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        if pad && data.len() % 2 == 1 {
            v.push(0);
        }
    }
    v
}

#[test]
fn header_variants_match_symphonia() {
    let mut rng = Rng::new(0x4ead);
    let fmt16 = Fmt::pcm(2, 16_000, 16).body();
    let data = random_bytes(&mut rng, 2 * 2 * 5_000);
    let mut pcm_ex = Fmt::pcm(2, 16_000, 16);
    pcm_ex.extension = vec![0, 0];
    let mut pcm_40 = Fmt::pcm(2, 16_000, 16);
    pcm_40.extension = vec![0; 24];
    let odd = random_bytes(&mut rng, 2 * 2 * 5_000 + 1);

    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "plain",
            riff(&[(b"fmt ", fmt16.clone()), (b"data", data.clone())], true),
        ),
        (
            "fmt with cbSize",
            riff(&[(b"fmt ", pcm_ex.body()), (b"data", data.clone())], true),
        ),
        (
            "40-byte PCM fmt",
            riff(&[(b"fmt ", pcm_40.body()), (b"data", data.clone())], true),
        ),
        (
            "LIST INFO, fact and JUNK before the data",
            riff(
                &[
                    (b"JUNK", vec![0; 28]),
                    (b"fmt ", fmt16.clone()),
                    (b"fact", 5_000u32.to_le_bytes().to_vec()),
                    (
                        b"LIST",
                        info_list(&[(b"ISFT", b"Lavf58.76.100\0"), (b"INAM", b"x\0")], true),
                    ),
                    (b"data", data.clone()),
                ],
                true,
            ),
        ),
        (
            "LIST INFO with an odd item",
            riff(
                &[
                    (b"fmt ", fmt16.clone()),
                    (
                        b"LIST",
                        info_list(&[(b"ICMT", b"odd"), (b"INAM", b"ab")], true),
                    ),
                    (b"data", data.clone()),
                ],
                true,
            ),
        ),
        (
            "LIST INFO whose item overruns the list",
            riff(
                &[
                    (b"fmt ", fmt16.clone()),
                    (b"LIST", {
                        let mut l = info_list(&[(b"INAM", b"abcd")], true);
                        l[8] = 40;
                        l
                    }),
                    (b"data", data.clone()),
                ],
                true,
            ),
        ),
        (
            "LIST too short",
            riff(
                &[
                    (b"fmt ", fmt16.clone()),
                    (b"LIST", vec![1, 2]),
                    (b"data", data.clone()),
                ],
                true,
            ),
        ),
        (
            "non-INFO LIST",
            riff(
                &[
                    (b"fmt ", fmt16.clone()),
                    (b"LIST", b"adtlabcd".to_vec()),
                    (b"data", data.clone()),
                ],
                true,
            ),
        ),
        (
            "fact of 8 bytes",
            riff(
                &[
                    (b"fmt ", fmt16.clone()),
                    (b"fact", vec![0; 8]),
                    (b"data", data.clone()),
                ],
                true,
            ),
        ),
        (
            "odd chunk, padded",
            riff(
                &[
                    (b"fmt ", fmt16.clone()),
                    (b"odd ", vec![7; 3]),
                    (b"data", data.clone()),
                ],
                true,
            ),
        ),
        (
            "odd chunk, unpadded",
            riff(
                &[
                    (b"fmt ", fmt16.clone()),
                    (b"odd ", vec![7; 3]),
                    (b"data", data.clone()),
                ],
                false,
            ),
        ),
        (
            "two fmt chunks",
            riff(
                &[
                    (b"fmt ", fmt16.clone()),
                    (b"fmt ", Fmt::pcm(1, 8_000, 8).body()),
                    (b"data", data.clone()),
                ],
                true,
            ),
        ),
        (
            "data before fmt",
            riff(&[(b"data", data.clone()), (b"fmt ", fmt16.clone())], true),
        ),
        ("no data chunk", riff(&[(b"fmt ", fmt16.clone())], true)),
        (
            "chunk after the data",
            riff(
                &[
                    (b"fmt ", fmt16.clone()),
                    (b"data", data.clone()),
                    (b"LIST", info_list(&[(b"INAM", b"ab")], true)),
                ],
                true,
            ),
        ),
        (
            "odd data length (8-bit), padded",
            riff(
                &[
                    (b"fmt ", Fmt::pcm(1, 8_000, 8).body()),
                    (b"data", odd.clone()),
                ],
                true,
            ),
        ),
        (
            "odd data length (8-bit), unpadded",
            riff(
                &[
                    (b"fmt ", Fmt::pcm(1, 8_000, 8).body()),
                    (b"data", odd.clone()),
                ],
                false,
            ),
        ),
        (
            "partial frame in the data",
            riff(&[(b"fmt ", fmt16.clone()), (b"data", odd.clone())], true),
        ),
        (
            "64-bit float",
            riff(
                &[
                    (b"fmt ", Fmt::float(1, 8_000, 64).body()),
                    (b"data", data.clone()),
                ],
                true,
            ),
        ),
        (
            "A-law",
            riff(
                &[
                    (b"fmt ", {
                        let mut f = Fmt::pcm(1, 8_000, 8);
                        f.tag = 6;
                        f.extension = vec![0, 0];
                        f.body()
                    }),
                    (b"data", data.clone()),
                ],
                true,
            ),
        ),
        (
            "block align too large",
            riff(
                &[
                    (b"fmt ", {
                        let mut f = Fmt::pcm(2, 16_000, 16);
                        f.block_align = 8;
                        f.body()
                    }),
                    (b"data", data.clone()),
                ],
                true,
            ),
        ),
        (
            "24 bits in 4-byte blocks",
            riff(
                &[
                    (b"fmt ", {
                        let mut f = Fmt::pcm(1, 16_000, 24);
                        f.block_align = 4;
                        f.body()
                    }),
                    (b"data", data.clone()),
                ],
                true,
            ),
        ),
        (
            "byte rate inconsistent",
            riff(
                &[
                    (b"fmt ", {
                        let mut b = Fmt::pcm(2, 16_000, 16).body();
                        b[8] ^= 1;
                        b
                    }),
                    (b"data", data.clone()),
                ],
                true,
            ),
        ),
        (
            "26 channels",
            riff(
                &[
                    (b"fmt ", Fmt::pcm(26, 8_000, 16).body()),
                    (b"data", vec![0; 26 * 2 * 10]),
                ],
                true,
            ),
        ),
        (
            "19 channels",
            riff(
                &[
                    (b"fmt ", Fmt::pcm(19, 8_000, 16).body()),
                    (b"data", vec![1; 19 * 2 * 10]),
                ],
                true,
            ),
        ),
        (
            "18 channels",
            riff(
                &[
                    (b"fmt ", Fmt::pcm(18, 8_000, 16).body()),
                    (b"data", random_bytes(&mut rng, 18 * 2 * 1_000)),
                ],
                true,
            ),
        ),
        (
            "large JUNK chunk past 64 KiB",
            riff(
                &[
                    (b"JUNK", vec![0; 70_000]),
                    (b"fmt ", fmt16.clone()),
                    (b"data", data.clone()),
                ],
                true,
            ),
        ),
    ];
    // What Symphonia makes of each (and so the bulk reader): (channels, frames), or the error.
    let invalid = Err("<reader>: malformed header");
    let expected: [Result<(usize, usize), &str>; 27] = [
        Ok((2, 5_000)),                               // plain
        Ok((2, 5_000)),                               // fmt with cbSize
        Ok((2, 5_000)),                               // 40-byte PCM fmt
        Ok((2, 5_000)),                               // LIST INFO, fact and JUNK
        Ok((2, 5_000)),                               // LIST INFO with an odd item
        invalid,                                      // LIST INFO whose item overruns the list
        invalid,                                      // LIST too short
        Ok((2, 5_000)),                               // non-INFO LIST
        invalid,                                      // fact of 8 bytes
        Ok((2, 5_000)),                               // odd chunk, padded
        invalid,                                      // odd chunk, unpadded
        Ok((1, 20_000)),                              // two fmt chunks: the last one counts
        invalid,                                      // data before fmt
        Err("<reader>: not a recognised audio file"), // no data chunk
        Ok((2, 5_000)),                               // chunk after the data
        Ok((1, 20_001)),                              // odd data length, padded
        Ok((1, 20_001)),                              // odd data length, unpadded
        Ok((2, 5_000)),                               // partial frame in the data: dropped
        Ok((1, 2_500)),                               // 64-bit float
        Ok((1, 20_000)),                              // A-law
        Ok((2, 5_000)),                               // block align too large: ignored by Symphonia
        Ok((1, 6_666)), // 24 bits in 4-byte blocks: read as 3-byte samples
        Ok((2, 5_000)), // byte rate inconsistent: ignored
        Ok((26, 10)),
        Ok((19, 10)),
        Ok((18, 1_000)),
        Ok((2, 5_000)), // large JUNK chunk
    ];
    for ((what, bytes), expected) in cases.iter().zip(expected) {
        let outcome = check_all(bytes, what)
            .map(|a| (a.channels(), a.frames()))
            .map_err(|e| e.to_string());
        assert_eq!(outcome, expected.map_err(str::to_owned), "{what}");
    }

    // RIFF lengths: unknown (streamed), too small for the data, too small for anything, larger.
    let plain = riff(&[(b"fmt ", fmt16.clone()), (b"data", data.clone())], true);
    for riff_len in [
        u32::MAX,
        plain.len() as u32 - 9,
        3,
        4,
        20,
        plain.len() as u32 + 100,
    ] {
        let mut bytes = plain.clone();
        bytes[4..8].copy_from_slice(&riff_len.to_le_bytes());
        // Too small for the data chunk (or below 4) is malformed; unknown or larger is fine.
        let outcome = check_all(&bytes, &format!("RIFF length {riff_len}"));
        assert_eq!(
            outcome.is_ok(),
            riff_len == u32::MAX || riff_len >= plain.len() as u32 - 8,
            "RIFF length {riff_len}: {outcome:?}"
        );
    }
    // Data lengths: unknown (streamed, with an unknown RIFF length too), more than present,
    // less than present.
    let fmt = Fmt::pcm(1, 16_000, 8);
    for (declared, frames) in [(20_001, None), (19_999, Some(19_999)), (0, Some(0))] {
        let outcome = check_all(
            &wav_declaring(&fmt, &odd[..20_000], declared),
            &format!("8-bit data declaring {declared} bytes"),
        );
        // More than present is a truncated file.
        assert_eq!(outcome.ok().map(|a| a.frames()), frames, "{declared}");
    }
    let mut streamed = wav(&fmt, &odd[..20_000]);
    let data_len_at = streamed.len() - 20_000 - 4;
    streamed[data_len_at..data_len_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    // Inside a RIFF chunk of known length, that overruns it; with both unknown (a streamed
    // file), Symphonia reads the data to the end of the file.
    let err = check_all(&streamed, "8-bit data of unknown length").unwrap_err();
    assert!(matches!(err, Error::InvalidHeader { .. }), "{err:?}");
    streamed[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let audio = check_all(&streamed, "8-bit data and RIFF of unknown length").unwrap();
    assert_eq!(audio.frames(), 20_000);
}

#[test]
fn truncations_match_symphonia() {
    let mut rng = Rng::new(0x7c);
    // Stereo 24-bit (6-byte frames) over several blocks, and mono 16-bit.
    let cases = [
        (Fmt::pcm(2, 16_000, 24), random_bytes(&mut rng, 6 * 25_000)),
        (Fmt::pcm(1, 16_000, 16), random_bytes(&mut rng, 2 * 40_000)),
        (Fmt::float(3, 16_000, 32), float_data(&mut rng, 3 * 10_000)),
    ];
    for (fmt, data) in cases {
        let full = wav(&fmt, &data);
        let mut cuts: Vec<usize> = (0..60).collect();
        cuts.extend((60..full.len()).step_by(full.len() / 40));
        cuts.extend([65_535, 65_536, 65_537, full.len() - 1]);
        for cut in cuts {
            let what = format!("{} bits, {} ch, cut at {cut}", fmt.bits, fmt.channels);
            for policy in POLICIES {
                check_reader(&full[..cut], policy, &what);
            }
        }
        // One cut through files as well.
        let err = check_all(&full[..full.len() * 2 / 3], "file cut at 2/3").unwrap_err();
        assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    }
}

#[test]
fn damaged_headers_match_symphonia() {
    let mut rng = Rng::new(0xdead);
    let mut sources: Vec<Vec<u8>> = all_fixtures()
        .iter()
        .filter(|n| n.ends_with(".wav"))
        .map(|n| std::fs::read(fixture(n)).unwrap())
        .collect();
    sources.push(wav(
        &Fmt::extensible(2, 48_000, 32, 24, 0b11, 1),
        &random_bytes(&mut rng, 8 * 3_000),
    ));
    sources.push(wav(&Fmt::float(1, 8_000, 32), &float_data(&mut rng, 3_000)));
    sources.push(riff(
        &[
            (b"fmt ", Fmt::pcm(1, 16_000, 16).body()),
            (
                b"LIST",
                info_list(&[(b"ISFT", b"Lavf\0"), (b"ICMT", b"x")], true),
            ),
            (b"data", random_bytes(&mut rng, 2 * 3_000)),
        ],
        true,
    ));
    for (index, bytes) in sources.iter().enumerate() {
        for trial in 0..150 {
            let mut damaged = bytes.clone();
            for _ in 0..1 + rng.below(3) {
                // Mostly the header.
                let range = if rng.below(8) == 0 {
                    damaged.len()
                } else {
                    120
                };
                let at = rng.below(range);
                if rng.below(2) == 0 {
                    damaged[at] ^= 1 << rng.below(8);
                } else {
                    damaged[at] = rng.next_u64() as u8;
                }
            }
            let policy = POLICIES[trial % 3];
            check_reader(&damaged, policy, &format!("source {index}, trial {trial}"));
        }
    }
}

#[test]
fn committed_wav_fixtures_match_symphonia() {
    for name in all_fixtures().iter().filter(|n| n.ends_with(".wav")) {
        let bytes = std::fs::read(fixture(name)).unwrap();
        check_all(&bytes, name).unwrap();
    }
}

#[test]
fn reader_with_a_prefix_matches_symphonia() {
    // The reader starts past unrelated bytes; the bulk reader seeks relative to that start.
    let mut rng = Rng::new(5);
    let mut bytes = b"unrelated prefix".to_vec();
    let start = bytes.len() as u64;
    bytes.extend(wav(
        &Fmt::pcm(2, 16_000, 16),
        &random_bytes(&mut rng, 4 * 50_000),
    ));
    let run = |decoder| {
        let mut cursor = Cursor::new(bytes.as_slice());
        cursor.set_position(start);
        load_reader_multichannel(cursor, None, &options(decoder, DecodeErrorPolicy::Fail))
    };
    let bulk = run(WavDecoder::Bulk);
    assert_same(&bulk, &run(WavDecoder::Symphonia), "prefixed reader");
    assert_eq!(bulk.unwrap().frames(), 50_000);
}

#[test]
fn reservation_cap_is_honoured_with_the_same_result() {
    let mut rng = Rng::new(6);
    let bytes = wav(
        &Fmt::pcm(2, 16_000, 16),
        &random_bytes(&mut rng, 4 * 20_000),
    );
    for cap in [0, 1, 100, 20_000, 40_000, usize::MAX] {
        let run = |decoder| {
            let options = options(decoder, DecodeErrorPolicy::Fail).with_max_reserved_samples(cap);
            load_reader_multichannel(Cursor::new(bytes.as_slice()), None, &options)
        };
        assert_same(
            &run(WavDecoder::Bulk),
            &run(WavDecoder::Symphonia),
            &format!("cap {cap}"),
        );
    }
}

#[test]
fn errors_before_the_header_are_unchanged() {
    // Empty, zero channels, zero rate: both decoders report the same typed error.
    let mut no_channels = Fmt::pcm(1, 16_000, 16);
    no_channels.channels = 0;
    let cases: [(&str, Vec<u8>); 4] = [
        ("empty", vec![]),
        ("zero channels", wav(&no_channels, &[0; 8])),
        ("zero rate", wav(&Fmt::pcm(1, 0, 16), &[0; 8])),
        ("only the magic", b"RIFF\x04\0\0\0WAVE".to_vec()),
    ];
    for (what, bytes) in &cases {
        let result = check_all(bytes, what);
        assert!(result.is_err(), "{what}");
    }
    let err = check_all(&cases[1].1, "zero channels").unwrap_err();
    assert!(matches!(err, Error::ZeroChannels { .. }), "{err:?}");
}

/// A reader whose end lies `extra` bytes past the bytes it holds (a file shrinking while read).
struct Shrunk {
    inner: Cursor<Vec<u8>>,
    extra: u64,
}

impl std::io::Read for Shrunk {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl std::io::Seek for Shrunk {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        match pos {
            std::io::SeekFrom::End(offset) => {
                let end = self.inner.get_ref().len() as u64 + self.extra;
                let target = end
                    .checked_add_signed(offset)
                    .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
                self.inner.seek(std::io::SeekFrom::Start(target))
            }
            other => self.inner.seek(other),
        }
    }
}

#[test]
fn reader_shorter_than_its_length_matches_symphonia() {
    let mut rng = Rng::new(8);
    let full = wav(
        &Fmt::pcm(2, 16_000, 16),
        &random_bytes(&mut rng, 4 * 60_000),
    );
    for missing in [1usize, 3, 1_000, 100_000] {
        let bytes = full[..full.len() - missing].to_vec();
        for policy in POLICIES {
            let run = |decoder| {
                let reader = Shrunk {
                    inner: Cursor::new(bytes.clone()),
                    extra: missing as u64,
                };
                guarded(|| load_reader_multichannel(reader, None, &options(decoder, policy)))
            };
            assert_same_guarded(
                &run(WavDecoder::Bulk),
                &run(WavDecoder::Symphonia),
                &format!("{missing} bytes missing, {policy:?}"),
            );
        }
    }
}
