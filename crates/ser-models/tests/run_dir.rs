//! Run folders: nothing a user has is overwritten without asking, `--overwrite` leaves
//! nothing stale, a resume needs a run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;

use ser_models::Error;
use ser_models::run::{RUN_FILES, RunDirMode, is_run, member_dir, prepare_run_dir, run_members};

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

/// An ensemble run is a folder of member runs `member-1`, `member-2`, …: it is a run of
/// ours for the same rules, its members are listed in order, and a gap or a member without
/// its configuration is an error rather than a smaller ensemble.
#[test]
fn an_ensemble_run_is_its_numbered_members() {
    let tmp = tempfile::tempdir().unwrap();
    let ens = tmp.path().join("ens");
    for k in [1, 2, 10] {
        fs::create_dir_all(member_dir(&ens, k)).unwrap();
    }
    fs::write(ens.join("split.csv"), "old").unwrap();
    fs::write(ens.join("notes.txt"), "keep").unwrap();
    // Not yet a run: member-1 has no config.json.
    assert!(!is_run(&ens));
    assert!(matches!(
        prepare_run_dir(&ens, RunDirMode::Overwrite),
        Err(Error::Exists { .. })
    ));
    for k in [1, 2, 10] {
        fs::write(member_dir(&ens, k).join("config.json"), "{}").unwrap();
    }
    assert!(is_run(&ens));
    // member-1, member-2, member-10: a gap.
    let e = run_members(&ens).unwrap_err();
    assert!(e.to_string().contains("member-3"), "{e}");
    fs::remove_dir_all(member_dir(&ens, 10)).unwrap();
    assert_eq!(
        run_members(&ens).unwrap(),
        vec![member_dir(&ens, 1), member_dir(&ens, 2)]
    );
    // A run folder is its own single member; a folder of nothing is no run.
    assert_eq!(
        run_members(&member_dir(&ens, 2)).unwrap(),
        vec![member_dir(&ens, 2)]
    );
    assert!(run_members(tmp.path()).is_err());
    // Names that only look like members are not members.
    fs::create_dir_all(ens.join("member-x")).unwrap();
    fs::create_dir_all(ens.join("member-0")).unwrap();
    assert_eq!(run_members(&ens).unwrap().len(), 2);

    assert!(matches!(
        prepare_run_dir(&ens, RunDirMode::New),
        Err(Error::Exists { .. })
    ));
    prepare_run_dir(&ens, RunDirMode::Resume).unwrap();
    assert!(member_dir(&ens, 2).exists());
    prepare_run_dir(&ens, RunDirMode::Overwrite).unwrap();
    for gone in ["member-1", "member-2", "split.csv"] {
        assert!(!ens.join(gone).exists(), "{gone} left behind");
    }
    assert_eq!(fs::read_to_string(ens.join("notes.txt")).unwrap(), "keep");
    assert!(
        ens.join("member-x").exists(),
        "not a member folder: not ours to remove"
    );
}
