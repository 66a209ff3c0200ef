//! The combinators: order, probabilities, counts, determinism, records.
// Test helpers may unwrap: a failing unwrap is a failing test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ser_augment::rand::Rng;
use ser_augment::{
    Applied, Audio, Compose, Error, Gain, GaussianNoise, OneOf, Record, Result, SomeOf,
    Spectrogram, Transform, WithProbability, augment_seeded, ndarray::Array2, research_spectrogram,
    research_waveform, research_waveform_with_p,
};

/// Adds a constant and records it; draws nothing.
#[derive(Debug)]
struct Add(f32, &'static str);

impl Transform<Audio> for Add {
    fn name(&self) -> &'static str {
        self.1
    }
    fn apply(&self, x: &Audio, _rng: &mut dyn Rng, record: &mut Record) -> Result<Audio> {
        record.push(Applied::new(self.1).with("value", f64::from(self.0)));
        Ok(x.clone()
            .with_samples(x.samples().iter().map(|v| v + self.0).collect()))
    }
}

fn boxed(names: &[&'static str]) -> Vec<Box<dyn Transform<Audio>>> {
    names
        .iter()
        .enumerate()
        .map(|(i, &n)| Box::new(Add(10f32.powi(i as i32), n)) as Box<dyn Transform<Audio>>)
        .collect()
}

fn names(r: &Record) -> Vec<&str> {
    r.steps.iter().map(|s| s.name.as_str()).collect()
}

fn audio() -> Audio {
    Audio::new(
        (0..800).map(|i| (i as f32 * 0.05).sin() * 0.3).collect(),
        8_000,
    )
    .unwrap()
}

#[test]
fn compose_applies_all_in_order() {
    let c = Compose::from_transforms(boxed(&["a", "b", "c"]));
    let (y, r) = augment_seeded(&c, &audio(), 0).unwrap();
    assert_eq!(names(&r), ["a", "b", "c"]);
    assert_eq!(y.samples()[0], 111.0);
    assert_eq!(
        r.to_string(),
        "a(value=1.000000) -> b(value=10.000000) -> c(value=100.000000)"
    );
}

#[test]
fn compose_with_p0_applies_nothing_and_p1_applies_all() {
    let x = audio();
    for seed in 0..20 {
        let none = Compose::new()
            .then_with_p(Add(1.0, "a"), 0.0)
            .unwrap()
            .then_with_p(GaussianNoise::new(0.1).unwrap(), 0.0)
            .unwrap();
        let (y, r) = augment_seeded(&none, &x, seed).unwrap();
        assert!(r.is_empty());
        assert_eq!(y, x);
        assert_eq!(r.to_string(), "(nothing applied)");

        let all = Compose::new()
            .then_with_p(Add(1.0, "a"), 1.0)
            .unwrap()
            .then_with_p(GaussianNoise::new(0.1).unwrap(), 1.0)
            .unwrap();
        let (_, r) = augment_seeded(&all, &x, seed).unwrap();
        assert_eq!(names(&r), ["a", "gaussian_noise"]);
    }
}

#[test]
fn with_probability_half_applies_about_half() {
    let t = WithProbability::new(Add(1.0, "a"), 0.5).unwrap();
    let applied = (0..1000)
        .filter(|&s| !augment_seeded(&t, &audio(), s).unwrap().1.is_empty())
        .count();
    assert!((400..600).contains(&applied), "{applied}");
}

#[test]
fn empty_compose_returns_the_input() {
    let (y, r) = augment_seeded(&Compose::<Audio>::new(), &audio(), 0).unwrap();
    assert_eq!(y, audio());
    assert!(r.is_empty());
}

#[test]
fn one_of_applies_exactly_one_and_respects_weights() {
    let t = OneOf::new(boxed(&["a", "b", "c"])).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..50 {
        let (_, r) = augment_seeded(&t, &audio(), seed).unwrap();
        assert_eq!(r.steps.len(), 1);
        seen.insert(r.steps[0].name.clone());
    }
    assert_eq!(seen.len(), 3);

    let w = OneOf::weighted(boxed(&["a", "b", "c"]), &[0.0, 1.0, 3.0]).unwrap();
    let mut c = 0;
    for seed in 0..400 {
        let (_, r) = augment_seeded(&w, &audio(), seed).unwrap();
        assert_ne!(r.steps[0].name, "a", "a zero weight was chosen");
        c += usize::from(r.steps[0].name == "c");
    }
    assert!((250..350).contains(&c), "{c}");
}

#[test]
fn some_of_counts_within_range_distinct_in_listed_order() {
    let list = ["a", "b", "c", "d", "e"];
    let t = SomeOf::new(boxed(&list), 1, 3).unwrap();
    let mut counts = [0usize; 4];
    for seed in 0..300 {
        let (_, r) = augment_seeded(&t, &audio(), seed).unwrap();
        let got = names(&r);
        assert!((1..=3).contains(&got.len()), "{got:?}");
        let positions: Vec<usize> = got
            .iter()
            .map(|n| list.iter().position(|l| l == n).unwrap())
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "not distinct or not in order: {got:?}"
        );
        counts[got.len()] += 1;
    }
    assert!(counts[1..].iter().all(|&c| c > 50), "{counts:?}");
    let exact = SomeOf::new(boxed(&list), 5, 5).unwrap();
    assert_eq!(names(&augment_seeded(&exact, &audio(), 1).unwrap().1), list);
}

#[test]
fn combinators_same_seed_identical_different_seeds_differ() {
    let pipelines: Vec<Box<dyn Transform<Audio>>> = vec![
        Box::new(
            Compose::new()
                .then(Gain::uniform(-6.0, 6.0).unwrap())
                .then_with_p(GaussianNoise::uniform(0.0, 0.01).unwrap(), 0.7)
                .unwrap(),
        ),
        Box::new(
            OneOf::new(vec![
                Box::new(Gain::uniform(-6.0, 6.0).unwrap()),
                Box::new(GaussianNoise::research()),
            ])
            .unwrap(),
        ),
        Box::new(
            SomeOf::new(
                vec![
                    Box::new(Gain::uniform(-6.0, 6.0).unwrap()),
                    Box::new(GaussianNoise::research()),
                ],
                1,
                2,
            )
            .unwrap(),
        ),
        Box::new(WithProbability::new(GaussianNoise::research(), 0.5).unwrap()),
    ];
    let x = audio();
    for p in &pipelines {
        let (a, ra) = augment_seeded(&**p, &x, 11).unwrap();
        let (b, rb) = augment_seeded(&**p, &x, 11).unwrap();
        assert_eq!(a.samples(), b.samples());
        assert_eq!(ra, rb);
        let differs = (12..20).any(|s| augment_seeded(&**p, &x, s).unwrap().0 != a);
        assert!(differs, "{p:?}");
    }
}

#[test]
fn research_waveform_is_deterministic_and_records_its_draws() {
    let x = Audio::new(
        (0..8_000).map(|i| (i as f32 * 0.07).sin() * 0.4).collect(),
        16_000,
    )
    .unwrap();
    let all = research_waveform_with_p(1.0).unwrap();
    let (a, ra) = augment_seeded(&all, &x, 5).unwrap();
    let (b, rb) = augment_seeded(&all, &x, 5).unwrap();
    assert_eq!(a.samples(), b.samples());
    assert_eq!(ra, rb);
    assert_eq!(ra.steps.len(), 3, "{ra}");
    assert_eq!(ra.steps[2].params["amplitude"], 0.005);
    let (c, rc) = augment_seeded(&all, &x, 6).unwrap();
    assert!(rc != ra && c.samples() != a.samples());

    let half = research_waveform();
    assert_eq!(half.len(), 3);
    let sizes: std::collections::BTreeSet<usize> = (0..40)
        .map(|s| augment_seeded(&half, &x, s).unwrap().1.steps.len())
        .collect();
    assert!(
        sizes.len() > 1,
        "p = 0.5 should vary the number of steps: {sizes:?}"
    );
    assert!(matches!(
        research_waveform_with_p(1.5),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn research_spectrogram_is_deterministic() {
    let x: Spectrogram = Array2::from_shape_fn((8, 30), |(r, c)| (r + c) as f32);
    let t = research_spectrogram();
    let (a, ra) = augment_seeded(&t, &x, 1).unwrap();
    let (b, rb) = augment_seeded(&t, &x, 1).unwrap();
    assert_eq!((a, ra), (b, rb));
}

#[test]
fn bad_combinator_parameters_are_typed_errors() {
    assert!(matches!(
        OneOf::<Audio>::new(vec![]),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        OneOf::weighted(boxed(&["a", "b"]), &[1.0]),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        OneOf::weighted(boxed(&["a", "b"]), &[0.0, 0.0]),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        OneOf::weighted(boxed(&["a"]), &[f64::NAN]),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        SomeOf::<Audio>::new(vec![], 0, 0),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        SomeOf::new(boxed(&["a", "b"]), 2, 1),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        SomeOf::new(boxed(&["a", "b"]), 1, 3),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        WithProbability::new(Add(1.0, "a"), -0.1),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        WithProbability::new(Add(1.0, "a"), f64::NAN),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(Compose::new().then_with_p(Add(1.0, "a"), 2.0).is_err());
}

#[test]
fn errors_inside_a_pipeline_propagate() {
    let c = Compose::new()
        .then(Add(1.0, "a"))
        .then(GaussianNoise::research());
    let empty = Audio::new(vec![], 16_000).unwrap();
    assert!(matches!(
        augment_seeded(&c, &empty, 0),
        Err(Error::Empty { .. })
    ));
}

#[test]
fn record_display_and_serde_round_trip() {
    let c = Compose::new()
        .then(Gain::new(-6.0).unwrap())
        .then(GaussianNoise::research());
    let (_, r) = augment_seeded(&c, &audio(), 3).unwrap();
    assert_eq!(
        r.to_string(),
        "gain(gain_db=-6.000000) -> gaussian_noise(amplitude=0.005000)"
    );
    let json = serde_json::to_string(&r).unwrap();
    let back: Record = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn combinators_are_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Compose<Audio>>();
    assert_send_sync::<OneOf<Spectrogram>>();
    assert_send_sync::<SomeOf<Audio>>();
    assert_send_sync::<WithProbability<Gain>>();
}
