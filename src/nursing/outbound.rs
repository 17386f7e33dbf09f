//! Where the nurse link may send requests. The URLs it calls come from outside: a network's base
//! URL typed by an admin, a callback URL given by a partner in its hold. Left open, a hostile
//! partner would make the hub call its own internal services (a database console, a cloud
//! metadata address) and read the answers back through the booking's status.
//!
//! So, unless the association allows private hosts (`--allow-private-hosts`, for a network on
//! its own LAN or for tests on loopback):
//! - only `https` URLs, and no host that is or resolves to a loopback, private, link-local,
//!   shared (CGNAT), multicast or reserved address; the check is made when the URL is given and
//!   again on every connection (by the HTTP client's resolver), so a name that later resolves
//!   to an internal address is refused too (DNS rebinding);
//! - redirects are not followed.
//!
//! With private hosts allowed, `http` is still refused off loopback: health data does not cross
//! a network in clear.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Is this an address of the public internet (not loopback, private, link-local, ...)?
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || ip.segments()[0] == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || ip.segments()[0] == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64 of any v4
}

fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
    }
}

/// What the link may call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outbound {
    /// Loopback and private hosts may be called (http only on loopback).
    pub allow_private_hosts: bool,
}

impl Outbound {
    /// Checks a URL before it is stored or called; the error says why, in English.
    pub fn check(&self, url: &str) -> Result<reqwest::Url, String> {
        let parsed = reqwest::Url::parse(url).map_err(|_| "not a URL".to_owned())?;
        let host = parsed
            .host()
            .ok_or_else(|| "a URL with a host".to_owned())?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("a URL must not carry a user name or password".into());
        }
        let literal = match host {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            url::Host::Domain(_) => None,
        };
        let loopback = is_loopback_host(&host);
        if !self.allow_private_hosts {
            if loopback || literal.is_some_and(|ip| !is_public(ip)) {
                return Err(
                    "this host is a loopback or private address: partner links go to public hosts"
                        .into(),
                );
            }
            if parsed.scheme() != "https" {
                return Err("must be an https URL".into());
            }
        } else {
            match parsed.scheme() {
                "https" => {}
                "http" if loopback => {}
                "http" => return Err("must be an https URL (http only on loopback)".into()),
                _ => return Err("must be an https URL".into()),
            }
        }
        Ok(parsed)
    }

    /// The HTTP client of the link: no redirects, and a resolver that refuses names resolving to
    /// non-public addresses (unless private hosts are allowed).
    pub fn client(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let builder = builder.redirect(reqwest::redirect::Policy::none());
        if self.allow_private_hosts {
            builder
        } else {
            builder.dns_resolver(Arc::new(PublicOnly))
        }
    }
}

/// A resolver that answers only public addresses.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "81.250.1.2", "2a01:cb00::1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn by_default_only_https_to_public_hosts() {
        let strict = Outbound::default();
        assert!(strict
            .check("https://soins.example.fr/api/partner/v1")
            .is_ok());
        for bad in [
            "http://soins.example.fr/api",
            "https://127.0.0.1/api",
            "https://localhost/api",
            "https://[::1]/api",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.5:8443/api",
            "https://user:pw@soins.example.fr/api",
            "ftp://soins.example.fr/",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(strict.check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn private_hosts_when_allowed_but_clear_text_only_on_loopback() {
        let lan = Outbound {
            allow_private_hosts: true,
        };
        assert!(lan.check("http://127.0.0.1:8480/api").is_ok());
        assert!(lan.check("https://10.0.0.5/api").is_ok());
        assert!(lan.check("http://10.0.0.5/api").is_err());
        assert!(lan.check("http://soins.example.fr/api").is_err());
    }
}
