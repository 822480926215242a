//! Lambda deployment zips that depend on the binary's bytes only.
//!
//! A zip holds one entry, `bootstrap`, with mode 0755, a fixed timestamp and a fixed compression
//! level, so two builds of the same source give the same bytes and the same SHA-256, which is the
//! zip's key in the assets bucket: a new key means new code, an old key means nothing to upload.

use std::{io::Write, path::Path};

use anyhow::Context;
use sha2::{Digest, Sha256};
use zip::{CompressionMethod, DateTime, ZipWriter, write::SimpleFileOptions};

/// The name the `provided.al2023` runtime executes.
pub(crate) const ENTRY: &str = "bootstrap";

/// A zip written to disk, with what identifies it.
#[derive(Debug, Clone)]
pub(crate) struct FunctionZip {
    pub(crate) sha256: String,
    pub(crate) size: u64,
}

/// Zips the executable at `bootstrap` as the single entry `bootstrap` (mode 0755) into `zip_path`.
pub(crate) fn write(bootstrap: &Path, zip_path: &Path) -> anyhow::Result<FunctionZip> {
    let binary = std::fs::read(bootstrap).with_context(|| format!("reading {}", bootstrap.display()))?;
    let bytes = zip_bytes(&binary)?;
    std::fs::write(zip_path, &bytes).with_context(|| format!("writing {}", zip_path.display()))?;
    Ok(FunctionZip { sha256: sha256_hex(&bytes), size: bytes.len() as u64 })
}

/// The zip of one `bootstrap` entry holding `binary`: a pure function of `binary`.
pub(crate) fn zip_bytes(binary: &[u8]) -> anyhow::Result<Vec<u8>> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        // The earliest time a zip can hold (1980-01-01 00:00): nothing of the build's clock.
        .last_modified_time(DateTime::default())
        .unix_permissions(0o755);
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(ENTRY, options).context("starting the bootstrap entry")?;
    zip.write_all(binary).context("compressing the bootstrap entry")?;
    let cursor = zip.finish().context("finishing the zip")?;
    Ok(cursor.into_inner())
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn zips_of_the_same_binary_are_byte_identical_whatever_the_file_times() {
        let dir = tempfile::tempdir().unwrap();
        let bootstrap = dir.path().join("bootstrap");
        std::fs::write(&bootstrap, b"\x7fELF not really").unwrap();
        let first = write(&bootstrap, &dir.path().join("first.zip")).unwrap();

        let file = std::fs::File::options().write(true).open(&bootstrap).unwrap();
        file.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(2_000_000_000)).unwrap();
        drop(file);
        let second = write(&bootstrap, &dir.path().join("second.zip")).unwrap();

        assert_eq!(first.sha256, second.sha256);
        assert_eq!(
            std::fs::read(dir.path().join("first.zip")).unwrap(),
            std::fs::read(dir.path().join("second.zip")).unwrap()
        );
    }

    #[test]
    fn the_zip_holds_one_executable_bootstrap() {
        let bytes = zip_bytes(b"binary").unwrap();
        check_single_executable_bootstrap(&bytes, b"binary");
    }

    /// Asserts that `zip` holds exactly `bootstrap`, a regular file with mode 0755, containing `content`.
    pub(crate) fn check_single_executable_bootstrap(zip: &[u8], content: &[u8]) {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name(), ENTRY);
        assert_eq!(entry.unix_mode(), Some(0o100_755), "mode {:o}", entry.unix_mode().unwrap_or(0));
        let mut unpacked = Vec::new();
        entry.read_to_end(&mut unpacked).unwrap();
        assert!(unpacked == content, "the entry differs from the binary");
    }
}
