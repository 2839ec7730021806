//! `cargo run -p reelay-codegen` rewrites `crates/reelay-aws/src/generated/` from `data/models/`.
//! `cargo run -p reelay-codegen -- --check` exits non-zero when the committed files are stale.

fn main() -> anyhow::Result<()> {
    let root = reelay_codegen::workspace_root();
    let check = std::env::args().any(|a| a == "--check");
    let files = reelay_codegen::generate_all(&root)?;
    let mut stale = Vec::new();
    for (path, text) in &files {
        let current = std::fs::read_to_string(path).unwrap_or_default();
        if current != *text {
            if check {
                stale.push(path.display().to_string());
            } else {
                std::fs::write(path, text)?;
                println!("wrote {}", path.display());
            }
        }
    }
    if !stale.is_empty() {
        anyhow::bail!("generated files are stale; run `cargo run -p reelay-codegen`: {stale:?}");
    }
    Ok(())
}
