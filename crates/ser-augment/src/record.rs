//! What a transform did: its name and the parameters it drew.

use std::collections::BTreeMap;
use std::fmt;

/// One applied transform and the parameters it used (drawn or fixed).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Applied {
    /// The transform's name, e.g. `"time_stretch"`.
    pub name: String,
    /// Its parameters by name, e.g. `{"rate": 1.07}`.
    pub params: BTreeMap<String, f64>,
}

impl Applied {
    /// A record for `name` with no parameters yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            params: BTreeMap::new(),
        }
    }

    /// Adds a parameter.
    pub fn with(mut self, param: impl Into<String>, value: f64) -> Self {
        self.params.insert(param.into(), value);
        self
    }
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        for (i, (k, v)) in self.params.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{k}={v:.6}")?;
        }
        write!(f, ")")
    }
}

/// The transforms applied to one input, in order.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Record {
    /// The steps, in the order they were applied.
    pub steps: Vec<Applied>,
}

impl Record {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a step.
    pub fn push(&mut self, step: Applied) {
        self.steps.push(step);
    }

    /// Whether nothing was applied.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return write!(f, "(nothing applied)");
        }
        for (i, s) in self.steps.iter().enumerate() {
            if i > 0 {
                write!(f, " -> ")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}
