//! `infoflash serve [--listen ADDR] [--rate N]`

use std::net::SocketAddr;
use std::process::ExitCode;

use crate::config::Config;

#[derive(Debug, clap::Args)]
#[command(after_long_help = "Serves, until Ctrl-C or SIGTERM:\n  \
    /archive/            the web archive `infoflash build` writes under out/archive/\n  \
    /unsubscribe/TOKEN   GET: a page with a button; POST List-Unsubscribe=One-Click: suppress\n  \
    /preview/            the editions in editions/, rendered from the file on each request,\n                       with check's findings above the email\n\n\
    The unsubscribe tokens are checked with the key `send` signs them with\n\
    (INFOFLASH_UNSUBSCRIBE_KEY, else state/unsubscribe.key). Put it behind your HTTPS proxy at\n\
    `base_url`.")]
pub struct Args {
    /// Address and port to listen on (port 0: any free port, printed at start)
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Requests per second the whole service answers; more get 429
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    rate: u32,
}

pub fn run(args: Args, config: &Config) -> anyhow::Result<ExitCode> {
    crate::serve::serve(config.serve(), args.listen, args.rate)?;
    Ok(ExitCode::SUCCESS)
}
