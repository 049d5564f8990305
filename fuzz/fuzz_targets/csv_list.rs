//! The recipient list reader: any bytes as a list file (BOM, `;` or `,`, quotes, CRLF, not
//! UTF-8, UTF-16) give rows, broken rows or a file error, never a panic; every row is then
//! validated as a recipient and matched against a segment filter, as `audience::scan` does.
//!
//! `ListReader` only opens paths, so each input is written to one file per process (in
//! /dev/shm when there is one, to spare the disk).
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use infoflash::audience::{segment, ListReader, Recipient, Row};
use infoflash::config::{Config, EMBEDDED};
use libfuzzer_sys::fuzz_target;

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    Config::parse(EMBEDDED, Path::new("infoflash.toml"), Path::new("")).expect("the embedded settings parse")
});

static FILE: LazyLock<PathBuf> = LazyLock::new(|| {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("infoflash-fuzz-list-{}.csv", std::process::id()))
});

static FILTERS: LazyLock<Vec<segment::Filter>> = LazyLock::new(|| {
    ["region=africa,asia-pacific", "tags=teachers", "school=liceo"]
        .iter()
        .map(|f| f.parse().expect("a valid filter"))
        .collect()
});

fuzz_target!(|data: &[u8]| {
    std::fs::write(&*FILE, data).expect("the fuzz input file can be written");
    let Ok(mut reader) = ListReader::open(&FILE) else {
        return;
    };
    assert!(reader.headers().iter().any(|h| h == "email"));
    // A file of n bytes cannot hold more than n + 1 rows: a reader that makes up rows loops.
    let mut rows = 0usize;
    while let Ok(Some(row)) = reader.next_row() {
        rows += 1;
        assert!(rows <= data.len() + 1, "more rows than bytes");
        if let Row::Fields(fields) = row {
            let _ = fields.get("email");
            let _ = fields.iter().count();
            if let Ok(recipient) = Recipient::from_fields(&fields, &CONFIG.network) {
                let _ = segment::matches_all(&FILTERS, &recipient);
            }
        }
    }
});
