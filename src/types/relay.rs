//! The relay to deliver through (a value of the settings, parsed here once; delivery uses it): `smtp://[user@]host[:port]` (STARTTLS when the server offers
//! it is not assumed: add `?tls=starttls`), `smtps://[user@]host[:port]` (implicit TLS), or
//! `outbox` (files, the default). Passwords never come from the settings file in git, nor
//! from the URL: see [`super::secrets`].

use std::fmt;

use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    None,
    StartTls,
    Implicit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: Option<String>,
    /// The name we give in EHLO.
    pub hello_name: String,
}

impl fmt::Display for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.security == Security::Implicit {
            "smtps"
        } else {
            "smtp"
        };
        let user = self.user.as_deref().map(|u| format!("{u}@")).unwrap_or_default();
        let tls = if self.security == Security::StartTls {
            "?tls=starttls"
        } else {
            ""
        };
        write!(f, "{scheme}://{user}{}:{}{tls}", self.host, self.port)
    }
}

/// Where to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Outbox,
    Smtp(Relay),
}

impl Destination {
    pub fn parse(text: &str) -> Result<Destination, String> {
        if text == "outbox" {
            return Ok(Destination::Outbox);
        }
        let url = url::Url::parse(text).map_err(|e| {
            format!("`{text}` is not a relay URL ({e}): use smtp://host:25, smtps://host:465 or outbox")
        })?;
        let (security, default_port) = match url.scheme() {
            "smtp" => (Security::None, 25),
            "smtps" => (Security::Implicit, 465),
            other => {
                return Err(format!(
                    "`{other}:` is not a relay scheme: use smtp://, smtps:// or outbox"
                ))
            }
        };
        if url.password().is_some() {
            return Err("put the password in an environment variable or a 0600 file, never in the relay URL".into());
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(format!("the relay URL `{text}` has no host"))?;
        let mut relay = Relay {
            host: host.trim_start_matches('[').trim_end_matches(']').to_string(),
            port: url.port().unwrap_or(default_port),
            security,
            user: (!url.username().is_empty()).then(|| url.username().to_string()),
            hello_name: "localhost".into(),
        };
        for (k, v) in url.query_pairs() {
            match (k.as_ref(), v.as_ref()) {
                ("tls", "starttls") if security == Security::None => relay.security = Security::StartTls,
                ("tls", "none") if security == Security::None => {}
                ("hello", name) => relay.hello_name = name.to_string(),
                _ => {
                    return Err(format!(
                        "unknown relay option `{k}={v}`: use tls=starttls or hello=NAME"
                    ))
                }
            }
        }
        Ok(Destination::Smtp(relay))
    }

    /// Refuses to send a password in clear text anywhere but to this machine.
    pub fn check_auth_is_safe(&self) -> Result<(), String> {
        match self {
            Destination::Smtp(r) if r.user.is_some() && r.security == Security::None && !is_loopback(&r.host) => {
                Err(format!(
                    "refusing to send a password unencrypted to {}: use smtps:// or ?tls=starttls",
                    r.host
                ))
            }
            _ => Ok(()),
        }
    }
}

/// The loopback check for the "no password over plain text" rule.
pub fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_relay_urls_with_their_security() {
        let Destination::Smtp(r) = Destination::parse("smtp://mailer@127.0.0.1:2525?tls=starttls").unwrap() else {
            panic!()
        };
        assert_eq!(
            (r.host.as_str(), r.port, r.security, r.user.as_deref()),
            ("127.0.0.1", 2525, Security::StartTls, Some("mailer"))
        );
        let Destination::Smtp(r) = Destination::parse("smtps://relay.example.org").unwrap() else {
            panic!()
        };
        assert_eq!((r.port, r.security), (465, Security::Implicit));
        assert_eq!(Destination::parse("outbox").unwrap(), Destination::Outbox);
        assert!(Destination::parse("smtp://u:secret@host")
            .unwrap_err()
            .contains("never in the relay URL"));
        assert!(Destination::parse("http://host").is_err());
    }

    #[test]
    fn refuses_a_password_in_clear_to_another_machine() {
        assert!(Destination::parse("smtp://u@relay.example.org")
            .unwrap()
            .check_auth_is_safe()
            .is_err());
        assert!(Destination::parse("smtp://u@127.0.0.1:2525")
            .unwrap()
            .check_auth_is_safe()
            .is_ok());
        assert!(Destination::parse("smtps://u@relay.example.org")
            .unwrap()
            .check_auth_is_safe()
            .is_ok());
        assert!(Destination::parse("smtp://relay.example.org")
            .unwrap()
            .check_auth_is_safe()
            .is_ok());
    }
}
