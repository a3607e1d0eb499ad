//! `hq kernel`: run the Jupyter kernel on a connection file, or install, remove and locate its
//! kernelspec. A thin caller of `harmonyql::kernel`; must not contain protocol or language logic.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use harmonyql::api::environment::Environment;
use harmonyql::harmony::starting::{BadRootUrl, starting_environment};
use harmonyql::kernel;
use harmonyql::kernel::hq::HqInterpreter;
use harmonyql::kernel::install::{self, InstallOptions, Location};

/// `hq kernel`: Jupyter starts it as `hq kernel --connection-file FILE`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct KernelArgs {
    /// The connection file Jupyter writes for the kernel (`{connection_file}` in kernel.json).
    #[arg(short = 'f', long = "connection-file", value_name = "FILE")]
    connection_file: Option<PathBuf>,
    #[command(subcommand)]
    action: Option<KernelAction>,
}

#[derive(Debug, Subcommand)]
enum KernelAction {
    /// Install the kernelspec so Jupyter offers HarmonyQL (default: for this user).
    Install {
        #[command(flatten)]
        location: LocationArgs,
        /// Kernelspec name.
        #[arg(long, default_value = install::DEFAULT_NAME)]
        name: String,
        /// Replace an existing kernelspec of that name.
        #[arg(long)]
        force: bool,
        /// The Harmony the kernel starts on (prod, uat, sit, local:PORT or a root URL), written into kernel.json
        /// as HARMONY_ROOT_URL [default: none written: HARMONY_ROOT_URL where the kernel runs, else prod]
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
    },
    /// Remove the kernelspec (without a location: from the user's directory and the Python environment, wherever
    /// it is).
    Uninstall {
        #[command(flatten)]
        location: LocationArgs,
        /// Kernelspec name.
        #[arg(long, default_value = install::DEFAULT_NAME)]
        name: String,
    },
    /// Show where the kernelspec is installed and whether the program it runs exists.
    Status {
        /// Kernelspec name.
        #[arg(long, default_value = install::DEFAULT_NAME)]
        name: String,
    },
}

#[derive(Debug, Args)]
#[group(multiple = false)]
struct LocationArgs {
    /// The user's Jupyter data directory (the default).
    #[arg(long)]
    user: bool,
    /// The Python environment (VIRTUAL_ENV or CONDA_PREFIX, else the one pip installed hq into, else python3's).
    #[arg(long)]
    sys_prefix: bool,
    /// PREFIX/share/jupyter/kernels.
    #[arg(long, value_name = "PREFIX")]
    prefix: Option<PathBuf>,
}

impl LocationArgs {
    fn given(&self) -> bool {
        self.user || self.sys_prefix || self.prefix.is_some()
    }

    fn location(&self) -> Location {
        match (&self.prefix, self.sys_prefix) {
            (Some(prefix), _) => Location::Prefix(prefix.clone()),
            (None, true) => Location::SysPrefix,
            (None, false) => Location::User,
        }
    }
}

/// Why `hq kernel` failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Installing or removing the kernelspec failed.
    #[error(transparent)]
    Install(#[from] install::Error),
    /// The kernel could not start.
    #[error(transparent)]
    Kernel(#[from] kernel::Error),
    /// The path of the running `hq` is unknown, so kernel.json cannot point at it.
    #[error("cannot find the path of this hq executable: {0}")]
    CurrentExe(#[source] std::io::Error),
    /// `hq kernel install --env` names no environment.
    #[error("--env: {0}")]
    InstallEnvironment(#[source] harmonyql::api::environment::UnknownEnvironment),
    /// `HARMONY_ROOT_URL` names no environment.
    #[error(transparent)]
    Environment(#[from] BadRootUrl),
    /// `hq kernel` without a connection file or subcommand.
    #[error("hq kernel needs --connection-file FILE (Jupyter passes it) or a subcommand: install, uninstall, status")]
    NothingToDo,
}

/// Runs `hq kernel …`, printing what it did on stdout.
pub fn run(args: KernelArgs) -> Result<(), Error> {
    match (args.action, args.connection_file) {
        (Some(KernelAction::Install { location, name, force, env }), _) => {
            let executable = std::env::current_exe().map_err(Error::CurrentExe)?;
            // Checked here so a typo fails at install, not in every notebook; written as `env` shows it.
            let env = env
                .map(|text| text.parse::<Environment>().map(|env| env.to_string()))
                .transpose()
                .map_err(Error::InstallEnvironment)?;
            let options = InstallOptions { location: location.location(), name, force, env };
            let dir = install::install(&options, &executable)?;
            let name = dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or(options.name);
            println!("installed kernelspec {name} in {}", dir.display());
            Ok(())
        }
        (Some(KernelAction::Uninstall { location, name }), _) => {
            let removed = if location.given() {
                vec![install::uninstall(&location.location(), &name)?]
            } else {
                install::uninstall_everywhere(&[Location::User, Location::SysPrefix], &name)?
            };
            for dir in removed {
                println!("removed kernelspec {name} from {}", dir.display());
            }
            Ok(())
        }
        (Some(KernelAction::Status { name }), _) => {
            let found = install::status(&name)?;
            if found.is_empty() {
                println!("kernelspec {name} is not installed; run `hq kernel install`");
            }
            for spec in found {
                let program = spec.program.map(|p| p.display().to_string()).unwrap_or_else(|| "?".to_owned());
                let state = if spec.program_exists { "ok" } else { "program missing; reinstall" };
                println!("{}\t{program}\t{state}", spec.dir.display());
            }
            Ok(())
        }
        (None, Some(connection_file)) => {
            Ok(kernel::serve_connection_file(&connection_file, HqInterpreter::new(starting_environment()?))?)
        }
        (None, None) => Err(Error::NothingToDo),
    }
}
