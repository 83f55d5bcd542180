//! Whether new settings could let anyone get more than the current ones: a reload that loosens access
//! control is adopted only once the files it came from are complete and stable (a half-written pjprov.conf
//! parses as "no ACL, no authentication" for a moment).
//!
//! The comparison is conservative: anything it cannot prove at least as strict counts as looser. A false
//! "looser" only delays a reload by the settle time; a false "as strict" would open a gap.

use super::{Acl, Limits, Policy, Protect, Settings};
use crate::settings::{AuthSource, Binding, ClientCert};

impl Settings {
    /// True when no client can get, under `self`, anything `before` would have refused it.
    pub fn no_looser_than(&self, before: &Settings) -> bool {
        acl_no_looser(&self.acl, &before.acl)
            && limits_no_looser(&self.limits, &before.limits)
            && self.auth.basic_without_tls <= before.auth.basic_without_tls
            && !(before.auth.protect == Protect::All && self.auth.protect == Protect::Dynamic)
            && self.auth.nonce_lifetime <= before.auth.nonce_lifetime
            && self.general == before.general
            && self.tftp.listen == before.tftp.listen
            && self.tftp.client_transfers <= before.tftp.client_transfers
            && self.tftp.transfer_lifetime <= before.tftp.transfer_lifetime
            && self.tftp_no_looser(before)
            && self.policies_no_looser(before)
            && self.lobbies_no_looser(before)
            && (self.admin == before.admin
                || before.admin.token.is_none() && self.admin.token.is_none())
    }

    fn tftp_no_looser(&self, before: &Settings) -> bool {
        self.profile_names
            .iter()
            .zip(&self.tftp.profiles)
            .filter(|(_, allowed)| **allowed)
            .all(|(name, _)| {
                before
                    .profile_names
                    .iter()
                    .position(|n| n == name)
                    .and_then(|i| before.tftp.profiles.get(i))
                    .copied()
                    .unwrap_or(false)
            })
    }

    /// A lobby that appears or changes gives some names a file they did not get: not provably as strict.
    fn lobbies_no_looser(&self, before: &Settings) -> bool {
        self.profile_names
            .iter()
            .zip(&self.profile_lobbies)
            .all(|(name, lobby)| {
                let old = before
                    .profile_names
                    .iter()
                    .position(|n| n == name)
                    .and_then(|i| before.profile_lobbies.get(i));
                match old {
                    Some(old) => lobby.no_looser_than(old),
                    None => lobby.lobby == super::Lobby::Off,
                }
            })
    }

    fn policies_no_looser(&self, before: &Settings) -> bool {
        if !policy_no_looser(&self.default_policy, &before.default_policy) {
            return false;
        }
        let profiles_ok =
            self.profile_names
                .iter()
                .zip(&self.profile_policies)
                .all(|(name, policy)| {
                    let old = before
                        .profile_names
                        .iter()
                        .position(|n| n == name)
                        .and_then(|i| before.profile_policies.get(i))
                        .unwrap_or(&before.default_policy);
                    policy_no_looser(policy, old)
                });
        // A phone's own section, or its absence, against what applied to it before.
        let phones_ok =
            self.phone_policies
                .iter()
                .all(|(mac, policy)| match before.phone_policies.get(mac) {
                    Some(old) => policy_no_looser(policy, old),
                    None => true,
                })
                && before
                    .phone_policies
                    .keys()
                    .all(|mac| self.phone_policies.contains_key(mac));
        profiles_ok && phones_ok
    }
}

/// A policy that asks at least as much as `before`: no credentials dropped, no scheme added, bindings not
/// relaxed. New credentials (another password) count as as strict.
pub fn policy_no_looser(policy: &Policy, before: &Policy) -> bool {
    let credentials_ok = match (&before.auth, &policy.auth) {
        (AuthSource::None, _) => true,
        (_, AuthSource::None) => false,
        // Still credentials (perhaps others): only accepting Basic where it was not accepted loosens.
        _ => !policy.schemes.basic || before.schemes.basic,
    };
    let agent = |b: Binding| match b {
        Binding::Off => 0,
        Binding::Log => 1,
        Binding::Enforce => 2,
    };
    let cert = |c: ClientCert| match c {
        ClientCert::Off => 0,
        ClientCert::Optional => 1,
        ClientCert::Require => 2,
    };
    credentials_ok
        && agent(policy.user_agent) >= agent(before.user_agent)
        && cert(policy.client_cert) >= cert(before.client_cert)
        && acl_no_looser(&policy.acl, &before.acl)
        && policy.enrol.no_looser_than(&before.enrol)
}

fn acl_no_looser(acl: &Acl, before: &Acl) -> bool {
    // An ACL that allows everyone cannot be loosened; otherwise only the same lists (more named ACLs
    // refuse more) are provably as strict: a changed rule, in pjprov.conf or in acl.conf, waits.
    before.allows_everyone() || acl.contains_lists_of(before)
}

fn limits_no_looser(limits: &Limits, before: &Limits) -> bool {
    limits.throttle >= before.throttle
        && limits.refuse_after <= before.refuse_after
        && limits.slow_after <= before.slow_after
        && limits.window >= before.window
        && limits.ban >= before.ban
        && limits.harvest_phones <= before.harvest_phones
        && limits.exempt == before.exempt
        && limits.client_connections <= before.client_connections
        && limits.send_timeout <= before.send_timeout
        && limits.min_send_rate >= before.min_send_rate
        && limits.ipv4_prefix <= before.ipv4_prefix
        && limits.ipv6_prefix <= before.ipv6_prefix
        && (limits.harvest_action == before.harvest_action
            || before.harvest_action == super::HarvestAction::Log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Sense;

    fn with_acl(rules: &[(Sense, &str)]) -> Settings {
        let mut settings = Settings::default();
        for (sense, net) in rules {
            settings.acl.push(*sense, net).unwrap();
        }
        settings
    }

    #[test]
    fn an_empty_pjprov_conf_is_looser_than_an_acl() {
        let acl = with_acl(&[(Sense::Deny, "0.0.0.0/0"), (Sense::Permit, "10.0.0.0/8")]);
        let empty = Settings::default();
        assert!(!empty.no_looser_than(&acl), "dropping the ACL opens it");
        assert!(acl.no_looser_than(&empty), "adding one closes");
        assert!(acl.no_looser_than(&acl.clone()));
    }

    #[test]
    fn policies_compare_key_by_key() {
        let before = Policy {
            auth: AuthSource::Sip,
            ..Policy::default()
        };
        let mut after = before.clone();
        assert!(policy_no_looser(&after, &before));
        after.auth = AuthSource::None;
        assert!(!policy_no_looser(&after, &before), "credentials dropped");
        let mut basic = before.clone();
        basic.schemes.basic = true;
        assert!(!policy_no_looser(&basic, &before), "Basic accepted");
        let mut agent = before.clone();
        agent.user_agent = Binding::Log;
        assert!(!policy_no_looser(&agent, &before), "binding relaxed");
        let mut cert = before.clone();
        cert.client_cert = ClientCert::Require;
        assert!(policy_no_looser(&cert, &before), "stricter");
    }

    #[test]
    fn throttling_turned_off_is_looser() {
        let before = Settings::default();
        let mut after = Settings::default();
        after.limits.throttle = false;
        assert!(!after.no_looser_than(&before));
        let mut stricter = Settings::default();
        stricter.limits.refuse_after = 5;
        assert!(stricter.no_looser_than(&before));
    }
}
