//! Peak memory is bounded by the input's real size, never by what a header claims: a
//! property test over byte-mutated, truncated and header-forged audio files, put through
//! what `features` and `predict` do (decode, the research log-mel, the shipped model's
//! streaming timeline), with every allocation counted.
//!
//! The bound, stated in `docs/architecture.md`: peak heap growth at most
//! [`FIXED`] plus [`PER_BYTE`] times the file's size. `FIXED` covers the largest
//! resampler plan any pair of valid rates may need (`ser_dsp::MAX_FFT_BLOCK`) and the
//! model's weights and activations; `PER_BYTE` covers decoding (a 16-bit sample becomes
//! an `f32`, compressed formats expand) and the spectrogram. Before the limits of issue 13
//! a forged 0xFFFFFFFF Hz header asked for 6.9 GB here.
//!
//! One test in this binary: the counter is global.

#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};

use ser_dsp::{LogMel, LogMelConfig};
use ser_models::{Recognizer, TimelineConfig};

/// Fixed allowance in bytes.
const FIXED: usize = 160 << 20;
/// Allowance per byte of input.
const PER_BYTE: usize = 64;

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    let now = IN_USE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the same arguments and only updates two
// counters beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the trait's `alloc`.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the trait's `alloc_zeroed`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as the trait's `realloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// SplitMix64: a seeded, dependency-free generator for the mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The mutants of one file: random byte changes (half of them in the first 64 bytes, where
/// headers are), truncations, and for WAV forged header fields. `costliest` adds the valid
/// rate with the largest resampler plan (767 999 Hz to 16 kHz: about 120 MB, and 15 s in a
/// debug build, so it is forged into one file only).
fn mutants(bytes: &[u8], wav: bool, costliest: bool, rng: &mut Rng) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for i in 0..10 {
        let mut m = bytes.to_vec();
        for _ in 0..1 + rng.below(16) {
            let at = if rng.below(2) == 0 {
                rng.below(64.min(m.len()))
            } else {
                rng.below(m.len())
            };
            m[at] = rng.next() as u8;
        }
        out.push((format!("flips #{i}"), m));
    }
    for i in 0..3 {
        let len = rng.below(bytes.len());
        out.push((format!("cut at {len} #{i}"), bytes[..len].to_vec()));
    }
    if wav {
        let put = |at: usize, v: &[u8]| {
            let mut m = bytes.to_vec();
            m[at..at + v.len()].copy_from_slice(v);
            m
        };
        let rates = [0u32, 1, 7, 999, 44_101, 768_001, 2_160_000_000, u32::MAX];
        for rate in rates.into_iter().chain(costliest.then_some(767_999)) {
            out.push((format!("rate {rate}"), put(24, &rate.to_le_bytes())));
        }
        out.push(("RIFF size 4 GiB".into(), put(4, &u32::MAX.to_le_bytes())));
        out.push(("data size 4 GiB".into(), put(40, &u32::MAX.to_le_bytes())));
        for ch in [0u16, 255, u16::MAX] {
            out.push((format!("channels {ch}"), put(22, &ch.to_le_bytes())));
        }
        for bits in [0u16, 1, 7, 64, u16::MAX] {
            out.push((format!("bits {bits}"), put(34, &bits.to_le_bytes())));
        }
        out.push(("block align 0".into(), put(32, &0u16.to_le_bytes())));
    }
    out
}

/// Peak heap growth while `f` runs, in bytes.
fn peak_of(f: impl FnOnce()) -> usize {
    let base = IN_USE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    f();
    PEAK.load(Ordering::Relaxed).saturating_sub(base)
}

#[test]
fn peak_memory_is_bounded_by_the_input_size() {
    let dir = ser_examples::repo_path("fixtures/audio").unwrap();
    let mut files: Vec<_> = ["", "formats"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(dir.join(sub)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| ser_examples::is_audio(p))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "{files:?}");
    let logmel = LogMel::new(LogMelConfig::default()).unwrap();
    let recognizer = Recognizer::shipped(&ser_models::candle_core::Device::Cpu).unwrap();
    let timeline = TimelineConfig::default();
    let mut rng = Rng(13);
    let mut costliest = true;
    let (mut cases, mut decoded, mut worst) = (0, 0, (0.0f64, String::new()));
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let ext = file.extension().and_then(|e| e.to_str()).map(str::to_owned);
        let wav = ext.as_deref() == Some("wav");
        for (what, m) in mutants(&bytes, wav, wav && costliest, &mut rng) {
            costliest &= !wav;
            let hint = ext.clone();
            let len = m.len();
            let forged = !what.contains('#');
            // What `features` does, then what `predict` does (streaming), on every mutant.
            let peak = peak_of(|| {
                let audio = ser_audio_io::load_reader(
                    Cursor::new(m.clone()),
                    hint.as_deref(),
                    &ser_audio_io::LoadOptions::default(),
                );
                if let Ok(audio) = audio {
                    decoded += 1;
                    let _ = logmel.extract(&audio);
                }
                // The model's own memory is the same for every input: run it on the forged
                // headers and one other mutant in eight (a debug build is slow).
                if !(forged || cases % 8 == 0) {
                    return;
                }
                if let Ok(mut stream) = ser_audio_io::open_stream_reader(Cursor::new(m), None)
                    && let Ok(mut live) = recognizer.stream(stream.sample_rate(), &timeline)
                {
                    while let Ok(Some(chunk)) = stream.next_chunk() {
                        if live.push(chunk).is_err() {
                            break;
                        }
                    }
                    let _ = live.finish();
                }
            });
            cases += 1;
            let allowed = FIXED + PER_BYTE * len;
            let name = format!("{} ({what}, {len} bytes)", file.display());
            assert!(
                peak <= allowed,
                "{name}: peak {peak} bytes, allowed {allowed}"
            );
            let share = peak as f64 / allowed as f64;
            if share > worst.0 {
                worst = (share, name);
            }
        }
    }
    eprintln!(
        "{cases} mutants ({decoded} still decoded); highest peak {:.0} % of the bound, {}",
        100.0 * worst.0,
        worst.1
    );
    assert!(
        cases > 200 && decoded > 50,
        "{cases} cases, {decoded} decoded"
    );
}
