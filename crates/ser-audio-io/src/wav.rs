//! The WAV fast path: hound's header parser and a bulk reader for plain PCM and IEEE-float WAV.
//!
//! Symphonia's PCM decoder renders one sample at a time (about 34 instructions per sample), so
//! decoding a WAV file through it cost more than all the feature extraction after it. WAV data
//! needs no decoding, only a conversion: this module reads the data chunk in 64 KiB blocks and
//! converts each block with loops the compiler vectorises, to exactly the values Symphonia
//! produces (the table in [`crate::decode`]):
//!
//! | stored as | `f32` value | Symphonia's formula |
//! |---|---|---|
//! | unsigned 8-bit `u` | `u / 128 - 1` (= `(u - 128) / 128`) | the same |
//! | signed 16-bit `i` | `i / 32768` | the same |
//! | signed 24-bit `i` (3 bytes, sign-extended) | `i / 2^23` | the same |
//! | signed 32-bit `i` | `(i as f32) / 2^31` | `(i as f64 / 2^31) as f32`: both round `i · 2^-31` once, to nearest |
//! | 32-bit float | unchanged (bit for bit) | the same |
//!
//! The mono loaders average the channels with [`downmix_into`], as the Symphonia path does.
//!
//! # When it is taken
//!
//! Only where the result is certainly Symphonia's, so that every error and every
//! [`DecodeErrorPolicy`](crate::DecodeErrorPolicy) behaves as before. [`load_plain`] checks the
//! header twice, and both must agree:
//!
//! * **hound** (`hound::WavReader::new`) parses it: this rejects what hound cannot read.
//! * **A walk of the chunks as Symphonia 0.6 makes it** (`symphonia-format-riff`,
//!   `wave/mod.rs`, `wave/chunks.rs`, `common.rs`), accepting only the unambiguous layouts,
//!   where hound and Symphonia provably read the same bytes:
//!   * `RIFF` length at least 4, and every chunk up to the data chunk inside it (unless it is
//!     `0xFFFF_FFFF`, "unknown", which Symphonia accepts);
//!   * every chunk before the data chunk of even length (Symphonia skips a padding byte after an
//!     odd one, hound does not), inside the first 64 KiB, and well formed for Symphonia: one
//!     `fmt ` chunk, `fact` chunks of 4 bytes, `LIST` chunks of at least 4 bytes whose `INFO`
//!     items fit inside them;
//!   * a `fmt ` chunk of integer PCM with 8, 16, 24 or 32 bits per sample (16, 18 or 40 bytes
//!     long), IEEE float with 32 bits (16 or 18 bytes, `cbSize = 0`) or `WAVE_FORMAT_EXTENSIBLE`
//!     (40 bytes, `cbSize = 22`) of the PCM sub-format (8/16/24/32-bit containers, valid bits at
//!     most the container's, read as the container as Symphonia does) or the IEEE float
//!     sub-format (32 valid bits of 32); 1 to 18 channels, a channel mask of that many bits among
//!     the 18 standard ones (or 0), a positive sample rate, and a block align of exactly
//!     `channels × bytes per sample`;
//!   * a data chunk of a whole number of frames, not `0xFFFF_FFFF` bytes long ("unknown").
//!
//! and the source must hold every byte the data chunk declares (its length is checked first,
//! and the bytes are counted while reading). In every other case (hound's error, 64-bit float,
//! A-law, ADPCM, zero channels or rate, a cut file, odd chunks, ...) the caller rewinds and
//! decodes with Symphonia, unchanged. An I/O error while reading the data also falls back: the
//! Symphonia path then meets the same error and reports it as before.

use std::io::{Cursor, Read, SeekFrom};

use symphonia::core::io::MediaSource;

use crate::multichannel::{MultiChannelAudio, downmix_into};
use crate::options::{LoadOptions, Mix};

/// The block size of the bulk reader (and the most header the fast path looks at).
pub(crate) const BLOCK_LEN: usize = 64 * 1024;

/// The most channels the fast path takes: the standard WAVE speaker positions.
const MAX_CHANNELS: u16 = 18;

const WAVE_FORMAT_PCM: u16 = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT: u16 = 0x0003;
const WAVE_FORMAT_EXTENSIBLE: u16 = 0xfffe;

/// `KSDATAFORMAT_SUBTYPE_PCM`.
const SUBTYPE_PCM: [u8; 16] = [
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
];
/// `KSDATAFORMAT_SUBTYPE_IEEE_FLOAT`.
const SUBTYPE_IEEE_FLOAT: [u8; 16] = [
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
];

/// What the fast path did.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// The file was read.
    Done(MultiChannelAudio),
    /// Not a plain WAV file; the source was not touched.
    NotPlain,
    /// Given up after moving the source: rewind it before decoding otherwise.
    Abandoned,
}

/// How the samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// Unsigned 8-bit integers, offset by 128.
    U8,
    /// Signed 16-bit little-endian integers.
    S16,
    /// Signed 24-bit little-endian integers in 3 bytes.
    S24,
    /// Signed 32-bit little-endian integers.
    S32,
    /// 32-bit little-endian IEEE floats.
    F32,
}

impl Encoding {
    /// The integer encoding of `bits`-bit containers, if Symphonia and we support it.
    fn integer(bits: u16) -> Option<Self> {
        match bits {
            8 => Some(Self::U8),
            16 => Some(Self::S16),
            24 => Some(Self::S24),
            32 => Some(Self::S32),
            _ => None,
        }
    }

    /// Bytes per sample.
    fn bytes(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::S16 => 2,
            Self::S24 => 3,
            Self::S32 | Self::F32 => 4,
        }
    }
}

/// The `fmt ` chunk of a plain WAV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Format {
    encoding: Encoding,
    /// 1 to [`MAX_CHANNELS`].
    channels: u16,
    /// Positive.
    sample_rate: u32,
    /// What `hound::WavSpec::bits_per_sample` must say (the valid bits of an extensible format,
    /// or the container's when those are 0).
    hound_bits: u16,
}

/// A plain WAV file's layout, as both hound and Symphonia read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    format: Format,
    /// The offset of the first data byte.
    data_start: usize,
    /// The data chunk's length in bytes: a whole number of frames.
    data_len: usize,
}

/// Reads a plain WAV file as the Symphonia path would; see the module docs for when it gives up.
///
/// `head` holds the source's first bytes (at most [`BLOCK_LEN`]; more is never needed for the
/// header) and `source` is back at position 0, as `decode` leaves them after its look at the
/// head. The head's bytes are converted, not read again.
pub(crate) fn load_plain(
    source: &mut dyn MediaSource,
    head: Vec<u8>,
    mix: Mix,
    options: &LoadOptions,
) -> Attempt {
    let Some(layout) = layout(&head).filter(|layout| hound_agrees(&head, layout)) else {
        return Attempt::NotPlain;
    };
    // The file must hold the whole data chunk.
    let data_end = layout.data_start.checked_add(layout.data_len);
    let present = match (data_end, source.byte_len()) {
        (Some(end), Some(len)) => u64::try_from(end).is_ok_and(|end| end <= len),
        _ => false,
    };
    if !present {
        return Attempt::NotPlain;
    }
    match read_data(source, head, &layout, mix, options) {
        Some(audio) => Attempt::Done(audio),
        None => Attempt::Abandoned,
    }
}

/// Reads and converts the data chunk; `None` if it cannot (the bytes ran out, an I/O error).
fn read_data(
    source: &mut dyn MediaSource,
    mut buf: Vec<u8>,
    layout: &Layout,
    mix: Mix,
    options: &LoadOptions,
) -> Option<MultiChannelAudio> {
    let format = layout.format;
    let channels = usize::from(format.channels);
    let frame_len = format.encoding.bytes() * channels;
    let frames = layout.data_len / frame_len;
    let out_channels = match mix {
        Mix::Mono => 1,
        Mix::Keep => channels,
    };
    // Reserved once, as the Symphonia path does; a refused reservation only costs regrowth.
    let wanted = frames
        .saturating_mul(out_channels)
        .min(options.max_reserved_samples);
    let mut out: Vec<f32> = Vec::new();
    if out.try_reserve_exact(wanted).is_err() {
        out = Vec::new();
    }
    let mut scratch: Vec<f32> = Vec::new();
    let mut append = |bytes: &[u8], out: &mut Vec<f32>| {
        if mix == Mix::Mono && channels > 1 {
            scratch.clear();
            convert_into(bytes, format.encoding, &mut scratch);
            downmix_into(&scratch, channels, out);
        } else {
            convert_into(bytes, format.encoding, out);
        }
    };

    // The source is at position 0; the head ends at `head_len`.
    let head_len = buf.len() as u64;
    // `buf[start..]` holds data bytes not yet converted; `left` data bytes are not converted.
    let mut start = layout.data_start;
    let mut left = layout.data_len;
    if buf.len() < BLOCK_LEN {
        buf.reserve_exact(BLOCK_LEN - buf.len());
    }
    let mut moved = false;
    loop {
        let end = buf.len().min(start.saturating_add(left));
        let whole = end.saturating_sub(start) / frame_len * frame_len;
        append(buf.get(start..start + whole)?, &mut out);
        start += whole;
        left -= whole;
        if left == 0 {
            break;
        }
        // Keep the partial frame at the front and read the next block behind it.
        buf.copy_within(start.., 0);
        buf.truncate(buf.len() - start);
        start = 0;
        if !moved {
            source.seek(SeekFrom::Start(head_len)).ok()?;
            moved = true;
        }
        let want = (BLOCK_LEN - buf.len()).min(left - buf.len());
        let got = Read::take(&mut *source, want as u64)
            .read_to_end(&mut buf)
            .ok()?;
        if got == 0 {
            return None;
        }
    }

    if out.capacity() - out.len() > out.len() / 16 + 4096 {
        out.shrink_to_fit();
    }
    MultiChannelAudio::new(out, out_channels, format.sample_rate).ok()
}

/// Converts the samples of `bytes` (whole samples) to `f32` and appends them to `out`.
fn convert_into(bytes: &[u8], encoding: Encoding, out: &mut Vec<f32>) {
    match encoding {
        Encoding::U8 => out.extend(bytes.iter().map(|&u| f32::from(u) / 128.0 - 1.0)),
        Encoding::S16 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0),
        ),
        Encoding::S24 => out.extend(bytes.chunks_exact(3).map(|b| {
            // The arithmetic shift sign-extends the 24-bit value; it fits an f32 exactly.
            (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0
        })),
        // `i as f32` rounds once to nearest and the division by 2^31 is exact, so this is
        // Symphonia's `(i as f64 / 2^31) as f32`.
        Encoding::S32 => out.extend(
            bytes
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32 / 2_147_483_648.0),
        ),
        Encoding::F32 => out.extend(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        ),
    }
}

/// Whether hound parses the header in `head` to the same layout.
fn hound_agrees(head: &[u8], layout: &Layout) -> bool {
    let mut cursor = Cursor::new(head);
    let Ok(reader) = hound::WavReader::new(&mut cursor) else {
        return false;
    };
    let spec = reader.spec();
    let n_samples = reader.len();
    // hound leaves the reader at the first data byte.
    let data_start = reader.into_inner().position();
    let format = layout.format;
    let sample_format = match format.encoding {
        Encoding::F32 => hound::SampleFormat::Float,
        _ => hound::SampleFormat::Int,
    };
    spec.channels == format.channels
        && spec.sample_rate == format.sample_rate
        && spec.sample_format == sample_format
        && spec.bits_per_sample == format.hound_bits
        && usize::try_from(n_samples).ok() == Some(layout.data_len / format.encoding.bytes())
        && usize::try_from(data_start).ok() == Some(layout.data_start)
}

/// `N` bytes of `bytes` from `at`, or `None` past the end (never overflows).
fn array<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

fn le_u16(bytes: &[u8], at: usize) -> Option<u16> {
    array(bytes, at).map(u16::from_le_bytes)
}

fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    array(bytes, at).map(u32::from_le_bytes)
}

/// The layout of a plain WAV file whose first bytes are `head`, walking the chunks as
/// Symphonia's WAV reader does; `None` for anything else. Never panics, whatever the bytes.
fn layout(head: &[u8]) -> Option<Layout> {
    if head.get(0..4)? != b"RIFF" || head.get(8..12)? != b"WAVE" {
        return None;
    }
    let riff_len = le_u32(head, 4)?;
    if riff_len < 4 {
        return None;
    }
    // The bytes of the RIFF chunk after the form type, unless unknown (streamed files).
    let parent_len = (riff_len < u32::MAX).then(|| u64::from(riff_len) - 4);
    // Bytes of the RIFF chunk walked so far (always even: odd chunks are refused).
    let mut consumed = 0u64;
    let mut pos = 12usize;
    let mut format = None;
    loop {
        // Symphonia ends the walk here, without a data chunk: an error.
        if parent_len.is_some_and(|len| consumed + 8 > len) {
            return None;
        }
        let tag: [u8; 4] = array(head, pos)?;
        let chunk_len = le_u32(head, pos.checked_add(4)?)?;
        consumed += 8;
        // A chunk overrunning the RIFF chunk is an error for Symphonia.
        if parent_len.is_some_and(|len| len - consumed < u64::from(chunk_len)) {
            return None;
        }
        consumed += u64::from(chunk_len);
        let body = pos.checked_add(8)?;
        let chunk_len = usize::try_from(chunk_len).ok()?;
        if &tag == b"data" {
            let format: Format = format?;
            let frame_len = format.encoding.bytes() * usize::from(format.channels);
            // 0xFFFF_FFFF means "unknown" to Symphonia; a partial frame is refused by hound.
            if chunk_len == u32::MAX as usize || chunk_len % frame_len != 0 {
                return None;
            }
            return Some(Layout {
                format,
                data_start: body,
                data_len: chunk_len,
            });
        }
        // Symphonia skips a padding byte after an odd chunk, hound does not.
        if chunk_len % 2 != 0 {
            return None;
        }
        let end = body.checked_add(chunk_len)?;
        let chunk = head.get(body..end)?;
        match &tag {
            b"fmt " => {
                if format.is_some() {
                    return None;
                }
                format = Some(parse_format(chunk)?);
            }
            b"fact" if chunk_len != 4 => return None,
            b"LIST" if !list_ok(chunk) => return None,
            _ => {}
        }
        pos = end;
    }
}

/// The format of a plain `fmt ` chunk `body` that Symphonia and hound both read whole.
fn parse_format(body: &[u8]) -> Option<Format> {
    let tag = le_u16(body, 0)?;
    let channels = le_u16(body, 2)?;
    let sample_rate = le_u32(body, 4)?;
    let block_align = le_u16(body, 12)?;
    let bits = le_u16(body, 14)?;
    if channels == 0 || channels > MAX_CHANNELS || sample_rate == 0 {
        return None;
    }
    let (encoding, hound_bits) = match (tag, body.len()) {
        (WAVE_FORMAT_PCM, 16 | 18 | 40) => (Encoding::integer(bits)?, bits),
        (WAVE_FORMAT_IEEE_FLOAT, 16 | 18) => {
            let cb_size = if body.len() == 18 {
                le_u16(body, 16)?
            } else {
                0
            };
            if bits != 32 || cb_size != 0 {
                return None;
            }
            (Encoding::F32, bits)
        }
        (WAVE_FORMAT_EXTENSIBLE, 40) => {
            let cb_size = le_u16(body, 16)?;
            let valid_bits = le_u16(body, 18)?;
            let mask = le_u32(body, 20)?;
            let sub_format: [u8; 16] = array(body, 24)?;
            // Symphonia accepts a mask of as many standard positions as channels, and fixes a
            // zero mask; other masks are "fixed" in ways not worth mirroring.
            let mask_ok = mask >> MAX_CHANNELS == 0
                && (mask == 0 || mask.count_ones() == u32::from(channels));
            if cb_size != 22 || !mask_ok {
                return None;
            }
            let hound_bits = if valid_bits > 0 { valid_bits } else { bits };
            match sub_format {
                // Symphonia reads the container and ignores the valid bits (it only checks
                // that they fit).
                SUBTYPE_PCM if valid_bits <= bits => (Encoding::integer(bits)?, hound_bits),
                SUBTYPE_IEEE_FLOAT if bits == 32 && valid_bits == 32 => (Encoding::F32, 32),
                _ => return None,
            }
        }
        _ => return None,
    };
    if usize::from(block_align) != usize::from(channels) * encoding.bytes() {
        return None;
    }
    Some(Format {
        encoding,
        channels,
        sample_rate,
        hound_bits,
    })
}

/// Whether Symphonia reads the `LIST` chunk `body` without error: at least the 4-byte form, and
/// for an `INFO` list, items whose lengths fit inside it (walked as Symphonia walks them, with a
/// padding byte after odd items).
fn list_ok(body: &[u8]) -> bool {
    let (Some(form), Some(items)) = (body.get(0..4), body.get(4..)) else {
        return false;
    };
    if form != b"INFO" {
        return true;
    }
    let len = items.len() as u64;
    let mut consumed = 0u64;
    loop {
        if consumed >= len {
            return true;
        }
        if consumed % 2 == 1 {
            consumed += 1;
        }
        if consumed + 8 > len {
            return true;
        }
        let Some(item_len) = usize::try_from(consumed + 4)
            .ok()
            .and_then(|at| le_u32(items, at))
        else {
            return false;
        };
        consumed += 8;
        if len - consumed < u64::from(item_len) {
            return false;
        }
        consumed += u64::from(item_len);
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, Write};

    use super::*;

    /// A `fmt ` chunk body.
    fn fmt_body(tag: u16, channels: u16, bits: u16, block_align: u16, tail: &[u8]) -> Vec<u8> {
        let rate = 16_000u32;
        let mut v = Vec::new();
        v.extend_from_slice(&tag.to_le_bytes());
        v.extend_from_slice(&channels.to_le_bytes());
        v.extend_from_slice(&rate.to_le_bytes());
        v.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
        v.extend_from_slice(&block_align.to_le_bytes());
        v.extend_from_slice(&bits.to_le_bytes());
        v.extend_from_slice(tail);
        v
    }

    fn pcm(channels: u16, bits: u16) -> Vec<u8> {
        fmt_body(WAVE_FORMAT_PCM, channels, bits, channels * bits / 8, &[])
    }

    /// `WAVE_FORMAT_EXTENSIBLE`.
    fn extensible(channels: u16, bits: u16, valid: u16, mask: u32, sub: [u8; 16]) -> Vec<u8> {
        let mut tail = 22u16.to_le_bytes().to_vec();
        tail.extend_from_slice(&valid.to_le_bytes());
        tail.extend_from_slice(&mask.to_le_bytes());
        tail.extend_from_slice(&sub);
        fmt_body(
            WAVE_FORMAT_EXTENSIBLE,
            channels,
            bits,
            channels * bits / 8,
            &tail,
        )
    }

    /// A RIFF/WAVE file of `chunks` (odd ones padded) with a correct RIFF length.
    fn riff(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut body = b"WAVE".to_vec();
        for (tag, data) in chunks {
            body.extend_from_slice(*tag);
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut v = b"RIFF".to_vec();
        v.extend_from_slice(&(body.len() as u32).to_le_bytes());
        v.extend(body);
        v
    }

    /// Whether the fast path takes `bytes` (judging by the header alone).
    fn taken(bytes: &[u8]) -> bool {
        layout(bytes).is_some_and(|l| hound_agrees(bytes, &l))
    }

    #[test]
    fn s32_conversion_is_symphonias() {
        // Symphonia: `(i as f64 / 2^31) as f32`. Every 4099th code, and codes just around the
        // halfway points between neighbouring f32 values (the rounding ties).
        let strided = (i32::MIN..=i32::MAX).step_by(4_099);
        let ties = (-(1i32 << 23)..(1 << 23)).step_by(61).flat_map(|k| {
            let mid = (k << 8) | 0x80;
            [mid - 1, mid, mid + 1]
        });
        let codes: Vec<i32> = strided.chain(ties).chain([i32::MIN, i32::MAX]).collect();
        let bytes: Vec<u8> = codes.iter().flat_map(|c| c.to_le_bytes()).collect();
        let mut out = Vec::new();
        convert_into(&bytes, Encoding::S32, &mut out);
        for (&code, &got) in codes.iter().zip(&out) {
            let expected = (f64::from(code) / 2_147_483_648.0) as f32;
            assert_eq!(got.to_bits(), expected.to_bits(), "{code}");
        }
        assert_eq!(out.len(), codes.len());
    }

    #[test]
    fn files_written_by_hound_are_taken() {
        for channels in [1, 2, 3, 6] {
            for (bits, sample_format) in [
                (8, hound::SampleFormat::Int),
                (16, hound::SampleFormat::Int),
                (24, hound::SampleFormat::Int),
                (32, hound::SampleFormat::Int),
                (32, hound::SampleFormat::Float),
            ] {
                let spec = hound::WavSpec {
                    channels,
                    sample_rate: 22_050,
                    bits_per_sample: bits,
                    sample_format,
                };
                let mut cursor = Cursor::new(Vec::new());
                let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
                for i in 0..u32::from(channels) * 11 {
                    match sample_format {
                        hound::SampleFormat::Int => writer.write_sample(i as i8).unwrap(),
                        hound::SampleFormat::Float => writer.write_sample(i as f32).unwrap(),
                    }
                }
                writer.finalize().unwrap();
                let bytes = cursor.into_inner();
                assert!(taken(&bytes), "{spec:?}");
            }
        }
    }

    #[test]
    fn ordinary_headers_are_taken() {
        let data = [0u8; 72];
        let list = [
            b"INFO".as_slice(),
            b"ISFT",
            &14u32.to_le_bytes(),
            b"Lavf58.76.100\0",
            b"ICMT",
            &3u32.to_le_bytes(),
            b"odd\0",
        ]
        .concat();
        let cases: [(&str, Vec<u8>); 9] = [
            (
                "sox 16-bit",
                riff(&[(b"fmt ", &pcm(1, 16)), (b"data", &data)]),
            ),
            (
                "ffmpeg (WAVEFORMATEX, LIST INFO)",
                riff(&[
                    (b"fmt ", &fmt_body(1, 2, 16, 4, &[0, 0])),
                    (b"LIST", &list),
                    (b"data", &data),
                ]),
            ),
            (
                "fact and JUNK",
                riff(&[
                    (b"JUNK", &[0; 28]),
                    (b"fmt ", &pcm(2, 24)),
                    (b"fact", &4u32.to_le_bytes()),
                    (b"data", &data),
                ]),
            ),
            (
                "float",
                riff(&[(b"fmt ", &fmt_body(3, 1, 32, 4, &[])), (b"data", &data)]),
            ),
            (
                "float with cbSize",
                riff(&[(b"fmt ", &fmt_body(3, 2, 32, 8, &[0, 0])), (b"data", &data)]),
            ),
            (
                "extensible 24-bit 3 ch (sox)",
                riff(&[
                    (b"fmt ", &extensible(3, 24, 24, 0b111, SUBTYPE_PCM)),
                    (b"fact", &[0; 4]),
                    (b"data", &data),
                ]),
            ),
            (
                "extensible 24 in 32, mask 0",
                riff(&[
                    (b"fmt ", &extensible(2, 32, 24, 0, SUBTYPE_PCM)),
                    (b"data", &data),
                ]),
            ),
            (
                "extensible float",
                riff(&[
                    (b"fmt ", &extensible(1, 32, 32, 0b100, SUBTYPE_IEEE_FLOAT)),
                    (b"data", &data),
                ]),
            ),
            (
                "empty data chunk",
                riff(&[(b"fmt ", &pcm(1, 8)), (b"data", &[])]),
            ),
        ];
        for (what, bytes) in &cases {
            assert!(taken(bytes), "{what}");
        }
        let mut streamed = cases[0].1.clone();
        streamed[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(taken(&streamed), "RIFF length unknown");
    }

    #[test]
    fn odd_headers_are_refused() {
        let data = [0u8; 24];
        let good = riff(&[(b"fmt ", &pcm(2, 16)), (b"data", &data)]);
        assert!(taken(&good));
        let mut bad_list = b"INFO".to_vec();
        bad_list.extend_from_slice(b"INAM");
        bad_list.extend_from_slice(&99u32.to_le_bytes());
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "odd chunk",
                riff(&[
                    (b"fmt ", &pcm(2, 16)),
                    (b"odd ", &[1, 2, 3]),
                    (b"data", &data),
                ]),
            ),
            (
                "fact of 8 bytes",
                riff(&[(b"fmt ", &pcm(2, 16)), (b"fact", &[0; 8]), (b"data", &data)]),
            ),
            (
                "LIST overrun",
                riff(&[
                    (b"fmt ", &pcm(2, 16)),
                    (b"LIST", &bad_list),
                    (b"data", &data),
                ]),
            ),
            (
                "LIST of 2 bytes",
                riff(&[(b"fmt ", &pcm(2, 16)), (b"LIST", &[0, 0]), (b"data", &data)]),
            ),
            (
                "two fmt",
                riff(&[
                    (b"fmt ", &pcm(2, 16)),
                    (b"fmt ", &pcm(2, 16)),
                    (b"data", &data),
                ]),
            ),
            ("no fmt", riff(&[(b"data", &data)])),
            (
                "float64",
                riff(&[(b"fmt ", &fmt_body(3, 1, 64, 8, &[])), (b"data", &data)]),
            ),
            (
                "A-law",
                riff(&[(b"fmt ", &fmt_body(6, 1, 8, 1, &[0, 0])), (b"data", &data)]),
            ),
            (
                "12 bits",
                riff(&[(b"fmt ", &fmt_body(1, 1, 12, 2, &[])), (b"data", &data)]),
            ),
            (
                "19 channels",
                riff(&[(b"fmt ", &pcm(19, 16)), (b"data", &[0; 38])]),
            ),
            (
                "zero channels",
                riff(&[(b"fmt ", &pcm(0, 16)), (b"data", &data)]),
            ),
            (
                "block align",
                riff(&[(b"fmt ", &fmt_body(1, 2, 16, 6, &[])), (b"data", &data)]),
            ),
            (
                "partial frame",
                riff(&[(b"fmt ", &pcm(2, 16)), (b"data", &data[..22])]),
            ),
            (
                "mask mismatch",
                riff(&[
                    (b"fmt ", &extensible(2, 16, 16, 0b1, SUBTYPE_PCM)),
                    (b"data", &data),
                ]),
            ),
            (
                "mask beyond 18 bits",
                riff(&[
                    (b"fmt ", &extensible(1, 16, 16, 1 << 18, SUBTYPE_PCM)),
                    (b"data", &data),
                ]),
            ),
            (
                "valid bits > container",
                riff(&[
                    (b"fmt ", &extensible(1, 16, 17, 0b100, SUBTYPE_PCM)),
                    (b"data", &data),
                ]),
            ),
            (
                "float valid bits",
                riff(&[
                    (b"fmt ", &extensible(1, 32, 24, 0b100, SUBTYPE_IEEE_FLOAT)),
                    (b"data", &data),
                ]),
            ),
            (
                "unknown sub-format",
                riff(&[
                    (b"fmt ", &extensible(1, 16, 16, 0b100, [7; 16])),
                    (b"data", &data),
                ]),
            ),
        ];
        for (what, bytes) in &cases {
            assert!(!taken(bytes), "{what}");
        }
        // RIFF lengths Symphonia refuses: below 4, or ending before or inside the data chunk.
        for riff_len in [0u32, 3, 4, 12, good.len() as u32 - 9] {
            let mut bytes = good.clone();
            bytes[4..8].copy_from_slice(&riff_len.to_le_bytes());
            assert!(!taken(&bytes), "RIFF length {riff_len}");
        }
        // A data chunk of unknown length.
        let mut bytes = riff(&[(b"fmt ", &pcm(1, 8)), (b"data", &[0; 3])]);
        let at = bytes.len() - 8;
        bytes[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(!taken(&bytes), "unknown data length");
        // Every prefix of the header is refused without panicking.
        for cut in 0..44 {
            assert!(!taken(&good[..cut]), "cut at {cut}");
        }
    }

    /// Runs the fast path on `bytes` as `decode` does: the head read, then the source rewound.
    fn attempt(bytes: Vec<u8>, mix: Mix) -> Attempt {
        let mut source = Cursor::new(bytes);
        let mut head = Vec::new();
        Read::take(&mut source, BLOCK_LEN as u64)
            .read_to_end(&mut head)
            .unwrap();
        source.rewind().unwrap();
        load_plain(&mut source, head, mix, &LoadOptions::default())
    }

    #[test]
    fn whole_files_are_read_and_cut_ones_given_back() {
        // 3 channels of 24 bits: 9-byte frames, cut at the block edges.
        let frames = 20_000usize;
        let data: Vec<u8> = (0..frames * 9).map(|i| (i * 7 % 251) as u8).collect();
        let bytes = riff(&[(b"fmt ", &pcm(3, 24)), (b"data", &data)]);
        let Attempt::Done(audio) = attempt(bytes.clone(), Mix::Keep) else {
            panic!("the whole file is read");
        };
        assert_eq!((audio.channels(), audio.frames()), (3, frames));
        let expected: Vec<f32> = data
            .chunks_exact(3)
            .map(|b| (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0)
            .collect();
        assert_eq!(audio.samples(), expected.as_slice());
        let Attempt::Done(mono) = attempt(bytes.clone(), Mix::Mono) else {
            panic!("the whole file is read");
        };
        assert_eq!(mono, audio.to_mono().into());

        // Cut: refused before reading (the length is known) ...
        let cut = bytes[..bytes.len() - 1].to_vec();
        assert!(matches!(attempt(cut, Mix::Keep), Attempt::NotPlain));
        // ... and not a RIFF file at all.
        assert!(matches!(
            attempt(b"fLaC\0\0\0\x22".to_vec(), Mix::Keep),
            Attempt::NotPlain
        ));
    }

    #[test]
    fn sources_shorter_than_they_say_are_given_back() {
        /// A source whose length claims `extra` bytes more than it holds.
        struct Shrunk {
            inner: Cursor<Vec<u8>>,
            extra: u64,
        }
        impl Read for Shrunk {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.inner.read(buf)
            }
        }
        impl Seek for Shrunk {
            fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
                self.inner.seek(pos)
            }
        }
        impl MediaSource for Shrunk {
            fn is_seekable(&self) -> bool {
                true
            }
            fn byte_len(&self) -> Option<u64> {
                Some(self.inner.get_ref().len() as u64 + self.extra)
            }
        }
        let data = vec![1u8; 200_000];
        let mut bytes = riff(&[(b"fmt ", &pcm(1, 16)), (b"data", &data)]);
        bytes.truncate(bytes.len() - 1_000);
        let mut head = Vec::new();
        head.write_all(&bytes[..BLOCK_LEN]).unwrap();
        let mut source = Shrunk {
            inner: Cursor::new(bytes),
            extra: 1_000,
        };
        let attempt = load_plain(&mut source, head, Mix::Keep, &LoadOptions::default());
        assert!(matches!(attempt, Attempt::Abandoned), "{attempt:?}");
    }
}
