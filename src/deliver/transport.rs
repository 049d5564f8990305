//! Where messages go: one small [`Transport`] trait with the outbox (lettre's file transport,
//! the default, so the main job needs no server) and SMTP (lettre's connection API, one
//! connection per worker).

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::{ClientId, Extension};

use crate::types::relay::{Relay, Security};

/// How a send attempt ended, from the point of view of retrying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 4xx: try again later (greylisting, throttling, a full mailbox).
    Temporary { code: Option<u16>, reply: String },
    /// 5xx: the server refused for good.
    Permanent { code: Option<u16>, reply: String },
    /// The connection broke or timed out: the message may go again on a new connection.
    Connection { reply: String },
    /// Our own side cannot work: the outbox folder is read-only, full, or not ours. Retrying
    /// would fail the same way for every recipient, so the send stops (exit 2).
    Local { reply: String },
}

/// The server's answer to the final `.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub code: u16,
    pub reply: String,
}

pub trait Transport: Send {
    /// Sends one message. `folder` says where the outbox files it (`EDITION/VARIANT`, relative
    /// and made of path-safe ids); a relay has no use for it.
    fn send(&mut self, envelope: &Envelope, message: &[u8], folder: &str) -> Result<Accepted, Failure>;
}

/// The next free number of each outbox folder, shared by every worker of a send: files are
/// numbered 1, 2, 3… in the order they are written, and a later run goes on after the
/// highest number it finds.
#[derive(Debug, Default)]
pub struct OutboxNumbers(Mutex<HashMap<PathBuf, u64>>);

impl OutboxNumbers {
    /// A number not yet given out in `dir`. A file of that name may still exist (another
    /// process writing the same folder): [`Outbox::write`] never replaces one, it asks again.
    fn next(&self, dir: &Path) -> u64 {
        let mut numbers = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let last = numbers.entry(dir.to_path_buf()).or_insert_with(|| highest_number(dir));
        *last += 1;
        *last
    }
}

/// The highest `<n>.eml` in `dir` (0 when there is none).
fn highest_number(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let name = e.ok()?.file_name();
            name.to_str()?.strip_suffix(".eml")?.parse::<u64>().ok()
        })
        .max()
        .unwrap_or(0)
}

/// Writes each message as a `.eml` file into a folder, `<outbox>/<edition>/<variant>/<n>.eml`
/// (so a person finds the Spanish message of an office in `es-santiago/`). A file is written
/// under a hidden temporary name and given its number once whole, so that a crash or a full
/// disk never leaves a truncated `.eml`, and a message is reported written only when it is
/// there in full. A numbered file is never replaced: each message the journal records as
/// written is a file of its own.
pub struct Outbox {
    dir: PathBuf,
    numbers: Arc<OutboxNumbers>,
}

impl Outbox {
    pub fn new(dir: PathBuf, numbers: Arc<OutboxNumbers>) -> std::io::Result<Outbox> {
        std::fs::create_dir_all(&dir)?;
        Ok(Outbox { dir, numbers })
    }

    fn write(&self, folder: &str, message: &[u8]) -> std::io::Result<PathBuf> {
        use std::io::Write;
        let dir = self.dir.join(folder);
        std::fs::create_dir_all(&dir)?;
        let temporary = dir.join(format!(".{}.eml.tmp", uuid::Uuid::new_v4()));
        let written = std::fs::File::create_new(&temporary)
            .and_then(|mut f| f.write_all(message).and_then(|()| f.flush()))
            .and_then(|()| self.name(&dir, &temporary));
        let _ = std::fs::remove_file(&temporary);
        written
    }

    /// Gives the whole file at `temporary` the next free number: a hard link fails rather than
    /// replace a file, which a rename would do silently.
    fn name(&self, dir: &Path, temporary: &Path) -> std::io::Result<PathBuf> {
        loop {
            let file = dir.join(format!("{}.eml", self.numbers.next(dir)));
            match std::fs::hard_link(temporary, &file) {
                Ok(()) => return Ok(file),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                // A file system without hard links: a rename, after making sure the name is free.
                Err(e) if e.kind() == std::io::ErrorKind::Unsupported && !file.exists() => {
                    return std::fs::rename(temporary, &file).map(|()| file)
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Transport for Outbox {
    fn send(&mut self, _envelope: &Envelope, message: &[u8], folder: &str) -> Result<Accepted, Failure> {
        match self.write(folder, message) {
            Ok(file) => Ok(Accepted {
                code: 250,
                reply: format!("written to {}", file.display()),
            }),
            Err(e) => Err(Failure::Local {
                reply: format!("cannot write to the outbox {}: {e}", self.dir.display()),
            }),
        }
    }
}

/// One SMTP connection, opened on first use and again after it breaks.
pub struct Smtp {
    relay: Relay,
    password: Option<super::secrets::Secret>,
    /// Extra certificate authorities (PEM) to trust, from `tls_ca_file`.
    ca: Option<Vec<u8>>,
    timeout: Duration,
    hello: ClientId,
    conn: Option<SmtpConnection>,
}

impl Smtp {
    pub fn new(relay: Relay, password: Option<super::secrets::Secret>, ca: Option<Vec<u8>>, timeout: Duration) -> Smtp {
        let hello = ClientId::Domain(relay.hello_name.clone());
        Smtp {
            relay,
            password,
            ca,
            timeout,
            hello,
            conn: None,
        }
    }

    fn connect(&mut self) -> Result<&mut SmtpConnection, Failure> {
        if self.conn.as_mut().is_some_and(|c| c.has_broken()) {
            self.conn = None;
        }
        if self.conn.is_none() {
            let r = &self.relay;
            let connection_failure = |e: lettre::transport::smtp::Error| Failure::Connection {
                reply: format!("cannot connect to {}:{}: {e}", r.host, r.port),
            };
            let mut tls = TlsParameters::builder(r.host.clone());
            if let Some(pem) = &self.ca {
                tls = tls.add_root_certificate(Certificate::from_pem(pem).map_err(connection_failure)?);
            }
            let tls = tls.build_rustls().map_err(connection_failure)?;
            let implicit = (r.security == Security::Implicit).then_some(&tls);
            let peers: Vec<SocketAddr> = (r.host.as_str(), r.port)
                .to_socket_addrs()
                .map(Iterator::collect)
                .unwrap_or_default();
            let before = sockets_to(&peers);
            let mut conn = SmtpConnection::connect(
                (r.host.as_str(), r.port),
                Some(self.timeout),
                &self.hello,
                implicit,
                None,
            )
            .map_err(connection_failure)?;
            set_nodelay_on_new_sockets(&peers, &before);
            if r.security == Security::StartTls {
                conn.starttls(&tls, &self.hello).map_err(connection_failure)?;
            }
            if let (Some(user), Some(password)) = (&r.user, &self.password) {
                let creds = Credentials::new(user.clone(), password.expose().to_string());
                conn.auth(&[Mechanism::Plain, Mechanism::Login], &creds)
                    .map_err(classify)?;
            }
            self.conn = Some(conn);
        }
        self.conn.as_mut().ok_or(Failure::Connection {
            reply: "no connection".into(),
        })
    }
}

/// One SMTP transaction through lettre's public command API. `SmtpConnection::send` would
/// do the same, but copies the message through its DATA encoder a byte at a time (a third of
/// the CPU of a send, measured with `perf`), then writes the final `.` on its own. Here the
/// message is dot-stuffed with a fast search for line starts and written with its terminator
/// in one write, as one more "command". The parameters and the abort on any error are
/// lettre's. A message that is not UTF-8 (never the case for ours) takes lettre's own path.
/// `smtputf8`: the envelope has a non-ASCII address (and the caller checked the relay offers
/// the extension).
fn transact(
    conn: &mut SmtpConnection,
    envelope: &Envelope,
    message: &[u8],
    smtputf8: bool,
) -> Result<lettre::transport::smtp::response::Response, lettre::transport::smtp::Error> {
    use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
    use lettre::transport::smtp::extension::{MailBodyParameter, MailParameter};
    let Ok(text) = std::str::from_utf8(message) else {
        return conn.send(envelope, message);
    };
    let mut parameters = Vec::new();
    if smtputf8 {
        parameters.push(MailParameter::SmtpUtfEight);
    }
    if !message.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            // lettre refuses it, with its own words.
            return conn.send(envelope, message);
        }
        parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    // Any error ends the session, as lettre's own `send` does: the connection is reopened.
    fn checked<T>(
        conn: &mut SmtpConnection,
        result: Result<T, lettre::transport::smtp::Error>,
    ) -> Result<T, lettre::transport::smtp::Error> {
        if result.is_err() {
            conn.abort();
        }
        result
    }
    let r = conn.command(Mail::new(envelope.from().cloned(), parameters));
    checked(conn, r)?;
    for to in envelope.to() {
        let r = conn.command(Rcpt::new(to.clone(), Vec::new()));
        checked(conn, r)?;
    }
    let r = conn.command(Data);
    checked(conn, r)?;
    let r = conn.command(Payload(&dot_stuffed(text)));
    checked(conn, r)
}

/// The message and the end of DATA, written as one "command".
struct Payload<'a>(&'a str);

impl std::fmt::Display for Payload<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // lettre ends every message with CRLF . CRLF after its own last line break.
        f.write_str(self.0)?;
        f.write_str("\r\n.\r\n")
    }
}

/// RFC 5321 §4.5.2: a line that starts with `.` gets another one, so that it cannot end the
/// DATA. Found with memchr's substring search rather than a byte-by-byte state machine.
fn dot_stuffed(text: &str) -> std::borrow::Cow<'_, str> {
    let mut starts = memchr::memmem::find_iter(text.as_bytes(), b"\n.")
        .map(|i| i + 1)
        .peekable();
    let first = text.starts_with('.');
    if !first && starts.peek().is_none() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut from = 0;
    if first {
        out.push('.');
    }
    for at in starts {
        out.push_str(&text[from..at]);
        out.push('.');
        from = at;
    }
    out.push_str(&text[from..]);
    std::borrow::Cow::Owned(out)
}

/// lettre's three-digit reply code as the number servers write (`250`, `451`).
fn reply_code(code: lettre::transport::smtp::response::Code) -> u16 {
    u16::from(code.severity as u8) * 100 + u16::from(code.category as u8) * 10 + u16::from(code.detail as u8)
}

/// Sorts a lettre error into the three kinds that matter for retrying.
fn classify(e: lettre::transport::smtp::Error) -> Failure {
    let code = e.status().map(reply_code);
    let reply = e.to_string();
    if e.is_permanent() {
        Failure::Permanent { code, reply }
    } else if e.is_transient() {
        Failure::Temporary { code, reply }
    } else {
        Failure::Connection { reply }
    }
}

impl Transport for Smtp {
    fn send(&mut self, envelope: &Envelope, message: &[u8], _folder: &str) -> Result<Accepted, Failure> {
        let conn = self.connect()?;
        // lettre refuses such an envelope with an error that reads like a broken connection,
        // which would defer the recipient for ever: it is a refusal, and says why.
        let non_ascii = envelope
            .to()
            .iter()
            .chain(envelope.from())
            .any(|a: &lettre::Address| !AsRef::<str>::as_ref(a).is_ascii());
        if non_ascii && !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(Failure::Permanent {
                code: None,
                reply: format!(
                    "the address needs SMTPUTF8 (its local part is not ASCII) and the relay {} does not offer it; \
                     send through a relay that does, or ask the recipient for an ASCII address",
                    self.relay
                ),
            });
        }
        match transact(conn, envelope, message, non_ascii) {
            Ok(response) => {
                let numeric = reply_code(response.code());
                Ok(Accepted {
                    code: numeric,
                    reply: response.message().collect::<Vec<_>>().join(" "),
                })
            }
            Err(e) => {
                let failure = classify(e);
                // After a refusal the session may still be usable, but a 421 or a broken
                // stream means start over on a fresh connection.
                let broken = matches!(failure, Failure::Connection { .. })
                    || matches!(failure, Failure::Temporary { code: Some(421), .. })
                    || self.conn.as_ref().is_some_and(SmtpConnection::has_broken);
                if broken {
                    if let Some(mut c) = self.conn.take() {
                        c.abort();
                    }
                }
                Err(failure)
            }
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        if let Some(mut c) = self.conn.take() {
            let _ = c.quit();
        }
    }
}

/// lettre's connection API does not expose its socket, and without TCP_NODELAY every message
/// stalls ~40 ms (Nagle's algorithm holding the final `.`, which lettre writes on its own,
/// while the server delays its ACK). So the socket is found from outside: the TCP sockets of
/// this process connected to the relay's address (`/proc/self/fd` and `getpeername`) that
/// did not exist before this connect, told apart by their inode, so that a descriptor closed
/// and reused meanwhile is never touched. Another worker connecting to the same relay at the
/// same moment may have its socket set too, which is what it would do itself. Linux only;
/// elsewhere messages are sent without it (slower, never wrong).
///
/// The sockets of this process connected to one of `peers`, by inode.
fn sockets_to(peers: &[SocketAddr]) -> Vec<u64> {
    socket_fds(peers).into_iter().map(|(_, inode)| inode).collect()
}

/// `(descriptor, inode)` of each TCP socket of this process whose peer is in `peers`.
fn socket_fds(peers: &[SocketAddr]) -> Vec<(i32, u64)> {
    #[cfg(target_os = "linux")]
    {
        let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
                continue;
            };
            let Some(inode) = socket_inode(fd) else { continue };
            // SAFETY: the descriptor was open when listed; if it has been closed since, the
            // calls below fail harmlessly (EBADF), and a reused one has another inode.
            let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            let socket = socket2::SockRef::from(&borrowed);
            let to_peer = socket
                .peer_addr()
                .ok()
                .and_then(|a| a.as_socket())
                .is_some_and(|a| peers.contains(&a));
            if to_peer {
                found.push((fd, inode));
            }
        }
        found
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = peers;
        Vec::new()
    }
}

/// The inode of the socket behind `fd` (`socket:[12345]`), if it is a socket.
fn socket_inode(fd: i32) -> Option<u64> {
    let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
    target
        .to_str()?
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

fn set_nodelay_on_new_sockets(peers: &[SocketAddr], before: &[u64]) {
    for (fd, inode) in socket_fds(peers) {
        // Still the same socket: the inode is checked again right before the call.
        if !before.contains(&inode) && socket_inode(fd) == Some(inode) {
            // SAFETY: as in `socket_fds`.
            let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            let _ = socket2::SockRef::from(&borrowed).set_tcp_nodelay(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_files_are_numbered_per_folder_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let envelope = Envelope::new(None, vec!["ann@example.org".parse().unwrap()]).unwrap();
        let numbers = Arc::new(OutboxNumbers::default());
        let mut a = Outbox::new(dir.path().to_path_buf(), numbers.clone()).unwrap();
        let mut b = Outbox::new(dir.path().to_path_buf(), numbers).unwrap();
        a.send(&envelope, b"one", "e/en").unwrap();
        b.send(&envelope, b"two", "e/en").unwrap();
        a.send(&envelope, b"uno", "e/es").unwrap();
        // A number taken by someone else (another process) is skipped, not overwritten.
        std::fs::write(dir.path().join("e/en/3.eml"), "theirs").unwrap();
        a.send(&envelope, b"three", "e/en").unwrap();
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
        assert_eq!(
            [
                read("e/en/1.eml"),
                read("e/en/2.eml"),
                read("e/en/3.eml"),
                read("e/en/4.eml"),
                read("e/es/1.eml")
            ],
            ["one", "two", "theirs", "three", "uno"]
        );
        // A later run goes on after the highest number; no temporary file is left.
        let mut later = Outbox::new(dir.path().to_path_buf(), Arc::default()).unwrap();
        let accepted = later.send(&envelope, b"five", "e/en").unwrap();
        assert!(accepted.reply.ends_with("e/en/5.eml"), "{}", accepted.reply);
        let names: Vec<String> = std::fs::read_dir(dir.path().join("e/en"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    }

    #[test]
    fn every_line_that_starts_with_a_dot_gets_another_one_and_nothing_else_changes() {
        assert_eq!(dot_stuffed("a\r\nb\r\n"), "a\r\nb\r\n");
        assert!(matches!(dot_stuffed("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(dot_stuffed(".a\r\n.\r\nb.c\r\n..d\r\n"), "..a\r\n..\r\nb.c\r\n...d\r\n");
        assert_eq!(dot_stuffed("x\r\n.é\r\n"), "x\r\n..é\r\n");
        // The same as lettre's encoder, on a message full of dots.
        let text = "From: a\r\n\r\n.\r\n..\r\nline.\r\n.end";
        let stuffed = dot_stuffed(text);
        let unstuffed: Vec<&str> = stuffed
            .split("\r\n")
            .map(|l| l.strip_prefix('.').unwrap_or(l))
            .collect();
        assert_eq!(unstuffed.join("\r\n"), text);
    }
}
