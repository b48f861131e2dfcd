//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`, see docs/testing.md) through
//! the functions the fuzz targets call, so that every stable `cargo test` run checks the
//! parsers' invariants on them, crash reproducers included.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::panic;
use std::path::{Path, PathBuf};

use siseri_exchange::fuzzing;

/// Every file of the corpus folder of `target`; fails when the folder is missing or empty.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus folder {} unreadable: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "corpus folder {} is empty",
        dir.display()
    );
    files
}

/// Runs `run` on every file of the corpus of `target`, naming the files that fail.
fn replay(target: &str, run: fn(&[u8])) {
    let mut failed = Vec::new();
    let files = corpus(target);
    for path in &files {
        let data = fs::read(path).unwrap();
        if panic::catch_unwind(|| run(&data)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} files of fuzz/corpus/{target} fail:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

#[test]
fn resultats() {
    replay("resultats", fuzzing::results);
}

#[test]
fn travailleurs() {
    replay("travailleurs", fuzzing::workers);
}

#[test]
fn dosimetrie_operationnelle() {
    replay("dosimetrie_operationnelle", fuzzing::operational);
}
