//! The committed generated code must equal what the generator produces from `data/models`.

use std::path::Path;

#[test]
fn generated_files_are_fresh() {
    let root = reelay_codegen::workspace_root();
    let files = reelay_codegen::generate_all(&root).expect("generate");
    assert_eq!(files.len(), 9);
    for (path, text) in files {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            current == text,
            "{} is stale or hand-edited: run `cargo run -p reelay-codegen`",
            path.strip_prefix(&root).unwrap_or(Path::new("?")).display()
        );
    }
}

#[test]
fn every_model_pattern_translates_to_a_valid_anchored_regex() {
    let root = reelay_codegen::workspace_root();
    let mut n = 0;
    for (svc, _, _) in reelay_codegen::SERVICES {
        let text = std::fs::read_to_string(root.join(format!("data/models/{svc}.json"))).unwrap();
        let model: serde_json::Value = serde_json::from_str(&text).unwrap();
        for shape in model["shapes"].as_object().unwrap().values() {
            if let Some(p) = shape.get("pattern").and_then(|p| p.as_str()) {
                let t = reelay_codegen::translate_pattern(p);
                regex::Regex::new(&t).unwrap_or_else(|e| panic!("{p} -> {t}: {e}"));
                n += 1;
            }
        }
    }
    assert!(n > 80, "expected the models' ~88 patterns, saw {n}");
}

#[test]
fn pattern_translation_examples() {
    use reelay_codegen::translate_pattern as t;
    assert_eq!(t("[a-zA-Z0-9-_]+"), r"^(?:[a-zA-Z0-9\-_]+)$");
    assert_eq!(t("[a-z0-9-.]*"), r"^(?:[a-z0-9\-.]*)$");
    let arn = regex::Regex::new(&t("arn:aws:ivs:[a-z0-9-]+:[0-9]+:[a-z-]/[a-zA-Z0-9-]+")).unwrap();
    assert!(arn.is_match("arn:aws:ivs:us-west-2:123456789012:channel/abcd"));
    assert!(arn.is_match("arn:aws:ivs:us-west-2:123456789012:playback-restriction-policy/abcd"));
    let name = regex::Regex::new(&t("[a-zA-Z0-9_.-]+")).unwrap();
    assert!(!name.is_match("a b"));
}

#[test]
fn snake_case_names() {
    use reelay_codegen::snake;
    assert_eq!(snake("StreamARN"), "stream_arn");
    assert_eq!(snake("HLSFragmentSelector"), "hls_fragment_selector");
    assert_eq!(snake("type"), "r#type");
    assert_eq!(snake("nextToken"), "next_token");
}
