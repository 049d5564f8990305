//! What a send is configured with: `[delivery]` (where to, how fast, how persistently, with
//! which keys) as [`DeliverySettings`], and [`SendSettings`], the parts of the other stages'
//! settings a send reads (the edition is checked, rendered and mailed to an audience).
//!
//! `config` builds these from the settings file; this module only holds them, so deliver
//! never reads the settings file nor sees settings it does not use.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use crate::audience::AudienceSettings;
use crate::edition::EditionSettings;
use crate::render::RenderSettings;
use crate::types::{Destination, Pace, Relay};

/// One of several relays (`[[delivery.relays]]`): messages are spread over them by weight,
/// within each one's own limits, and the global `rate` still holds over all of them.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    pub relay: Relay,
    pub weight: NonZeroU32,
    pub connections: NonZeroU32,
    /// Its own limits, if it has any (`rate`, `per_hour`, `per_day`).
    pub pace: Option<Pace>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
}

/// DKIM signing settings; the key is read when a send starts.
#[derive(Debug, Clone)]
pub struct Dkim {
    pub selector: String,
    pub domain: String,
    pub key_file: PathBuf,
    /// `rsa` (default) or `ed25519`.
    pub ed25519: bool,
}

/// `[delivery]`: how `send` delivers.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    pub destination: Destination,
    /// The folder of the `outbox` destination.
    pub outbox: PathBuf,
    /// The send journal and the unsubscribe key live here.
    pub state_dir: PathBuf,
    pub connections: NonZeroU32,
    pub pace: Pace,
    /// Attempts per recipient in one run before it is deferred to a later run.
    pub max_attempts: NonZeroU32,
    /// The first retry's delay; it doubles with each attempt, with jitter.
    pub retry_delay: Duration,
    pub timeout: Duration,
    pub password_env: String,
    pub password_file: Option<PathBuf>,
    /// Add addresses refused permanently (5xx) to the suppression list.
    pub suppress_hard_bounces: bool,
    /// A PEM file of certificate authorities to trust for the relay's TLS certificate, besides
    /// the usual public ones (an organisation's relay often has a certificate of its own CA).
    pub tls_ca_file: Option<PathBuf>,
    pub dkim: Option<Dkim>,
    /// Several relays instead of `destination` (empty: just `destination`).
    pub relays: Vec<RelaySettings>,
}

/// The settings one send reads, each stage's own part.
#[derive(Debug, Clone, Copy)]
pub struct SendSettings<'a> {
    pub edition: &'a EditionSettings,
    pub audience: &'a AudienceSettings,
    pub render: &'a RenderSettings,
    pub delivery: &'a DeliverySettings,
}
