//! Network access lists written as Asterisk writes them (`permit = 10.0.0.0/8`, `deny = 0.0.0.0/0.0.0.0`).
//!
//! Asterisk's rules (acl.c, `ast_apply_ha`): rules are checked in the order written and the **last** one that
//! matches decides; an address no rule matches is allowed. A rule matches only addresses of its own family
//! (an IPv4 rule never matches an IPv6 client), and a client connected over IPv4-mapped IPv6 counts as IPv4.
//! A value may hold several networks separated by commas, each a CIDR (`10.0.0.0/8`), an address with a
//! dotted mask (`10.0.0.0/255.0.0.0`) or a single address; `!` in front turns the rule around
//! (`permit = !10.0.0.0/8` denies that network), and an IPv4-mapped IPv6 network is an IPv4 one.
//!
//! An ACL may also name *named ACLs* (`acl = office` in pjprov.conf, Asterisk's `acl=` option, whose lists
//! live in acl.conf or pjprov.conf's `[acl:NAME]` sections: `named_acl.rs`). As in Asterisk's
//! `ast_apply_acl` (acl.c), every list must allow an address: the rules written in place form one list,
//! each named ACL is another, each decided by its own last matching rule.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

/// What a rule does to the addresses it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sense {
    /// `permit`.
    Permit,
    /// `deny`.
    Deny,
}

impl Sense {
    fn opposite(self) -> Sense {
        match self {
            Sense::Permit => Sense::Deny,
            Sense::Deny => Sense::Permit,
        }
    }
}

/// One `permit` or `deny` network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Permit or deny.
    pub sense: Sense,
    /// The network.
    pub net: IpNet,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sense = match self.sense {
            Sense::Permit => "permit",
            Sense::Deny => "deny",
        };
        write!(f, "{sense} = {}", self.net)
    }
}

impl Rule {
    fn matches(&self, ip: IpAddr) -> bool {
        let same_family = self.net.addr().is_ipv4() == ip.is_ipv4();
        same_family && self.net.contains(&ip)
    }
}

/// An ordered list of rules, and the named ACLs that must allow an address as well.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acl {
    rules: Vec<Rule>,
    named: Vec<NamedList>,
}

/// A named ACL, as one ACL uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedList {
    /// Its name (as Asterisk compares them: case matters).
    pub name: String,
    /// Where it is defined (`acl.conf:12`, `pjprov.conf:40`).
    pub defined_at: String,
    /// Its rules, in order.
    pub rules: Vec<Rule>,
}

/// What one list of an ACL says about an address (for `pjprov explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListVerdict<'a> {
    /// The named ACL, or `None` for the rules written in place.
    pub name: Option<&'a NamedList>,
    /// The rule that decides (the last that matches) and its position; `None`: no rule matches.
    pub deciding: Option<(usize, &'a Rule)>,
    /// Whether this list allows the address.
    pub allowed: bool,
}

/// Asterisk's `ast_apply_ha`: the last rule that matches decides; none matching allows.
fn deciding(rules: &[Rule], ip: IpAddr) -> Option<(usize, &Rule)> {
    rules
        .iter()
        .enumerate()
        .rev()
        .find(|(_, rule)| rule.matches(ip))
}

fn list_allows(rules: &[Rule], ip: IpAddr) -> bool {
    deciding(rules, ip).is_none_or(|(_, rule)| rule.sense == Sense::Permit)
}

impl Acl {
    /// Adds the networks of one `permit`/`deny` value, in order.
    pub fn push(&mut self, sense: Sense, value: &str) -> Result<(), String> {
        let mut added = Vec::new();
        for item in value.split(',').map(str::trim) {
            if item.is_empty() {
                continue;
            }
            let (sense, text) = match item.strip_prefix('!') {
                Some(rest) => (sense.opposite(), rest.trim()),
                None => (sense, item),
            };
            added.push(Rule {
                sense,
                net: parse_net(text)?,
            });
        }
        if added.is_empty() {
            return Err("no network given (write e.g. 192.168.1.0/24)".into());
        }
        self.rules.extend(added);
        Ok(())
    }

    /// Adds a named ACL: from now on it must allow an address too.
    pub fn add_named(&mut self, list: NamedList) {
        if !self.named.iter().any(|n| n.name == list.name) {
            self.named.push(list);
        }
    }

    /// Whether `ip` may connect: every list allows it (Asterisk's `ast_apply_acl`).
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = unmap(ip);
        list_allows(&self.rules, ip) && self.named.iter().all(|n| list_allows(&n.rules, ip))
    }

    /// The rule written in place that decides for `ip` (the last that matches) and its position; `None`:
    /// no such rule matches. Named ACLs are judged apart ([`Acl::verdicts`]).
    pub fn deciding(&self, ip: IpAddr) -> Option<(usize, &Rule)> {
        deciding(&self.rules, unmap(ip))
    }

    /// What each list says about `ip`: the rules written in place (when there are some), then each named
    /// ACL, in the order they were named.
    pub fn verdicts(&self, ip: IpAddr) -> Vec<ListVerdict<'_>> {
        let ip = unmap(ip);
        let own = (!self.rules.is_empty()).then(|| ListVerdict {
            name: None,
            deciding: deciding(&self.rules, ip),
            allowed: list_allows(&self.rules, ip),
        });
        own.into_iter()
            .chain(self.named.iter().map(|named| ListVerdict {
                name: Some(named),
                deciding: deciding(&named.rules, ip),
                allowed: list_allows(&named.rules, ip),
            }))
            .collect()
    }

    /// The named ACLs, in the order they were named.
    pub fn named(&self) -> &[NamedList] {
        &self.named
    }

    /// True when no list can refuse anyone (no rule denies anything anywhere).
    pub fn allows_everyone(&self) -> bool {
        self.rules
            .iter()
            .chain(self.named.iter().flat_map(|n| &n.rules))
            .all(|r| r.sense == Sense::Permit)
    }

    /// True when this ACL refuses at least whatever `before` refuses, as far as can be shown by its lists:
    /// the same rules in place and every named ACL of `before` still there (more lists only refuse more).
    pub fn contains_lists_of(&self, before: &Acl) -> bool {
        self.rules == before.rules && before.named.iter().all(|n| self.named.contains(n))
    }

    /// True when some rule matches `ip` (for exemption lists).
    pub fn matches(&self, ip: IpAddr) -> bool {
        let ip = unmap(ip);
        self.rules.iter().any(|rule| rule.matches(ip))
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// True when there is no rule and no named ACL (everyone is allowed).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.named.is_empty()
    }

    /// True when no rule denies anything: then the list allows every address, which is rarely what was
    /// meant (Asterisk ACLs allow by default).
    pub fn only_permits(&self) -> bool {
        !self.rules.is_empty() && self.rules.iter().all(|r| r.sense == Sense::Permit)
    }
}

/// An IPv4-mapped IPv6 address (a dual-stack socket) as the IPv4 address it carries.
pub fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// `10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `2001:db8::/32`, `[2001:db8::1]` or a single address.
fn parse_net(text: &str) -> Result<IpNet, String> {
    let bad = |why: &str| format!("not a network: {why} (write e.g. 192.168.1.0/24)");
    let (addr, mask) = match text.split_once('/') {
        Some((addr, mask)) => (addr.trim(), Some(mask.trim())),
        None => (text, None),
    };
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = addr.parse().map_err(|_| bad("not an IP address"))?;
    let prefix = match mask {
        None => match ip {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        },
        Some(mask) if mask.contains('.') => {
            let mask: Ipv4Addr = mask.parse().map_err(|_| bad("bad netmask"))?;
            if !ip.is_ipv4() {
                return Err(bad("a dotted netmask with an IPv6 address"));
            }
            let bits = u32::from(mask);
            if bits.leading_ones() + bits.trailing_zeros() != 32 {
                return Err(bad("the netmask's bits are not contiguous"));
            }
            bits.leading_ones() as u8
        }
        Some(mask) => mask.parse::<u8>().map_err(|_| bad("bad prefix length"))?,
    };
    // Asterisk masks the address (10.1.2.3/8 means 10.0.0.0/8); so does `trunc`.
    let net = IpNet::new(ip, prefix)
        .map(|net| net.trunc())
        .map_err(|_| bad("prefix length too long for the address"))?;
    // An IPv4-mapped network is an IPv4 one.
    Ok(match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => IpNet::new(IpAddr::V4(v4), v6.prefix_len() - 96).unwrap_or(net),
            None => net,
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn last_match_wins_and_default_allows() {
        let mut acl = Acl::default();
        assert!(acl.allows(ip("203.0.113.9")));
        acl.push(Sense::Deny, "0.0.0.0/0.0.0.0").unwrap();
        acl.push(Sense::Permit, "192.168.1.0/24, 10.0.0.0/255.0.0.0")
            .unwrap();
        acl.push(Sense::Deny, "10.9.9.9").unwrap();
        assert!(acl.allows(ip("192.168.1.20")));
        assert!(acl.allows(ip("10.1.2.3")));
        assert!(!acl.allows(ip("10.9.9.9")));
        assert!(!acl.allows(ip("203.0.113.9")));
        // An IPv4 rule says nothing about IPv6 clients, as in Asterisk.
        assert!(acl.allows(ip("2001:db8::1")));
        // IPv4-mapped IPv6 is IPv4.
        assert!(!acl.allows(ip("::ffff:203.0.113.9")));
        assert!(acl.allows(ip("::ffff:192.168.1.20")));
    }

    #[test]
    fn ipv6_and_negation() {
        let mut acl = Acl::default();
        acl.push(Sense::Deny, "::/0").unwrap();
        acl.push(Sense::Permit, "[2001:db8::]/32").unwrap();
        assert!(acl.allows(ip("2001:db8:1::5")));
        assert!(!acl.allows(ip("2001:db9::5")));

        // `!` turns the rule around, as in Asterisk.
        let mut acl = Acl::default();
        acl.push(Sense::Permit, "!192.168.0.0/16").unwrap();
        assert!(!acl.allows(ip("192.168.7.7")));
        assert!(acl.allows(ip("10.0.0.1")));

        // An IPv4-mapped network is IPv4.
        let mut acl = Acl::default();
        acl.push(Sense::Deny, "::ffff:10.0.0.0/104").unwrap();
        assert_eq!(acl.rules()[0].net.to_string(), "10.0.0.0/8");
        assert!(!acl.allows(ip("10.1.1.1")));
    }

    #[test]
    fn host_bits_are_masked() {
        let mut acl = Acl::default();
        acl.push(Sense::Deny, "10.1.2.3/8").unwrap();
        assert_eq!(acl.rules()[0].net.to_string(), "10.0.0.0/8");
        assert!(!acl.allows(ip("10.200.0.1")));
    }

    #[test]
    fn bad_networks() {
        let mut acl = Acl::default();
        for bad in [
            "",
            "10.0.0.0/33",
            "10.0.0.0/255.0.255.0",
            "host.example",
            "2001:db8::/255.0.0.0",
        ] {
            assert!(acl.push(Sense::Permit, bad).is_err(), "{bad}");
        }
        assert!(acl.is_empty());
    }

    #[test]
    fn only_permits_is_noticed() {
        let mut acl = Acl::default();
        acl.push(Sense::Permit, "10.0.0.0/8").unwrap();
        assert!(acl.only_permits());
        acl.push(Sense::Deny, "0.0.0.0/0").unwrap();
        assert!(!acl.only_permits());
    }

    #[test]
    fn every_list_must_allow_as_in_ast_apply_acl() {
        let list = |rules: &[(Sense, &str)]| {
            let mut acl = Acl::default();
            for (sense, net) in rules {
                acl.push(*sense, net).unwrap();
            }
            acl.rules
        };
        let mut acl = Acl::default();
        acl.push(Sense::Deny, "0.0.0.0/0").unwrap();
        acl.push(Sense::Permit, "10.0.0.0/8").unwrap();
        acl.add_named(NamedList {
            name: "office".into(),
            defined_at: "acl.conf:1".into(),
            rules: list(&[(Sense::Deny, "10.9.0.0/16")]),
        });
        assert!(acl.allows(ip("10.1.1.1")));
        assert!(!acl.allows(ip("10.9.1.1")), "the named ACL refuses it");
        assert!(!acl.allows(ip("192.0.2.1")), "the rules in place refuse it");
        let verdicts = acl.verdicts(ip("10.9.1.1"));
        assert_eq!(verdicts.len(), 2);
        assert!(verdicts[0].allowed && !verdicts[1].allowed);
        assert_eq!(verdicts[1].name.map(|n| n.name.as_str()), Some("office"));
        // A named ACL with no rules accepts everyone (Asterisk: "valid, but it will accept addresses
        // unconditionally").
        let mut empty = Acl::default();
        empty.add_named(NamedList {
            name: "none".into(),
            defined_at: "acl.conf:9".into(),
            rules: Vec::new(),
        });
        assert!(empty.allows(ip("203.0.113.1")));
        assert!(!empty.is_empty() && empty.allows_everyone());
        // More lists refuse more: no looser. Fewer may be looser.
        let mut more = acl.clone();
        more.add_named(NamedList {
            name: "lab".into(),
            defined_at: "pjprov.conf:3".into(),
            rules: list(&[(Sense::Deny, "10.8.0.0/16")]),
        });
        assert!(more.contains_lists_of(&acl));
        assert!(!acl.contains_lists_of(&more));
    }
}
