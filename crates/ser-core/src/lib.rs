//! What every `ser` crate shares: portable seeding and hashing ([`seed`]), and atomic file
//! writing with one overwrite policy ([`fs`]).
//!
//! ```
//! use ser_core::fs::{Overwrite, write_atomic};
//! use ser_core::seed::{mix_seed, shuffle};
//! use rand::SeedableRng;
//!
//! // One seed per purpose, from one base seed; the same on every platform.
//! let class_seed = mix_seed(42, "angry");
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(class_seed);
//! let mut order = [0, 1, 2, 3, 4];
//! shuffle(&mut order, &mut rng);
//!
//! // A file appears whole or not at all, and is never replaced unless asked.
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("order.txt");
//! write_atomic(&path, Overwrite::Refuse, |w| {
//!     std::io::Write::write_all(w, format!("{order:?}").as_bytes())
//! })?;
//! assert!(write_atomic(&path, Overwrite::Refuse, |_| Ok::<(), std::io::Error>(())).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

pub mod fs;
pub mod seed;

pub use fs::{Overwrite, WriteError, write_atomic};
