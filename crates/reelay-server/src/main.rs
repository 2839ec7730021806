//! `reelay serve`: see `reelay_server::cli`.

use clap::Parser;

/// Request handling allocates many short-lived buffers from every worker thread (JSON bodies, list pages,
/// segment headers); with glibc's allocator a quarter of ListChannels' profile was malloc/free under load.
/// mimalloc keeps per-thread free lists; its effect is measured in `docs/benchmarks/ivs.md`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = reelay_server::cli::Cli::parse();
    reelay_server::cli::run(cli)
}
