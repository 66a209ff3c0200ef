//! Portable seeding and hashing: derived seeds and uniform draws that do not depend on how
//! a `rand` version maps integers to ranges, so that splits, over-sampling plans, dropout
//! masks and initial weights stay the same across `rand` upgrades and platforms.

use rand::Rng;

/// SplitMix64's golden-ratio increment.
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64's finalizer: a bijective, well-mixed 64-bit hash.
fn finalize(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// One step of SplitMix64 from state `x`: `x` plus the golden-ratio increment, finalized.
/// A well-mixed 64-bit hash of `x`.
pub fn splitmix64(x: u64) -> u64 {
    finalize(x.wrapping_add(GAMMA))
}

/// FNV-1a, 64 bits, over `bytes` (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    fnv1a64_from(0xcbf2_9ce4_8422_2325, bytes)
}

fn fnv1a64_from(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A stable 64-bit mix of a seed and a string key (FNV-1a from the seed, then the
/// SplitMix64 finalizer): one seed per class, per purpose, ... from one base seed.
pub fn mix_seed(seed: u64, key: &str) -> u64 {
    finalize(fnv1a64_from(0xcbf2_9ce4_8422_2325 ^ seed, key.as_bytes()))
}

/// An unbiased draw from `0..n` by rejection (0 when `n <= 1`).
pub fn below(rng: &mut dyn Rng, n: u64) -> u64 {
    if n <= 1 {
        return 0;
    }
    let limit = u64::MAX - u64::MAX % n;
    loop {
        let x = rng.next_u64();
        if x < limit {
            return x % n;
        }
    }
}

/// Fisher-Yates shuffle with [`below`].
pub fn shuffle<T>(items: &mut [T], rng: &mut dyn Rng) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i as u64 + 1);
        #[allow(clippy::cast_possible_truncation)] // j <= i, a usize
        items.swap(i, j as usize);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn draws_are_in_range_and_shuffles_are_permutations() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        assert!((0..1000).all(|_| below(&mut rng, 7) < 7));
        let mut v: Vec<u32> = (0..50).collect();
        shuffle(&mut v, &mut rng);
        let mut s = v.clone();
        s.sort_unstable();
        assert_eq!(s, (0..50).collect::<Vec<_>>());
        assert_ne!(mix_seed(1, "angry"), mix_seed(1, "sad"));
        assert_eq!(mix_seed(1, "angry"), mix_seed(1, "angry"));
    }

    #[test]
    fn values_are_pinned() {
        // Splits, plans and weights depend on these exact values: they must never change.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(mix_seed(0, ""), finalize(0xcbf2_9ce4_8422_2325));
    }
}
