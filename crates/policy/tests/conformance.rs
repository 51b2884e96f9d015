//! Runs every case in tests/policy-eval/cases through the public API.

use std::path::PathBuf;

use strongbox_policy::case::run_case;

#[test]
fn every_case_passes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/policy-eval/cases");
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
