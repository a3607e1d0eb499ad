//! `hq`: parse the arguments, run the command, turn the outcome into an exit code. Nothing else.

fn main() -> std::process::ExitCode {
    harmonyql::cli::main()
}
