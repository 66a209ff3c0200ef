//! Decoding in chunks: [`AudioStream`] hands out mono `f32` one decoded packet at a time, so a
//! long file (an hour of speech, a podcast) is processed in memory bounded by one packet.
//!
//! The chunks are the samples [`load`](crate::load) returns, cut at packet boundaries:
//! concatenated, they equal `load(path)?.samples()` bit for bit (same decoder, same channel mean
//! as `librosa.to_mono`). Packets are small: at most 1152 frames for WAV, AIFF and MP3, one
//! block for FLAC (at most 65,535 frames, usually 4096), at most 8192 frames for Vorbis.
//!
//! # Differences from `load`
//!
//! * Every file, plain WAV included, goes through Symphonia; [`load`](crate::load)'s bulk WAV
//!   reader gives the same samples and errors ([`WavDecoder`](crate::WavDecoder)).
//! * Only [`DecodeErrorPolicy::Fail`](crate::DecodeErrorPolicy::Fail) exists: the first
//!   mid-stream error ends the stream. Its error carries no partial audio (`partial: None`):
//!   the frames before it were already handed out as chunks, and
//!   [`AudioStream::frames_decoded`] counts them.
//! * Nothing is reserved from the header's frame count, which is only reported
//!   ([`AudioStream::expected_frames`]).
//! * An error is met when the packet holding it is reached: [`open_stream`] reports the errors
//!   of the header and the first packet (it decodes the first packet to learn the sample rate
//!   and channel count, as `load` does), [`AudioStream::next_chunk`] the later ones, including
//!   a truncation found at the end.

use std::fmt;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use symphonia::core::io::MediaSource;

use crate::decode::{
    NextPacket, OpenTrack, ReaderSource, check_head, io_error, open_file, open_track,
};
use crate::error::{Error, READER_PATH, Result};
use crate::multichannel::downmix_into;

/// Opens `path` for decoding in chunks (mono `f32`, channel mean, like [`load`](crate::load)),
/// holding one packet at a time.
///
/// The container is recognised from its bytes (the extension is only a hint). The first
/// packet is decoded here, to learn the sample rate and channel count; it is the first chunk.
///
/// ```
/// # #[cfg(all(feature = "wav", feature = "pcm"))] {
/// use ser_audio_io::{WavFormat, load, open_stream, save_wav};
/// use ser_dsp::Audio;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("tone.wav");
/// let samples: Vec<f32> = (0..16_000)
///     .map(|n| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * n as f32 / 16_000.0).sin())
///     .collect();
/// save_wav(&path, &Audio::new(samples, 16_000)?, WavFormat::Pcm16)?;
///
/// let mut stream = open_stream(&path)?;
/// assert_eq!((stream.sample_rate(), stream.channels()), (16_000, 1));
/// let (mut peak, mut sum_sq) = (0.0_f32, 0.0_f64);
/// while let Some(chunk) = stream.next_chunk()? {
///     for &x in chunk {
///         peak = peak.max(x.abs());
///         sum_sq += f64::from(x) * f64::from(x);
///     }
/// }
/// assert_eq!(stream.frames_decoded(), 16_000);
/// assert!((peak - 0.5).abs() < 1e-3);
/// // The chunks are `load`'s samples.
/// let whole = load(&path)?;
/// let expected: f64 = whole.samples().iter().map(|&x| f64::from(x) * f64::from(x)).sum();
/// assert_eq!(sum_sq, expected);
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`load`](crate::load) for the header and the first packet: [`Error::NotFound`],
/// [`Error::Io`], [`Error::Empty`], [`Error::UnknownFormat`], [`Error::InvalidHeader`],
/// [`Error::NoAudioTrack`], [`Error::ZeroChannels`], [`Error::ZeroSampleRate`],
/// [`Error::UnsupportedCodec`], and [`Error::Decode`] or [`Error::Truncated`] (with
/// `partial: None`) if the first packet fails or the file is cut before it.
/// [`Error::ZeroChannels`] also when a file without packets does not declare its channels.
pub fn open_stream(path: impl AsRef<Path>) -> Result<AudioStream> {
    let path = path.as_ref();
    let (file, hint) = open_file(path)?;
    AudioStream::open(Box::new(file), path.to_path_buf(), hint.as_deref())
}

/// Opens audio from any seekable reader (a [`std::io::Cursor`] over bytes, a file, ...) for
/// decoding in chunks, like [`load_reader`](crate::load_reader). Decoding starts at the
/// reader's current position.
///
/// `extension_hint` (such as `"mp3"`, without the dot) helps recognise formats without a
/// distinctive header; the bytes decide. Errors name the source [`READER_PATH`].
///
/// # Errors
/// As [`open_stream`], with [`Error::Io`] also when the reader cannot seek.
pub fn open_stream_reader<R>(reader: R, extension_hint: Option<&str>) -> Result<AudioStream>
where
    R: Read + Seek + Send + Sync + 'static,
{
    let name = Path::new(READER_PATH);
    let source = ReaderSource::new(reader).map_err(|source| io_error(name, source))?;
    AudioStream::open(Box::new(source), name.to_path_buf(), extension_hint)
}

/// A file being decoded in chunks of mono `f32`, see [`open_stream`] and the
/// [module docs](self).
///
/// It holds the container reader, the decoder and one decoded packet, never the whole audio.
/// Once the stream has ended or failed, it releases the file and
/// [`next_chunk`](Self::next_chunk) returns `Ok(None)`. `AudioStream` is `Send` and `Sync`.
pub struct AudioStream {
    /// The file, or [`READER_PATH`].
    path: PathBuf,
    /// The open track; `None` once the stream has ended or failed.
    track: Option<OpenTrack<'static>>,
    /// The header's frame count.
    expected_frames: Option<u64>,
    /// The channels and rate of the first packet (or the header's, for a stream without
    /// packets); every later packet must match.
    channels: usize,
    sample_rate: u32,
    /// The mono samples of the packet decoded last.
    chunk: Vec<f32>,
    /// Whether `chunk` holds a packet not yet handed out.
    pending: bool,
    /// Frames handed out by `next_chunk`.
    frames_decoded: u64,
}

impl AudioStream {
    /// Opens the first audio track of `source` and decodes its first packet.
    fn open(mut source: Box<dyn MediaSource>, path: PathBuf, hint: Option<&str>) -> Result<Self> {
        // As in `load`: a pipe cannot be rewound after the look at its head.
        if source.is_seekable() {
            check_head(source.as_mut(), &path)?;
        }
        let track = open_track(source, &path, hint)?;
        let header_spec = (
            track.params.channels.as_ref().map(|c| c.count()),
            track.params.sample_rate,
        );
        let mut stream = Self {
            path,
            expected_frames: track.expected_frames,
            track: Some(track),
            channels: 0,
            sample_rate: 0,
            chunk: Vec::new(),
            pending: false,
            frames_decoded: 0,
        };
        stream.pending = stream.advance()?;
        if !stream.pending {
            // No packet: the header must say what the (empty) audio is.
            stream.channels = header_spec.0.ok_or_else(|| Error::ZeroChannels {
                path: stream.path.clone(),
            })?;
            stream.sample_rate = header_spec.1.ok_or_else(|| Error::ZeroSampleRate {
                path: stream.path.clone(),
            })?;
        }
        Ok(stream)
    }

    /// The sample rate in Hz (never 0).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The number of channels of the file (at least 1). The chunks are always mono: the mean
    /// of these channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The file, or [`READER_PATH`] for [`open_stream_reader`]; errors name it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The frame count the header declares, if any. A hint only: a damaged file may hold fewer
    /// frames (then the stream ends with [`Error::Truncated`] where this can be told), and it is
    /// never used to allocate.
    pub fn expected_frames(&self) -> Option<u64> {
        self.expected_frames
    }

    /// The frames handed out by [`next_chunk`](Self::next_chunk) so far (one mono sample each).
    pub fn frames_decoded(&self) -> u64 {
        self.frames_decoded
    }

    /// The next chunk of mono samples: one decoded packet, never empty. `Ok(None)` at the clean
    /// end of the stream.
    ///
    /// The chunk is valid until the next call; copy what you keep.
    ///
    /// The stream is *fused*: after `Ok(None)` or an error, every further call returns
    /// `Ok(None)` (the file is closed by then).
    ///
    /// # Errors
    /// As [`load`](crate::load) with the default options, each met at the packet where it
    /// happens, with `partial: None` (the frames before it were handed out):
    /// [`Error::Decode`] (a packet or the container failed), [`Error::SpecChanged`] (the sample
    /// rate or channel count changed), [`Error::Truncated`] (at the end, fewer frames than
    /// the header declares, where the file can be told cut), [`Error::Io`],
    /// [`Error::ZeroChannels`], [`Error::ZeroSampleRate`].
    pub fn next_chunk(&mut self) -> Result<Option<&[f32]>> {
        if !self.pending {
            match self.advance() {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                Err(e) => {
                    self.track = None;
                    return Err(e);
                }
            }
        }
        self.pending = false;
        self.frames_decoded = self.frames_decoded.saturating_add(self.chunk.len() as u64);
        Ok(Some(&self.chunk))
    }

    /// Decodes the next packet into `chunk`: `Ok(true)` if there is one, `Ok(false)` (and the
    /// track closed) at the clean end or once closed.
    fn advance(&mut self) -> Result<bool> {
        let Some(track) = self.track.as_mut() else {
            return Ok(false);
        };
        let path = || self.path.clone();
        let spec = match track.next_packet(&self.path)? {
            NextPacket::Frames { spec, .. } => spec,
            NextPacket::End(end) => {
                if track.is_truncated(self.frames_decoded, end) {
                    return Err(Error::Truncated {
                        path: path(),
                        expected_frames: self.expected_frames,
                        got_frames: self.frames_decoded,
                        partial: None,
                    });
                }
                self.track = None;
                return Ok(false);
            }
            NextPacket::ContainerError(source) | NextPacket::PacketError(source) => {
                return Err(Error::Decode {
                    path: path(),
                    frames_decoded: self.frames_decoded,
                    partial: None,
                    source,
                });
            }
        };
        if self.channels == 0 {
            (self.channels, self.sample_rate) = spec;
        } else if (self.channels, self.sample_rate) != spec {
            return Err(Error::SpecChanged {
                path: path(),
                channels: self.channels,
                sample_rate: self.sample_rate,
                new_channels: spec.0,
                new_sample_rate: spec.1,
                frames_decoded: self.frames_decoded,
                partial: None,
            });
        }
        self.chunk.clear();
        downmix_into(track.interleaved(), spec.0, &mut self.chunk);
        Ok(true)
    }
}

impl fmt::Debug for AudioStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AudioStream")
            .field("path", &self.path)
            .field("channels", &self.channels)
            .field("sample_rate", &self.sample_rate)
            .field("expected_frames", &self.expected_frames)
            .field("frames_decoded", &self.frames_decoded)
            .field("finished", &(self.track.is_none() && !self.pending))
            .finish_non_exhaustive()
    }
}
