//! Option names each pjsip object type accepts, as registered by Asterisk 22.10.1's res_pjsip
//! (`ast_sorcery_object_field_register*` calls). Option names are matched without case, as Asterisk does.
//!
//! The `wizard` list ends with prefixes (`endpoint/`) that take any option after them.

/// `type=endpoint`.
pub(crate) const ENDPOINT: &[&str] = &[
    "100rel",
    "aggregate_mwi",
    "allow",
    "codec_prefs_incoming_offer",
    "codec_prefs_outgoing_offer",
    "codec_prefs_incoming_answer",
    "codec_prefs_outgoing_answer",
    "allow_overlap",
    "overlap_context",
    "aors",
    "auth",
    "callerid",
    "callerid_privacy",
    "callerid_tag",
    "context",
    "direct_media_glare_mitigation",
    "direct_media_method",
    "trust_connected_line",
    "send_connected_line",
    "connected_line_method",
    "direct_media",
    "disable_direct_media_on_nat",
    "disallow",
    "dtmf_mode",
    "media_address",
    "bind_rtp_to_media_address",
    "force_rport",
    "ice_support",
    "identify_by",
    "redirect_method",
    "follow_redirect_methods",
    "mailboxes",
    "mwi_subscribe_replaces_unsolicited",
    "voicemail_extension",
    "moh_suggest",
    "outbound_auth",
    "outbound_proxy",
    "rewrite_contact",
    "rtp_ipv6",
    "rtp_symmetric",
    "send_diversion",
    "send_history_info",
    "send_pai",
    "send_rpid",
    "rpid_immediate",
    "tenantid",
    "timers_min_se",
    "timers",
    "timers_sess_expires",
    "transport",
    "trust_id_inbound",
    "trust_id_outbound",
    "type",
    "use_ptime",
    "use_avpf",
    "force_avp",
    "media_use_received_transport",
    "media_encryption",
    "media_encryption_optimistic",
    "g726_non_standard",
    "inband_progress",
    "call_group",
    "pickup_group",
    "named_call_group",
    "named_pickup_group",
    "device_state_busy_at",
    "t38_udptl",
    "t38_udptl_ec",
    "t38_udptl_maxdatagram",
    "fax_detect",
    "fax_detect_timeout",
    "t38_udptl_nat",
    "t38_udptl_ipv6",
    "t38_bind_udptl_to_media_address",
    "tone_zone",
    "language",
    "one_touch_recording",
    "record_on_feature",
    "record_off_feature",
    "rtp_engine",
    "allow_transfer",
    "user_eq_phone",
    "moh_passthrough",
    "sdp_owner",
    "sdp_session",
    "tos_audio",
    "tos_video",
    "cos_audio",
    "cos_video",
    "allow_subscribe",
    "sub_min_expiry",
    "from_user",
    "mwi_from_user",
    "from_domain",
    "dtls_verify",
    "dtls_rekey",
    "dtls_auto_generate_cert",
    "dtls_cert_file",
    "dtls_private_key",
    "dtls_cipher",
    "dtls_ca_file",
    "dtls_ca_path",
    "dtls_setup",
    "dtls_fingerprint",
    "srtp_tag_32",
    "set_var",
    "message_context",
    "accountcode",
    "preferred_codec_only",
    "incoming_call_offer_pref",
    "outgoing_call_offer_pref",
    "rtp_keepalive",
    "rtp_timeout",
    "rtp_timeout_hold",
    "rtp_port_start",
    "rtp_port_end",
    "acl",
    "deny",
    "permit",
    "contact_acl",
    "contact_deny",
    "contact_permit",
    "subscribe_context",
    "contact_user",
    "asymmetric_rtp_codec",
    "rtcp_mux",
    "refer_blind_progress",
    "notify_early_inuse_ringing",
    "max_audio_streams",
    "max_video_streams",
    "bundle",
    "webrtc",
    "incoming_mwi_mailbox",
    "follow_early_media_fork",
    "accept_multiple_sdp_answers",
    "suppress_q850_reason_headers",
    "ignore_183_without_sdp",
    "stir_shaken",
    "stir_shaken_profile",
    "allow_unauthenticated_options",
    "security_negotiation",
    "security_mechanisms",
    "geoloc_incoming_call_profile",
    "geoloc_outgoing_call_profile",
    "send_aoc",
    "suppress_moh_on_sendonly",
];

/// `type=auth`.
pub(crate) const AUTH: &[&str] = &[
    "auth_type",
    "username",
    "password",
    "password_digest",
    "md5_cred",
    "supported_algorithms_uac",
    "supported_algorithms_uas",
    "refresh_token",
    "oauth_clientid",
    "oauth_secret",
    "realm",
    "nonce_lifetime",
    "type",
];

/// `type=aor`.
pub(crate) const AOR: &[&str] = &[
    "contact",
    "default_expiration",
    "mailboxes",
    "voicemail_extension",
    "maximum_expiration",
    "max_contacts",
    "minimum_expiration",
    "remove_existing",
    "remove_unavailable",
    "type",
    "qualify_frequency",
    "qualify_timeout",
    "qualify_2xx_only",
    "authenticate_qualify",
    "outbound_proxy",
    "support_path",
];

/// `type=transport`.
pub(crate) const TRANSPORT: &[&str] = &[
    "async_operations",
    "bind",
    "ca_list_file",
    "ca_list_path",
    "cert_file",
    "cipher",
    "domain",
    "external_media_address",
    "external_signaling_address",
    "external_signaling_port",
    "method",
    "local_net",
    "password",
    "priv_key_file",
    "protocol",
    "require_client_cert",
    "tcp_keepalive_enable",
    "tcp_keepalive_idle_time",
    "tcp_keepalive_interval_time",
    "tcp_keepalive_probe_count",
    "type",
    "verify_client",
    "verify_server",
    "tos",
    "cos",
    "websocket_write_timeout",
    "allow_reload",
    "allow_wildcard_certs",
    "symmetric_transport",
];

/// `type=contact`.
pub(crate) const CONTACT: &[&str] = &[
    "type",
    "uri",
    "expiration_time",
    "qualify_frequency",
    "qualify_timeout",
    "qualify_2xx_only",
    "authenticate_qualify",
    "outbound_proxy",
    "path",
    "user_agent",
    "endpoint",
    "reg_server",
    "via_addr",
    "via_port",
    "call_id",
    "prune_on_boot",
];

/// `type=domain_alias`.
pub(crate) const DOMAIN_ALIAS: &[&str] = &["type", "domain"];

/// `type=global`.
pub(crate) const GLOBAL: &[&str] = &[
    "max_forwards",
    "keep_alive_interval",
    "contact_expiration_check_interval",
    "disable_multi_domain",
    "max_initial_qualify_time",
    "unidentified_request_period",
    "unidentified_request_count",
    "unidentified_request_prune_interval",
    "type",
    "user_agent",
    "regcontext",
    "default_outbound_endpoint",
    "default_voicemail_extension",
    "debug",
    "endpoint_identifier_order",
    "default_from_user",
    "default_realm",
    "mwi_tps_queue_high",
    "mwi_tps_queue_low",
    "mwi_disable_initial_unsolicited",
    "ignore_uri_user_options",
    "use_callerid_contact",
    "send_contact_status_on_update_registration",
    "taskprocessor_overload_trigger",
    "norefersub",
    "allow_sending_180_after_183",
    "all_codecs_on_empty_reinvite",
    "default_auth_algorithms_uas",
    "default_auth_algorithms_uac",
];

/// `type=system`.
pub(crate) const SYSTEM: &[&str] = &[
    "timer_t1",
    "timer_b",
    "compact_headers",
    "taskpool_minimum_size",
    "taskpool_initial_size",
    "taskpool_auto_increment",
    "taskpool_idle_timeout",
    "taskpool_max_size",
    "threadpool_initial_size",
    "threadpool_auto_increment",
    "threadpool_idle_timeout",
    "threadpool_max_size",
    "disable_tcp_switch",
    "follow_early_media_fork",
    "accept_multiple_sdp_answers",
    "disable_rport",
    "type",
];

/// `type=wizard`.
pub(crate) const WIZARD: &[&str] = &[
    "type",
    "transport",
    "remote_hosts",
    "outbound_proxy",
    "sends_auth",
    "accepts_auth",
    "sends_registrations",
    "sends_line_with_registrations",
    "accepts_registrations",
    "has_phoneprov",
    "server_uri_pattern",
    "client_uri_pattern",
    "contact_pattern",
    "has_hint",
    "hint_context",
    "hint_exten",
    "hint_application",
    "endpoint/",
    "aor/",
    "inbound_auth/",
    "outbound_auth/",
    "identify/",
    "registration/",
    "phoneprov/",
];
/// The option names `type=name` accepts, for the types whose options Asterisk checks.
pub(crate) fn for_type(object_type: &str) -> Option<&'static [&'static str]> {
    Some(match object_type {
        "endpoint" => ENDPOINT,
        "auth" => AUTH,
        "aor" => AOR,
        "transport" => TRANSPORT,
        "contact" => CONTACT,
        "domain_alias" => DOMAIN_ALIAS,
        "global" => GLOBAL,
        "system" => SYSTEM,
        _ => return None,
    })
}

/// Object types Asterisk's pjsip modules know but whose options pjprov does not check.
pub(crate) const OTHER_TYPES: &[&str] = &[
    "identify",
    "registration",
    "outbound-publish",
    "inbound-publication",
    "asterisk-publication",
    "resource_list",
    "acl",
    "phoneprov",
    "wizard",
];

/// Whether `option` is one of `known` (without case, as Asterisk compares option names).
pub(crate) fn is_known(known: &'static [&'static str], option: &str) -> bool {
    use std::sync::OnceLock;
    // One lower-case set per list, built on first use (the lists are statics, so their address names them).
    static SETS: OnceLock<rustc_hash::FxHashMap<usize, rustc_hash::FxHashSet<&'static str>>> =
        OnceLock::new();
    let sets = SETS.get_or_init(|| {
        [
            ENDPOINT,
            AUTH,
            AOR,
            TRANSPORT,
            CONTACT,
            DOMAIN_ALIAS,
            GLOBAL,
            SYSTEM,
        ]
        .into_iter()
        .map(|list| (list.as_ptr() as usize, list.iter().copied().collect()))
        .collect()
    });
    let mut lower = compact_str::CompactString::from(option);
    lower.make_ascii_lowercase();
    match sets.get(&(known.as_ptr() as usize)) {
        Some(set) => set.contains(lower.as_str()),
        None => known.iter().any(|k| k.eq_ignore_ascii_case(option)),
    }
}

/// The known name closest to `word`, if one is close enough to be a plausible typo.
pub(crate) fn suggest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&word, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("pasword", AUTH), Some("password"));
        assert_eq!(suggest("callerId", ENDPOINT), Some("callerid"));
        assert_eq!(suggest("zzzzzz", AUTH), None);
        assert!(is_known(ENDPOINT, "CallerID"));
    }
}
