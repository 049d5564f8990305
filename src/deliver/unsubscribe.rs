//! One-click unsubscribe tokens: `List-Unsubscribe` links carry the recipient's address, the
//! sending office, the day they were issued and (version 3) the language of the variant the
//! recipient got, signed with HMAC-SHA256, so the unsubscribe service can act on a click
//! without a database, answer in the reader's language, and refuse a forged, altered or
//! expired token. Version 2 tokens (no language) stay valid until they expire.
//!
//! Proofs (`send --test`) carry a token of their own kind, `proof`, signed by the same key: it
//! names the same things, and the service answers it with a page that says it is a proof and
//! changes nothing, so a colleague who tries the link of a test message stays subscribed.
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
use crate::types::{EmailAddress, Language, OfficeId};

pub const KEY_ENV: &str = "INFOFLASH_UNSUBSCRIBE_KEY";

/// How long an unsubscribe link keeps working: a year of editions.
pub const MAX_AGE_DAYS: i64 = 400;

/// The version field of a proof's token.
const PROOF: &str = "proof";

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

    /// What stands for `address` in logs: a keyed hash (12 hex digits), the same for every
    /// spelling of the address, which nobody without the key can match to an address by
    /// hashing a list of them.
    pub fn pseudonym(&self, address: &EmailAddress) -> String {
        let mac = self.mac(format!("log\n{}", address.key()).as_bytes());
        mac.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }

    fn mac(&self, payload: &[u8]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(payload);
        mac.finalize().into_bytes().to_vec()
    }

    /// A token for `address` sent by `office` (`None`: the international team) on `issued`,
    /// without a language (version 2): the page it leads to guesses the reader's language.
    pub fn token(&self, office: Option<&OfficeId>, address: &EmailAddress, issued: NaiveDate) -> String {
        let office = office.map_or("", OfficeId::as_str);
        self.sign(format!("2\n{}\n{office}\n{}", issued.format("%Y-%m-%d"), address.key()))
    }

    /// A token for `address` sent by `office` on `issued` in a variant in `language`
    /// (version 3): the unsubscribe pages are shown in that language.
    pub fn token_in(
        &self,
        office: Option<&OfficeId>,
        language: &Language,
        address: &EmailAddress,
        issued: NaiveDate,
    ) -> String {
        self.sign_with_language("3", office, language, address, issued)
    }

    /// The token of a proof (`send --test`) to `address`: like [`Key::token_in`], but of the
    /// `proof` kind, which unsubscribes nobody.
    pub fn proof_token(
        &self,
        office: Option<&OfficeId>,
        language: &Language,
        address: &EmailAddress,
        issued: NaiveDate,
    ) -> String {
        self.sign_with_language(PROOF, office, language, address, issued)
    }

    /// `kind`, the day, the office, the language and the address, signed.
    fn sign_with_language(
        &self,
        kind: &str,
        office: Option<&OfficeId>,
        language: &Language,
        address: &EmailAddress,
        issued: NaiveDate,
    ) -> String {
        let office = office.map_or("", OfficeId::as_str);
        self.sign(format!(
            "{kind}\n{}\n{office}\n{language}\n{}",
            issued.format("%Y-%m-%d"),
            address.key()
        ))
    }

    fn sign(&self, payload: String) -> String {
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(self.mac(payload.as_bytes()))
        )
    }

    /// What a token was made for, if it is genuine and was issued no more than
    /// [`MAX_AGE_DAYS`] before `today` (an old link in an archived mail stops working rather
    /// than acting for ever).
    /// What the token names is parsed here, once: an office id, a language and one mailbox (a
    /// token can never name a wildcard or a whole domain, since they do not parse as an
    /// address).
    pub fn verify(&self, token: &str, today: NaiveDate) -> Option<Unsubscriber> {
        let (payload, signature) = token.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).ok()?;
        mac.update(&payload);
        mac.verify_slice(&signature).ok()?;
        let text = String::from_utf8(payload).ok()?;
        let version = text.split('\n').next()?;
        let mut parts = match version {
            "2" => text.splitn(4, '\n'),
            "3" | PROOF => text.splitn(5, '\n'),
            _ => return None,
        };
        parts.next()?;
        let issued = NaiveDate::parse_from_str(parts.next()?, "%Y-%m-%d").ok()?;
        let age = (today - issued).num_days();
        (0..=MAX_AGE_DAYS).contains(&age).then_some(())?;
        let office = match parts.next()? {
            "" => None,
            id => Some(id.parse().ok()?),
        };
        let language = match version {
            "2" => None,
            _ => Some(parts.next()?.parse().ok()?),
        };
        Some(Unsubscriber {
            office,
            language,
            address: parts.next()?.parse().ok()?,
            proof: version == PROOF,
        })
    }
}

/// Whom a genuine token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscriber {
    /// The office whose list the message came from; `None`: the international team.
    pub office: Option<OfficeId>,
    /// The language of the variant the recipient got; `None` in tokens of version 2.
    pub language: Option<Language>,
    pub address: EmailAddress,
    /// From a proof (`send --test`): the link must change nothing.
    pub proof: bool,
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
            Some(Unsubscriber {
                office: Some(santiago.clone()),
                language: None,
                address: "ann@example.org".parse().unwrap(),
                proof: false,
            })
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
    fn a_token_carries_the_language_and_old_tokens_stay_valid() {
        let key = Key::from_bytes(b"0123456789abcdef0123456789abcdef");
        let day = NaiveDate::from_ymd_opt(2026, 1, 13).unwrap();
        let ann: EmailAddress = "ann@example.org".parse().unwrap();
        let arabic: Language = "ar".parse().unwrap();
        let v3 = key.token_in(None, &arabic, &ann, day);
        let found = key.verify(&v3, day).unwrap();
        assert_eq!(found.language, Some(arabic));
        assert_eq!((found.office, found.address), (None, ann.clone()));
        // A version 2 payload signed as older releases did.
        let v2 = key.sign(format!("2\n2026-01-13\n\n{}", ann.key()));
        assert_eq!(v2, key.token(None, &ann, day));
        assert_eq!(key.verify(&v2, day).unwrap().language, None);
        // A version 3 payload with a language that does not parse is refused, signed or not.
        assert_eq!(
            key.verify(
                &key.sign("3\n2026-01-13\n\nnot a language\nann@example.org".into()),
                day
            ),
            None
        );
        assert_eq!(
            key.verify(&key.sign("4\n2026-01-13\n\nen\nann@example.org".into()), day),
            None
        );
    }

    #[test]
    fn a_proofs_token_is_its_own_kind_and_cannot_be_turned_into_a_real_one() {
        let key = Key::from_bytes(b"0123456789abcdef0123456789abcdef");
        let day = NaiveDate::from_ymd_opt(2026, 1, 13).unwrap();
        let ann: EmailAddress = "ann@example.org".parse().unwrap();
        let french: Language = "fr".parse().unwrap();
        let santiago: OfficeId = "santiago".parse().unwrap();
        let proof = key.proof_token(Some(&santiago), &french, &ann, day);
        let found = key.verify(&proof, day).unwrap();
        assert!(found.proof);
        assert_eq!(
            (found.office, found.language, found.address),
            (Some(santiago.clone()), Some(french.clone()), ann.clone())
        );
        assert!(
            !key.verify(&key.token_in(Some(&santiago), &french, &ann, day), day)
                .unwrap()
                .proof
        );
        // The kind is signed: relabelling a proof as version 3 breaks the signature.
        let (payload, signature) = proof.split_once('.').unwrap();
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let relabelled = format!("{}.{signature}", URL_SAFE_NO_PAD.encode(text.replacen("proof", "3", 1)));
        assert_eq!(key.verify(&relabelled, day), None);
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
