//! A job's `destination`, read: where its archives go.

use std::path::PathBuf;

/// A `destination` of `parc.toml`, read.
#[derive(Clone, Debug, PartialEq)]
pub enum Location {
    /// A local folder: a disk, or a mounted NFS or SMB/CIFS share.
    Local(PathBuf),
    Sftp {
        user: Option<String>,
        host: String,
        port: Option<u16>,
        path: String,
    },
    WebDav {
        tls: bool,
        host: String,
        path: String,
    },
    Ftps {
        user: Option<String>,
        host: String,
        port: u16,
        path: String,
    },
}

/// Why a text is not a destination.
#[derive(Debug, thiserror::Error)]
pub enum BadDestination {
    #[error("destination is empty")]
    Empty,
    #[error("destination {0:?}: bad port {1:?}")]
    Port(String, String),
    #[error("destination {0:?} names no host")]
    NoHost(String),
    #[error("destination {0:?}: {1}:// is not one of sftp, webdav, webdavs, ftps, or a local path")]
    Scheme(String, String),
}

impl Location {
    pub fn parse(text: &str) -> Result<Location, BadDestination> {
        let Some((scheme, rest)) = text.split_once("://") else {
            if text.is_empty() {
                return Err(BadDestination::Empty);
            }
            return Ok(Location::Local(PathBuf::from(text)));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((user, hostport)) => (Some(user.to_string()), hostport),
            None => (None, authority),
        };
        let (host, port) = match hostport.rsplit_once(':').filter(|(_, p)| !p.is_empty() && !p.contains(']')) {
            Some((host, port)) => {
                let port = port.parse::<u16>().map_err(|_| BadDestination::Port(text.to_string(), port.to_string()))?;
                (host, Some(port))
            }
            None => (hostport, None),
        };
        if host.is_empty() {
            return Err(BadDestination::NoHost(text.to_string()));
        }
        let host = host.to_string();
        match scheme {
            "sftp" => Ok(Location::Sftp { user, host, port, path }),
            "webdav" | "webdavs" => {
                let tls = scheme == "webdavs";
                let host = match port {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                };
                Ok(Location::WebDav { tls, host, path })
            }
            "ftps" => Ok(Location::Ftps { user, host, port: port.unwrap_or(21), path }),
            "file" => Ok(Location::Local(PathBuf::from(path))),
            other => Err(BadDestination::Scheme(text.to_string(), other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            Location::parse("sftp://backup@nas.example:22/srv/archives/db").unwrap(),
            Location::Sftp {
                user: Some("backup".into()),
                host: "nas.example".into(),
                port: Some(22),
                path: "/srv/archives/db".into()
            }
        );
        assert_eq!(
            Location::parse("webdavs://cloud.example/remote.php/dav/files/parc/db").unwrap(),
            Location::WebDav { tls: true, host: "cloud.example".into(), path: "/remote.php/dav/files/parc/db".into() }
        );
        assert_eq!(
            Location::parse("ftps://parc@ftp.example/db").unwrap(),
            Location::Ftps { user: Some("parc".into()), host: "ftp.example".into(), port: 21, path: "/db".into() }
        );
        assert_eq!(Location::parse("/mnt/nas/db").unwrap(), Location::Local("/mnt/nas/db".into()));
        assert!(Location::parse("s3://bucket/x").is_err());
        assert!(Location::parse("sftp:///x").is_err());
        assert!(Location::parse("sftp://h:99999/x").is_err());
    }
}
