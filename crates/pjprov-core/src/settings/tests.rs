//! pjprov.conf, section by section.

use asterisk_config::{Loader, MemorySource};

use super::*;
use crate::model::{Line, Location};
use crate::vars::Vars;

fn config(name: &str, text: &str) -> Config {
    let src = MemorySource::new().with_file(format!("/etc/asterisk/{name}"), text);
    let loaded = Loader::with_source("/etc/asterisk", src).load(name);
    assert!(loaded.valid, "{:?}", loaded.diagnostics);
    loaded.config
}

fn profiles() -> Vec<Profile> {
    let phoneprov = config(
        "phoneprov.conf",
        "[polycom]\n${MAC}.cfg => polycom.cfg\n[yealink]\n${MAC}.cfg => y.cfg\n",
    );
    crate::profile::read(&phoneprov, &mut Vec::new())
}

fn phone(mac: &str, profile: u32, secret: Option<&str>) -> Phone {
    let mut vars = Vars::new();
    vars.set("MAC", mac);
    if let Some(secret) = secret {
        vars.set("SECRET", secret);
    }
    Phone {
        mac: mac.into(),
        profile: ProfileId(profile),
        lines: vec![Line {
            id: format!("{mac}-line").into(),
            index: 1,
            vars,
            transport_protocol: None,
            location: Location {
                file: std::path::Path::new("/etc/asterisk/pjsip.conf").into(),
                line: 1,
            },
        }],
        founding_line: 0,
    }
}

fn read(text: &str) -> (Option<Settings>, Vec<Diagnostic>) {
    let config = config("pjprov.conf", text);
    let phones = vec![
        std::sync::Arc::new(phone("0004f2aabbcc", 0, Some("pw1"))),
        std::sync::Arc::new(phone("001565aabbcc", 1, None)),
    ];
    let mut diags = Vec::new();
    let settings = Settings::read(
        Some(&config),
        Path::new("/etc/asterisk"),
        &profiles(),
        &phones,
        &mut diags,
    );
    (settings, diags)
}

fn ok(text: &str) -> (Settings, Vec<String>) {
    let (settings, diags) = read(text);
    let messages = diags.iter().map(ToString::to_string).collect();
    (settings.unwrap_or_else(|| panic!("{diags:?}")), messages)
}

fn errors(text: &str) -> Vec<String> {
    let (settings, diags) = read(text);
    assert!(settings.is_none(), "expected errors for {text:?}");
    diags.iter().map(ToString::to_string).collect()
}

#[test]
fn no_file_means_defaults() {
    let mut diags = Vec::new();
    let settings = Settings::read(None, Path::new("/etc"), &profiles(), &[], &mut diags).unwrap();
    assert!(diags.is_empty());
    assert!(settings.acl.is_empty());
    assert!(!settings.any_credentials());
    assert!(settings.limits.throttle);
    assert!(!settings.tftp.allows(ProfileId(0)));
    let policy = settings.policy(ProfileId(0), None);
    assert_eq!(policy.user_agent, Binding::Enforce);
    assert_eq!(policy.client_cert, ClientCert::Optional);
}

#[test]
fn general_listeners() {
    let (settings, diags) = ok("[general]\n\
         listen = 0.0.0.0:8088, [::]:8088\n\
         admin_listen = none\n\
         prefix = asterisk\n\
         plain_http = no\n");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(settings.general.listen.len(), 2);
    assert_eq!(settings.general.admin_listen, Some(None));
    assert_eq!(settings.general.prefix.as_deref(), Some("asterisk"));
    assert_eq!(settings.general.plain_http, Some(false));
}

#[test]
fn tls_files_must_exist_and_pair() {
    let errs = errors("[general]\ntls_cert = /nonexistent/cert.pem\n");
    assert!(
        errs.iter()
            .any(|e| e.contains("tls_cert is set but tls_key is not")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("cannot read /nonexistent/cert.pem")),
        "{errs:?}"
    );
    let errs = errors("[general]\ntls_listen = 0.0.0.0:8443\n");
    assert!(errs.iter().any(|e| e.contains("HTTPS needs tls_cert")));
}

#[test]
fn acl_rules_and_the_permit_only_warning() {
    let (settings, diags) = ok("[acl]\ndeny = 0.0.0.0/0\npermit = 10.0.0.0/8\n");
    assert!(diags.is_empty());
    assert!(settings.acl.allows("10.1.1.1".parse().unwrap()));
    assert!(!settings.acl.allows("192.0.2.1".parse().unwrap()));

    let (_, diags) = ok("[acl]\npermit = 10.0.0.0/8\n");
    assert!(diags[0].contains("allows everyone"), "{diags:?}");

    let errs = errors("[acl]\npermit = 10.0.0.300/8\n");
    assert!(
        errs[0].starts_with("/etc/asterisk/pjprov.conf:2: error: pjprov.conf [acl] permit:"),
        "{errs:?}"
    );
}

#[test]
fn unknown_things_are_errors_with_suggestions() {
    let errs = errors("[acl]\npermt = 10.0.0.0/8\n");
    assert!(errs[0].contains("unknown option 'permt' (did you mean 'permit'?)"));
    let errs = errors("[limit]\nthrottle = no\n");
    assert!(errs[0].contains("unknown section [limit] (did you mean 'limits'?)"));
    let errs = errors("[phone:nonsense]\nauth = sip\n");
    assert!(errs[0].contains("not a MAC address"));
}

#[test]
fn policies_merge_from_auth_to_profile_to_phone() {
    let (settings, diags) = ok("[auth]\n\
         auth = static\nusername = prov\npassword = Prov-Pass-1\nuser_agent = log\n\
         [profile:polycom]\nauth = sip\nclient_cert = require\n\
         [phone:00:04:F2:AA:BB:CC]\nuser_agent = off\n\
         [tls](!)\nclient_cert = off\n");
    // client_cert = require without a CA is worth a warning.
    assert!(
        diags.iter().any(|d| d.contains("without tls_client_ca")),
        "{diags:?}"
    );
    let mac = Mac::parse("0004f2aabbcc");
    let phone = settings.policy(ProfileId(0), mac);
    assert_eq!(phone.auth, AuthSource::Sip);
    assert_eq!(phone.client_cert, ClientCert::Require);
    assert_eq!(phone.user_agent, Binding::Off);
    let polycom = settings.policy(ProfileId(0), Mac::parse("0004f2000001"));
    assert_eq!(polycom.user_agent, Binding::Log);
    let yealink = settings.policy(ProfileId(1), None);
    assert!(matches!(yealink.auth, AuthSource::Static { ref username, .. } if username == "prov"));
    assert!(settings.any_credentials());
}

#[test]
fn static_auth_without_credentials_is_an_error() {
    let errs = errors("[profile:yealink]\nauth = static\nusername = x\n");
    assert!(
        errs[0].contains("needs both username and password"),
        "{errs:?}"
    );
}

#[test]
fn sip_auth_for_a_phone_without_a_password_is_noticed() {
    let (_, diags) = ok("[profile:yealink]\nauth = sip\n");
    assert!(
        diags
            .iter()
            .any(|d| d.contains("phone 001565aabbcc") && d.contains("no SIP password")),
        "{diags:?}"
    );
}

#[test]
fn errors_never_show_a_password() {
    let (_, diags) = read("[auth]\nauth = static\npassword = Hunter2-Secret\nusername =\n");
    assert!(!diags.is_empty());
    for d in &diags {
        assert!(!d.to_string().contains("Hunter2-Secret"), "{d}");
    }
}

#[test]
fn limits_and_their_ranges() {
    let (settings, _) = ok(
        "[limits]\nscan_refuse_after = 5\nscan_slow_after = 2\nscan_status = 403\n\
         exempt = 10.0.0.0/8\nipv6_prefix = 56\nthrottle = yes\n",
    );
    assert_eq!(settings.limits.refuse_after, 5);
    assert_eq!(settings.limits.refusal_status, 403);
    assert_eq!(settings.limits.ipv6_prefix, 56);
    assert!(settings.limits.exempt.matches("10.2.3.4".parse().unwrap()));
    let errs = errors("[limits]\nscan_refuse_after = 5\nscan_slow_after = 9\n");
    assert!(errs[0].contains("refused before being slowed"));
    let errs = errors("[limits]\nscan_status = 404\n");
    assert!(errs[0].contains("must be one of: 429, 403"), "{errs:?}");
}

#[test]
fn tftp_profiles() {
    let (settings, diags) = ok("[tftp]\nlisten = 0.0.0.0:69\nprofiles = Polycom, nosuch\n");
    assert!(settings.tftp.allows(ProfileId(0)));
    assert!(!settings.tftp.allows(ProfileId(1)));
    assert!(diags[0].contains("no profile 'nosuch'"), "{diags:?}");
    let (settings, _) = ok("[tftp]\nprofiles = *\n");
    assert!(settings.tftp.allows(ProfileId(0)) && settings.tftp.allows(ProfileId(1)));
}

#[test]
fn auth_settings() {
    let (settings, _) = ok(
        "[auth]\nrealm = Provisioning\ndigest_algorithms = SHA-256\n\
         basic_without_tls = yes\nprotect = all\nnonce_lifetime = 60\nscheme = digest, basic\n",
    );
    assert_eq!(settings.auth.realm, "Provisioning");
    assert_eq!(settings.auth.digest_algorithms, [DigestAlgorithm::Sha256]);
    assert!(settings.auth.basic_without_tls);
    assert_eq!(settings.auth.protect, Protect::All);
    assert_eq!(settings.auth.nonce_lifetime, Duration::from_secs(60));
    assert!(settings.default_policy().schemes.basic);
    let errs = errors("[auth]\nrealm = a\"b\n");
    assert!(errs[0].contains("without quotes"));
}

#[test]
fn ami_settings_and_notify_events() {
    let (settings, diags) = read(
        "[ami]\nhost = pbx.example\nusername = pjprov\nsecret = Ami-Secret-1\nrate = 5\nquiet = 1\n\
         [profile:yealink]\nnotify_event = check-sync\\;reboot=false\n",
    );
    let settings = settings.unwrap_or_else(|| panic!("{diags:?}"));
    let ami = settings.ami.clone().unwrap();
    assert_eq!(
        (ami.host.as_str(), ami.port, ami.rate),
        ("pbx.example", 5038, 5)
    );
    assert_eq!(ami.quiet, Duration::from_secs(1));
    assert_eq!(ami.notify, NotifyMode::Changed);
    assert!(!format!("{settings:?}").contains("Ami-Secret-1"));
    assert_eq!(
        settings.notify_event(ProfileId(1)),
        Some("check-sync;reboot=false")
    );
    assert_eq!(settings.notify_event(ProfileId(0)), None);

    let (tls, _) = read("[ami]\nusername = u\nsecret = s\ntls = yes\n");
    assert_eq!(tls.unwrap().ami.unwrap().port, 5039);
    let (tls, _) = read("[ami]\nusername = u\nsecret = s\ntls = yes\ntls_ca = ami-ca.pem\n");
    let tls_ca = tls.unwrap().ami.unwrap().tls_ca.unwrap();
    assert!(
        tls_ca.is_absolute() && tls_ca.ends_with("ami-ca.pem"),
        "{tls_ca:?}"
    );
    let (plain, diags) = read("[ami]\nusername = u\nsecret = s\ntls_ca = ami-ca.pem\n");
    assert!(plain.is_none(), "a CA without TLS is a mistake: refused");
    assert!(
        diags
            .iter()
            .any(|d| d.to_string().contains("tls_ca") && d.to_string().contains("tls = yes")),
        "{diags:?}"
    );
    let (missing, diags) = read("[ami]\nusername = u\n");
    assert!(missing.is_none(), "no secret: the file is refused");
    assert!(
        diags
            .iter()
            .any(|d| d.to_string().contains("secret is needed")),
        "{diags:?}"
    );
    let (bad, _) = read("[profile:polycom]\nnotify_event = check sync\n");
    assert!(bad.is_none());
}

#[test]
fn env_is_off_unless_allowed_and_then_only_for_the_names_listed() {
    let (settings, _) = read("[general]\nenv_names = HOME\n");
    assert!(
        settings.unwrap().general.allow_env.is_empty(),
        "allow_env = no"
    );
    let (settings, _) = read("[general]\nallow_env = yes\nenv_names = HOME, TZ\n");
    assert_eq!(settings.unwrap().general.allow_env, ["HOME", "TZ"]);
    let config = config(
        "pjprov.conf",
        "[general]\nallow_env = yes\nenv_names = LANG\n",
    );
    assert_eq!(Settings::allowed_env(&config), ["LANG"]);
    let (bad, _) = read("[general]\nallow_env = yes\nenv_names = A-B\n");
    assert!(bad.is_none());
}

#[test]
fn realtime_polls_every_two_seconds_and_listens_by_default() {
    let (settings, _) = ok("");
    assert_eq!(
        settings.realtime.poll,
        Some(std::time::Duration::from_secs(2))
    );
    assert_eq!(settings.realtime.listen_channel(), Some("pjprov"));
    let (settings, _) =
        ok("[realtime]\npoll = 0\nlisten = no\nchannel = other\nconnect_timeout = 9\n");
    assert_eq!(settings.realtime.poll, None);
    assert_eq!(settings.realtime.listen_channel(), None);
    assert_eq!(settings.realtime.channel, "other");
    assert_eq!(
        settings.realtime.connect_timeout,
        std::time::Duration::from_secs(9)
    );
    for bad in [
        "[realtime]\npoll = -1\n",
        "[realtime]\nchannel = \"x y\"\n",
        "[realtime]\npol = 2\n",
    ] {
        assert!(!errors(bad).is_empty(), "{bad}");
    }
}

#[test]
fn enrolment_and_lobby_keys() {
    let (settings, notes) = ok(
        "[auth]\nauth = sip\nenrol = window\nfirst_boot_window = 15m\n\
         [profile:polycom]\nlobby = yes\nlobby_interval = 5m\nenrol_proof = certificate\n\
         [phone:0004f2aabbcc]\nenrol = proof\n",
    );
    assert!(notes.iter().all(|n| !n.contains("enrol")), "{notes:?}");
    let polycom = ProfileId(0);
    let profile = settings.policy(polycom, None);
    assert_eq!(profile.enrol.mode, EnrolMode::Window);
    assert_eq!(
        profile.enrol.first_boot_window,
        Some(Duration::from_secs(900))
    );
    assert_eq!(profile.enrol.proofs.names(), "certificate");
    let phone = settings.policy(polycom, Mac::parse("0004f2aabbcc"));
    assert_eq!(phone.enrol.mode, EnrolMode::Proof);
    assert_eq!(
        phone.enrol.proofs.names(),
        "certificate",
        "merged key by key"
    );
    assert_eq!(settings.lobby(polycom).lobby, Lobby::Bundled);
    assert_eq!(settings.lobby(polycom).interval, Duration::from_secs(300));
    assert_eq!(settings.lobby(ProfileId(1)).lobby, Lobby::Off);
    assert_eq!(settings.default_policy().enrol.mode, EnrolMode::Window);
}

#[test]
fn enrolment_is_used_when_any_policy_holds_credentials_back() {
    assert!(!ok("").0.uses_enrolment(), "the default: enrol = open");
    assert!(
        !ok("[auth]\nenrol = open\n[profile:polycom]\nlobby = yes\n")
            .0
            .uses_enrolment()
    );
    assert!(ok("[auth]\nenrol = window\n").0.uses_enrolment());
    assert!(ok("[profile:polycom]\nenrol = proof\n").0.uses_enrolment());
    assert!(
        ok("[phone:0004f2aabbcc]\nenrol = window\n")
            .0
            .uses_enrolment()
    );
}

#[test]
fn enrolment_values_fail_closed_with_their_line() {
    for (text, line, words) in [
        (
            "[auth]\nenrol = sometimes\n",
            2,
            "must be one of: open, window, proof",
        ),
        (
            "[profile:polycom]\n\nfirst_boot_window = forever\n",
            3,
            "must be a duration",
        ),
        (
            "[auth]\nenrol_proof = password\n",
            2,
            "credentials, certificate or user_agent",
        ),
        (
            "[profile:polycom]\nlobby = maybe\n",
            2,
            "must be yes, no, or a Handlebars template",
        ),
        (
            "[profile:polycom]\nlobby_interval = 5s\n",
            2,
            "from 1m to 1d",
        ),
        ("[auth]\nlobby = yes\n", 2, "unknown option 'lobby'"),
    ] {
        let errors = errors(text);
        let at = format!("pjprov.conf:{line}: error:");
        assert!(
            errors.iter().any(|e| e.contains(&at) && e.contains(words)),
            "{text:?}: {errors:#?}"
        );
    }
    // A proof that can never be asked for is pointed out.
    let (_, notes) = ok("[auth]\nenrol = window\nenrol_proof = credentials\n");
    assert!(
        notes.iter().any(|n| n.contains("never challenges")),
        "{notes:?}"
    );
}

#[test]
fn enrolment_and_lobby_changes_that_loosen() {
    let (strict, _) = ok("[auth]\nenrol = proof\n");
    let (window, _) = ok("[auth]\nenrol = window\nfirst_boot_window = 15m\n");
    let (open, _) = ok("");
    assert!(strict.no_looser_than(&window));
    assert!(!window.no_looser_than(&strict));
    assert!(!open.no_looser_than(&window));
    let (lobby, _) = ok("[profile:polycom]\nlobby = yes\n");
    assert!(!lobby.no_looser_than(&open), "a lobby appears");
    assert!(open.no_looser_than(&lobby), "a lobby goes");
}
