//! `hq`: parse the arguments, run the command, turn the outcome into an exit code. Nothing else.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
