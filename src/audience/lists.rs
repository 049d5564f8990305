//! Reading recipient lists as a stream of rows: UTF-8 with or without BOM, comma or semicolon
//! delimiters (sniffed from the header line, as spreadsheets in many countries save with `;`),
//! quoted fields with delimiters and line breaks, CRLF, blank lines. One row is held at a time,
//! and never more than [`MAX_ROW_BYTES`] of it: a longer row (a 50 MB line, a quote that is never
//! closed) is read to its end without being kept and reported as a broken row.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

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

/// How a list file is written: its delimiter (sniffed from the header), whether its header's
/// fields are quoted (a file saved with every field quoted), and its line ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    pub delimiter: u8,
    pub quote_all: bool,
    pub crlf: bool,
}

pub struct ListReader {
    path: PathBuf,
    reader: csv::Reader<Box<dyn Read>>,
    headers: Vec<String>,
    record: csv::StringRecord,
    /// Where each row the CSV reader has yet to return starts, as found by [`RowLimit`].
    rows: Rows,
    dialect: Dialect,
}

/// The longest row kept, in bytes as they are in the file (delimiters and quotes included).
pub const MAX_ROW_BYTES: usize = 1 << 20;

/// Where a row starts (its first line), and whether it was cut at [`MAX_ROW_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RowStart {
    line: u64,
    cut: bool,
}

/// The rows [`RowLimit`] has seen begin and the CSV reader has not returned yet, oldest first.
/// Shared between the two: the CSV reader reads ahead, so a few rows can be queued.
type Rows = Rc<RefCell<VecDeque<RowStart>>>;

/// Where the scanner is in a row, following the CSV reader's own states (csv-core's NFA):
/// a quote opens a quoted field only at the start of a field, and `""` inside one is a quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: it closes the field unless another quote follows.
    QuoteInQuoted,
}

/// What a byte does to the row it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// A line break outside any row (a blank line, or the second half of CRLF).
    Between,
    /// Part of a row.
    Within,
    /// The line break that ends a row.
    End,
}

/// Sits between the file and the CSV reader and finds where each row starts, by line: the CSV
/// reader only knows where it started looking for a row, which is before any blank lines.
/// A row longer than `limit` is cut there: the reader gets its first `limit` bytes, then
/// (closing a quoted field if it was in one) the line break that really ends the row, so the
/// rows after it are read as usual and memory never holds more than `limit` bytes of a row.
struct RowLimit<R> {
    inner: R,
    scanner: Scanner,
}

struct Scanner {
    delimiter: u8,
    limit: usize,
    scan: Scan,
    /// Nothing of the current row has been seen yet.
    between_rows: bool,
    /// The line the scanner is on (1-based).
    line: u64,
    /// Bytes of the current row passed on.
    row_bytes: usize,
    /// Skipping the rest of a cut row; `true` when the CSV reader was left inside a quoted field.
    skipping: Option<bool>,
    /// Bytes to pass on before any more input.
    pending: Vec<u8>,
    rows: Rows,
}

impl<R: BufRead> RowLimit<R> {
    fn new(inner: R, delimiter: u8, limit: usize, rows: Rows) -> Self {
        RowLimit {
            inner,
            scanner: Scanner {
                delimiter,
                limit,
                scan: Scan::FieldStart,
                between_rows: true,
                line: 1,
                row_bytes: 0,
                skipping: None,
                pending: Vec::new(),
                rows,
            },
        }
    }
}

impl Scanner {
    fn step(&mut self, b: u8) -> Step {
        let terminator = b == b'\n' || b == b'\r';
        let step = if !self.between_rows {
            self.advance(b)
        } else if terminator {
            Step::Between
        } else {
            self.between_rows = false;
            self.rows.borrow_mut().push_back(RowStart {
                line: self.line,
                cut: false,
            });
            self.scan = Scan::FieldStart;
            self.advance(b)
        };
        if step == Step::End {
            self.between_rows = true;
        }
        if b == b'\n' {
            self.line += 1;
        }
        step
    }

    /// One byte inside a row.
    fn advance(&mut self, b: u8) -> Step {
        let terminator = b == b'\n' || b == b'\r';
        self.scan = match self.scan {
            Scan::FieldStart if b == b'"' => Scan::Quoted,
            Scan::Quoted if b == b'"' => Scan::QuoteInQuoted,
            Scan::Quoted => Scan::Quoted,
            Scan::QuoteInQuoted if b == b'"' => Scan::Quoted,
            Scan::FieldStart | Scan::Unquoted | Scan::QuoteInQuoted if terminator => return Step::End,
            _ if b == self.delimiter => Scan::FieldStart,
            _ => Scan::Unquoted,
        };
        Step::Within
    }

    /// Moves pending bytes to `buf`; true when some are still waiting.
    fn flush(&mut self, buf: &mut [u8], out: &mut usize) -> bool {
        let n = self.pending.len().min(buf.len() - *out);
        buf[*out..*out + n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        *out += n;
        !self.pending.is_empty()
    }

    /// Skips the bytes of a row that change nothing but the line count — in a quoted field all
    /// but quotes; elsewhere all but line breaks and the quotes that open a field — and returns
    /// how many. The bulk of a list goes through here rather than through [`Scanner::step`].
    fn plain_run(&mut self, bytes: &[u8]) -> usize {
        match self.scan {
            Scan::Quoted => {
                let n = find_any(bytes, [b'"'; 3]);
                self.line += bytes[..n].iter().filter(|&&b| b == b'\n').count() as u64;
                n
            }
            Scan::FieldStart | Scan::Unquoted => {
                let d = self.delimiter;
                let mut from = 0;
                let n = loop {
                    let n = from + find_any(&bytes[from..], [b'\n', b'\r', b'"']);
                    // A quote inside an unquoted field is an ordinary character.
                    let opens_field = if n == 0 {
                        self.scan == Scan::FieldStart
                    } else {
                        bytes[n - 1] == d
                    };
                    if n < bytes.len() && bytes[n] == b'"' && !opens_field {
                        from = n + 1;
                        continue;
                    }
                    break n;
                };
                if n > 0 {
                    self.scan = if bytes[n - 1] == d {
                        Scan::FieldStart
                    } else {
                        Scan::Unquoted
                    };
                }
                n
            }
            Scan::QuoteInQuoted => 0,
        }
    }

    /// Scans `chunk`, all of which fits the output, up to the first byte that would make a row
    /// longer than the limit. Returns how many bytes pass on, and whether a row was cut: then
    /// the byte after them was taken (and dropped) too, and the rest of that row is skipped.
    fn pass(&mut self, chunk: &[u8]) -> (usize, bool) {
        let mut i = 0;
        while i < chunk.len() {
            if !self.between_rows {
                let room = self.limit - self.row_bytes;
                let n = self.plain_run(&chunk[i..chunk.len().min(i + room)]);
                i += n;
                self.row_bytes += n;
                if i == chunk.len() {
                    break;
                }
                let ends_row = (chunk[i] == b'\n' || chunk[i] == b'\r') && self.scan != Scan::Quoted;
                if self.row_bytes >= self.limit && !ends_row {
                    self.skipping = Some(self.scan == Scan::Quoted);
                    if let Some(row) = self.rows.borrow_mut().back_mut() {
                        row.cut = true;
                    }
                    self.step(chunk[i]);
                    return (i, true);
                }
            }
            match self.step(chunk[i]) {
                Step::Within => self.row_bytes += 1,
                Step::End | Step::Between => self.row_bytes = 0,
            }
            i += 1;
        }
        (chunk.len(), false)
    }

    /// Scans `input` into `buf` from `out`; returns how much of `input` it used.
    fn feed(&mut self, input: &[u8], buf: &mut [u8], out: &mut usize) -> usize {
        let mut used = 0;
        while used < input.len() && *out < buf.len() && self.pending.is_empty() {
            if self.skipping.is_some() {
                used += self.plain_run(&input[used..]);
                let Some(&b) = input.get(used) else { break };
                used += 1;
                if self.step(b) == Step::End {
                    // Close the quoted field the reader was left in, then end the row.
                    if self.skipping.take() == Some(true) {
                        self.pending.push(b'"');
                    }
                    self.pending.push(b);
                    self.row_bytes = 0;
                    self.flush(buf, out);
                }
                continue;
            }
            let n = (input.len() - used).min(buf.len() - *out);
            let chunk = &input[used..used + n];
            let (passed, cut) = self.pass(chunk);
            buf[*out..*out + passed].copy_from_slice(&chunk[..passed]);
            *out += passed;
            used += passed + usize::from(cut);
        }
        used
    }
}

impl<R: BufRead> Read for RowLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut out = 0;
        if self.scanner.flush(buf, &mut out) || out == buf.len() {
            return Ok(out);
        }
        loop {
            let input = self.inner.fill_buf()?;
            if input.is_empty() {
                return Ok(out);
            }
            let used = self.scanner.feed(input, buf, &mut out);
            self.inner.consume(used);
            // Skipping a cut row passes nothing on: read on rather than signal the end.
            if out > 0 || !self.scanner.pending.is_empty() {
                return Ok(out);
            }
        }
    }
}

/// The index of the first of `bytes` that is one of `wanted`, or `bytes.len()`: eight bytes at
/// a time while none is there (the rows of a list are mostly plain text).
fn find_any(bytes: &[u8], wanted: [u8; 3]) -> usize {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let has_zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS != 0;
    let masks = wanted.map(|w| ONES * u64::from(w));
    let mut i = 0;
    while let Some(word) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        if masks.iter().any(|m| has_zero_byte(word ^ m)) {
            break;
        }
        i += 8;
    }
    i + bytes[i..]
        .iter()
        .position(|b| wanted.contains(b))
        .unwrap_or(bytes.len() - i)
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
        let head = buffered.fill_buf().map_err(io)?;
        if head.contains(&0) {
            return Err(AudienceError::File {
                path: path.to_path_buf(),
                why: "the file has NUL bytes: it is UTF-16 without a byte order mark, or not text at all; save it as CSV UTF-8".into(),
            });
        }
        let delimiter = sniff_delimiter(head);
        let first_line = &head[..head.iter().position(|&b| b == b'\n').unwrap_or(head.len())];
        let dialect = Dialect {
            delimiter,
            quote_all: first_line.first() == Some(&b'"'),
            crlf: first_line.last() == Some(&b'\r'),
        };
        let rows = Rows::default();
        let limited = RowLimit::new(buffered, delimiter, MAX_ROW_BYTES, rows.clone());
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(true)
            .from_reader(Box::new(limited) as Box<dyn Read>);
        let raw = reader.byte_headers().map_err(|e| AudienceError::File {
            path: path.to_path_buf(),
            why: e.to_string(),
        })?;
        if rows.borrow_mut().pop_front().is_some_and(|header| header.cut) {
            return Err(AudienceError::File {
                path: path.to_path_buf(),
                why: format!(
                    "the header row is longer than {} MB: is this a list of recipients?",
                    MAX_ROW_BYTES >> 20
                ),
            });
        }
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
            rows,
            dialect,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How the file is written, so that a row appended to it is written the same way.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The next row, `None` at the end of the file. `Err` only when the file cannot be read.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, AudienceError> {
        let read = self.reader.read_record(&mut self.record);
        // The row the reader just read is the oldest one the scanner saw begin.
        let start = match &read {
            Ok(false) => None,
            _ => self.rows.borrow_mut().pop_front(),
        };
        let reader_line = |position: Option<&csv::Position>| position.map_or(0, csv::Position::line);
        let unreadable = matches!(&read, Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)));
        if let (Some(RowStart { line, cut: true }), false) = (start, unreadable) {
            return Ok(Some(Row::Broken {
                line,
                why: format!(
                    "is longer than {} MB: a quote that is never closed, or not a list of recipients?",
                    MAX_ROW_BYTES >> 20
                ),
            }));
        }
        match read {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) => {
                let line = start.map_or_else(|| reader_line(e.position()), |s| s.line);
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
        let line = start.map_or_else(|| reader_line(self.record.position()), |s| s.line);
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

    /// What the CSV reader gets through a [`RowLimit`] of `limit` bytes read `chunk` bytes at a
    /// time, and the rows it saw begin.
    fn limited(input: &[u8], limit: usize, chunk: usize) -> (Vec<u8>, Vec<RowStart>) {
        let rows = Rows::default();
        let mut reader = RowLimit::new(std::io::BufReader::with_capacity(3, input), b',', limit, rows.clone());
        let mut out = Vec::new();
        let mut buf = vec![0; chunk];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        let starts = rows.borrow().iter().copied().collect();
        (out, starts)
    }

    fn start(line: u64, cut: bool) -> RowStart {
        RowStart { line, cut }
    }

    #[test]
    fn rows_start_on_their_own_line_after_blank_lines_and_quoted_line_breaks() {
        let input = b"email,name\n\n\r\na@x.org,\"A\nB\"\r\n\nb@x.org,B\n,,\n";
        for chunk in [1, 2, 7, 4096] {
            let (out, starts) = limited(input, 100, chunk);
            assert_eq!(out, input, "chunk {chunk}");
            assert_eq!(
                starts,
                [start(1, false), start(4, false), start(7, false), start(8, false)]
            );
        }
    }

    /// Where csv-core starts each record of `input`: past the line breaks it skips from the
    /// position it reports (the end of the previous record).
    fn reference_starts(input: &[u8], delimiter: u8) -> Vec<u64> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        let mut record = csv::ByteRecord::new();
        let mut starts = Vec::new();
        while reader.read_byte_record(&mut record).unwrap() {
            let from = record.position().unwrap().byte() as usize;
            let first = from + input[from..].iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
            starts.push(1 + input[..first].iter().filter(|&&b| b == b'\n').count() as u64);
        }
        starts
    }

    #[test]
    fn finds_the_first_wanted_byte_in_words_and_in_the_tail() {
        let text = b"0123456789abcdef\"xyz\n";
        assert_eq!(find_any(text, [b'"'; 3]), 16);
        assert_eq!(find_any(text, [b'\n', b'\r', b'9']), 9);
        assert_eq!(find_any(text, [b'\n', b'\r', b'\r']), 20);
        assert_eq!(find_any(b"abc", [b'x'; 3]), 3);
        assert_eq!(find_any(b"", [b'x'; 3]), 0);
        assert_eq!(find_any(b"\x80\x81\xff\x00\x7f\x01\x02\x03\x04\n", [b'\n'; 3]), 9);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// On any mix of quotes, delimiters and line breaks, the scanner finds the rows the CSV
        /// reader reads, on the lines they start on; cut or not, the reader then reads as many
        /// rows as the scanner saw.
        #[test]
        fn the_scanner_agrees_with_the_csv_reader(
            input in proptest::collection::vec(proptest::sample::select(b"ab,;\"\n\r".to_vec()), 0..120),
            limit in 1usize..12,
            chunk in 1usize..9,
        ) {
            let (out, starts) = limited(&input, 1000, chunk);
            proptest::prop_assert_eq!(&out, &input);
            let lines: Vec<u64> = starts.iter().map(|s| s.line).collect();
            proptest::prop_assert_eq!(lines, reference_starts(&input, b','));

            let (out, starts) = limited(&input, limit, chunk);
            let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&out[..]);
            proptest::prop_assert_eq!(reader.byte_records().count(), starts.len());
        }
    }

    #[test]
    fn a_row_longer_than_the_limit_is_cut_and_the_next_rows_are_read_as_usual() {
        let input = b"email,name\na@x.org,0123456789\nb@x.org,B\n";
        for chunk in [1, 3, 4096] {
            let (out, starts) = limited(input, 12, chunk);
            assert_eq!(out, b"email,name\na@x.org,0123\nb@x.org,B\n", "chunk {chunk}");
            assert_eq!(starts, [start(1, false), start(2, true), start(3, false)]);
        }
    }

    #[test]
    fn a_quote_that_is_never_closed_is_cut_and_closed() {
        let input = b"email,name\na@x.org,\"01234\n\"\"56789\",x\nb@x.org,B\nc@x.org,\"never\nclosed\n";
        for chunk in [1, 2, 4096] {
            let (out, starts) = limited(input, 12, chunk);
            assert_eq!(
                out, b"email,name\na@x.org,\"012\"\nb@x.org,B\nc@x.org,\"nev",
                "chunk {chunk}"
            );
            assert_eq!(
                starts,
                [start(1, false), start(2, true), start(4, false), start(5, true)]
            );
        }
        let (cut, _) = limited(input, 12, 4096);
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(&cut[..]);
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 3);
        assert_eq!(&records[1][0], "b@x.org");
    }
}
