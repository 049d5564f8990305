//! The secrets a send needs and where they come from: relay passwords (an environment
//! variable or a file only its owner can read, never the settings file in git nor a URL) and
//! the extra certificate authorities a relay's certificate may be signed by. A [`Secret`] never
//! shows in `Debug` or in a log. Every relay, single or one of `[[delivery.relays]]`, gets its
//! password through [`relay_password`]. It must not connect to anything.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::types::Relay;

/// A password. Never printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// From an environment variable, or else a file that only its owner can read.
    pub fn load(env_var: &str, file: Option<&Path>) -> Result<Option<Secret>, String> {
        if let Some(value) = (!env_var.is_empty()).then(|| std::env::var(env_var).ok()).flatten() {
            return Ok(Some(Secret(value)));
        }
        let Some(file) = file else { return Ok(None) };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta =
                std::fs::metadata(file).map_err(|e| format!("cannot read the secret file {}: {e}", file.display()))?;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(format!(
                    "the password file {} can be read by others: chmod 600 it",
                    file.display()
                ));
            }
        }
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read the password file {}: {e}", file.display()))?;
        Ok(Some(Secret(text.trim_end_matches(['\r', '\n']).to_string())))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Why a secret could not be had; the text names the variable or file to fix.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{0}")]
    Password(String),
    #[error("the relay {relay} needs a password: set {env} or `password_file`")]
    Missing { relay: String, env: String },
    #[error("cannot read tls_ca_file {path}")]
    CaFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The password of `relay`: none when its URL names no user; from the environment variable
/// `env`, else from `file`; an error when a user is named and neither gives one.
pub fn relay_password(relay: &Relay, env: &str, file: Option<&Path>) -> Result<Option<Secret>, SecretError> {
    if relay.user.is_none() {
        return Ok(None);
    }
    match Secret::load(env, file).map_err(SecretError::Password)? {
        Some(secret) => Ok(Some(secret)),
        None => Err(SecretError::Missing {
            relay: relay.to_string(),
            env: env.to_string(),
        }),
    }
}

/// The extra certificate authorities (PEM) of `tls_ca_file`, if it is set.
pub fn read_ca(file: Option<&Path>) -> Result<Option<Vec<u8>>, SecretError> {
    file.map(|path| {
        std::fs::read(path).map_err(|source| SecretError::CaFile {
            path: path.to_path_buf(),
            source,
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug() {
        let s = Secret("hunter2".into());
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert!(!format!("{:?}", Some(s)).contains("hunter2"));
    }

    #[test]
    fn a_relay_without_a_user_needs_no_password_and_one_with_a_user_must_have_one() {
        let relay = |url: &str| match crate::types::Destination::parse(url).unwrap() {
            crate::types::Destination::Smtp(r) => r,
            crate::types::Destination::Outbox => unreachable!(),
        };
        assert!(
            relay_password(&relay("smtp://127.0.0.1:25"), "INFOFLASH_TEST_NO_SUCH_VAR", None)
                .unwrap()
                .is_none()
        );
        let err = relay_password(&relay("smtp://mailer@127.0.0.1:25"), "INFOFLASH_TEST_NO_SUCH_VAR", None).unwrap_err();
        assert!(err.to_string().contains("INFOFLASH_TEST_NO_SUCH_VAR"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("password");
        std::fs::write(&file, "s3cret\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(relay_password(&relay("smtp://mailer@127.0.0.1:25"), "", Some(&file)).is_err());
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let secret = relay_password(&relay("smtp://mailer@127.0.0.1:25"), "", Some(&file))
            .unwrap()
            .unwrap();
        assert_eq!(secret.expose(), "s3cret");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }
}
