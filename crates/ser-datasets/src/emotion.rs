//! The research's seven emotion classes, in the fixed order models use.

use std::fmt;
use std::str::FromStr;

/// One of the seven emotion classes of the research, in model order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum Emotion {
    /// Angry (index 0).
    Angry = 0,
    /// Disgust (index 1).
    Disgust = 1,
    /// Fearful (index 2).
    Fearful = 2,
    /// Happy (index 3).
    Happy = 3,
    /// Neutral (index 4).
    Neutral = 4,
    /// Sad (index 5).
    Sad = 5,
    /// Surprise (index 6).
    Surprise = 6,
}

impl Emotion {
    /// All classes in model order.
    pub const ALL: [Emotion; 7] = [
        Emotion::Angry,
        Emotion::Disgust,
        Emotion::Fearful,
        Emotion::Happy,
        Emotion::Neutral,
        Emotion::Sad,
        Emotion::Surprise,
    ];

    /// The class index used by models (0..7).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The class with this index.
    pub fn from_index(index: usize) -> Option<Self> {
        Self::ALL.get(index).copied()
    }

    /// The lower-case name (`"angry"`, ...), as in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            Emotion::Angry => "angry",
            Emotion::Disgust => "disgust",
            Emotion::Fearful => "fearful",
            Emotion::Happy => "happy",
            Emotion::Neutral => "neutral",
            Emotion::Sad => "sad",
            Emotion::Surprise => "surprise",
        }
    }
}

impl fmt::Display for Emotion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An emotion name that is not one of the seven.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown emotion {0:?}: expected angry, disgust, fearful, happy, neutral, sad or surprise")]
pub struct UnknownEmotion(pub String);

impl FromStr for Emotion {
    type Err = UnknownEmotion;
    fn from_str(s: &str) -> Result<Self, UnknownEmotion> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownEmotion(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_indices_round_trip() {
        for (i, e) in Emotion::ALL.into_iter().enumerate() {
            assert_eq!(e.index(), i);
            assert_eq!(Emotion::from_index(i), Some(e));
            assert_eq!(e.as_str().parse::<Emotion>().unwrap(), e);
        }
        assert!("calm".parse::<Emotion>().is_err());
    }
}
