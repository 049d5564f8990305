//! Reading recipient lists as a stream of rows: UTF-8 with or without BOM, comma or semicolon
//! delimiters (sniffed from the header line, as spreadsheets in many countries save with `;`),
//! quoted fields with delimiters and line breaks, CRLF, blank lines. One row is held at a time.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::AudienceError;

/// A row of a list, or why it could not be read. Borrows the reader's buffer: one row is
/// held at a time and nothing is allocated per row.
#[derive(Debug)]
pub enum Row<'r> {
    /// An empty line, or one with only delimiters and spaces.
    Blank,
    Fields(Fields<'r>),
    Broken {
        line: u64,
        why: String,
    },
}

/// The fields of one row, by lowercase column name.
#[derive(Debug)]
pub struct Fields<'r> {
    pub line: u64,
    headers: &'r [String],
    record: &'r csv::StringRecord,
}

impl<'r> Fields<'r> {
    pub fn get(&self, column: &str) -> Option<&'r str> {
        self.headers
            .iter()
            .position(|h| h == column)
            .and_then(|i| self.record.get(i))
    }

    /// Every column with its value, in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&'r str, &'r str)> + 'r {
        self.headers.iter().map(String::as_str).zip(self.record.iter())
    }
}

pub struct ListReader {
    path: PathBuf,
    reader: csv::Reader<Box<dyn Read>>,
    headers: Vec<String>,
    record: csv::StringRecord,
}

/// `;` when the header line has more semicolons than commas (outside quotes), else `,`.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let (mut commas, mut semicolons, mut quoted) = (0, 0, false);
    for &b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas {
        b';'
    } else {
        b','
    }
}

impl ListReader {
    pub fn open(path: &Path) -> Result<ListReader, AudienceError> {
        let io = |source| AudienceError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let mut buffered = BufReader::with_capacity(64 * 1024, file);
        let head = buffered.fill_buf().map_err(io)?;
        if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
            return Err(AudienceError::File {
                path: path.to_path_buf(),
                why: "the file is UTF-16: save it as CSV UTF-8".into(),
            });
        }
        if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
            buffered.consume(3);
        }
        let delimiter = sniff_delimiter(buffered.fill_buf().map_err(io)?);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(true)
            .from_reader(Box::new(buffered) as Box<dyn Read>);
        let raw = reader.byte_headers().map_err(|e| AudienceError::File {
            path: path.to_path_buf(),
            why: e.to_string(),
        })?;
        let mut headers = Vec::with_capacity(raw.len());
        for field in raw {
            let name = std::str::from_utf8(field)
                .map_err(|_| AudienceError::File {
                    path: path.to_path_buf(),
                    why: "the header row is not UTF-8: save the file as CSV UTF-8".into(),
                })?
                .trim()
                .to_lowercase();
            if headers.contains(&name) {
                return Err(AudienceError::File {
                    path: path.to_path_buf(),
                    why: format!("the header names the column `{name}` twice"),
                });
            }
            headers.push(name);
        }
        if headers.iter().all(String::is_empty) {
            return Err(AudienceError::File {
                path: path.to_path_buf(),
                why: "the file is empty: it needs a header row with an `email` column".into(),
            });
        }
        if !headers.iter().any(|h| h == "email") {
            return Err(AudienceError::File {
                path: path.to_path_buf(),
                why: format!("the header row has no `email` column (it has: {})", headers.join(", ")),
            });
        }
        Ok(ListReader {
            path: path.to_path_buf(),
            reader,
            headers,
            record: csv::StringRecord::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The next row, `None` at the end of the file. `Err` only when the file cannot be read.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, AudienceError> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return match e.into_kind() {
                    csv::ErrorKind::Io(source) => Err(AudienceError::Read {
                        path: self.path.clone(),
                        source,
                    }),
                    csv::ErrorKind::Utf8 { .. } => Ok(Some(Row::Broken {
                        line,
                        why: "is not valid UTF-8: save the file as CSV UTF-8".into(),
                    })),
                    other => Ok(Some(Row::Broken {
                        line,
                        why: format!("cannot be read: {other:?}"),
                    })),
                };
            }
        }
        let line = self.record.position().map_or(0, |p| p.line());
        if self.record.iter().all(|f| f.trim().is_empty()) {
            return Ok(Some(Row::Blank));
        }
        if self.record.len() != self.headers.len() {
            let why = format!(
                "has {} fields but the header has {} (an extra delimiter, or a missing quote?)",
                self.record.len(),
                self.headers.len()
            );
            return Ok(Some(Row::Broken { line, why }));
        }
        Ok(Some(Row::Fields(Fields {
            line,
            headers: &self.headers,
            record: &self.record,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_semicolons_outside_quotes_only() {
        assert_eq!(sniff_delimiter(b"email;name;region\n"), b';');
        assert_eq!(sniff_delimiter(b"email,name\n"), b',');
        assert_eq!(sniff_delimiter(b"\"a;b;c\",email\n"), b',');
        assert_eq!(sniff_delimiter(b"email\r\na;b;c;d\n"), b',');
    }
}
