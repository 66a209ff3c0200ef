//! Run folders: nothing a user has is overwritten without asking, `--overwrite` leaves
//! nothing stale, a resume needs a run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;

use ser_models::Error;
use ser_models::run::{RUN_FILES, RunDirMode, prepare_run_dir};

#[test]
fn run_folders_are_never_clobbered() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("new");
    prepare_run_dir(&missing, RunDirMode::New).unwrap();
    assert!(
        !missing.exists(),
        "created only when there is something to write"
    );
    assert!(matches!(
        prepare_run_dir(&missing, RunDirMode::Resume),
        Err(Error::Checkpoint { .. })
    ));

    // Someone else's files: refused in every mode, untouched.
    let foreign = tmp.path().join("foreign");
    fs::create_dir(&foreign).unwrap();
    fs::write(foreign.join("metrics.json"), "mine").unwrap();
    for mode in [RunDirMode::New, RunDirMode::Resume, RunDirMode::Overwrite] {
        assert!(
            matches!(prepare_run_dir(&foreign, mode), Err(Error::Exists { .. })),
            "{mode:?}"
        );
    }
    assert_eq!(
        fs::read_to_string(foreign.join("metrics.json")).unwrap(),
        "mine"
    );

    // A run of ours: a new run is refused, a resume accepted, an overwrite clears every
    // file of the old run (and nothing else).
    let run = tmp.path().join("run");
    fs::create_dir_all(run.join("checkpoint")).unwrap();
    for name in RUN_FILES.iter().filter(|n| **n != "checkpoint") {
        fs::write(run.join(name), "old").unwrap();
    }
    fs::write(run.join("checkpoint/state.json"), "old").unwrap();
    fs::write(run.join("notes.txt"), "keep").unwrap();
    // What a write killed half-way leaves.
    fs::write(run.join(".ser-tmp-metrics"), "half").unwrap();
    assert!(matches!(
        prepare_run_dir(&run, RunDirMode::New),
        Err(Error::Exists { .. })
    ));
    prepare_run_dir(&run, RunDirMode::Resume).unwrap();
    assert!(run.join("model.safetensors").exists());
    prepare_run_dir(&run, RunDirMode::Overwrite).unwrap();
    for name in RUN_FILES {
        assert!(!run.join(name).exists(), "{name} left behind");
    }
    assert!(
        !run.join(".ser-tmp-metrics").exists(),
        "temporary file left behind"
    );
    assert_eq!(fs::read_to_string(run.join("notes.txt")).unwrap(), "keep");
}
