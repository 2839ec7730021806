//! `reelay serve`: see `reelay_server::cli`.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = reelay_server::cli::Cli::parse();
    reelay_server::cli::run(cli)
}
