//! Corpus parsers and the tree scanner, on the fake trees of `fixtures/corpora/`
//! (made by `fixtures/scripts/make_corpus_fixtures.py`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use ser_datasets::parse::{
    CorpusParser, CremaDParser, EsdParser, JlCorpusParser, LabelPolicy, RavdessParser, SaveeParser,
    TessParser, parse_demographics,
};
use ser_datasets::{Corpus, Emotion, Gender, ScanError, ScanReport, Utterance, scan};

fn fixture(tree: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/corpora")
        .join(tree)
}

/// One expected utterance: path below the root, speaker, gender, original label,
/// emotion, intensity, language.
type Row = (
    &'static str,
    &'static str,
    Option<Gender>,
    &'static str,
    Option<Emotion>,
    Option<&'static str>,
    Option<&'static str>,
);

const M: Option<Gender> = Some(Gender::Male);
const F: Option<Gender> = Some(Gender::Female);

fn rows(report: &ScanReport, root: &Path) -> Vec<Row> {
    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }
    let mut out: Vec<Row> = report
        .utterances
        .iter()
        .map(|u| {
            let rel = u.path.strip_prefix(root).unwrap().to_string_lossy();
            (
                leak(rel.replace('\\', "/")),
                leak(u.speaker.clone()),
                u.gender,
                leak(u.original_label.clone()),
                u.emotion,
                u.intensity.clone().map(leak),
                u.language.clone().map(leak),
            )
        })
        .collect();
    out.sort();
    out
}

fn sorted(mut v: Vec<Row>) -> Vec<Row> {
    v.sort();
    v
}

fn rejected_names(report: &ScanReport, root: &Path) -> Vec<String> {
    let mut v: Vec<String> = report
        .rejected
        .iter()
        .map(|r| {
            assert!(!r.reason.is_empty());
            r.path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    v.sort();
    v
}

fn scan_one(tree: &str, corpus: Option<Corpus>) -> (PathBuf, ScanReport) {
    let root = fixture(tree);
    let report = scan(std::slice::from_ref(&root), corpus, &LabelPolicy::default()).unwrap();
    (root, report)
}

/// Auto-detection and the explicit corpus give the same report, naming the corpus.
fn scan_both(tree: &str, corpus: Corpus) -> (PathBuf, ScanReport) {
    let (root, auto) = scan_one(tree, None);
    let (_, named) = scan_one(tree, Some(corpus));
    assert_eq!(auto.roots[0].corpus, Some(corpus), "{tree}");
    assert_eq!(
        auto, named,
        "{tree}: auto-detected scan differs from the named one"
    );
    (root, auto)
}

#[test]
fn ravdess_tree_every_label_gender_intensity_and_flac() {
    let (root, r) = scan_both("ravdess", Corpus::Ravdess);
    let n = Some("normal");
    let s = Some("strong");
    let e = |x| Some(x);
    assert_eq!(
        rows(&r, &root),
        sorted(vec![
            (
                "Actor_01/03-01-01-01-01-01-01.wav",
                "ravdess:01",
                M,
                "neutral",
                e(Emotion::Neutral),
                n,
                None
            ),
            (
                "Actor_01/03-01-02-01-01-01-01.wav",
                "ravdess:01",
                M,
                "calm",
                None,
                n,
                None
            ),
            (
                "Actor_01/03-01-02-02-01-01-01.wav",
                "ravdess:01",
                M,
                "calm",
                None,
                s,
                None
            ),
            (
                "Actor_01/03-01-03-02-02-01-01.wav",
                "ravdess:01",
                M,
                "happy",
                e(Emotion::Happy),
                s,
                None
            ),
            (
                "Actor_02/03-01-04-01-01-01-02.wav",
                "ravdess:02",
                F,
                "sad",
                e(Emotion::Sad),
                n,
                None
            ),
            (
                "Actor_02/03-01-05-02-01-02-02.wav",
                "ravdess:02",
                F,
                "angry",
                e(Emotion::Angry),
                s,
                None
            ),
            (
                "Actor_02/03-01-06-01-02-01-02.wav",
                "ravdess:02",
                F,
                "fearful",
                e(Emotion::Fearful),
                n,
                None
            ),
            (
                "Actor_02/03-01-07-02-01-01-02.wav",
                "ravdess:02",
                F,
                "disgust",
                e(Emotion::Disgust),
                s,
                None
            ),
            (
                "Actor_02/03-01-08-01-01-01-02.wav",
                "ravdess:02",
                F,
                "surprised",
                e(Emotion::Surprise),
                n,
                None
            ),
            (
                "Actor_12/03-02-03-01-01-01-12.wav",
                "ravdess:12",
                F,
                "happy",
                e(Emotion::Happy),
                n,
                None
            ),
            (
                "Actor_12/03-02-06-02-02-02-12.flac",
                "ravdess:12",
                F,
                "fearful",
                e(Emotion::Fearful),
                s,
                None
            ),
        ])
    );
    assert_eq!(
        rejected_names(&r, &root),
        [
            "Actor_01/03-01-01-01-01-01.wav",
            "Actor_01/03-01-09-01-01-01-01.wav",
            "Actor_01/take 2.wav",
            "Actor_02/03-01-01-01-01-01-05.wav",
        ]
    );
    assert!(r.rejected.iter().all(|x| x.corpus == Some(Corpus::Ravdess)));
    let reason = |name: &str| {
        r.rejected
            .iter()
            .find(|x| x.path.ends_with(name))
            .map(|x| x.reason.clone())
            .unwrap()
    };
    assert!(reason("03-01-09-01-01-01-01.wav").contains("emotion 09"));
    assert!(reason("03-01-01-01-01-01-05.wav").contains("Actor_02"));
    assert_eq!(r.ignored, 2);
    assert_eq!(r.duplicates.len(), 1);
    assert!(
        r.duplicates[0]
            .path
            .ends_with("Actor_02/03-01-04-01-01-02-02.wav")
    );
    assert!(
        r.duplicates[0]
            .same_as
            .ends_with("Actor_02/03-01-04-01-01-01-02.wav")
    );
}

#[test]
fn savee_flat_and_folder_layouts_every_label() {
    let e = |x| Some(x);
    let (root, r) = scan_both("savee_flat", Corpus::Savee);
    assert_eq!(
        rows(&r, &root),
        sorted(vec![
            (
                "DC_a01.wav",
                "savee:DC",
                M,
                "a",
                e(Emotion::Angry),
                None,
                None
            ),
            (
                "DC_d02.wav",
                "savee:DC",
                M,
                "d",
                e(Emotion::Disgust),
                None,
                None
            ),
            (
                "JE_f03.wav",
                "savee:JE",
                M,
                "f",
                e(Emotion::Fearful),
                None,
                None
            ),
            (
                "JE_h04.wav",
                "savee:JE",
                M,
                "h",
                e(Emotion::Happy),
                None,
                None
            ),
            (
                "JK_n30.wav",
                "savee:JK",
                M,
                "n",
                e(Emotion::Neutral),
                None,
                None
            ),
            (
                "JK_sa05.wav",
                "savee:JK",
                M,
                "sa",
                e(Emotion::Sad),
                None,
                None
            ),
            (
                "KL_su15.wav",
                "savee:KL",
                M,
                "su",
                e(Emotion::Surprise),
                None,
                None
            ),
        ])
    );
    assert_eq!(rejected_names(&r, &root), ["DC_n31.wav", "KL_x01.wav"]);
    assert_eq!(r.ignored, 1);

    let (root, r) = scan_both("savee_folders", Corpus::Savee);
    assert_eq!(
        rows(&r, &root),
        sorted(vec![
            (
                "DC/a01.wav",
                "savee:DC",
                M,
                "a",
                e(Emotion::Angry),
                None,
                None
            ),
            (
                "JE/d01.wav",
                "savee:JE",
                M,
                "d",
                e(Emotion::Disgust),
                None,
                None
            ),
            (
                "JK/f01.wav",
                "savee:JK",
                M,
                "f",
                e(Emotion::Fearful),
                None,
                None
            ),
            (
                "KL/h01.wav",
                "savee:KL",
                M,
                "h",
                e(Emotion::Happy),
                None,
                None
            ),
            (
                "DC/n01.wav",
                "savee:DC",
                M,
                "n",
                e(Emotion::Neutral),
                None,
                None
            ),
            (
                "JE/sa01.wav",
                "savee:JE",
                M,
                "sa",
                e(Emotion::Sad),
                None,
                None
            ),
            (
                "JK/su01.wav",
                "savee:JK",
                M,
                "su",
                e(Emotion::Surprise),
                None,
                None
            ),
        ])
    );
    assert_eq!(rejected_names(&r, &root), ["KL/z01.wav"]);
    assert_eq!(r.ignored, 1);
}

fn crema_rows(gendered: bool) -> Vec<Row> {
    let g = |x: Option<Gender>| if gendered { x } else { None };
    let e = |x| Some(x);
    sorted(vec![
        (
            "1001_DFA_ANG_XX.wav",
            "crema-d:1001",
            g(M),
            "ANG",
            e(Emotion::Angry),
            Some("XX"),
            None,
        ),
        (
            "1002_IEO_DIS_HI.wav",
            "crema-d:1002",
            g(F),
            "DIS",
            e(Emotion::Disgust),
            Some("HI"),
            None,
        ),
        (
            "1003_IOM_FEA_LO.wav",
            "crema-d:1003",
            g(F),
            "FEA",
            e(Emotion::Fearful),
            Some("LO"),
            None,
        ),
        (
            "1091_WSI_HAP_MD.wav",
            "crema-d:1091",
            g(F),
            "HAP",
            e(Emotion::Happy),
            Some("MD"),
            None,
        ),
        (
            "1004_TIE_NEU_XX.wav",
            "crema-d:1004",
            g(F),
            "NEU",
            e(Emotion::Neutral),
            Some("XX"),
            None,
        ),
        (
            "1005_ITS_SAD_XX.wav",
            "crema-d:1005",
            g(M),
            "SAD",
            e(Emotion::Sad),
            Some("XX"),
            None,
        ),
    ])
}

#[test]
fn crema_d_labels_levels_and_demographics_from_root_or_parent() {
    // Root = AudioWAV: the demographics file is in the parent.
    let (root, r) = scan_both("crema-d/AudioWAV", Corpus::CremaD);
    assert_eq!(rows(&r, &root), crema_rows(true));
    assert_eq!(
        rejected_names(&r, &root),
        [
            "1001_DFA_ANG.wav",
            "1001_DFA_CAL_XX.wav",
            "1001_XYZ_ANG_XX.wav",
            "1092_DFA_ANG_XX.wav"
        ]
    );
    // Root = crema-d: the demographics file is in the root.
    let (root, r) = scan_both("crema-d", Corpus::CremaD);
    let with_dir: Vec<Row> = crema_rows(true)
        .into_iter()
        .map(|mut row| {
            row.0 = Box::leak(format!("AudioWAV/{}", row.0).into_boxed_str());
            row
        })
        .collect();
    assert_eq!(rows(&r, &root), with_dir);
    assert_eq!(r.ignored, 2); // README.md and VideoDemographics.csv

    // Without demographics the gender is unknown.
    let plain = CremaDParser::default();
    let path = fixture("crema-d/AudioWAV/1001_DFA_ANG_XX.wav");
    let u = plain
        .parse(&fixture("crema-d/AudioWAV"), &path, &LabelPolicy::default())
        .unwrap()
        .unwrap();
    assert_eq!(u.gender, None);
    assert_eq!(u.emotion, Some(Emotion::Angry));
}

#[test]
fn crema_d_demographics_malformed_is_an_error() {
    let p = Path::new("VideoDemographics.csv");
    assert!(parse_demographics(p, "ActorID,Age\n1001,51\n").is_err());
    assert!(parse_demographics(p, "ActorID,Age,Sex\n1001,51,Other\n").is_err());
    assert!(parse_demographics(p, "ActorID,Age,Sex\n1001\n").is_err());
    let ok = parse_demographics(p, "\u{feff}ActorID,Age,Sex\n1001,51,Male\n\n").unwrap();
    assert_eq!(ok.get("1001"), Some(&Gender::Male));
}

#[test]
fn tess_capitalisation_oa_bite_and_every_label() {
    let (root, r) = scan_both("tess", Corpus::Tess);
    let e = |x| Some(x);
    assert_eq!(
        rows(&r, &root),
        sorted(vec![
            (
                "OAF_angry/OAF_back_angry.wav",
                "tess:OAF",
                F,
                "angry",
                e(Emotion::Angry),
                None,
                None
            ),
            (
                "OAF_disgust/OAF_bar_disgust.wav",
                "tess:OAF",
                F,
                "disgust",
                e(Emotion::Disgust),
                None,
                None
            ),
            (
                "OAF_Fear/OAF_base_fear.wav",
                "tess:OAF",
                F,
                "fear",
                e(Emotion::Fearful),
                None,
                None
            ),
            (
                "OAF_happy/OAF_bath_happy.wav",
                "tess:OAF",
                F,
                "happy",
                e(Emotion::Happy),
                None,
                None
            ),
            (
                "OAF_neutral/OAF_bean_neutral.wav",
                "tess:OAF",
                F,
                "neutral",
                e(Emotion::Neutral),
                None,
                None
            ),
            (
                "OAF_neutral/OA_bite_neutral.wav",
                "tess:OAF",
                F,
                "neutral",
                e(Emotion::Neutral),
                None,
                None
            ),
            (
                "OAF_Pleasant_surprise/OAF_bone_ps.wav",
                "tess:OAF",
                F,
                "ps",
                e(Emotion::Surprise),
                None,
                None
            ),
            (
                "OAF_Sad/OAF_boat_sad.wav",
                "tess:OAF",
                F,
                "sad",
                e(Emotion::Sad),
                None,
                None
            ),
            (
                "YAF_angry/YAF_back_angry.wav",
                "tess:YAF",
                F,
                "angry",
                e(Emotion::Angry),
                None,
                None
            ),
            (
                "YAF_disgust/YAF_bar_disgust.wav",
                "tess:YAF",
                F,
                "disgust",
                e(Emotion::Disgust),
                None,
                None
            ),
            (
                "YAF_fear/YAF_base_fear.wav",
                "tess:YAF",
                F,
                "fear",
                e(Emotion::Fearful),
                None,
                None
            ),
            (
                "YAF_happy/YAF_bath_happy.wav",
                "tess:YAF",
                F,
                "happy",
                e(Emotion::Happy),
                None,
                None
            ),
            (
                "YAF_neutral/YAF_bean_neutral.wav",
                "tess:YAF",
                F,
                "neutral",
                e(Emotion::Neutral),
                None,
                None
            ),
            (
                "YAF_pleasant_surprised/YAF_bar_ps.wav",
                "tess:YAF",
                F,
                "ps",
                e(Emotion::Surprise),
                None,
                None
            ),
            (
                "YAF_sad/YAF_boat_sad.wav",
                "tess:YAF",
                F,
                "sad",
                e(Emotion::Sad),
                None,
                None
            ),
        ])
    );
    assert_eq!(
        rejected_names(&r, &root),
        [
            "OAF_angry/OAF_back_mad.wav",
            "YAF_happy/YAF_happy.wav",
            "YAF_sad/YAF_cab_happy.wav"
        ]
    );
    assert_eq!(r.ignored, 1);
}

#[test]
fn esd_with_and_without_split_folders_language_and_labels() {
    let (root, r) = scan_both("esd", Corpus::Esd);
    let e = |x| Some(x);
    let zh = Some("mandarin");
    let en = Some("english");
    assert_eq!(
        rows(&r, &root),
        sorted(vec![
            (
                "0001/Angry/0001_000351.wav",
                "esd:0001",
                None,
                "Angry",
                e(Emotion::Angry),
                None,
                zh
            ),
            (
                "0001/Happy/0001_000701.wav",
                "esd:0001",
                None,
                "Happy",
                e(Emotion::Happy),
                None,
                zh
            ),
            (
                "0005/Neutral/0005_000001.wav",
                "esd:0005",
                None,
                "Neutral",
                e(Emotion::Neutral),
                None,
                zh
            ),
            (
                "0010/Sad/0010_001051.wav",
                "esd:0010",
                None,
                "Sad",
                e(Emotion::Sad),
                None,
                zh
            ),
            (
                "0010/Surprise/0010_001401.wav",
                "esd:0010",
                None,
                "Surprise",
                e(Emotion::Surprise),
                None,
                zh
            ),
            (
                "0011/Angry/train/0011_000351.wav",
                "esd:0011",
                None,
                "Angry",
                e(Emotion::Angry),
                None,
                en
            ),
            (
                "0011/Happy/evaluation/0011_000721.wav",
                "esd:0011",
                None,
                "Happy",
                e(Emotion::Happy),
                None,
                en
            ),
            (
                "0011/Neutral/test/0011_000001.wav",
                "esd:0011",
                None,
                "Neutral",
                e(Emotion::Neutral),
                None,
                en
            ),
            (
                "0020/Sad/train/0020_001100.wav",
                "esd:0020",
                None,
                "Sad",
                e(Emotion::Sad),
                None,
                en
            ),
            (
                "0020/Surprise/0020_001500.wav",
                "esd:0020",
                None,
                "Surprise",
                e(Emotion::Surprise),
                None,
                en
            ),
        ])
    );
    assert_eq!(
        rejected_names(&r, &root),
        [
            "0011/Bored/0011_000100.wav",
            "0011/Sad/0011_00105.wav",
            "0012/Angry/0011_000400.wav",
            "0021/Angry/0021_000351.wav"
        ]
    );
    assert_eq!(r.ignored, 1);
    // Chinese emotion folders of some copies.
    let u = EsdParser
        .parse(
            Path::new("esd"),
            Path::new("esd/0003/惊喜/0003_001402.wav"),
            &LabelPolicy::default(),
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.emotion, u.original_label.as_str()),
        (Some(Emotion::Surprise), "Surprise")
    );
}

#[test]
fn jl_corpus_primary_and_secondary_at_any_depth() {
    let (root, r) = scan_both("jl-corpus", Corpus::JlCorpus);
    let raw = "Raw JL corpus (unchecked and unannotated)/JL(wav+txt)/";
    let sec = "JL_secondary_bndl/secondary/";
    let p = |dir: &str, name: &str| -> &'static str {
        Box::leak(format!("{dir}{name}").into_boxed_str())
    };
    let e = |x| Some(x);
    assert_eq!(
        rows(&r, &root),
        sorted(vec![
            (
                p(raw, "female1_angry_1a_1.wav"),
                "jl-corpus:female1",
                F,
                "angry",
                e(Emotion::Angry),
                None,
                None
            ),
            (
                p(raw, "male1_sad_2b_2.wav"),
                "jl-corpus:male1",
                M,
                "sad",
                e(Emotion::Sad),
                None,
                None
            ),
            (
                p(raw, "female2_neutral_3a_1.wav"),
                "jl-corpus:female2",
                F,
                "neutral",
                e(Emotion::Neutral),
                None,
                None
            ),
            (
                p(raw, "male2_happy_4b_1.wav"),
                "jl-corpus:male2",
                M,
                "happy",
                e(Emotion::Happy),
                None,
                None
            ),
            (
                p(raw, "female1_excited_5a_2.wav"),
                "jl-corpus:female1",
                F,
                "excited",
                None,
                None,
                None
            ),
            (
                p(sec, "male1_anxious_1a_1.wav"),
                "jl-corpus:male1",
                M,
                "anxious",
                None,
                None,
                None
            ),
            (
                p(sec, "female2_apologetic_2a_1.wav"),
                "jl-corpus:female2",
                F,
                "apologetic",
                None,
                None,
                None
            ),
            (
                p(sec, "male2_assertive_3b_2.wav"),
                "jl-corpus:male2",
                M,
                "assertive",
                None,
                None,
                None
            ),
            (
                p(sec, "female1_concerned_4a_1.wav"),
                "jl-corpus:female1",
                F,
                "concerned",
                None,
                None,
                None
            ),
            (
                p(sec, "male1_encouraging_5b_1.wav"),
                "jl-corpus:male1",
                M,
                "encouraging",
                None,
                None,
                None
            ),
        ])
    );
    assert_eq!(r.rejected.len(), 3);
    assert_eq!(r.ignored, 1);
}

#[test]
fn label_policy_overrides_apply_per_label_and_per_corpus() {
    let policy = LabelPolicy::default()
        .with_override("calm", Some(Emotion::Neutral))
        .with_override("EXCITED", Some(Emotion::Happy))
        .with_corpus_override(Corpus::Tess, "ps", None)
        .with_corpus_override(Corpus::Ravdess, "happy", None);
    let roots = [fixture("ravdess"), fixture("tess"), fixture("jl-corpus")];
    let r = scan(&roots, None, &policy).unwrap();
    let emotion_of = |name: &str| {
        r.utterances
            .iter()
            .find(|u| u.path.ends_with(name))
            .map(|u| u.emotion)
            .unwrap()
    };
    assert_eq!(
        emotion_of("03-01-02-02-01-01-01.wav"),
        Some(Emotion::Neutral)
    );
    assert_eq!(emotion_of("03-01-03-02-02-01-01.wav"), None);
    assert_eq!(emotion_of("female1_excited_5a_2.wav"), Some(Emotion::Happy));
    assert_eq!(emotion_of("male1_anxious_1a_1.wav"), None);
    assert_eq!(emotion_of("YAF_bar_ps.wav"), None);
    // Untouched labels keep the default mapping, and JL's "happy" is not RAVDESS's.
    assert_eq!(emotion_of("male2_happy_4b_1.wav"), Some(Emotion::Happy));
    assert_eq!(
        emotion_of("OAF_Fear/OAF_base_fear.wav"),
        Some(Emotion::Fearful)
    );
    // The original label is never changed.
    assert!(
        r.utterances
            .iter()
            .any(|u| u.original_label == "calm" && u.emotion == Some(Emotion::Neutral))
    );
}

fn parsers() -> Vec<Box<dyn CorpusParser>> {
    vec![
        Box::new(RavdessParser),
        Box::new(SaveeParser),
        Box::new(CremaDParser::default()),
        Box::new(EsdParser),
        Box::new(TessParser),
        Box::new(JlCorpusParser),
    ]
}

#[test]
fn flac_and_other_extensions_parse_the_same() {
    let policy = LabelPolicy::default();
    let trees = [
        "ravdess",
        "savee_flat",
        "savee_folders",
        "crema-d",
        "tess",
        "esd",
        "jl-corpus",
    ];
    let mut checked = 0;
    for tree in trees {
        let (root, r) = scan_one(tree, None);
        let parser = parsers()
            .into_iter()
            .find(|p| Some(p.corpus()) == r.roots[0].corpus)
            .unwrap();
        for u in &r.utterances {
            for ext in ["flac", "FLAC", "mp3", "ogg", "aiff", "wav"] {
                let other = u.path.with_extension(ext);
                let mut v: Utterance = parser.parse(&root, &other, &policy).unwrap().unwrap();
                assert_eq!(v.path, other);
                v.path = u.path.clone();
                if u.corpus == Corpus::CremaD {
                    v.gender = u.gender; // the bare parser has no demographics
                }
                assert_eq!(&v, u);
                checked += 1;
            }
            assert_eq!(
                parser.parse(&root, &u.path.with_extension("txt"), &policy),
                Ok(None)
            );
        }
    }
    assert_eq!(checked, 66 * 6);
}

#[test]
fn mixed_root_detects_each_file_s_corpus() {
    let all = fixture("");
    let r = scan(std::slice::from_ref(&all), None, &LabelPolicy::default()).unwrap();
    let mut expected = 0;
    let mut rejected = 0;
    for tree in [
        "ravdess",
        "savee_flat",
        "savee_folders",
        "crema-d",
        "tess",
        "esd",
        "jl-corpus",
        "quickstart",
    ] {
        let (_, one) = scan_one(tree, None);
        expected += one.utterances.len();
        rejected += one.rejected.len();
    }
    assert_eq!(r.utterances.len(), expected);
    assert_eq!(r.rejected.len(), rejected);
    assert_eq!(r.duplicates.len(), 1);
    for c in Corpus::ALL {
        assert!(r.utterances.iter().any(|u| u.corpus == c), "{c}");
    }
}

#[test]
fn scan_is_deterministic_and_sorted() {
    let (_, a) = scan_one("tess", None);
    let (_, b) = scan_one("tess", None);
    assert_eq!(a, b);
    let paths: Vec<_> = a.utterances.iter().map(|u| u.path.clone()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
}

#[test]
fn explicit_wrong_corpus_rejects_every_file_with_a_reason() {
    let (_, r) = scan_one("tess", Some(Corpus::Ravdess));
    assert!(r.utterances.is_empty());
    assert_eq!(r.rejected.len(), 18);
    assert!(r.rejected.iter().all(|x| !x.reason.is_empty()));
}

#[test]
fn missing_root_is_an_error_not_a_panic() {
    let err = scan(&[fixture("no-such-corpus")], None, &LabelPolicy::default()).unwrap_err();
    assert!(matches!(err, ScanError::NotADirectory { .. }));
}

#[test]
fn strange_tree_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("hello.wav"), b"x").unwrap();
    std::fs::write(root.join("notes.md"), b"x").unwrap();
    std::fs::create_dir(root.join("empty")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root.join("missing.wav"), root.join("dangling.wav")).unwrap();
        std::os::unix::fs::symlink(root, root.join("empty/loop")).unwrap();
    }
    let r = scan(&[root.to_path_buf()], None, &LabelPolicy::default()).unwrap();
    assert!(r.utterances.is_empty());
    assert_eq!(r.roots[0].corpus, None);
    assert_eq!(r.ignored, 1);
    assert!(r.rejected.iter().any(|x| x.path.ends_with("hello.wav")));
    #[cfg(unix)]
    {
        assert!(
            r.rejected
                .iter()
                .any(|x| x.reason.starts_with("unreadable"))
        );
        assert!(r.rejected.len() >= 3, "{:?}", r.rejected);
    }
}

/// A tiny deterministic generator (tests never depend on a random seed from the clock).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn junk_names_never_panic() {
    const PIECES: [&str; 24] = [
        "_", "-", ".", "0", "1", "01", "1001", "0011", "000351", "Actor_", "OAF", "YAF_", "DC",
        "sa", "su", "female", "male1", "angry", "ps", "ANG", "XX", "é", "惊喜", " ",
    ];
    let policy = LabelPolicy::default();
    let parsers = parsers();
    let mut rng = Lcg(42);
    let mut claimed = 0;
    for _ in 0..20_000 {
        let mut name = String::new();
        let mut path = PathBuf::from("root");
        for _ in 0..(rng.next() % 4) {
            let mut dir = String::new();
            for _ in 0..(1 + rng.next() % 3) {
                dir.push_str(PIECES[(rng.next() % PIECES.len() as u64) as usize]);
            }
            path.push(dir.trim_matches('.').replace('.', "x") + "d");
        }
        for _ in 0..(rng.next() % 8) {
            name.push_str(PIECES[(rng.next() % PIECES.len() as u64) as usize]);
        }
        name.push_str(".wav");
        path.push(name);
        for p in &parsers {
            match p.parse(Path::new("root"), &path, &policy) {
                Ok(Some(_)) => claimed += 1,
                Ok(None) => {}
                Err(e) => assert!(!e.reason.is_empty()),
            }
        }
    }
    assert!(claimed < 20_000 * 6);
    // Degenerate paths.
    for path in [
        "",
        ".wav",
        "/",
        "..",
        "a/../.wav",
        "_.wav",
        "-.wav",
        "Actor_01/.wav",
    ] {
        for p in &parsers {
            let _ = p.parse(Path::new(""), Path::new(path), &policy);
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let odd = Path::new(std::ffi::OsStr::from_bytes(b"Actor_01/03-01-\xff-01.wav"));
        for p in &parsers {
            assert_eq!(p.parse(Path::new(""), odd, &policy), Ok(None));
        }
    }
}

#[test]
fn parsers_are_send_sync_and_boxable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RavdessParser>();
    assert_send_sync::<SaveeParser>();
    assert_send_sync::<CremaDParser>();
    assert_send_sync::<EsdParser>();
    assert_send_sync::<TessParser>();
    assert_send_sync::<JlCorpusParser>();
    assert_send_sync::<Box<dyn CorpusParser>>();
    let corpora: Vec<Corpus> = parsers().iter().map(|p| p.corpus()).collect();
    assert_eq!(corpora, Corpus::ALL);
    let by_ref: &dyn CorpusParser = &TessParser;
    let arc = std::sync::Arc::new(TessParser);
    assert_eq!((&by_ref).corpus(), arc.corpus());
}

/// Real-data agreement: scans `$SER_CORPUS_DIR/{RAVDESS,TESS}` (default
/// `/work/shared/corpus`) and compares every file with the corpus's `manifest.csv`
/// (columns `path,corpus,speaker,gender,original_label,emotion7,...`). Not part of
/// `cargo test` (the corpora live outside the repository):
///
/// `cargo test --release -p ser-datasets --test parsers -- --ignored --nocapture`
#[test]
#[ignore = "needs the real corpora (SER_CORPUS_DIR)"]
fn real_corpora_agree_with_their_manifests() {
    let base = std::env::var_os("SER_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/corpus"));
    for (dir, corpus) in [("RAVDESS", Corpus::Ravdess), ("TESS", Corpus::Tess)] {
        let root = base.join(dir);
        let text = std::fs::read_to_string(root.join("manifest.csv")).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
        let (c_path, c_spk, c_gender, c_label, c_emo) = (
            col("path"),
            col("speaker"),
            col("gender"),
            col("original_label"),
            col("emotion7"),
        );
        let expected: std::collections::BTreeMap<PathBuf, Vec<String>> = lines
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (
                    root.join(f[c_path]),
                    vec![
                        format!("{}:{}", corpus.as_str(), f[c_spk]),
                        f[c_gender].to_string(),
                        f[c_label].to_string(),
                        f[c_emo].to_string(),
                    ],
                )
            })
            .collect();
        for named in [None, Some(corpus)] {
            let start = std::time::Instant::now();
            let r = scan(std::slice::from_ref(&root), named, &LabelPolicy::default()).unwrap();
            let took = start.elapsed();
            let got: std::collections::BTreeMap<PathBuf, Vec<String>> = r
                .utterances
                .iter()
                .chain(r.duplicates.iter().map(|d| &d.utterance))
                .map(|u| {
                    (
                        u.path.clone(),
                        vec![
                            u.speaker.clone(),
                            u.gender.map(|g| g.as_str().to_string()).unwrap_or_default(),
                            u.original_label.clone(),
                            u.emotion
                                .map(|e| e.as_str().to_string())
                                .unwrap_or_default(),
                        ],
                    )
                })
                .collect();
            let mismatches = expected
                .iter()
                .filter(|(p, row)| got.get(*p) != Some(row))
                .count()
                + got.keys().filter(|p| !expected.contains_key(*p)).count();
            println!(
                "{dir} (corpus {}): manifest {} rows, scanned {} utterances + {} duplicates, \
                 {} rejected, {} ignored, {mismatches} mismatches, {:.1} ms",
                named.map_or("auto".to_string(), |c| c.to_string()),
                expected.len(),
                r.utterances.len(),
                r.duplicates.len(),
                r.rejected.len(),
                r.ignored,
                took.as_secs_f64() * 1e3,
            );
            for x in r.rejected.iter().take(5) {
                println!("  rejected {:?}: {}", x.path, x.reason);
            }
            for d in r.duplicates.iter().take(5) {
                println!("  duplicate {:?} = {:?}", d.path, d.same_as);
            }
            assert_eq!(r.roots[0].corpus, Some(corpus));
            assert_eq!(mismatches, 0);
            assert!(r.rejected.is_empty());
        }
    }
}

#[test]
fn bad_names_are_errors_with_reasons() {
    let policy = LabelPolicy::default();
    let cases: [(&dyn CorpusParser, &str, &str); 22] = [
        (
            &RavdessParser,
            "Actor_01/04-01-01-01-01-01-01.wav",
            "modality",
        ),
        (
            &RavdessParser,
            "Actor_01/03-03-01-01-01-01-01.wav",
            "vocal channel",
        ),
        (
            &RavdessParser,
            "Actor_01/03-01-00-01-01-01-01.wav",
            "emotion 00",
        ),
        (
            &RavdessParser,
            "Actor_01/03-01-01-03-01-01-01.wav",
            "intensity",
        ),
        (
            &RavdessParser,
            "Actor_01/03-01-01-01-03-01-01.wav",
            "statement",
        ),
        (
            &RavdessParser,
            "Actor_01/03-01-01-01-01-03-01.wav",
            "repetition",
        ),
        (&RavdessParser, "03-01-01-01-01-01-25.wav", "actor 25"),
        (&RavdessParser, "03-01-01-01-01-01-1x.wav", "two digits"),
        (&SaveeParser, "JE/DC_a01.wav", "folder"),
        (&SaveeParser, "DC_a1.wav", "sentence number"),
        (&SaveeParser, "DC_su16.wav", "01..15"),
        (
            &CremaDParser::default(),
            "1000_DFA_ANG_XX.wav",
            "speaker 1000",
        ),
        (&CremaDParser::default(), "1001_DFA_ANG_YY.wav", "level"),
        (&TessParser, "OAF_Fear/OAF_back_angry.wav", "folder"),
        (&TessParser, "YAF_back_bored.wav", "emotion"),
        (&EsdParser, "0011_000351.wav", "no emotion folder"),
        (&EsdParser, "0000/Angry/0000_000351.wav", "speaker 0000"),
        (&EsdParser, "0011/Angry/0011_1.wav", "six digits"),
        (&JlCorpusParser, "female_angry_1a_1.wav", "female<N>"),
        (&JlCorpusParser, "male1_angry_a1_1.wav", "sentence"),
        (&JlCorpusParser, "male1_angry_1a_x.wav", "session"),
        (&JlCorpusParser, "male1_angry_1a_1_extra.wav", "four fields"),
    ];
    for (parser, name, needle) in cases {
        let err = parser
            .parse(Path::new(""), Path::new(name), &policy)
            .expect_err(name);
        assert_eq!(err.corpus, parser.corpus());
        assert_eq!(err.path, Path::new(name));
        assert!(err.reason.contains(needle), "{name}: {}", err.reason);
        assert!(err.to_string().contains(&err.reason));
    }
    // Not theirs: `Ok(None)`.
    for (parser, name) in [
        (&RavdessParser as &dyn CorpusParser, "OAF_back_angry.wav"),
        (&SaveeParser, "03-01-01-01-01-01-01.wav"),
        (&CremaDParser::default(), "0011_000351.wav"),
        (&TessParser, "DC_a01.wav"),
        (&EsdParser, "1001_DFA_ANG_XX.wav"),
        (&JlCorpusParser, "YAF_back_angry.wav"),
    ] {
        assert_eq!(
            parser.parse(Path::new(""), Path::new(name), &policy),
            Ok(None),
            "{name}"
        );
    }
    // TESS without its folder takes the speaker from the name.
    let u = TessParser
        .parse(Path::new(""), Path::new("YAF_back_ps.flac"), &policy)
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.speaker.as_str(), u.emotion),
        ("tess:YAF", Some(Emotion::Surprise))
    );
}

#[test]
fn tess_file_of_the_other_speaker_in_a_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let policy = LabelPolicy::default();
    std::fs::create_dir_all(root.join("OAF_angry")).unwrap();
    let wrong = root.join("OAF_angry/YAF_back_angry.wav");
    let e = TessParser.parse(root, &wrong, &policy).unwrap_err();
    assert!(e.to_string().contains("YAF"), "{e}");
    // The name's own speaker, or none (TESS's own OA_bite_neutral), is fine.
    let right = root.join("OAF_angry/OAF_back_angry.wav");
    let u = TessParser.parse(root, &right, &policy).unwrap().unwrap();
    assert_eq!(u.speaker, "tess:OAF");
    let odd = root.join("OAF_angry/OA_bite_angry.wav");
    assert_eq!(
        TessParser
            .parse(root, &odd, &policy)
            .unwrap()
            .unwrap()
            .speaker,
        "tess:OAF"
    );
}
