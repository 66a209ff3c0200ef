//! `collect_inputs`: inputs that would write the same output are refused.

use ser_examples::collect_inputs;

#[test]
fn inputs_that_would_share_an_output_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("corpus");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    for name in ["a.wav", "b.wav", "sub/a.wav"] {
        std::fs::write(root.join(name), b"x").unwrap();
    }
    let inputs = collect_inputs(std::slice::from_ref(&root)).unwrap();
    assert_eq!(inputs.len(), 3, "same stem in another folder is fine");
    for clash in ["a.flac", "A.WAV"] {
        std::fs::write(root.join(clash), b"x").unwrap();
        let e = collect_inputs(std::slice::from_ref(&root)).unwrap_err();
        assert!(e.to_string().contains("same output"), "{e}");
        std::fs::remove_file(root.join(clash)).unwrap();
    }
    // Two files given by name with the same stem clash too.
    std::fs::write(root.join("a.flac"), b"x").unwrap();
    assert!(collect_inputs(&[root.join("a.wav"), root.join("a.flac")]).is_err());
}
