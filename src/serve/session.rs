//! Who may edit: the editor's sessions, its login and its CSRF tokens.
//!
//! With `[serve] edit_password_hash` set, `/edit/` asks for the password (checked against the
//! Argon2 hash) and then gives a session cookie; without it the service listens on loopback
//! only (checked at start) and the first page opens a session by itself. Either way the
//! cookie is `HttpOnly; Secure; SameSite=Strict` (browsers treat loopback as secure) and every
//! form carries the session's CSRF token, checked on each POST in constant time; the login
//! form, which comes before any session, carries a token of its own, doubled in a cookie.
//!
//! Owns sessions and passwords; it must not log a password, a cookie or a token.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};

/// The cookie's name.
pub const COOKIE: &str = "infoflash_edit";

/// The login form's cookie: the same random value as the form's hidden `csrf` field (a
/// double-submit token), so that another site cannot post a login of its own choosing.
pub const LOGIN_COOKIE: &str = "infoflash_login";

/// The attributes of both cookies.
const ATTRIBUTES: &str = "Path=/; HttpOnly; Secure; SameSite=Strict";

/// How long a session lasts after its last request.
const IDLE: Duration = Duration::from_secs(12 * 3600);

/// At most this many sessions are kept (the oldest go first): a client cannot fill the memory.
const MAX_SESSIONS: usize = 1000;

struct Session {
    csrf: String,
    last: Instant,
}

pub struct Sessions {
    password_hash: Option<String>,
    /// One password check at a time: each takes Argon2's memory (19 MiB), and a flood of
    /// logins must not take all of it.
    checking: Mutex<()>,
    open: Mutex<HashMap<String, Session>>,
}

/// A random secret, as hex: two v4 UUIDs' random bits (the OS generator).
fn secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// The value of the request's cookie `name`.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('=').map(str::to_string))
}

fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl Sessions {
    pub fn new(password_hash: Option<String>) -> Sessions {
        Sessions {
            password_hash,
            checking: Mutex::new(()),
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a password is asked for.
    pub fn needs_login(&self) -> bool {
        self.password_hash.is_some()
    }

    /// The session id the request's cookie names, if it is open; touching it.
    fn find(&self, headers: &HeaderMap) -> Option<(String, String)> {
        let id = cookie(headers, COOKIE)?;
        let mut open = self.open.lock().ok()?;
        let now = Instant::now();
        open.retain(|_, s| now.duration_since(s.last) < IDLE);
        let (key, session) = open.iter_mut().find(|(k, _)| same(k, &id))?;
        session.last = now;
        Some((key.clone(), session.csrf.clone()))
    }

    /// The CSRF token of the request's session, if it has one.
    pub fn csrf(&self, headers: &HeaderMap) -> Option<String> {
        self.find(headers).map(|(_, csrf)| csrf)
    }

    /// Whether the request has a session and `token` is its CSRF token.
    pub fn check(&self, headers: &HeaderMap, token: Option<&str>) -> bool {
        match (self.find(headers), token) {
            (Some((_, csrf)), Some(token)) => same(&csrf, token),
            _ => false,
        }
    }

    /// A new session: its `Set-Cookie` value and its CSRF token.
    pub fn open(&self) -> (String, String) {
        let id = secret();
        let csrf = secret();
        if let Ok(mut open) = self.open.lock() {
            if open.len() >= MAX_SESSIONS {
                if let Some(oldest) = open.iter().min_by_key(|(_, s)| s.last).map(|(k, _)| k.clone()) {
                    open.remove(&oldest);
                }
            }
            open.insert(
                id.clone(),
                Session {
                    csrf: csrf.clone(),
                    last: Instant::now(),
                },
            );
        }
        (format!("{COOKIE}={id}; {ATTRIBUTES}"), csrf)
    }

    /// The login form's token: its `Set-Cookie` value and the value of the form's field.
    pub fn login_token(&self) -> (String, String) {
        let token = secret();
        (format!("{LOGIN_COOKIE}={token}; {ATTRIBUTES}"), token)
    }

    /// Whether a login post carries the token its own login form was given.
    pub fn login_token_ok(&self, headers: &HeaderMap, token: Option<&str>) -> bool {
        match (cookie(headers, LOGIN_COOKIE), token) {
            (Some(cookie), Some(token)) => !token.is_empty() && same(&cookie, token),
            _ => false,
        }
    }

    /// Whether `password` is the configured one (slow on purpose: Argon2); `None` while
    /// another check runs. Checks do not queue: a flood of logins would otherwise hold every
    /// blocking thread of the service, and the editor's own saves with them.
    pub fn password_ok(&self, password: &str) -> Option<bool> {
        use argon2::PasswordVerifier as _;
        let Some(hash) = &self.password_hash else {
            return Some(false);
        };
        let _one_at_a_time = match self.checking.try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        Some(argon2::PasswordHash::new(hash).is_ok_and(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        }))
    }
}

/// The Argon2id hash (PHC string) of `password`, with a fresh random salt: the value of
/// `[serve] edit_password_hash`.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher as _, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(set_cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let pair = set_cookie.split(';').next().unwrap();
        h.insert(header::COOKIE, format!("other=1; {pair}").parse().unwrap());
        h
    }

    #[test]
    fn a_session_needs_its_cookie_and_its_own_csrf_token() {
        let sessions = Sessions::new(None);
        let (cookie, csrf) = sessions.open();
        assert!(cookie.contains("HttpOnly; Secure; SameSite=Strict"));
        let headers = with_cookie(&cookie);
        assert!(sessions.check(&headers, Some(&csrf)));
        assert!(!sessions.check(&headers, Some("forged")));
        assert!(!sessions.check(&headers, None));
        assert!(!sessions.check(&HeaderMap::new(), Some(&csrf)));
        let (other, _) = sessions.open();
        assert!(!sessions.check(&with_cookie(&other), Some(&csrf)));
    }

    #[test]
    fn a_login_needs_the_token_its_own_form_was_given() {
        let sessions = Sessions::new(None);
        let (cookie, token) = sessions.login_token();
        assert!(cookie.starts_with("infoflash_login=") && cookie.contains("HttpOnly; Secure; SameSite=Strict"));
        let headers = with_cookie(&cookie);
        assert!(sessions.login_token_ok(&headers, Some(&token)));
        assert!(!sessions.login_token_ok(&headers, Some("forged")));
        assert!(!sessions.login_token_ok(&headers, None));
        assert!(!sessions.login_token_ok(&HeaderMap::new(), Some(&token)));
        // The session cookie is no login token, nor the other way round.
        let (session, csrf) = sessions.open();
        assert!(!sessions.login_token_ok(&with_cookie(&session), Some(&csrf)));
        assert!(!sessions.check(&headers, Some(&token)));
    }

    #[test]
    fn the_password_is_checked_against_its_argon2_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let sessions = Sessions::new(Some(hash));
        assert_eq!(sessions.password_ok("correct horse"), Some(true));
        assert_eq!(sessions.password_ok("correct horse "), Some(false));
        assert_eq!(Sessions::new(None).password_ok(""), Some(false));
        // While one check runs, another is turned away rather than queued.
        let _running = sessions.checking.lock().unwrap();
        assert_eq!(sessions.password_ok("correct horse"), None);
    }
}
