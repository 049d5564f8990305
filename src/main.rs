//! The `infoflash` binary: everything lives in the library; see `infoflash --help`.

fn main() -> std::process::ExitCode {
    infoflash::cli::main()
}
