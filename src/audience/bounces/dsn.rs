//! One delivery status notification, read: which recipients failed or were delayed, how
//! (hard or soft, with the status and the server's words), and which of our Message-IDs it
//! quotes. Postfix, Exchange and Gmail write a `message/delivery-status` part (RFC 3464); Exim
//! and some gateways only an `X-Failed-Recipients` header. It must not apply anything: that is
//! the import's business ([`super::import`]).

use std::sync::LazyLock;

use chrono::NaiveDate;
use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders, PartType};
use regex::Regex;
use serde::Serialize;

use crate::types::{EditionId, EmailAddress};

/// How a failed recipient counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Permanent (5.x.x): the address is suppressed at once.
    Hard,
    /// Temporary (4.x.x, or still being retried): counted, suppressed only when it persists.
    Soft,
}

/// One recipient a DSN reports as failed or delayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientResult {
    pub address: EmailAddress,
    pub kind: Kind,
    /// The enhanced status code (`5.1.1`), else the SMTP reply code (`550`), else empty.
    pub status: String,
    /// The remote server's words, without the `smtp;` type, unfolded onto one line.
    pub diagnostic: String,
}

/// What a delivery status notification says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dsn {
    pub recipients: Vec<RecipientResult>,
    /// Recipients reported `delivered`, `relayed` or `expanded` (as `address: action`):
    /// notifications, not bounces.
    pub not_failures: Vec<String>,
    /// Recipient entries that name no address we can read, with what they say instead.
    pub unreadable: Vec<String>,
    /// The edition of the returned message, read from its Message-ID (`<hex.EDITION@domain>`).
    pub edition: Option<EditionId>,
    /// Every Message-ID of ours the report mentions, as (hash, edition): what a recipient is
    /// matched against, to tell a report about a message we sent from a forged one.
    pub message_ids: Vec<(String, EditionId)>,
    /// The DSN's own `Date`, as written (the sender's local day).
    pub date: Option<NaiveDate>,
    /// The same in RFC 3339, for the record.
    pub timestamp: Option<String>,
}

/// Why a message was not taken as a bounce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotABounce {
    #[error("not an email message (no header could be read)")]
    NotAMessage,
    #[error(
        "no delivery status: neither a message/delivery-status part nor an X-Failed-Recipients \
         header (subject: {subject:?})"
    )]
    NoStatus { subject: String },
}

/// The Message-ID of a message infoflash sent: `<32 hex digits>.<edition id>@<domain>` (see
/// `deliver::compose`). Matched anywhere, so it is found in returned headers, in Gmail's
/// `X-Original-Message-ID` or in a quoted copy alike; the shape is specific enough not to match
/// a stranger's ID.
static OUR_MESSAGE_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([0-9a-f]{32})\.([a-z0-9-]+)@[A-Za-z0-9.-]+").expect("a valid Message-ID pattern"));

/// An enhanced status code (RFC 3463) standing alone: `5.1.1`, not the `5.6.7` of `5.6.7.8`.
static ENHANCED_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r##"(?:^|[\s(\[<:;'"#])([245]\.\d{1,3}\.\d{1,3})(?:$|[\s)\]>:;,'"]|\.\s|\.$)"##)
        .expect("a valid status pattern")
});

/// A basic SMTP reply code, as in `550 ` or `452-`.
static REPLY_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?:^|[\s(\[:;'"])([245]\d\d)(?:$|[\s-])"#).expect("a valid reply pattern"));

fn is_type(part: &MessagePart<'_>, ctype: &str, subtypes: &[&str]) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype)
            && ct
                .subtype()
                .is_some_and(|s| subtypes.iter().any(|x| s.eq_ignore_ascii_case(x)))
    })
}

/// The field groups of a `message/delivery-status` body (RFC 3464 §2.1): the per-message
/// group, then one per recipient; names lowercased, folded values joined onto one line.
fn field_groups(text: &str) -> Vec<Vec<(String, String)>> {
    let mut groups = Vec::new();
    let mut group: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !group.is_empty() {
                groups.push(std::mem::take(&mut group));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = group.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            group.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    if !group.is_empty() {
        groups.push(group);
    }
    groups
}

fn field<'a>(group: &'a [(String, String)], name: &str) -> Option<&'a str> {
    group
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// `rfc822; <Ann@example.org>` → the address. Other address types (`x400;`) do not parse.
fn address_in(value: &str) -> Option<EmailAddress> {
    let address = value.split_once(';').map_or(value, |(_, a)| a).trim();
    address.trim_start_matches('<').trim_end_matches('>').parse().ok()
}

/// `smtp; 550 5.1.1 …` → `550 5.1.1 …`: the diagnostic type says nothing to a reader.
fn without_type(diagnostic: &str) -> &str {
    match diagnostic.split_once(';') {
        Some((kind, rest)) if !kind.trim().contains(' ') && kind.len() <= 20 => rest.trim(),
        _ => diagnostic.trim(),
    }
}

/// The status a text gives: an enhanced code if there is one, else an SMTP reply code.
fn status_in(text: &str) -> Option<String> {
    ENHANCED_CODE
        .captures(text)
        .or_else(|| REPLY_CODE.captures(text))
        .map(|c| c[1].to_string())
}

/// RFC 3464's `Action` with the status class: only a permanent failure is hard. A `failed`
/// with a 4.x.x status (a server that gave up retrying) or with no status at all is soft: it
/// suppresses only if it keeps happening, which is the safer mistake.
fn classify(action: Option<&str>, status: &str) -> Option<Kind> {
    let class = status.chars().next();
    match action {
        Some("delivered" | "relayed" | "expanded") => None,
        Some("failed") if class == Some('5') => Some(Kind::Hard),
        Some("delayed" | "failed") => Some(Kind::Soft),
        _ => match class {
            Some('5') => Some(Kind::Hard),
            Some('4') => Some(Kind::Soft),
            _ => None,
        },
    }
}

fn edition_in(text: &str) -> Option<EditionId> {
    OUR_MESSAGE_ID.captures_iter(text).find_map(|c| c[2].parse().ok())
}

/// Every Message-ID of ours anywhere in the message: headers, parts, the returned copy.
fn our_message_ids(message: &Message<'_>, raw: &[u8]) -> Vec<(String, EditionId)> {
    let mut found: Vec<(String, EditionId)> = Vec::new();
    let mut add = |text: &str| {
        for c in OUR_MESSAGE_ID.captures_iter(text) {
            if let Ok(edition) = c[2].parse::<EditionId>() {
                let id = (c[1].to_string(), edition);
                if !found.contains(&id) {
                    found.push(id);
                }
            }
        }
    };
    add(&String::from_utf8_lossy(raw));
    for part in message.parts.iter().filter(|p| !p.is_multipart()) {
        add(&String::from_utf8_lossy(part.contents()));
    }
    found
}

/// The edition of the message that bounced: from the Message-ID of the returned message
/// (`message/rfc822` or `text/rfc822-headers`) if there is one, else from one of our
/// Message-IDs anywhere in the report, else from the DSN's `In-Reply-To` or `References`.
fn returned_edition(message: &Message<'_>) -> Option<EditionId> {
    let returned = message.parts.iter().find_map(|part| match &part.body {
        PartType::Message(m) => m.message_id().and_then(edition_in),
        PartType::Text(text) if is_type(part, "text", &["rfc822-headers"]) => MessageParser::new()
            .parse_headers(text.as_bytes())
            .and_then(|h| h.message_id().and_then(edition_in)),
        _ => None,
    });
    returned
        .or_else(|| {
            message
                .parts
                .iter()
                .filter(|p| !p.is_multipart())
                .find_map(|p| edition_in(&String::from_utf8_lossy(p.contents())))
        })
        .or_else(|| {
            message
                .headers_raw()
                .filter(|(name, _)| name.eq_ignore_ascii_case("in-reply-to") || name.eq_ignore_ascii_case("references"))
                .find_map(|(_, value)| edition_in(value))
        })
}

/// mail-parser panics on some malformed multiparts (found by fuzzing: a `message/rfc822`
/// part right after a boundary with no line break). One such message in a mailbox must not
/// stop an import: it is simply not a message we can read.
fn parse_without_panicking(raw: &[u8]) -> Option<mail_parser::Message<'_>> {
    quietly(|| MessageParser::new().parse(raw)).flatten()
}

/// Runs `f`, catching a panic and keeping it off stderr. Swapping the process's panic hook
/// around the call would race with another thread doing the same (and could leave the
/// process silenced for good), so one hook is installed once: it stays quiet on a thread
/// that is inside `quietly` and hands every other panic to the hook that was there before.
fn quietly<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> Option<T> {
    use std::cell::Cell;
    thread_local!(static QUIET: Cell<bool> = const { Cell::new(false) });
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let outer = QUIET.with(|q| q.replace(true));
    let result = std::panic::catch_unwind(f).ok();
    QUIET.with(|q| q.set(outer));
    result
}

/// Reads one message. `Err` says why it is not a bounce; a DSN that reports only deliveries
/// is `Ok` with no recipients (see [`Dsn::not_failures`]).
pub fn parse_dsn(raw: &[u8]) -> Result<Dsn, NotABounce> {
    let message = parse_without_panicking(raw)
        .filter(|m| !m.headers().is_empty())
        .ok_or(NotABounce::NotAMessage)?;
    let mut dsn = Dsn {
        edition: returned_edition(&message),
        message_ids: our_message_ids(&message, raw),
        date: message
            .date()
            .and_then(|d| NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))),
        timestamp: message.date().map(mail_parser::DateTime::to_rfc3339),
        ..Dsn::default()
    };
    let status_part = message
        .parts
        .iter()
        .find(|p| is_type(p, "message", &["delivery-status", "global-delivery-status"]));
    if let Some(part) = status_part {
        let text = String::from_utf8_lossy(part.contents());
        let recipients = field_groups(&text)
            .into_iter()
            .filter(|g| field(g, "final-recipient").or(field(g, "original-recipient")).is_some());
        for group in recipients {
            read_recipient(&group, &mut dsn);
        }
        if dsn.recipients.is_empty() && dsn.not_failures.is_empty() && dsn.unreadable.is_empty() {
            dsn.unreadable.push("its delivery status names no recipient".into());
        }
        return Ok(dsn);
    }
    // Exim and some gateways send a plain-text bounce with only this header to say who failed.
    let failed: Vec<&str> = message
        .headers_raw()
        .filter(|(name, _)| name.eq_ignore_ascii_case("x-failed-recipients"))
        .flat_map(|(_, value)| value.split([',', ' ', '\t', '\r', '\n']))
        .filter(|a| !a.is_empty())
        .collect();
    if failed.is_empty() {
        return Err(NotABounce::NoStatus {
            subject: message.subject().unwrap_or("").to_string(),
        });
    }
    let text: String = message
        .parts
        .iter()
        .filter_map(|p| match &p.body {
            PartType::Text(t) if !is_type(p, "text", &["rfc822-headers"]) => Some(t.as_ref()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let status = status_in(&text).unwrap_or_default();
    let diagnostic: String = text
        .lines()
        .find(|l| !status.is_empty() && l.contains(&status))
        .map(|l| l.trim().chars().take(200).collect())
        .unwrap_or_default();
    for entry in failed {
        match address_in(entry) {
            Some(address) => dsn.recipients.push(RecipientResult {
                address,
                kind: classify(Some("failed"), &status).unwrap_or(Kind::Soft),
                status: status.clone(),
                diagnostic: diagnostic.clone(),
            }),
            None => dsn
                .unreadable
                .push(format!("X-Failed-Recipients names `{entry}`, not an address")),
        }
    }
    Ok(dsn)
}

fn read_recipient(group: &[(String, String)], dsn: &mut Dsn) {
    // The original recipient is the address on our list; the final one may be where it was
    // forwarded to.
    let address = ["original-recipient", "final-recipient"]
        .iter()
        .filter_map(|name| field(group, name))
        .find_map(address_in);
    let Some(address) = address else {
        let named = field(group, "final-recipient")
            .or(field(group, "original-recipient"))
            .unwrap_or("");
        dsn.unreadable
            .push(format!("a recipient without a readable address (`{named}`)"));
        return;
    };
    let action = field(group, "action")
        .and_then(|a| a.split_whitespace().next())
        .map(str::to_ascii_lowercase);
    let diagnostic = field(group, "diagnostic-code").map_or("", without_type).to_string();
    let status = field(group, "status")
        .and_then(|s| ENHANCED_CODE.captures(s).map(|c| c[1].to_string()))
        .or_else(|| status_in(&diagnostic))
        .unwrap_or_default();
    match classify(action.as_deref(), &status) {
        Some(kind) => dsn.recipients.push(RecipientResult {
            address,
            kind,
            status,
            diagnostic,
        }),
        None => dsn
            .not_failures
            .push(format!("{address}: {}", action.as_deref().unwrap_or("no action"))),
    }
}

#[cfg(test)]
mod fuzz_findings {
    use super::*;

    /// Runs in a child process of its own, where no hook was installed yet: its own counting
    /// hook stands for the process's, and must see every panic but the quiet ones.
    #[test]
    fn concurrent_quiet_parses_never_silence_the_panics_of_other_code() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        // The test's own path, as the harness names it (without the crate's name).
        let module = module_path!().split_once("::").map_or("", |(_, m)| m);
        let name = format!("{module}::concurrent_quiet_parses_never_silence_the_panics_of_other_code");
        if std::env::var_os("INFOFLASH_QUIET_CHILD").is_none() {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", &name, "--test-threads=1"])
                .env("INFOFLASH_QUIET_CHILD", "1")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success() && text.contains("1 passed"), "{text}");
            return;
        }
        static REPORTED: AtomicUsize = AtomicUsize::new(0);
        std::panic::set_hook(Box::new(|_| {
            REPORTED.fetch_add(1, Ordering::SeqCst);
        }));
        let raw: &[u8] = b"Content-Type:multipart;boundary=b\n\n--bContent-Type:message/rfc822\n\nContent-Type:message/rfc822\n\n\n--b--";
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..50 {
                        assert!(parse_without_panicking(raw).is_none());
                        assert_eq!(quietly(|| -> u8 { panic!("quiet") }), None);
                    }
                });
            }
        });
        assert_eq!(REPORTED.load(Ordering::SeqCst), 0, "a quiet panic was reported");
        let _ = std::thread::spawn(|| panic!("loud")).join();
        assert_eq!(REPORTED.load(Ordering::SeqCst), 1, "a panic elsewhere went unreported");
    }

    #[test]
    fn a_multipart_that_makes_mail_parser_panic_is_not_a_message() {
        let raw = b"Content-Type:multipart;boundary=b\n\n--bContent-Type:message/rfc822\n\nContent-Type:message/rfc822\n\n\n--b--";
        let quiet = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let panics = std::panic::catch_unwind(|| MessageParser::new().parse(&raw[..])).is_err();
        std::panic::set_hook(quiet);
        assert!(
            panics,
            "mail-parser no longer panics here: this guard may be simplified"
        );
        assert!(matches!(parse_dsn(raw), Err(NotABounce::NotAMessage)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUR_ID: &str = "<3f2a9c0d1e2b3a4f5061728394a5b6c9.2026-01-info-flash-22@example.org>";

    /// A bounce of `tests/fixtures/dsn/` (shared with `tests/bounces.rs`), filled in.
    fn fixture(template: &str, values: &[(&str, &str)]) -> String {
        values.iter().fold(template.to_string(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
    }

    /// Postfix's bounce: notification text, delivery report and the returned headers.
    fn postfix(recipient: &str, action: &str, status: &str, diagnostic: &str) -> String {
        fixture(
            include_str!("../../../tests/fixtures/dsn/postfix.eml"),
            &[
                ("recipient", recipient),
                ("action", action),
                ("status", status),
                ("diagnostic", diagnostic),
                ("message_id", OUR_ID),
                ("date", "Tue, 20 Jan 2026 09:14:03 +0000 (UTC)"),
                ("subject", "Undelivered Mail Returned to Sender"),
            ],
        )
    }

    /// Exchange's non-delivery report, with the original message (of N°23) attached.
    fn exchange() -> String {
        fixture(
            include_str!("../../../tests/fixtures/dsn/exchange.eml"),
            &[
                ("recipient", "jane.doe@contoso.example"),
                (
                    "message_id",
                    "<11111111111111111111111111111111.2026-02-info-flash-23@example.org>",
                ),
            ],
        )
    }

    /// Gmail's notification, which returns no headers but names the original message.
    fn gmail(kind: &str, action: &str, status: &str, diagnostic: &str) -> String {
        fixture(
            include_str!("../../../tests/fixtures/dsn/gmail.eml"),
            &[
                ("kind", kind),
                ("failed_header", ""),
                ("recipient", "nobody.here@gmail.com"),
                ("message_id", OUR_ID),
                ("action", action),
                ("status", status),
                ("diagnostic", diagnostic),
            ],
        )
    }

    fn only(dsn: &Dsn) -> &RecipientResult {
        assert_eq!(dsn.recipients.len(), 1, "{dsn:?}");
        &dsn.recipients[0]
    }

    #[test]
    fn a_postfix_user_unknown_is_a_hard_bounce_of_the_edition_in_the_returned_headers() {
        let raw = postfix(
            "gone@school.example.net",
            "failed",
            "5.1.1",
            "550 5.1.1 <gone@school.example.net>: Recipient address\r\n    rejected: User unknown in virtual mailbox table",
        );
        let dsn = parse_dsn(raw.as_bytes()).unwrap();
        let r = only(&dsn);
        assert_eq!(r.address.as_str(), "gone@school.example.net");
        assert_eq!(r.kind, Kind::Hard);
        assert_eq!(r.status, "5.1.1");
        assert_eq!(
            r.diagnostic,
            "550 5.1.1 <gone@school.example.net>: Recipient address rejected: User unknown in virtual mailbox table"
        );
        assert_eq!(dsn.edition.unwrap().as_str(), "2026-01-info-flash-22");
        assert_eq!(dsn.date, NaiveDate::from_ymd_opt(2026, 1, 20));
    }

    #[test]
    fn a_full_mailbox_is_a_soft_bounce_even_when_the_server_gave_up() {
        let raw = postfix("full@example.net", "failed", "4.2.2", "452 4.2.2 Mailbox full");
        let r = only(&parse_dsn(raw.as_bytes()).unwrap()).clone();
        assert_eq!((r.kind, r.status.as_str()), (Kind::Soft, "4.2.2"));
        assert_eq!(r.diagnostic, "452 4.2.2 Mailbox full");
    }

    #[test]
    fn an_exchange_recipient_not_found_is_a_hard_bounce_with_its_resolver_words() {
        let dsn = parse_dsn(exchange().as_bytes()).unwrap();
        let r = only(&dsn);
        assert_eq!(r.address.as_str(), "jane.doe@contoso.example");
        assert_eq!(r.kind, Kind::Hard);
        assert_eq!(r.status, "5.1.1");
        assert_eq!(r.diagnostic, "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found");
        assert_eq!(dsn.edition.unwrap().as_str(), "2026-02-info-flash-23");
    }

    #[test]
    fn a_gmail_failure_is_hard_and_a_gmail_delay_is_soft() {
        let failure = gmail(
            "Failure",
            "failed",
            "5.1.1",
            "The email account that you tried to reach does not exist. Please try\n double-checking the recipient's email address. a1b2c3si123.4 - gsmtp",
        );
        let dsn = parse_dsn(failure.as_bytes()).unwrap();
        let r = only(&dsn);
        assert_eq!((r.kind, r.status.as_str()), (Kind::Hard, "5.1.1"));
        assert!(r
            .diagnostic
            .starts_with("The email account that you tried to reach does not exist. Please try double-checking"));
        // Gmail returns no headers here, but names the original in X-Original-Message-ID.
        assert_eq!(dsn.edition.unwrap().as_str(), "2026-01-info-flash-22");
        assert_eq!(dsn.date, NaiveDate::from_ymd_opt(2026, 1, 22));

        let delay = gmail(
            "Delay",
            "delayed",
            "4.4.1",
            "The recipient server did not accept our requests to connect. [mx.slow.example.net. 198.51.100.2: timed out]",
        );
        let r = only(&parse_dsn(delay.as_bytes()).unwrap()).clone();
        assert_eq!((r.kind, r.status.as_str()), (Kind::Soft, "4.4.1"));
    }

    #[test]
    fn a_reply_or_an_auto_reply_is_not_a_bounce_and_says_which_message_it_was() {
        let reply = format!(
            "From: Ann <ann@school.example.net>\nTo: aspnet-infoflash@example.org\nSubject: Out of office\nAuto-Submitted: auto-replied\nIn-Reply-To: {OUR_ID}\n\nI am away until Monday; 550 people will read your mail.\n"
        );
        let Err(why) = parse_dsn(reply.as_bytes()) else {
            panic!("taken as a bounce")
        };
        assert!(why.to_string().contains("\"Out of office\""), "{why}");
        assert_eq!(parse_dsn(b"\n\njust text"), Err(NotABounce::NotAMessage));
    }

    #[test]
    fn a_delivery_report_of_success_has_no_bounced_recipient() {
        let raw = postfix("ann@example.net", "delivered", "2.0.0", "250 2.0.0 Ok: queued as 123");
        let dsn = parse_dsn(raw.as_bytes()).unwrap();
        assert!(dsn.recipients.is_empty());
        assert_eq!(dsn.not_failures, ["ann@example.net: delivered"]);
    }

    #[test]
    fn an_exim_bounce_without_a_status_part_is_read_from_x_failed_recipients() {
        let raw = "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\nTo: aspnet-infoflash@example.org\nSubject: Mail delivery failed: returning message to sender\nX-Failed-Recipients: old@example.net\nDate: Fri, 23 Jan 2026 08:00:00 +0000\n\nThis message was created automatically by mail delivery software.\n\n  old@example.net\n    SMTP error from remote mail server after RCPT TO:<old@example.net>:\n    550 5.1.1 No such user here\n";
        let r = only(&parse_dsn(raw.as_bytes()).unwrap()).clone();
        assert_eq!(r.address.as_str(), "old@example.net");
        assert_eq!((r.kind, r.status.as_str()), (Kind::Hard, "5.1.1"));
        assert_eq!(r.diagnostic, "550 5.1.1 No such user here");
    }

    #[test]
    fn status_codes_are_told_from_ip_addresses_and_reply_codes_stand_in_for_them() {
        assert_eq!(
            status_in("host 5.6.7.8 said: 550 5.1.1 unknown").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(status_in("host 5.6.7.8 said: 452 too many").as_deref(), Some("452"));
        assert_eq!(status_in("timed out").as_deref(), None);
    }

    #[test]
    fn the_action_and_status_class_decide_hard_soft_or_nothing() {
        assert_eq!(classify(Some("failed"), "5.7.1"), Some(Kind::Hard));
        assert_eq!(classify(Some("failed"), "4.4.7"), Some(Kind::Soft));
        assert_eq!(classify(Some("failed"), ""), Some(Kind::Soft));
        assert_eq!(classify(Some("delayed"), "5.0.0"), Some(Kind::Soft));
        assert_eq!(classify(Some("delivered"), "2.0.0"), None);
        assert_eq!(classify(Some("relayed"), "2.0.0"), None);
        assert_eq!(classify(Some("expanded"), "2.0.0"), None);
        assert_eq!(classify(None, "4.2.2"), Some(Kind::Soft));
        assert_eq!(classify(None, ""), None);
    }
}
