//! `parc serve`.

use super::exit;
use crate::config::Config;
use crate::pipeline::BuildOptions;
use anyhow::Result;
use clap::Args;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ServeArgs {
    /// The port to listen on (0: any free one).
    #[arg(long, default_value_t = 1111)]
    pub port: u16,
    /// The address to listen on; another than loopback shows the fleet to the network.
    #[arg(long, value_name = "ADDRESS", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Open the site in the desktop's browser (xdg-open) once it is served.
    #[arg(long)]
    pub open: bool,
    /// Snapshots folder [default: build.snapshots, "snapshots"].
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// Output folder [default: build.out, "site"].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn serve(args: ServeArgs, config: &Config, config_path: &Path, config_named: bool, quiet: bool) -> Result<u8> {
    let base = super::build::base_of(config_path);
    let options = BuildOptions {
        snapshots: args.snapshots.unwrap_or_else(|| base.join(&config.build.snapshots)),
        out: args.out.unwrap_or_else(|| base.join(&config.build.out)),
        base,
        use_cache: true,
    };
    let out = options.out.clone();
    let serve = crate::serve::Serve {
        config_path: config_path.to_path_buf(),
        config_named,
        options,
        addr: SocketAddr::new(args.bind, args.port),
        quiet,
    };
    crate::serve::run(serve, |addr| {
        let url = format!("http://{addr}/");
        eprintln!("serving {} at {url} (Ctrl-C stops)", out.display());
        if args.open {
            let _ = std::process::Command::new("xdg-open").arg(&url).spawn();
        }
    })?;
    eprintln!("stopped");
    Ok(exit::OK)
}
