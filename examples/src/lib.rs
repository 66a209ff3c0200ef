//! Helpers shared by the example programs of `ser`.
