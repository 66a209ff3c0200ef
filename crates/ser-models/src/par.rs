//! Data parallelism with rayon (feature `parallel`, on by default), or the same loops run
//! in order on one thread without it (for WebAssembly, where there are no threads).
//!
//! [`bn`](crate::bn) and [`ops`](crate::ops) write `use crate::par::prelude::*;` and call
//! `par_chunks_mut` and `into_par_iter` as with rayon; without `parallel`, the two
//! sequential stand-ins below give `std` iterators with the same adaptors (`enumerate`,
//! `map`, `for_each`, `collect`), so each loop computes the same numbers either way.

/// rayon's prelude, or its sequential stand-ins.
pub(crate) mod prelude {
    #[cfg(feature = "parallel")]
    pub(crate) use rayon::prelude::*;

    #[cfg(not(feature = "parallel"))]
    pub(crate) use sequential::*;

    #[cfg(not(feature = "parallel"))]
    mod sequential {
        /// `slice.par_chunks_mut(n)`: here `slice.chunks_mut(n)`, in order.
        pub(crate) trait ParallelSliceMut<T> {
            /// Mutable chunks of `n` elements (the last may be shorter).
            fn par_chunks_mut(&mut self, n: usize) -> std::slice::ChunksMut<'_, T>;
        }

        impl<T> ParallelSliceMut<T> for [T] {
            fn par_chunks_mut(&mut self, n: usize) -> std::slice::ChunksMut<'_, T> {
                self.chunks_mut(n)
            }
        }

        /// `x.into_par_iter()`: here `x.into_iter()`, in order.
        pub(crate) trait IntoParallelIterator: IntoIterator + Sized {
            /// The items of `self`, in order.
            fn into_par_iter(self) -> Self::IntoIter {
                self.into_iter()
            }
        }

        impl<I: IntoIterator> IntoParallelIterator for I {}
    }
}

/// `rayon::join(a, b)`: both closures, on two threads when there are; without `parallel`,
/// `a` then `b`.
pub(crate) fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    #[cfg(feature = "parallel")]
    {
        rayon::join(a, b)
    }
    #[cfg(not(feature = "parallel"))]
    {
        (a(), b())
    }
}
