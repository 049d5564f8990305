//! Delivery: `infoflash send` puts the right variant in front of every deliverable recipient
//! exactly once, at the configured pace, whatever happens to the process or the server.
//!
//! - where to (outbox folder, `smtp://`, `smtps://`) is a settings value: [`crate::types::relay`];
//! - [`secrets`]: relay passwords and extra certificate authorities, never shown;
//! - [`transport`]: the [`transport::Transport`] trait with the outbox and SMTP;
//! - [`relays`]: several relays, by weight and within their own limits, with failover;
//! - [`rate`]: one global pace for all connections, with throttling;
//! - [`retry`]: what a failed attempt means: retry, defer or fail, slow down, relay's fault;
//! - [`compose`]: per-recipient messages from a variant rendered once, with list headers;
//! - [`unsubscribe`]: signed one-click unsubscribe tokens;
//! - `plan`: everything loaded once for a send (edition, variants, keys, relays);
//! - `worker`: one connection's loop: compose, pace, send, retry, record;
//! - [`report`]: what a send did, by variant, language and region, printed and kept as JSON;
//! - [`run`]: the send itself — intake, dry run, test sends, interruption, the summary.
//!
//! What was sent is recorded through [`crate::state`], which owns the journal.
//!
//! It must not decide who is deliverable (that is [`crate::audience`]) nor how an edition
//! looks (that is [`crate::render`]).

pub mod compose;
mod plan;
pub mod rate;
pub mod relays;
pub mod report;
pub mod retry;
pub mod run;
pub mod secrets;
pub mod settings;
pub mod transport;
pub mod unsubscribe;
mod worker;
