//! Decoding files and readers to `f32` audio: WAV through hound's header parser and a bulk
//! reader, everything else (and unusual WAV files) through Symphonia.
//!
//! # Two paths
//!
//! * **Plain WAV** (recognised by its bytes, `RIFF....WAVE`, never by the extension):
//!   8/16/24/32-bit integer PCM or 32-bit float, also as `WAVE_FORMAT_EXTENSIBLE`, whole, with
//!   an ordinary header. hound parses the header, then the data chunk is read in 64 KiB blocks
//!   and converted by loops the compiler vectorises. WAV data needs no decoding, and Symphonia's
//!   PCM decoder, which renders one sample at a time (about 34 instructions per sample), made a
//!   WAV load cost more than the feature extraction after it: loading 3 s of 48 kHz 16-bit mono
//!   is about six times faster (`benches/decode.rs`), with the same result bit for bit. It
//!   needs a seekable source (files and [`load_reader`]'s readers are; a pipe goes to
//!   Symphonia) and the `wav` and `pcm` features.
//! * **Everything else** goes through Symphonia: FLAC, MP3, Ogg/Vorbis, AIFF, and any WAV file
//!   the bulk reader is not certain to read exactly as Symphonia would (64-bit float, A-law,
//!   ADPCM, a cut or damaged file, a header hound and Symphonia could read differently, ...).
//!   The bulk reader hands such files back untouched, so every error, the partial audio of a
//!   truncated file, and every [`DecodeErrorPolicy`] are exactly as with Symphonia alone.
//!
//! [`LoadOptions::wav_decoder`] ([`WavDecoder::Symphonia`](crate::WavDecoder::Symphonia)) sends WAV files to Symphonia too;
//! the tests use it as the oracle the bulk reader must match bit for bit
//! (`tests/wav_bulk.rs`), and the private `wav` module lists the conditions it checks.
//!
//! # Sample conversion
//!
//! Integer samples are converted to `f32` by dividing by the full-scale power of two, exactly
//! as libsndfile (`soundfile.read(dtype='float32')`, hence `librosa.load`) does; Symphonia's
//! `FromSample` and the bulk WAV reader compute the same values:
//!
//! | stored as | `f32` value |
//! |---|---|
//! | unsigned 8-bit `u` | `(u - 128) / 128` |
//! | signed 16-bit `i` | `i / 32768` |
//! | signed 24-bit `i` | `i / 2^23` |
//! | signed 32-bit `i` | `i / 2^31`, rounded to nearest `f32` once |
//! | 32-bit float | unchanged |
//! | 64-bit float | rounded to nearest `f32` |
//!
//! Each is exact (or a single correct rounding), so a decoded 16-bit WAV equals
//! `soundfile.read(path, dtype='float32')` bit for bit; the tests check every format against
//! these formulas.
//!
//! # Policies
//!
//! * **Channels.** The mono loaders average the channels of each frame as `librosa.to_mono`
//!   does (see [`MultiChannelAudio::to_mono`]); the `*_multichannel` loaders keep them.
//! * **End of stream.** Symphonia signals the end of many streams with an "unexpected end of
//!   file" I/O error; that is the normal end, not an error.
//! * **Truncation.** A load fails with [`Error::Truncated`], carrying the frames present, when
//!   the file holds fewer frames than its header declares and we can tell it was cut: the bytes
//!   ran out inside a packet (WAV, AIFF), or the declared count is exact (FLAC `STREAMINFO`,
//!   MP3 Xing/Info count with a LAME tag), or a container that reads its end while opening
//!   (AIFF, Ogg) found it missing; such a file is then reopened as a stream to get the frames
//!   present. [`DecodeErrorPolicy::ReturnPartial`] and [`DecodeErrorPolicy::SkipPacket`]
//!   return those frames instead. MP3 files without a LAME tag (whose length Symphonia
//!   estimates from the file size) and raw streams cannot be checked: the frames present are
//!   returned. A file cut inside its header is always an error.
//! * **Decode errors.** See [`DecodeErrorPolicy`]. Genuine I/O errors (other than the end of
//!   file) always fail with [`Error::Io`]. An I/O error while the bulk WAV reader reads hands
//!   the file to Symphonia, which meets it again and reports it the same way.
//! * **Reservation.** The output `Vec` is reserved once from the frame count the header
//!   declares, so a long file is not copied while growing; the reservation is capped at
//!   [`LoadOptions::max_reserved_samples`] (so a hostile header cannot make us allocate
//!   without bound) and beyond it the `Vec` grows normally. A reservation the allocator refuses
//!   is skipped, and excess capacity is released at the end.
//! * **Gapless.** Encoder delay and padding declared by the stream (MP3 LAME tag, Vorbis,
//!   FLAC) are trimmed.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::DerefMut;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ser_dsp::Audio;
use symphonia::core::codecs::CodecParameters;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::well_known::{FORMAT_ID_FLAC, FORMAT_ID_MP3};
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;

use crate::error::{Error, READER_PATH, Result, SymphoniaError};
use crate::multichannel::{MultiChannelAudio, downmix_into};
use crate::options::{DecodeErrorPolicy, LoadOptions, Mix};
use crate::sniff::header_layout;

/// How many bytes are read ahead to check WAV and AIFF headers for zero channels or rate (and,
/// for a plain WAV file, the header the fast path parses).
const HEAD_LEN: u64 = 64 * 1024;

/// The most channels a WAV or AIFF header may declare before Symphonia sees it. Symphonia 0.6
/// computes `channels × bytes per sample` in `u16` (WAV format chunk, PCM packet size), which
/// panics on overflow in builds with overflow checks (found by `fuzz/`, target `decode`). No
/// real file comes near: WAV decoding stops at 32 channels anyway.
const MAX_HEADER_CHANNELS: u16 = u16::MAX / 4;

/// Loads an audio file as mono `f32` (channel mean) at its own sample rate, with the default
/// [`LoadOptions`].
///
/// The container is recognised from its bytes (the extension is only a hint).
///
/// # Errors
/// Every failure names the file: [`Error::NotFound`], [`Error::Io`], [`Error::Empty`],
/// [`Error::UnknownFormat`], [`Error::InvalidHeader`],
/// [`Error::NoAudioTrack`], [`Error::ZeroChannels`], [`Error::ZeroSampleRate`],
/// [`Error::UnsupportedCodec`], and mid-stream [`Error::Decode`], [`Error::Truncated`],
/// [`Error::SpecChanged`] (which carry the audio decoded so far).
pub fn load(path: impl AsRef<Path>) -> Result<Audio> {
    load_with(path, &LoadOptions::default())
}

/// Loads an audio file as mono `f32` (channel mean, as `librosa.to_mono`) at its own sample
/// rate.
///
/// # Errors
/// As [`load`]; with [`DecodeErrorPolicy::ReturnPartial`] or [`DecodeErrorPolicy::SkipPacket`]
/// the mid-stream errors become `Ok` with the audio decoded.
pub fn load_with(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Audio> {
    let path = path.as_ref();
    let (mut file, hint) = open_file(path)?;
    decode(&mut file, path, hint.as_deref(), Mix::Mono, options).map(MultiChannelAudio::into_mono)
}

/// Loads an audio file with its channels kept (interleaved), at its own sample rate.
///
/// # Errors
/// As [`load_with`].
pub fn load_multichannel(
    path: impl AsRef<Path>,
    options: &LoadOptions,
) -> Result<MultiChannelAudio> {
    let path = path.as_ref();
    let (mut file, hint) = open_file(path)?;
    decode(&mut file, path, hint.as_deref(), Mix::Keep, options)
}

/// Loads audio from any seekable reader (a [`std::io::Cursor`] over bytes, a file, ...) as mono
/// `f32`. Decoding starts at the reader's current position.
///
/// `extension_hint` (such as `"mp3"`, without the dot) helps recognise formats without a
/// distinctive header; the bytes decide. Errors name the source [`READER_PATH`]. A stream that
/// cannot seek can be read into a `Vec<u8>` first and passed as a `Cursor`.
///
/// ```
/// # #[cfg(all(feature = "wav", feature = "pcm"))] {
/// use std::io::Cursor;
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("a.wav");
/// # let audio = ser_dsp::Audio::new(vec![0.5; 160], 16_000)?;
/// # ser_audio_io::save_wav(&path, &audio, ser_audio_io::WavFormat::Pcm16)?;
/// let bytes = std::fs::read(&path)?;
/// let audio = ser_audio_io::load_reader(Cursor::new(bytes), Some("wav"), &Default::default())?;
/// assert_eq!(audio.len(), 160);
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`load_with`], with [`Error::Io`] also when the reader cannot seek.
pub fn load_reader<R>(
    reader: R,
    extension_hint: Option<&str>,
    options: &LoadOptions,
) -> Result<Audio>
where
    R: Read + Seek + Send + Sync,
{
    load_reader_multichannel_impl(reader, extension_hint, Mix::Mono, options)
        .map(MultiChannelAudio::into_mono)
}

/// Loads audio from any seekable reader with its channels kept, see [`load_reader`].
///
/// # Errors
/// As [`load_reader`].
pub fn load_reader_multichannel<R>(
    reader: R,
    extension_hint: Option<&str>,
    options: &LoadOptions,
) -> Result<MultiChannelAudio>
where
    R: Read + Seek + Send + Sync,
{
    load_reader_multichannel_impl(reader, extension_hint, Mix::Keep, options)
}

fn load_reader_multichannel_impl<R>(
    reader: R,
    extension_hint: Option<&str>,
    mix: Mix,
    options: &LoadOptions,
) -> Result<MultiChannelAudio>
where
    R: Read + Seek + Send + Sync,
{
    let name = Path::new(READER_PATH);
    let mut source = ReaderSource::new(reader).map_err(|source| io_error(name, source))?;
    decode(&mut source, name, extension_hint, mix, options)
}

/// Opens `path` for decoding; returns the file and its extension as a hint.
pub(crate) fn open_file(path: &Path) -> Result<(File, Option<String>)> {
    let file = File::open(path).map_err(|source| io_error(path, source))?;
    let metadata = file.metadata().map_err(|source| io_error(path, source))?;
    if metadata.is_dir() {
        return Err(Error::Io {
            path: path.to_path_buf(),
            source: io::ErrorKind::IsADirectory.into(),
        });
    }
    let hint = path.extension().and_then(|e| e.to_str()).map(str::to_owned);
    Ok((file, hint))
}

/// Refuses a sample rate outside [`ser_dsp::SAMPLE_RATES`] before anything is planned from
/// it.
pub(crate) fn check_rate(rate: u32, name: &Path) -> Result<()> {
    if ser_dsp::SAMPLE_RATES.contains(&rate) {
        Ok(())
    } else {
        Err(Error::SampleRateOutOfRange {
            path: name.to_path_buf(),
            rate,
        })
    }
}

/// Maps an I/O error on `path` to [`Error::NotFound`] or [`Error::Io`].
pub(crate) fn io_error(path: &Path, source: io::Error) -> Error {
    let path = path.to_path_buf();
    if source.kind() == io::ErrorKind::NotFound {
        Error::NotFound { path, source }
    } else {
        Error::Io { path, source }
    }
}

/// Maps an error raised while opening the container or its decoder.
fn open_error(path: &Path, source: SymphoniaError) -> Error {
    let path = path.to_path_buf();
    match source {
        SymphoniaError::IoError(source) if source.kind() == io::ErrorKind::UnexpectedEof => {
            Error::Truncated {
                path,
                expected_frames: None,
                got_frames: 0,
                partial: None,
            }
        }
        SymphoniaError::IoError(source) => Error::Io { path, source },
        source @ SymphoniaError::Unsupported(_) => Error::UnknownFormat { path, source },
        source => Error::InvalidHeader { path, source },
    }
}

/// A seekable reader seen from its initial position, with its length, as a Symphonia source.
pub(crate) struct ReaderSource<R> {
    inner: R,
    /// The absolute position of our byte 0.
    base: u64,
    /// Our length (from `base` to the end).
    len: u64,
}

impl<R: Read + Seek> ReaderSource<R> {
    /// Wraps `inner` from its current position.
    pub(crate) fn new(mut inner: R) -> io::Result<Self> {
        let base = inner.stream_position()?;
        let end = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(base))?;
        Ok(Self {
            inner,
            base,
            len: end.saturating_sub(base),
        })
    }
}

impl<R: Read> Read for ReaderSource<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for ReaderSource<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let pos = match pos {
            SeekFrom::Start(offset) => SeekFrom::Start(
                self.base
                    .checked_add(offset)
                    .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?,
            ),
            other => other,
        };
        let absolute = self.inner.seek(pos)?;
        absolute.checked_sub(self.base).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the audio",
            )
        })
    }
}

impl<R: Read + Seek + Send + Sync> MediaSource for ReaderSource<R> {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

/// Reads the first bytes (to reject empty sources and zero-channel/zero-rate WAV and AIFF
/// headers with a precise error, and headers with more than [`MAX_HEADER_CHANNELS`]), then
/// rewinds. Returns the bytes read, at most [`HEAD_LEN`].
pub(crate) fn check_head(source: &mut dyn MediaSource, name: &Path) -> Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD_LEN as usize);
    Read::take(&mut *source, HEAD_LEN)
        .read_to_end(&mut head)
        .map_err(|e| io_error(name, e))?;
    source
        .seek(SeekFrom::Start(0))
        .map_err(|e| io_error(name, e))?;
    if head.is_empty() {
        return Err(Error::Empty {
            path: name.to_path_buf(),
        });
    }
    if let Some(layout) = header_layout(&head) {
        if layout.channels == 0 {
            return Err(Error::ZeroChannels {
                path: name.to_path_buf(),
            });
        }
        if layout.zero_rate {
            return Err(Error::ZeroSampleRate {
                path: name.to_path_buf(),
            });
        }
        if layout.channels > MAX_HEADER_CHANNELS {
            // The error a release build of Symphonia gives for such a WAV header.
            let reason = if head.get(8..12) == Some(b"WAVE".as_slice()) {
                "riff: invalid channel count"
            } else {
                "aiff: invalid channel count"
            };
            return Err(Error::InvalidHeader {
                path: name.to_path_buf(),
                source: SymphoniaError::DecodeError(reason),
            });
        }
    }
    Ok(head)
}

/// Probes `source` with the default registry.
///
/// Symphonia 0.6 can panic on hostile headers that [`check_head`] does not see (a RIFF or
/// AIFF header behind junk bytes, which the probe finds anywhere in the first MiB; found by
/// `fuzz/`, target `decode`): a panic while opening the file is reported as a malformed
/// header (`Error::InvalidHeader`). The panic hook still runs (by default it prints the
/// message); with `panic = "abort"` the process aborts as before.
fn probe<'a, S>(
    source: Shared<S>,
    hint: &Hint,
) -> std::result::Result<Box<dyn FormatReader + 'a>, SymphoniaError>
where
    S: DerefMut<Target: MediaSource> + Send + 'a,
{
    let stream = MediaSourceStream::new(Box::new(source), MediaSourceStreamOptions::default());
    // The source is dropped with the error, so nothing half-read is used after a panic.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        symphonia::default::get_probe().probe(
            hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
    }))
    .unwrap_or(Err(SymphoniaError::DecodeError(
        "malformed header (the decoder panicked)",
    )))
}

/// Whether the container's frame count is exact although its reader ends cleanly when the
/// data is cut (so that decoding fewer frames means the file was cut): FLAC (`STREAMINFO`) and
/// MP3 with a LAME/Info tag (Symphonia estimates the count of other MP3 files from their
/// size). WAV and AIFF readers report a cut as an unexpected end of file instead.
fn has_exact_frame_count(format: &dyn FormatReader) -> bool {
    let id = format.format_info().format;
    id == FORMAT_ID_FLAC
        || (id == FORMAT_ID_MP3
            && format
                .default_track(TrackType::Audio)
                .is_some_and(|t| t.delay.is_some()))
}

/// A source shared between successive opening attempts, which may pretend it cannot seek.
///
/// `S` is a borrowed (`&mut dyn MediaSource`, for [`load`]) or owned
/// (`Box<dyn MediaSource>`, for [`AudioStream`](crate::AudioStream)) source.
struct Shared<S> {
    inner: Arc<Mutex<S>>,
    seekable: bool,
}

impl<S: DerefMut<Target: MediaSource>> Shared<S> {
    fn with<T>(&self, f: impl FnOnce(&mut S::Target) -> io::Result<T>) -> io::Result<T> {
        let mut guard = self
            .inner
            .lock()
            .map_err(|_| io::Error::other("audio source lock poisoned"))?;
        f(&mut **guard)
    }
}

impl<S: DerefMut<Target: MediaSource>> Read for Shared<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.with(|source| source.read(buf))
    }
}

impl<S: DerefMut<Target: MediaSource>> Seek for Shared<S> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.with(|source| source.seek(pos))
    }
}

impl<S: DerefMut<Target: MediaSource> + Send> MediaSource for Shared<S> {
    fn is_seekable(&self) -> bool {
        self.seekable
    }

    fn byte_len(&self) -> Option<u64> {
        self.with(|source| Ok(source.byte_len())).ok().flatten()
    }
}

/// How the packet loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamEnd {
    /// The container said the stream is over.
    Clean,
    /// The bytes ran out (Symphonia's unexpected-end-of-file).
    EndOfFile,
    /// We stopped early because of an error and a lenient policy.
    Stopped,
}

/// The decoded samples so far and what they are.
struct Output {
    samples: Vec<f32>,
    /// Channels per frame of the *decoded* stream, once known.
    spec: Option<(usize, u32)>,
    frames: u64,
    mix: Mix,
}

impl Output {
    /// The number of output channels, if known.
    fn out_channels(&self, params: &AudioCodecParameters) -> Option<usize> {
        match self.mix {
            Mix::Mono => Some(1),
            Mix::Keep => self
                .spec
                .map(|(channels, _)| channels)
                .or_else(|| params.channels.as_ref().map(|c| c.count())),
        }
    }

    /// The sample rate, if known and positive.
    fn rate(&self, params: &AudioCodecParameters) -> Option<u32> {
        self.spec
            .map(|(_, rate)| rate)
            .or(params.sample_rate)
            .filter(|&r| r != 0)
    }

    /// Takes the samples so far as audio, for an error.
    fn take_partial(&mut self, params: &AudioCodecParameters) -> Option<Box<MultiChannelAudio>> {
        let channels = self.out_channels(params)?;
        let rate = self.rate(params)?;
        MultiChannelAudio::new(std::mem::take(&mut self.samples), channels, rate)
            .ok()
            .map(Box::new)
    }
}

/// Decodes the first audio track of `source` to the end.
fn decode(
    source: &mut dyn MediaSource,
    name: &Path,
    hint: Option<&str>,
    mix: Mix,
    options: &LoadOptions,
) -> Result<MultiChannelAudio> {
    let path = || -> PathBuf { name.to_path_buf() };
    // A pipe cannot be rewound after the look at its head; Symphonia reports an empty or
    // zero-channel stream less precisely, but correctly.
    if source.is_seekable() {
        let head = check_head(source, name)?;
        #[cfg(all(feature = "wav", feature = "pcm"))]
        if options.wav_decoder == crate::options::WavDecoder::Bulk {
            match crate::wav::load_plain(source, head, mix, options) {
                crate::wav::Attempt::Done(audio) => {
                    check_rate(audio.sample_rate(), name)?;
                    return Ok(audio);
                }
                crate::wav::Attempt::NotPlain => {}
                crate::wav::Attempt::Abandoned => {
                    source
                        .seek(SeekFrom::Start(0))
                        .map_err(|e| io_error(name, e))?;
                }
            }
        }
        #[cfg(not(all(feature = "wav", feature = "pcm")))]
        drop(head);
    }

    let mut track = open_track(source, name, hint)?;
    let mut out = Output {
        samples: Vec::new(),
        spec: None,
        frames: 0,
        mix,
    };
    if let (Some(frames), Some(channels)) = (track.expected_frames, out.out_channels(&track.params))
    {
        let wanted = usize::try_from(frames)
            .unwrap_or(usize::MAX)
            .saturating_mul(channels)
            .min(options.max_reserved_samples);
        // A reservation the allocator refuses only costs the regrowth it was meant to save.
        if out.samples.try_reserve_exact(wanted).is_err() {
            out.samples = Vec::new();
        }
    }

    let policy = options.on_decode_error;
    let end = loop {
        let (spec, n_frames) = match track.next_packet(name)? {
            NextPacket::Frames { spec, frames } => (spec, frames),
            NextPacket::End(end) => break end,
            // The container cannot resume after its own errors: no packet to skip.
            NextPacket::ContainerError(source) => match policy {
                DecodeErrorPolicy::Fail => {
                    return Err(Error::Decode {
                        path: path(),
                        frames_decoded: out.frames,
                        partial: out.take_partial(&track.params),
                        source,
                    });
                }
                _ => break StreamEnd::Stopped,
            },
            NextPacket::PacketError(source) => match policy {
                DecodeErrorPolicy::Fail => {
                    return Err(Error::Decode {
                        path: path(),
                        frames_decoded: out.frames,
                        partial: out.take_partial(&track.params),
                        source,
                    });
                }
                DecodeErrorPolicy::SkipPacket => continue,
                DecodeErrorPolicy::ReturnPartial => break StreamEnd::Stopped,
            },
        };
        match out.spec {
            None => out.spec = Some(spec),
            Some(first) if first != spec => match policy {
                DecodeErrorPolicy::Fail => {
                    return Err(Error::SpecChanged {
                        path: path(),
                        channels: first.0,
                        sample_rate: first.1,
                        new_channels: spec.0,
                        new_sample_rate: spec.1,
                        frames_decoded: out.frames,
                        partial: out.take_partial(&track.params),
                    });
                }
                DecodeErrorPolicy::SkipPacket => continue,
                DecodeErrorPolicy::ReturnPartial => break StreamEnd::Stopped,
            },
            Some(_) => {}
        }
        match mix {
            Mix::Mono => downmix_into(track.interleaved(), spec.0, &mut out.samples),
            Mix::Keep => out.samples.extend_from_slice(track.interleaved()),
        }
        out.frames = out.frames.saturating_add(n_frames);
    };

    if policy == DecodeErrorPolicy::Fail && track.is_truncated(out.frames, end) {
        return Err(Error::Truncated {
            path: path(),
            expected_frames: track.expected_frames,
            got_frames: out.frames,
            partial: out.take_partial(&track.params),
        });
    }

    let params = &track.params;
    let channels = out
        .out_channels(params)
        .ok_or_else(|| Error::ZeroChannels { path: path() })?;
    let rate = out
        .rate(params)
        .ok_or_else(|| Error::ZeroSampleRate { path: path() })?;
    let mut samples = std::mem::take(&mut out.samples);
    if samples.capacity() - samples.len() > samples.len() / 16 + 4096 {
        samples.shrink_to_fit();
    }
    MultiChannelAudio::new(samples, channels, rate)
}

/// The first audio track of a source opened by Symphonia, with its decoder: what [`load`] and
/// [`AudioStream`](crate::AudioStream) share.
pub(crate) struct OpenTrack<'a> {
    format: Box<dyn FormatReader + 'a>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    /// The header's frame count, if any (a hint: never trusted for allocation beyond a cap).
    pub(crate) expected_frames: Option<u64>,
    /// The codec parameters of the track (sample rate and channels are non-zero if present).
    pub(crate) params: AudioCodecParameters,
    /// See [`has_exact_frame_count`].
    exact_count: bool,
    /// The container reads its end while opening and found it missing (the source was then
    /// reopened as a stream).
    end_missing: bool,
    /// The interleaved samples of the last packet [`OpenTrack::next_packet`] decoded.
    interleaved: Vec<f32>,
}

/// What [`OpenTrack::next_packet`] found.
pub(crate) enum NextPacket {
    /// A packet of at least one frame, now in [`OpenTrack::interleaved`]: its
    /// `(channels, sample rate)` (both non-zero) and its frame count.
    Frames { spec: (usize, u32), frames: u64 },
    /// The stream is over ([`StreamEnd::Clean`] or [`StreamEnd::EndOfFile`]).
    End(StreamEnd),
    /// The container failed; it cannot resume.
    ContainerError(SymphoniaError),
    /// A packet failed to decode; the next one may decode.
    PacketError(SymphoniaError),
}

/// Opens the first audio track of `source` (after [`check_head`], if it can seek) and its
/// decoder.
///
/// Some readers (AIFF, Ogg) scan to the end of a seekable source while opening it, and fail
/// if it is cut short. Opening such a source again as a stream reads what is there instead,
/// and we remember that the end is missing ([`OpenTrack::is_truncated`]).
///
/// # Errors
/// [`Error::UnknownFormat`], [`Error::InvalidHeader`], [`Error::Truncated`] (cut inside the
/// header), [`Error::Io`], [`Error::NoAudioTrack`], [`Error::ZeroSampleRate`],
/// [`Error::ZeroChannels`], [`Error::UnsupportedCodec`].
pub(crate) fn open_track<'a, S>(source: S, name: &Path, hint: Option<&str>) -> Result<OpenTrack<'a>>
where
    S: DerefMut<Target: MediaSource> + Send + 'a,
{
    let path = || -> PathBuf { name.to_path_buf() };
    let mut symphonia_hint = Hint::new();
    if let Some(extension) = hint {
        symphonia_hint.with_extension(extension);
    }
    let seekable = source.is_seekable();
    let shared = Arc::new(Mutex::new(source));
    let (format, end_missing) = match probe(
        Shared {
            inner: Arc::clone(&shared),
            seekable,
        },
        &symphonia_hint,
    ) {
        Ok(format) => (format, false),
        Err(SymphoniaError::IoError(e)) if seekable && e.kind() == io::ErrorKind::UnexpectedEof => {
            Shared {
                inner: Arc::clone(&shared),
                seekable,
            }
            .seek(SeekFrom::Start(0))
            .map_err(|e| io_error(name, e))?;
            let format = probe(
                Shared {
                    inner: shared,
                    seekable: false,
                },
                &symphonia_hint,
            )
            .map_err(|e| open_error(name, e))?;
            (format, true)
        }
        Err(e) => return Err(open_error(name, e)),
    };
    let exact_count = has_exact_frame_count(format.as_ref());

    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| Error::NoAudioTrack { path: path() })?;
    let track_id = track.id;
    let expected_frames = track.num_frames;
    let params = track
        .codec_params
        .as_ref()
        .and_then(CodecParameters::audio)
        .ok_or_else(|| Error::NoAudioTrack { path: path() })?
        .clone();
    if params.sample_rate == Some(0) {
        return Err(Error::ZeroSampleRate { path: path() });
    }
    if let Some(rate) = params.sample_rate {
        check_rate(rate, name)?;
    }
    if params.channels.as_ref().is_some_and(|c| c.count() == 0) {
        return Err(Error::ZeroChannels { path: path() });
    }
    let decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|source| match source {
            source @ SymphoniaError::Unsupported(_) => Error::UnsupportedCodec {
                path: path(),
                codec: params.codec.to_string(),
                source,
            },
            other => open_error(name, other),
        })?;
    Ok(OpenTrack {
        format,
        decoder,
        track_id,
        expected_frames,
        params,
        exact_count,
        end_missing,
        interleaved: Vec::new(),
    })
}

impl OpenTrack<'_> {
    /// Reads and decodes packets until one of the track holds at least one frame, and copies
    /// it to [`OpenTrack::interleaved`]; packets of other tracks and empty ones are skipped.
    ///
    /// # Errors
    /// Genuine I/O errors ([`Error::Io`]; the unexpected end of file is
    /// [`StreamEnd::EndOfFile`]), and a packet that decodes to zero channels or a zero sample
    /// rate ([`Error::ZeroChannels`], [`Error::ZeroSampleRate`]).
    pub(crate) fn next_packet(&mut self, name: &Path) -> Result<NextPacket> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(packet)) => packet,
                // A chained stream (Ogg) announces a new track list: we keep the first stream.
                Ok(None) | Err(SymphoniaError::ResetRequired) => {
                    return Ok(NextPacket::End(StreamEnd::Clean));
                }
                Err(SymphoniaError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Ok(NextPacket::End(StreamEnd::EndOfFile));
                }
                Err(SymphoniaError::IoError(source)) => {
                    return Err(Error::Io {
                        path: name.to_path_buf(),
                        source,
                    });
                }
                Err(source) => return Ok(NextPacket::ContainerError(source)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(decoded) => decoded,
                Err(source) => return Ok(NextPacket::PacketError(source)),
            };
            let frames = decoded.frames();
            if frames == 0 {
                continue;
            }
            let spec = (decoded.spec().channels().count(), decoded.spec().rate());
            if spec.0 == 0 {
                return Err(Error::ZeroChannels {
                    path: name.to_path_buf(),
                });
            }
            if spec.1 == 0 {
                return Err(Error::ZeroSampleRate {
                    path: name.to_path_buf(),
                });
            }
            check_rate(spec.1, name)?;
            decoded.copy_to_vec_interleaved(&mut self.interleaved);
            return Ok(NextPacket::Frames {
                spec,
                frames: frames as u64,
            });
        }
    }

    /// The interleaved samples of the last packet [`OpenTrack::next_packet`] returned.
    pub(crate) fn interleaved(&self) -> &[f32] {
        &self.interleaved
    }

    /// Whether a stream that gave `frames` frames and ended with `end` was cut: fewer frames
    /// than the header declares, where the declared count is exact or the bytes ran out; or an
    /// end we already know is missing.
    pub(crate) fn is_truncated(&self, frames: u64, end: StreamEnd) -> bool {
        match self.expected_frames {
            Some(expected) => {
                frames < expected
                    && (self.exact_count || end == StreamEnd::EndOfFile || self.end_missing)
            }
            None => self.end_missing,
        }
    }
}
