//! One-click unsubscribe tokens: `List-Unsubscribe` links carry the recipient's address, the
//! sending office and the day they were issued, signed with HMAC-SHA256, so the unsubscribe
//! service can act on a click without a database, and a forged, altered or expired token is
//! refused.
//!
//! The key comes from the `INFOFLASH_UNSUBSCRIBE_KEY` environment variable; without it one is
//! generated once into `state/unsubscribe.key` (mode 0600) so that the main job works out of
//! the box and links stay valid across runs.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::state::StateDir;
use crate::types::{EmailAddress, OfficeId};

pub const KEY_ENV: &str = "INFOFLASH_UNSUBSCRIBE_KEY";

/// How long an unsubscribe link keeps working: a year of editions.
pub const MAX_AGE_DAYS: i64 = 400;

/// The signing key. Never printed.
#[derive(Clone)]
pub struct Key(Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(***)")
    }
}

impl Key {
    pub fn from_bytes(bytes: &[u8]) -> Key {
        Key(bytes.to_vec())
    }

    /// The key from the environment, else the state folder's (made on first use, see
    /// [`StateDir::unsubscribe_key`]).
    pub fn load(state: &StateDir) -> Result<Key, String> {
        if let Ok(k) = std::env::var(KEY_ENV) {
            if k.len() < 16 {
                return Err(format!(
                    "{KEY_ENV} is too short: use at least 16 characters (32 random bytes is best)"
                ));
            }
            return Ok(Key(k.into_bytes()));
        }
        state.unsubscribe_key().map(Key)
    }

    fn mac(&self, payload: &[u8]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(payload);
        mac.finalize().into_bytes().to_vec()
    }

    /// A token for `address` sent by `office` (`None`: the international team) on `issued`.
    pub fn token(&self, office: Option<&OfficeId>, address: &EmailAddress, issued: NaiveDate) -> String {
        let office = office.map_or("", OfficeId::as_str);
        let payload = format!("2\n{}\n{office}\n{}", issued.format("%Y-%m-%d"), address.key());
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(self.mac(payload.as_bytes()))
        )
    }

    /// The office and address a token was made for, if it is genuine and was issued no more
    /// than [`MAX_AGE_DAYS`] before `today` (an old link in an archived mail stops working
    /// rather than acting for ever).
    /// What the token names is parsed here, once: an office id and one mailbox (a token can
    /// never name a wildcard or a whole domain, since they do not parse as an address).
    pub fn verify(&self, token: &str, today: NaiveDate) -> Option<(Option<OfficeId>, EmailAddress)> {
        let (payload, signature) = token.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).ok()?;
        mac.update(&payload);
        mac.verify_slice(&signature).ok()?;
        let text = String::from_utf8(payload).ok()?;
        let mut parts = text.splitn(4, '\n');
        (parts.next()? == "2").then_some(())?;
        let issued = NaiveDate::parse_from_str(parts.next()?, "%Y-%m-%d").ok()?;
        let age = (today - issued).num_days();
        (0..=MAX_AGE_DAYS).contains(&age).then_some(())?;
        let office = match parts.next()? {
            "" => None,
            id => Some(id.parse().ok()?),
        };
        Some((office, parts.next()?.parse().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_and_an_altered_one_does_not() {
        let key = Key::from_bytes(b"0123456789abcdef0123456789abcdef");
        let day = NaiveDate::from_ymd_opt(2026, 1, 13).unwrap();
        let santiago: OfficeId = "santiago".parse().unwrap();
        let token = key.token(Some(&santiago), &"Ann@Example.org".parse().unwrap(), day);
        assert_eq!(
            key.verify(&token, day),
            Some((Some(santiago), "ann@example.org".parse().unwrap()))
        );
        let (p, s) = token.split_once('.').unwrap();
        let forged = format!(
            "{}.{s}",
            URL_SAFE_NO_PAD.encode("2\n2026-01-13\nsantiago\nbob@example.org")
        );
        assert_eq!(key.verify(&forged, day), None);
        assert_eq!(key.verify(&format!("{p}.{}", &s[1..]), day), None);
        assert_eq!(
            Key::from_bytes(b"another key, another signature!!").verify(&token, day),
            None
        );
        // Still good a year later; expired after MAX_AGE_DAYS; never valid before it was made.
        let later = |days| day + chrono::Duration::days(days);
        assert!(key.verify(&token, later(365)).is_some());
        assert_eq!(key.verify(&token, later(MAX_AGE_DAYS + 1)), None);
        assert_eq!(key.verify(&token, later(-1)), None);
        assert!(
            token.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "not URL-safe: {token}"
        );
    }

    #[test]
    fn a_generated_key_file_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().join("state"));
        let file = state.root().join("unsubscribe.key");
        let a = Key(state.unsubscribe_key().unwrap());
        let b = Key(state.unsubscribe_key().unwrap());
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(format!("{a:?}"), "Key(***)");
    }
}
