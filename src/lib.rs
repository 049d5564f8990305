//! infoflash produces and mails a bi-weekly email digest — the *Info Flash* — to a worldwide
//! network, in several languages and in regional editions.
//!
//! The library follows the pipeline, one module per stage:
//!
//! - [`config`]: project settings (`infoflash.toml`): languages, regions, sender, folders;
//! - [`edition`]: the edition file, loaded once into a validated model;
//! - [`audience`]: recipient lists, segments, offices and the suppression list;
//! - [`calendar`]: time zones, exact instants, international days, dates in free text, `.ics`;
//! - [`links`]: every public link (archive, variant pages, calendar files, feed, unsubscribe);
//! - [`markdown`]: item bodies to sanitised HTML and to wrapped plain text;
//! - [`deliver`]: SMTP or outbox delivery, pace, the resumable send journal;
//! - [`render`]: the model to MJML (handlebars), HTML (mrml), plain text and a MIME message;
//! - [`check`]: everything an editor should fix before sending;
//! - [`site`]: the files `infoflash build` writes, the web archive among them;
//! - [`state`]: every file under `state/`: the send journals (versioned SQLite), run locks,
//!   the unsubscribe key, failures files;
//! - [`serve`]: the web service behind the emails' links (archive, unsubscribe, preview);
//! - [`cli`]: the command line, one file per command.
//!
//! Shared value types ([`types`]) and problem reports ([`diagnostics`]) sit beside them.

pub mod audience;
pub mod calendar;
pub mod check;
pub mod cli;
pub mod config;
pub mod deliver;
pub mod diagnostics;
pub mod edit;
pub mod edition;
pub mod links;
pub mod markdown;
pub mod parallel;
pub mod render;
pub mod serve;
pub mod site;
pub mod state;
pub mod types;
