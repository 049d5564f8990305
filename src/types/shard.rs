//! Shards of an audience, so that N machines can send one edition in parallel without
//! overlap: `--shard K/N` keeps the recipients whose address hashes into shard K of N.
//!
//! The hash is SHA-256 of the lowercased address, so every machine and every version of
//! infoflash puts an address in the same shard. It must not know about sending: the journal
//! of each shard is the delivery stage's business.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use super::EmailAddress;

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    pub fn index(&self) -> u32 {
        self.index
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    /// The shard an address belongs to, 1-based.
    pub fn of(address: &EmailAddress, count: u32) -> u32 {
        let digest = Sha256::digest(address.key().as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32 + 1
    }

    pub fn contains(&self, address: &EmailAddress) -> bool {
        Shard::of(address, self.count) == self.index
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let bad = || format!("`{text}` is not a shard: write K/N with 1 <= K <= N <= 1000, like 2/4");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            k.trim().parse::<u32>().map_err(|_| bad())?,
            n.trim().parse::<u32>().map_err(|_| bad())?,
        );
        if index == 0 || index > count || count > 1000 {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(i: usize) -> EmailAddress {
        format!("Person{i}@School{}.example.org", i % 7).parse().unwrap()
    }

    #[test]
    fn every_address_falls_in_exactly_one_shard_and_the_shards_are_balanced() {
        let shards: Vec<Shard> = (1..=4).map(|k| format!("{k}/4").parse().unwrap()).collect();
        let mut sizes = [0usize; 4];
        for i in 0..4000 {
            let a = address(i);
            let owners: Vec<usize> = (0..4).filter(|&s| shards[s].contains(&a)).collect();
            assert_eq!(owners.len(), 1, "{a} is in {owners:?}");
            sizes[owners[0]] += 1;
        }
        assert!(sizes.iter().all(|&n| (850..=1150).contains(&n)), "{sizes:?}");
    }

    #[test]
    fn the_shard_ignores_case_and_is_the_same_everywhere() {
        let a: EmailAddress = "Ann@Example.org".parse().unwrap();
        let b: EmailAddress = "ann@example.org".parse().unwrap();
        assert_eq!(Shard::of(&a, 8), Shard::of(&b, 8));
        // Pinned to the first 8 bytes of SHA-256("ann@example.org") (computed independently,
        // with Python's hashlib): a machine with another build must use the same shard.
        assert_eq!(Shard::of(&b, 1000), 256);
        assert_eq!(Shard::of(&b, 7), 2);
        assert_eq!(Shard::of(&b, 1), 1);
    }

    #[test]
    fn rejects_shards_outside_one_to_n() {
        for bad in ["0/4", "5/4", "4", "a/b", "1/0", "1/1001"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!("3/4".parse::<Shard>().unwrap().to_string(), "3/4");
    }
}
