//! Portable seeding helpers: derived seeds and uniform draws that do not depend on how a
//! `rand` version maps integers to ranges, so that plans and splits stay the same across
//! `rand` upgrades and platforms.

use rand::Rng;

/// A stable 64-bit mix of a seed and a string key (FNV-1a, then the SplitMix64 finalizer):
/// one seed per class, per purpose, ... from one base seed.
pub fn mix_seed(seed: u64, key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
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
}
