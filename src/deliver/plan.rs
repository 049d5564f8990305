//! Planning a send: everything loaded once before the first message — the edition checked
//! and rendered in each variant, the unsubscribe and DKIM keys, the relays with their secrets,
//! the global pace — and what identifies the send in the journal (its key, its destination, the
//! command that runs it again). It must not send: a [`Plan`] only hands out messages and
//! transports.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::compose::{self, Prepared, Sender};
use super::rate::RateGate;
use super::relays;
use super::run::SendError;
use super::secrets::{read_ca, relay_password, Secret};
use super::settings::{DeliverySettings, SendSettings};
use super::transport::{Outbox, OutboxNumbers, Smtp, Transport};
use super::unsubscribe;
use crate::audience::{self, Recipient};
use crate::edition::{self, Edition};
use crate::render::{self, RenderError, Scope, Templates, Variant};
use crate::state::{self, SendKey, StateDir};
use crate::types::{Destination, Office};

/// Everything loaded once for a send and shared by the workers: the edition rendered in each
/// variant, the keys, and how to reach the relay(s).
pub(super) struct Plan<'a> {
    pub settings: SendSettings<'a>,
    pub edition: Edition,
    pub templates: Templates,
    office: Option<&'a Office>,
    pub variants: BTreeMap<crate::types::Language, (Variant, Prepared)>,
    /// The keys of `variants`, once: each message and each report line asks which one a
    /// recipient gets.
    languages: Vec<crate::types::Language>,
    key: unsubscribe::Key,
    dkim: Option<lettre::message::dkim::DkimConfig>,
    /// The single relay's password (none for the outbox or a relay without a user).
    password: Option<Secret>,
    /// Extra certificate authorities for the relays' certificates.
    ca: Option<Vec<u8>>,
    /// `[[delivery.relays]]`, when there are several.
    pool: Option<Arc<relays::Pool>>,
    /// The global pace, over every connection and relay.
    pub gate: Arc<RateGate>,
    /// Whether messages wait for [`Plan::gate`]: not into the outbox, unless `--rate` says so.
    pub paced: bool,
    /// The outbox's file numbers, shared by the workers.
    outbox_numbers: Arc<OutboxNumbers>,
}

/// A real message, or a proof (`send --test`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Real,
    /// `[TEST]` in the subject, a proof's unsubscribe token, filed apart in the outbox.
    Proof,
}

impl Plan<'_> {
    pub fn variant_for(&self, recipient: &Recipient) -> &(Variant, Prepared) {
        let fallback = &self.settings.edition.network.fallback_language;
        &self.variants[&variant_of(recipient, &self.languages, self.office, fallback).language]
    }

    fn sender(&self, kind: Kind) -> Sender<'_> {
        Sender {
            settings: self.settings.render,
            edition: &self.edition,
            office: self.office,
            key: &self.key,
            subject_prefix: if kind == Kind::Proof { "[TEST] " } else { "" }.to_string(),
            proof: kind == Kind::Proof,
            dkim: self.dkim.as_ref(),
        }
    }

    /// The message for `recipient`.
    pub fn compose(&self, recipient: &Recipient, kind: Kind) -> Result<Composed, RenderError> {
        let (variant, prepared) = self.variant_for(recipient);
        let labels = self.templates.labels(&variant.language)?;
        let (envelope, bytes, message_id) =
            compose::message(prepared, recipient, &self.sender(kind), &self.templates, labels)?;
        let id = variant.id();
        // Ids are path-safe: the edition id is checked where it is read, a variant is a
        // language code and an office id.
        let folder = match kind {
            Kind::Real => format!("{}/{id}", self.edition.id),
            Kind::Proof => format!("{}/test/{id}", self.edition.id),
        };
        Ok(Composed {
            variant: id,
            folder,
            envelope,
            bytes,
            message_id,
        })
    }

    /// A new connection's transport: a file writer for the outbox, one SMTP connection to the
    /// relay, or a connection per relay of the pool.
    pub fn transport(&self) -> Result<Box<dyn Transport>, SendError> {
        let d = self.settings.delivery;
        if let Some(pool) = &self.pool {
            return Ok(Box::new(relays::Multi::new(pool.clone())));
        }
        Ok(match &d.destination {
            Destination::Outbox => Box::new(Outbox::new(d.outbox.clone(), self.outbox_numbers.clone()).map_err(
                |source| SendError::Outbox {
                    path: d.outbox.clone(),
                    source,
                },
            )?),
            Destination::Smtp(relay) => Box::new(Smtp::new(
                relay.clone(),
                self.password.clone(),
                self.ca.clone(),
                d.timeout,
            )),
        })
    }
}

/// A message ready to send.
pub(super) struct Composed {
    /// Its variant's id (`en`, `es-santiago`).
    pub variant: String,
    /// Where the outbox files it: `EDITION/VARIANT`, or `EDITION/test/VARIANT` for a proof.
    pub folder: String,
    pub envelope: lettre::address::Envelope,
    pub bytes: Vec<u8>,
    pub message_id: String,
}

/// How long a relay that keeps failing stays out of the rotation.
const RELAY_REST: Duration = Duration::from_secs(30);

/// The pool of `[[delivery.relays]]`, with their passwords, or `None` for a single relay.
fn relay_pool(
    d: &DeliverySettings,
    ca: &Option<Vec<u8>>,
    global: &Arc<RateGate>,
) -> Result<Option<Arc<relays::Pool>>, SendError> {
    if d.relays.is_empty() {
        return Ok(None);
    }
    let mut routes = Vec::new();
    for r in &d.relays {
        let env = r.password_env.as_deref().unwrap_or(&d.password_env);
        let file = r.password_file.as_deref().or(d.password_file.as_deref());
        routes.push(relays::Route {
            relay: r.relay.clone(),
            password: relay_password(&r.relay, env, file)?,
            ca: ca.clone(),
            weight: r.weight.get(),
            connections: r.connections.get(),
            gate: r.pace.map(RateGate::new),
        });
    }
    Ok(Some(relays::Pool::new(routes, RELAY_REST, d.timeout, global.clone())))
}

/// Loads and checks the edition, renders each variant once, and gets the keys and the
/// relays' secrets: everything that can fail before the first message, fails here. Writing
/// files into the outbox is not paced unless `pace_outbox` (`--rate` was given).
pub(super) fn load_plan<'a>(
    settings: SendSettings<'a>,
    edition_path: &Path,
    office: Option<&'a Office>,
    pace_outbox: bool,
) -> Result<Plan<'a>, SendError> {
    let (edition, _warnings) = edition::load_for_office(edition_path, settings.edition, office)?;
    let templates = settings.render.templates()?;
    let scope = scope(office);
    let mut variants = BTreeMap::new();
    let mut rendered = Vec::new();
    for variant in render::variants(&edition, &[], &scope) {
        let prepared = compose::prepare(&edition, &variant, settings.render, &templates)?;
        rendered.push(prepared.rendered.clone());
        variants.insert(variant.language.clone(), (variant, prepared));
    }
    let findings = crate::check::findings(&edition, &rendered);
    if findings.has_errors() {
        return Err(SendError::NotReady(findings.sorted()));
    }
    let key =
        unsubscribe::Key::load(&StateDir::new(&settings.delivery.state_dir)).map_err(SendError::UnsubscribeKey)?;
    let d = settings.delivery;
    let dkim = d
        .dkim
        .as_ref()
        .map(compose::dkim_config)
        .transpose()
        .map_err(SendError::Dkim)?;
    let ca = read_ca(d.tls_ca_file.as_deref())?;
    let password = match &d.destination {
        Destination::Smtp(relay) => relay_password(relay, &d.password_env, d.password_file.as_deref())?,
        Destination::Outbox => None,
    };
    let gate = Arc::new(RateGate::new(d.pace));
    let pool = relay_pool(d, &ca, &gate)?;
    let outbox = matches!(d.destination, Destination::Outbox) && pool.is_none();
    Ok(Plan {
        languages: variants.keys().cloned().collect(),
        paced: !outbox || pace_outbox,
        outbox_numbers: Arc::default(),
        settings,
        edition,
        templates,
        office,
        variants,
        key,
        dkim,
        password,
        ca,
        pool,
        gate,
    })
}

/// What a send by `office` (`None`: the international team) sends: its regions' items, or all.
pub fn scope(office: Option<&Office>) -> Scope {
    match office {
        Some(o) => Scope::Office {
            id: o.id.clone(),
            regions: o.regions.clone(),
        },
        None => Scope::All,
    }
}

/// The variant `recipient` receives of a send by `office` whose variants are in `available`
/// languages: the one [`Plan::variant_for`] picks, without rendering anything.
pub fn variant_of(
    recipient: &Recipient,
    available: &[crate::types::Language],
    office: Option<&Office>,
    fallback: &crate::types::Language,
) -> Variant {
    let language = audience::language_for(recipient, available, office.map(|o| &o.language), fallback);
    Variant {
        language: language.clone(),
        scope: scope(office),
    }
}

/// The journal key of an edition's send by `office`.
pub fn send_key(edition: &crate::types::EditionId, office: Option<&Office>) -> SendKey {
    SendKey {
        edition: edition.clone(),
        office: office.map(|o| o.id.clone()),
    }
}

/// Where this send goes, as the journal records it (never with a password).
pub fn destination(d: &DeliverySettings) -> state::Destination {
    if !d.relays.is_empty() {
        let urls: Vec<String> = d.relays.iter().map(|r| r.relay.to_string()).collect();
        return state::Destination::Smtp(urls.join(", "));
    }
    match &d.destination {
        Destination::Outbox => state::Destination::Outbox(d.outbox.display().to_string()),
        Destination::Smtp(relay) => state::Destination::Smtp(relay.to_string()),
    }
}

/// `infoflash ARGS…` as one line a shell reads back as the same arguments.
pub fn command_line(args: &[String]) -> String {
    let quoted: Vec<String> = std::iter::once("infoflash".to_string())
        .chain(args.iter().map(|a| {
            let plain = !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "_./:=,@%+-".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        }))
        .collect();
    quoted.join(" ")
}
