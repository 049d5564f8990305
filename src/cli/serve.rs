//! `infoflash serve [--listen ADDR] [--rate N] [--preview] [--edit] [--header-timeout S] [--idle-timeout S]`,
//! and `infoflash serve --hash-password`, which prints the hash `[serve] edit_password_hash` holds.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use crate::config::Config;

#[derive(Debug, clap::Args)]
#[command(after_long_help = "Serves, until Ctrl-C or SIGTERM:\n  \
    /archive/            the web archive `infoflash build` writes under out/archive/\n  \
    /unsubscribe/TOKEN   GET: a page with buttons; POST List-Unsubscribe=One-Click\n                       (urlencoded or multipart): suppress, for the sending office only,\n                       or for everyone with scope=all\n  \
    /preview/            with --preview: the editions in editions/, rendered from the file\n                       on each request, with check's findings above the email\n  \
    /edit/               with --edit: a form for every edition and office overlay in\n                       editions/, with check's findings beside each field and the\n                       preview beside the form; it writes the file (and nothing else)\n\n\
    The unsubscribe tokens are checked with the key `send` signs them with\n\
    (INFOFLASH_UNSUBSCRIBE_KEY, else state/unsubscribe.key, read again when it changes).\n\
    --preview on an address other than loopback needs INFOFLASH_PREVIEW_TOKEN (16+\n\
    characters); preview requests then carry it as ?token=…. --edit on an address other than\n\
    loopback needs `edit_password_hash` under [serve] in the settings (an Argon2 hash:\n\
    `echo 'the password' | infoflash serve --hash-password`). Put the service behind your\n\
    HTTPS proxy at `base_url`.")]
pub struct Args {
    /// Address and port to listen on (port 0: any free port, printed at start)
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Requests per second each client may make, counted apart for pages and for unsubscribes; more get 429
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    rate: u32,
    /// Serve /preview/ (every edition in editions/, drafts included)
    #[arg(long)]
    preview: bool,
    /// Serve /edit/, the browser editor of the files in editions/ (and /preview/, which it shows)
    #[arg(long)]
    edit: bool,
    /// Read a password on standard input, print its Argon2 hash for `[serve] edit_password_hash`, and exit
    #[arg(long, conflicts_with_all = ["edit", "preview"])]
    hash_password: bool,
    /// Seconds a client has to send a request's headers; also how long a kept-alive connection may wait for its next request
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout: u64,
    /// Seconds a connection may stay with nothing sent or received before it is closed
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    idle_timeout: u64,
}

pub fn run(args: Args, config: &Config) -> anyhow::Result<ExitCode> {
    if args.hash_password {
        let mut password = String::new();
        std::io::stdin().read_line(&mut password)?;
        let password = password.trim_end_matches(['\r', '\n']);
        anyhow::ensure!(!password.is_empty(), "no password on standard input");
        println!("{}", crate::serve::hash_password(password).map_err(anyhow::Error::msg)?);
        return Ok(ExitCode::SUCCESS);
    }
    let options = crate::serve::ServeOptions {
        listen: args.listen,
        requests_per_second: args.rate,
        preview: args.preview,
        edit: args.edit,
        timeouts: crate::serve::Timeouts {
            header_read: Duration::from_secs(args.header_timeout),
            idle: Duration::from_secs(args.idle_timeout),
        },
    };
    crate::serve::serve(config.serve(), options)?;
    Ok(ExitCode::SUCCESS)
}
