//! `collect_inputs`: inputs that would write the same output are refused; `repo_path`
//! finds repository files at run time.

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

#[test]
fn repository_files_are_found_at_run_time() {
    // Tests run in examples/: the corpus is found in a parent folder.
    let found = ser_examples::repo_path("fixtures/corpora/quickstart").unwrap();
    assert!(found.join("Actor_01").is_dir(), "{}", found.display());
    let e = ser_examples::repo_path("fixtures/no-such-folder").unwrap_err();
    assert!(e.to_string().contains("clone of the ser repository"), "{e}");
}
