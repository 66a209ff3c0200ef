//! A look at the first bytes of WAV and AIFF files for a zero channel count or sample rate.
//!
//! Symphonia rejects such headers with a generic "malformed" error; reading the two fields
//! ourselves lets us report [`Error::ZeroChannels`](crate::Error::ZeroChannels) and
//! [`Error::ZeroSampleRate`](crate::Error::ZeroSampleRate) instead.

/// What the header of a WAV or AIFF file says about its layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeaderLayout {
    /// The declared channel count.
    pub(crate) channels: u16,
    /// Whether the declared sample rate is zero.
    pub(crate) zero_rate: bool,
}

/// The channel count and rate a RIFF/WAVE or AIFF(-C) header declares, if `head` starts one
/// and holds its format chunk. Never panics, whatever the bytes.
pub(crate) fn header_layout(head: &[u8]) -> Option<HeaderLayout> {
    match (head.get(0..4)?, head.get(8..12)?) {
        (b"RIFF", b"WAVE") => wav_layout(head),
        (b"FORM", b"AIFF" | b"AIFC") => aiff_layout(head),
        _ => None,
    }
}

/// `N` bytes of `head` from `at`, or `None` past the end (never overflows).
fn bytes<const N: usize>(head: &[u8], at: usize) -> Option<[u8; N]> {
    head.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Walks the RIFF chunks after the 12-byte file header to the `fmt ` chunk.
fn wav_layout(head: &[u8]) -> Option<HeaderLayout> {
    let mut pos = 12usize;
    loop {
        let id: [u8; 4] = bytes(head, pos)?;
        let body = pos.checked_add(8)?;
        let len = u32::from_le_bytes(bytes(head, pos + 4)?);
        if &id == b"fmt " {
            // format tag (2), channels (2), sample rate (4).
            let channels = u16::from_le_bytes(bytes(head, body.checked_add(2)?)?);
            let rate = u32::from_le_bytes(bytes(head, body.checked_add(4)?)?);
            return Some(HeaderLayout {
                channels,
                zero_rate: rate == 0,
            });
        }
        // Chunks are padded to an even length.
        let len = usize::try_from(len).ok()?;
        pos = body.checked_add(len)?.checked_add(len & 1)?;
    }
}

/// Walks the IFF chunks after the 12-byte file header to the `COMM` chunk.
fn aiff_layout(head: &[u8]) -> Option<HeaderLayout> {
    let mut pos = 12usize;
    loop {
        let id: [u8; 4] = bytes(head, pos)?;
        let body = pos.checked_add(8)?;
        let len = u32::from_be_bytes(bytes(head, pos + 4)?);
        if &id == b"COMM" {
            // channels (2), frames (4), sample size (2), rate (80-bit extended float: sign and
            // exponent (2), mantissa (8)).
            let channels = u16::from_be_bytes(bytes(head, body)?);
            let mantissa: [u8; 8] = bytes(head, body.checked_add(10)?)?;
            // An extended float is zero when its mantissa is zero.
            return Some(HeaderLayout {
                channels,
                zero_rate: mantissa == [0; 8],
            });
        }
        let len = usize::try_from(len).ok()?;
        pos = body.checked_add(len)?.checked_add(len & 1)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_head(channels: u16, rate: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(b"RIFF");
        v.extend_from_slice(&100u32.to_le_bytes());
        v.extend_from_slice(b"WAVE");
        // A LIST chunk of odd length before fmt, to exercise padding.
        v.extend_from_slice(b"LIST");
        v.extend_from_slice(&3u32.to_le_bytes());
        v.extend_from_slice(&[0, 0, 0, 0]);
        v.extend_from_slice(b"fmt ");
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&channels.to_le_bytes());
        v.extend_from_slice(&rate.to_le_bytes());
        v.extend_from_slice(&[0; 8]);
        v
    }

    #[test]
    fn wav_layout_is_read_past_padded_chunks() {
        assert_eq!(
            header_layout(&wav_head(2, 16_000)),
            Some(HeaderLayout {
                channels: 2,
                zero_rate: false
            })
        );
        assert_eq!(
            header_layout(&wav_head(0, 0)),
            Some(HeaderLayout {
                channels: 0,
                zero_rate: true
            })
        );
    }

    #[test]
    fn aiff_layout_reads_comm() {
        let mut v = Vec::new();
        v.extend_from_slice(b"FORM");
        v.extend_from_slice(&100u32.to_be_bytes());
        v.extend_from_slice(b"AIFF");
        v.extend_from_slice(b"COMM");
        v.extend_from_slice(&18u32.to_be_bytes());
        v.extend_from_slice(&0u16.to_be_bytes());
        v.extend_from_slice(&[0; 16]);
        assert_eq!(
            header_layout(&v),
            Some(HeaderLayout {
                channels: 0,
                zero_rate: true
            })
        );
    }

    #[test]
    fn every_prefix_of_a_header_is_handled() {
        let head = wav_head(1, 8_000);
        // The sample rate ends 8 bytes before the end.
        let rate_end = head.len() - 8;
        for cut in 0..rate_end {
            assert_eq!(header_layout(&head[..cut]), None, "cut {cut}");
        }
        for cut in rate_end..=head.len() {
            assert!(header_layout(&head[..cut]).is_some(), "cut {cut}");
        }
        assert_eq!(header_layout(b"not audio at all"), None);
        // A chunk length that overflows.
        let mut v = b"RIFF\0\0\0\0WAVEjunk".to_vec();
        v.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(header_layout(&v), None);
    }
}
