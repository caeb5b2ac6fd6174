//! Steps 3 and 5 of a run: the zip is valid and holds the dump; the dump
//! goes into a dated tar.gz.

use super::run::FileFacts;
use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;

/// Finds `expect` in the zip at `zip_path` (by its path, or by its name in
/// any folder) and extracts it to `to`, checking its CRC on the way (a
/// corrupt member fails here); returns its facts.
pub fn extract(zip_path: &Path, expect: &str, to: &Path) -> Result<FileFacts> {
    let file = std::fs::File::open(zip_path).with_context(|| format!("cannot read {}", zip_path.display()))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| anyhow!("not a valid zip: {e}"))?;
    let names: Vec<String> = archive.file_names().map(str::to_string).collect();
    let Some(index) = names
        .iter()
        .position(|n| n == expect)
        .or_else(|| names.iter().position(|n| n.rsplit('/').next() == Some(expect)))
    else {
        let shown: Vec<&str> = names.iter().take(10).map(String::as_str).collect();
        bail!(
            "the zip does not hold {expect} (it holds: {})",
            if shown.is_empty() { "nothing".into() } else { shown.join(", ") }
        );
    };
    let mut member = archive.by_index(index).map_err(|e| anyhow!("{expect} in the zip: {e}"))?;
    let mut out = std::fs::File::create(to).with_context(|| format!("cannot write {}", to.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        // The zip reader checks the member's CRC when it reaches its end.
        let n = member.read(&mut buf).map_err(|e| anyhow!("{expect} in the zip is corrupt: {e}"))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])?;
    }
    out.sync_all()?;
    Ok(FileFacts {
        name: expect.rsplit('/').next().unwrap_or(expect).to_string(),
        bytes: total,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Writes `dump` into the tar.gz `to`, under its own name, dated `mtime`
/// (seconds since the epoch); returns the archive's facts (named `name`).
pub fn tar_gz(dump: &Path, member: &str, mtime: u64, to: &Path, name: &str) -> Result<FileFacts> {
    let out = std::fs::File::create(to).with_context(|| format!("cannot write {}", to.display()))?;
    let gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut input = std::fs::File::open(dump).with_context(|| format!("cannot read {}", dump.display()))?;
    let mut header = tar::Header::new_gnu();
    header.set_size(input.metadata()?.len());
    header.set_mode(0o600);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, member, &mut input).context("cannot write the tar")?;
    let gz = tar.into_inner().context("cannot finish the tar")?;
    gz.finish().context("cannot finish the gzip")?.sync_all()?;
    let (bytes, sha256) = super::destination::sha256_file(to)?;
    Ok(FileFacts { name: name.to_string(), bytes, sha256 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_with(files: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut zip = zip::ZipWriter::new(file.reopen().unwrap());
        for (name, data) in files {
            zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap();
        file
    }

    #[test]
    fn extracts_the_expected_file_and_packs_it() {
        let dir = tempfile::tempdir().unwrap();
        let zip = zip_with(&[("export/dump.sql", b"CREATE TABLE t (x int);\n"), ("readme.txt", b"hi")]);
        let dump = dir.path().join("dump.sql");
        let facts = extract(zip.path(), "dump.sql", &dump).unwrap();
        assert_eq!(facts.bytes, 24);
        assert_eq!(facts.sha256, hex::encode(Sha256::digest(b"CREATE TABLE t (x int);\n")));
        let tgz = dir.path().join("x.tgz");
        let archive = tar_gz(&dump, "dump.sql", 1_790_000_000, &tgz, "20261121.tgz").unwrap();
        assert_eq!(archive.name, "20261121.tgz");
        let mut entries = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(&tgz).unwrap()));
        let mut entry = entries.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(entry.path().unwrap().to_str(), Some("dump.sql"));
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        assert_eq!(text, "CREATE TABLE t (x int);\n");
    }

    #[test]
    fn a_missing_member_and_a_corrupt_zip_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let zip = zip_with(&[("other.sql", b"x")]);
        let err = extract(zip.path(), "dump.sql", &dir.path().join("d")).unwrap_err().to_string();
        assert!(err.contains("does not hold dump.sql") && err.contains("other.sql"), "{err}");
        let junk = dir.path().join("junk.zip");
        std::fs::write(&junk, b"<html>Not Found</html>").unwrap();
        let err = extract(&junk, "dump.sql", &dir.path().join("d")).unwrap_err().to_string();
        assert!(err.contains("not a valid zip"), "{err}");
    }
}
