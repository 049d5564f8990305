//! Reading a mailbox of bounces: a Maildir (`new/`, then `cur/`; `tmp/` holds deliveries in
//! progress), an mbox file (split at `From ` lines after blank lines, `>From ` unquoted), a
//! folder of `.eml` files or one `.eml` file. One message is in memory at a time, with where it
//! came from (`file`, or `mbox:line`). It must not parse the messages.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use super::BounceError;
use crate::diagnostics::Place;

fn read_error(path: &Path) -> impl FnOnce(std::io::Error) -> BounceError + '_ {
    move |source| BounceError::Read {
        path: path.to_path_buf(),
        source,
    }
}

/// Calls `each` with every message at `path` and where it is: the file of a Maildir entry or
/// of an `.eml`, `file:line` for a message of an mbox. A Maildir is a folder with `cur/` or
/// `new/` (`tmp/` holds deliveries in progress and is left alone); any other folder is read
/// for its `.eml` files; a file that starts with `From ` is an mbox, any other file is one
/// message. A message file that cannot be read is passed on as its error, so that one bad file
/// never hides the others. `Err` only when `path` itself cannot be read.
pub fn read_messages(path: &Path, mut each: impl FnMut(&Place, std::io::Result<&[u8]>)) -> Result<(), BounceError> {
    let metadata = std::fs::metadata(path).map_err(read_error(path))?;
    if metadata.is_dir() {
        let maildir = ["cur", "new"].iter().any(|d| path.join(d).is_dir());
        let folders = if maildir {
            vec![path.join("new"), path.join("cur")]
        } else {
            vec![path.to_path_buf()]
        };
        for folder in folders.iter().filter(|f| f.is_dir()) {
            for file in message_files(folder, !maildir).map_err(read_error(folder))? {
                let at = Place {
                    file: file.clone(),
                    line: None,
                };
                match std::fs::read(&file) {
                    Ok(raw) => each(&at, Ok(&raw)),
                    Err(e) => each(&at, Err(e)),
                }
            }
        }
        return Ok(());
    }
    let file = std::fs::File::open(path).map_err(read_error(path))?;
    let mut reader = std::io::BufReader::new(file);
    if reader.fill_buf().map_err(read_error(path))?.starts_with(b"From ") {
        read_mbox(path, reader, each).map_err(read_error(path))
    } else {
        let mut raw = Vec::new();
        reader.read_to_end(&mut raw).map_err(read_error(path))?;
        let at = Place {
            file: path.to_path_buf(),
            line: None,
        };
        each(&at, Ok(&raw));
        Ok(())
    }
}

/// The files of a folder in name order (Maildir names start with the delivery time), without
/// hidden ones; only `.eml` files unless `every_file`.
fn message_files(folder: &Path, only_eml: bool) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        let eml = path.extension().is_some_and(|x| x.eq_ignore_ascii_case("eml"));
        if path.is_file() && !hidden && (eml || !only_eml) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Splits an mbox into its messages, one in memory at a time. A message starts at a `From `
/// line at the top of the file or after an empty line (so an unquoted "From " in a paragraph
/// does not cut a message in two); `>From ` lines lose one `>` (mboxrd quoting).
fn read_mbox(
    path: &Path,
    mut reader: impl BufRead,
    mut each: impl FnMut(&Place, std::io::Result<&[u8]>),
) -> std::io::Result<()> {
    let mut line = Vec::new();
    let mut current: Option<(usize, Vec<u8>)> = None;
    let at = |start: usize| Place {
        file: path.to_path_buf(),
        line: Some(start),
    };
    let mut after_blank = true;
    let mut number = 0usize;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        if after_blank && line.starts_with(b"From ") {
            if let Some((start, raw)) = current.take() {
                each(&at(start), Ok(&raw));
            }
            current = Some((number, Vec::new()));
            after_blank = false;
            continue;
        }
        after_blank = line == b"\n" || line == b"\r\n";
        if let Some((_, raw)) = &mut current {
            let quoted = line
                .iter()
                .position(|&b| b != b'>')
                .is_some_and(|i| i > 0 && line[i..].starts_with(b"From "));
            raw.extend_from_slice(if quoted { &line[1..] } else { &line });
        }
    }
    if let Some((start, raw)) = current {
        each(&at(start), Ok(&raw));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mbox_is_split_at_from_lines_after_blank_lines_with_their_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bounces.mbox");
        std::fs::write(
            &path,
            "From MAILER-DAEMON Tue Jan 20 09:14:03 2026\nSubject: one\n\nAs we wrote:\nFrom the start\n>From quoted\n\nFrom MAILER-DAEMON Wed Jan 21 10:00:00 2026\nSubject: two\n\nbody\n",
        )
        .unwrap();
        let mut seen = Vec::new();
        read_messages(&path, |at, raw| {
            seen.push((at.to_string(), String::from_utf8(raw.unwrap().to_vec()).unwrap()))
        })
        .unwrap();
        let at = |line: u32| format!("{}:{line}", path.display());
        assert_eq!(
            seen,
            [
                (
                    at(1),
                    "Subject: one\n\nAs we wrote:\nFrom the start\nFrom quoted\n\n".to_string()
                ),
                (at(8), "Subject: two\n\nbody\n".to_string()),
            ]
        );
    }

    #[test]
    fn a_maildir_is_read_new_then_cur_and_a_missing_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        for (sub, name) in [("cur", "1.host:2,S"), ("new", "2.host"), ("tmp", "3.host")] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
            std::fs::write(dir.path().join(sub).join(name), "Subject: x\n\n").unwrap();
        }
        let mut seen = Vec::new();
        read_messages(dir.path(), |at, _| seen.push(at.to_string())).unwrap();
        assert_eq!(
            seen,
            [
                dir.path().join("new/2.host").display().to_string(),
                dir.path().join("cur/1.host:2,S").display().to_string()
            ]
        );
        let missing = read_messages(&dir.path().join("nowhere"), |_, _| {}).unwrap_err();
        assert!(missing.to_string().contains("give a Maildir folder"), "{missing}");
        assert!(
            std::error::Error::source(&missing).is_some(),
            "the cause is kept in the chain"
        );
    }
}
