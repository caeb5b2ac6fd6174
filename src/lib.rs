//! parc: snapshots of a fleet of Linux machines in, a static site and JSON API out.
//!
//! The build is a row of stages, one module each: [`source`] discovers every
//! version of every snapshot, [`parse`] reads them (with [`snapshot`]'s
//! parsers and the [`cache`]), [`fleet`] assembles the versioned data tree,
//! [`derive`] decides what it means (risk, moves, backups), and [`render`]
//! writes the site. [`pipeline`] runs them in order.

pub mod action;
pub mod archive;
pub mod assemble;
pub mod cache;
pub mod cli;
pub mod code;
pub mod collect;
pub mod config;
pub mod derive;
pub mod escape;
pub mod export;
pub mod failpoint;
pub mod fleet;
pub mod host;
pub mod http;
pub mod init;
pub mod mail;
pub mod parse;
pub mod pipeline;
pub mod plan;
pub mod problem;
pub mod progress;
pub mod redact;
pub mod render;
pub mod secret;
pub mod serve;
pub mod slug;
pub mod snapshot;
pub mod source;
pub mod store;
pub mod time;
pub mod words;

/// What identifies this parc program: its version, the linker's build id
/// (a hash of everything linked, in the executable's `.note.gnu.build-id`)
/// and the executable's size — or, where there is no such note, a hash of
/// the whole executable. Caches and the no-change check carry it, so that
/// they never outlive a change of the program, even one that kept the
/// version number (a development build, CI building a new commit with
/// `.parc-cache` kept). The note is read rather than the executable hashed:
/// a few reads instead of a pass over a file of a hundred megabytes.
pub fn build_id() -> &'static str {
    use sha2::{Digest, Sha256};
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let version = env!("CARGO_PKG_VERSION");
        let Ok(exe) = std::env::current_exe() else { return version.to_string() };
        let len = std::fs::metadata(&exe).map_or(0, |m| m.len());
        if let Some(id) = elf_build_id(&exe) {
            return format!("{version}+{id}+{len}");
        }
        match std::fs::read(&exe) {
            Ok(bytes) => format!("{version}+{:x}", Sha256::digest(bytes)),
            Err(_) => version.to_string(),
        }
    })
}

/// The GNU build id of an ELF executable (64-bit, little-endian), in hex.
fn elf_build_id(path: &std::path::Path) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let mut header = [0u8; 64];
    file.read_exact(&mut header).ok()?;
    if &header[..4] != b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return None;
    }
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]) as u64;
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap()) as u64;
    let u64_at = |b: &[u8], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
    let (phoff, phentsize, phnum) = (u64_at(&header, 32), u16_at(&header, 54), u16_at(&header, 56));
    if phentsize < 56 || phnum > 256 {
        return None;
    }
    let mut table = vec![0u8; (phentsize * phnum) as usize];
    file.seek(SeekFrom::Start(phoff)).ok()?;
    file.read_exact(&mut table).ok()?;
    for ph in table.chunks(phentsize as usize) {
        const PT_NOTE: u64 = 4;
        if u32_at(ph, 0) != PT_NOTE {
            continue;
        }
        let (offset, size) = (u64_at(ph, 8), u64_at(ph, 32));
        if size > 1 << 16 {
            continue;
        }
        let mut notes = vec![0u8; size as usize];
        file.seek(SeekFrom::Start(offset)).ok()?;
        file.read_exact(&mut notes).ok()?;
        let mut at = 0usize;
        while at + 12 <= notes.len() {
            let (namesz, descsz, kind) =
                (u32_at(&notes, at) as usize, u32_at(&notes, at + 4) as usize, u32_at(&notes, at + 8));
            let name_at = at + 12;
            let desc_at = name_at + namesz.div_ceil(4) * 4;
            let end = desc_at + descsz.div_ceil(4) * 4;
            if end > notes.len() {
                break;
            }
            const NT_GNU_BUILD_ID: u64 = 3;
            if kind == NT_GNU_BUILD_ID && &notes[name_at..name_at + namesz] == b"GNU\0" && descsz >= 8 {
                return Some(hex::encode(&notes[desc_at..desc_at + descsz]));
            }
            at = end;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_build_id_is_the_linkers() {
        let exe = std::env::current_exe().unwrap();
        let id = super::elf_build_id(&exe).expect("the test binary carries a GNU build id");
        let readelf = std::process::Command::new("readelf").arg("-n").arg(&exe).output();
        if let Some(out) = readelf.ok().filter(|o| o.status.success()) {
            assert!(String::from_utf8_lossy(&out.stdout).contains(&id), "readelf -n shows {id}");
        }
        assert!(super::elf_build_id(std::path::Path::new("/etc/hostname")).is_none());
    }
}
