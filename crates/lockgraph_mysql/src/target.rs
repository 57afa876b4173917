//! Where to connect: a `mysql://` or `mariadb://` URL read into the driver's options, and the
//! server's name as lockgraph prints it (no password).

use crate::Error;
use std::fmt;
use std::time::Duration;

/// How long connecting may take before giving up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one read or write on the connection may take.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether `url` is for this crate: its scheme is `mysql` or `mariadb` (any case).
///
/// ```
/// assert!(lockgraph_mysql::is_mysql_url("mysql://root@127.0.0.1:3306/test"));
/// assert!(lockgraph_mysql::is_mysql_url("MariaDB://app@db/shop"));
/// assert!(!lockgraph_mysql::is_mysql_url("postgres://app@db/shop"));
/// assert!(!lockgraph_mysql::is_mysql_url("host=db user=app"));
/// ```
pub fn is_mysql_url(url: &str) -> bool {
    scheme(url)
        .is_some_and(|s| s.eq_ignore_ascii_case("mysql") || s.eq_ignore_ascii_case("mariadb"))
}

fn scheme(url: &str) -> Option<&str> {
    url.trim_start().split_once("://").map(|(s, _)| s)
}

/// A MySQL/MariaDB server to inspect, read from a URL
/// (`mysql://user:password@host:port/db?param=value`; `mariadb://` is the same). `Display`
/// prints it without the password: `mysql://root@127.0.0.1:3306/test`.
#[derive(Clone)]
pub struct Target {
    scheme: String,
    opts: mysql::Opts,
}

impl Target {
    /// Reads a URL. The driver's URL parameters (`socket`, `prefer_socket`, timeouts, …) are
    /// accepted; without timeouts, connecting gives up after 5 s and one read after 30 s.
    pub fn parse(url: &str) -> Result<Target, Error> {
        let url = url.trim();
        let Some(scheme) = scheme(url).filter(|_| is_mysql_url(url)) else {
            return Err(Error::InvalidUrl(
                "the scheme must be mysql:// or mariadb://".into(),
            ));
        };
        let rest = &url[scheme.len()..];
        // The driver knows only `mysql://`; its messages never contain the URL or password.
        let opts = mysql::Opts::from_url(&format!("mysql{rest}"))
            .map_err(|e| Error::InvalidUrl(e.to_string()))?;
        let mut b = mysql::OptsBuilder::from_opts(opts.clone());
        if opts.get_tcp_connect_timeout().is_none() {
            b = b.tcp_connect_timeout(Some(CONNECT_TIMEOUT));
        }
        if opts.get_read_timeout().is_none() {
            b = b.read_timeout(Some(IO_TIMEOUT));
        }
        if opts.get_write_timeout().is_none() {
            b = b.write_timeout(Some(IO_TIMEOUT));
        }
        Ok(Target {
            scheme: scheme.to_ascii_lowercase(),
            opts: b.into(),
        })
    }

    /// The driver's options (with the password).
    pub(crate) fn opts(&self) -> &mysql::Opts {
        &self.opts
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.opts;
        write!(f, "{}://", self.scheme)?;
        if let Some(u) = o.get_user() {
            write!(f, "{u}@")?;
        }
        let host = o.get_ip_or_hostname();
        if host.contains(':') {
            write!(f, "[{host}]")?;
        } else {
            f.write_str(&host)?;
        }
        write!(f, ":{}", o.get_tcp_port())?;
        if let Some(db) = o.get_db_name() {
            write!(f, "/{db}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_leaves_the_password_out() {
        let t = Target::parse("mysql://app:s3cret@db.example:3307/shop").unwrap();
        assert_eq!(t.to_string(), "mysql://app@db.example:3307/shop");
        assert!(!format!("{t:?}").contains("s3cret"));
        assert_eq!(t.opts().get_pass(), Some("s3cret"));
        let t = Target::parse("MariaDB://root@127.0.0.1/test").unwrap();
        assert_eq!(t.to_string(), "mariadb://root@127.0.0.1:3306/test");
    }

    #[test]
    fn bad_urls_are_errors_without_the_password() {
        for bad in [
            "postgres://app:s3cret@db/shop",
            "mysql://app:s3cret@db:99999/shop",
            "mysql://app:s3cret@db/shop?no_such_param=1",
        ] {
            let e = Target::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("invalid MySQL/MariaDB URL"), "{e}");
            assert!(!e.contains("s3cret"), "{e}");
        }
    }

    #[test]
    fn timeouts_default_unless_given() {
        let t = Target::parse("mysql://root@h/db").unwrap();
        assert_eq!(t.opts().get_tcp_connect_timeout(), Some(CONNECT_TIMEOUT));
        let t = Target::parse("mysql://root@h/db?tcp_connect_timeout_ms=700").unwrap();
        assert_eq!(
            t.opts().get_tcp_connect_timeout(),
            Some(Duration::from_millis(700))
        );
    }
}
