//! Runs every case through the public API: the vendored conformance corpus
//! (tests/policy-eval/cases) and the project's own cases in the same format
//! (tests/policy-eval-strongbox/cases).

use std::path::PathBuf;

use strongbox_policy::case::run_case;

#[test]
fn every_conformance_case_passes() {
    run_folder("policy-eval");
}

#[test]
fn every_project_case_passes() {
    run_folder("policy-eval-strongbox");
}

fn run_folder(folder: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests")
        .join(folder)
        .join("cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cases folder {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no cases found in {}", dir.display());
    let mut failures = Vec::new();
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(f).expect("readable case");
        match run_case(&text) {
            Ok(outcome) if outcome.passed => {}
            Ok(outcome) => failures.push(format!("{name}: {}", outcome.detail)),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    eprintln!("{} cases, {} failed", files.len(), failures.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
