mod demo;

use clap::Parser;
use parc::cli::{self, exit, Cli, Command};
use parc::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    parc::source::git::configure();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE } else { exit::OK });
        }
    };
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("PARC_LOG").unwrap_or_else(|_| level.into()))
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        // Colour for a person at a terminal, never into a pipe or a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none())
        .init();

    let config_path = cli.config.clone().unwrap_or_else(|| PathBuf::from("parc.toml"));
    let run = || -> anyhow::Result<u8> {
        if let Command::Demo(args) = &cli.command {
            demo::run(args)?;
            return Ok(exit::OK);
        }
        if let Command::ReadJson { dir, git } = &cli.command {
            return cli::build::read_json(dir, *git);
        }
        if let Command::Config { default } = &cli.command {
            return cli::init::config(*default);
        }
        if let Command::Init(args) = cli.command {
            return cli::init::init(args, cli.quiet);
        }
        if let Command::Retention(args) = cli.command {
            return cli::archive::retention(args);
        }
        if let Command::ProbeScript { update_wrapper: true, .. } = &cli.command {
            cli::print(parc::action::update::UPDATE_WRAPPER)?;
            return Ok(exit::OK);
        }
        if let Command::ProbeScript { kind, sudo_wrapper, .. } = &cli.command {
            return cli::collect::probe_script(kind.as_deref(), *sudo_wrapper);
        }
        let config = match Config::load(&config_path, cli.config.is_some()) {
            Ok(config) => config,
            // A night without an archive says why, even when parc.toml is what failed.
            Err(e) => match cli.command {
                Command::Apply(args) if !args.dry_run => {
                    return cli::archive::apply_unconfigured(args, &config_path, e, cli.quiet)
                }
                _ => return Err(e),
            },
        };
        match cli.command {
            Command::Build(args) => cli::build::build(args, &config, &config_path, cli.quiet),
            Command::Check(args) => cli::build::check(args, &config, &config_path),
            Command::Export(args) => cli::build::export(args, &config, &config_path, cli.quiet),
            Command::Serve(args) => cli::serve::serve(args, &config, &config_path, cli.config.is_some(), cli.quiet),
            Command::Collect(args) => {
                cli::collect::collect(args, &config, &cli::build::base_of(&config_path), cli.quiet)
            }
            Command::Plan(args) => cli::archive::plan(args, &config, &config_path, cli.quiet),
            Command::Apply(args) => cli::archive::apply(args, &config, &config_path, cli.quiet),
            Command::Silence(args) => cli::findings::silence(args, &config, &config_path),
            Command::Findings(args) => cli::findings::findings(args, &config, &config_path),
            Command::Demo(_)
            | Command::ReadJson { .. }
            | Command::ProbeScript { .. }
            | Command::Retention(_)
            | Command::Init(_)
            | Command::Config { .. } => {
                unreachable!("handled above")
            }
        }
    };
    let code = match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<cli::Usage>().is_some() {
                exit::USAGE
            } else {
                exit::ERROR
            }
        }
    };
    // Ended here rather than by returning: at exit the allocator would hand
    // every free page back to the OS one call at a time, a cost a short build
    // feels. The OS takes the whole address space back at once anyway; only
    // buffered output must not be lost.
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `run` has returned and dropped all it made; nothing else is left to run.
    unsafe { libc::_exit(code.into()) }
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
