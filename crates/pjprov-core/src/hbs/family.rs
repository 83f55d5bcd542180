//! Which firmware family a phone runs, from its User-Agent's model and firmware (`UA_MODEL`,
//! `UA_FIRMWARE`, read by [`crate::agent`]): the families differ in file syntax or key names, so a
//! template picks its body with `{{#if (eq (family "yealink" UA_MODEL UA_FIRMWARE) "v81")}}`.
//!
//! Without a User-Agent (`pjprov render` without `--user-agent`, a proxy that strips it) each brand gets
//! a documented default: the family of the phones sold today, whose files older firmware of the same
//! brand at worst ignores key by key (never a file that breaks a newer phone).
//!
//! | vendor | families | default | from |
//! |---|---|---|---|
//! | `yealink` | `v73` (firmware `x.70`–`x.73`), `v80`, `v81` (81, 82), `v83` (83 and later), `dect` (W-series base on 81+) | `v83` | second field of the firmware; `W` models are DECT bases |
//! | `polycom` | `sip3` (SIP 3.x and older), `ucs` (UC Software 4–7), `trio` | `ucs` | major version; `Trio_…` models |
//! | `grandstream` | `pvalue` (`<Pnnn>` names), `alias` (`<item name="account.1…">`) | `pvalue` | GRP26xx, and GXP2130–2170 from firmware 1.0.11, take aliases; every model takes P-values |
//! | `fanvil` | `legacy` (`<VOIP_CONFIG_FILE>` modules), `sysconf` (`<sysConf>`) | `sysconf` | the older X2–X6 and C-series models |
//! | `snom` | `desk` (D-series and older 3xx/7xx/8xx), `dect` (M-series bases) | `desk` | `M` + three digits |
//! | `cisco` | `spa` (SPA and Linksys), `mpp` (multiplatform 68xx/78xx/88xx) | `mpp` | `SPA` models |

/// The family of a `vendor` phone of `model` running `firmware` (either may be empty).
pub fn family(vendor: &str, model: &str, firmware: &str) -> &'static str {
    let model = model.trim().to_ascii_uppercase();
    let version = numbers(firmware);
    match vendor.to_ascii_lowercase().as_str() {
        "yealink" => match version.get(1) {
            None => "v83",
            Some(&generation) if generation < 80 => "v73",
            Some(80) => "v80",
            Some(_) if model.starts_with('W') => "dect",
            Some(81 | 82) => "v81",
            Some(_) => "v83",
        },
        "polycom" | "poly" => {
            if model.starts_with("TRIO") {
                "trio"
            } else if version.first().is_some_and(|&major| major <= 3) {
                "sip3"
            } else {
                "ucs"
            }
        }
        "grandstream" => {
            let aliases = model.starts_with("GRP")
                || (["GXP2130", "GXP2135", "GXP2140", "GXP2160", "GXP2170"]
                    .contains(&model.as_str())
                    && version >= vec![1, 0, 11]);
            if aliases { "alias" } else { "pvalue" }
        }
        "fanvil" => {
            if LEGACY_FANVIL.contains(&model.as_str()) {
                "legacy"
            } else {
                "sysconf"
            }
        }
        "snom" => {
            let bytes = model.as_bytes();
            if bytes.len() == 4 && bytes[0] == b'M' && bytes[1..].iter().all(u8::is_ascii_digit) {
                "dect"
            } else {
                "desk"
            }
        }
        "cisco" => {
            if model.starts_with("SPA") {
                "spa"
            } else {
                "mpp"
            }
        }
        _ => "",
    }
}

/// Fanvil models whose firmware reads the older `<VOIP_CONFIG_FILE>` modules (wazo-provd-plugins'
/// `serie_x` models outside its "new model" pattern, and the C-series of its `v2_3` plugin).
const LEGACY_FANVIL: &[&str] = &[
    "X2", "X2P", "X2C", "X3", "X3G", "X3S", "X3SG", "X3SP", "X3SW", "X4", "X4G", "X5", "X5G",
    "X5S", "X6", "X6V2", "C58", "C58P", "C62", "C62P", "C400", "C600",
];

/// The leading numbers of a dotted version (`66.86.0.15` → `[66, 86, 0, 15]`, `6.1.5(a)` → `[6, 1]`).
fn numbers(version: &str) -> Vec<u32> {
    version
        .trim()
        .split('.')
        .map_while(|part| part.parse().ok())
        .collect()
}

/// `MODEL` as a variable name's suffix: upper case, anything but letters and digits as `_`
/// (`X6U Pro` → `X6U_PRO`), so that `FIRMWARE_X6U_PRO` names the firmware of that model.
pub fn model_key(model: &str) -> String {
    model
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_from_real_user_agents() {
        // (vendor, model as agent.rs reads it, firmware, family)
        for (vendor, model, firmware, want) in [
            ("yealink", "T28P", "2.70.0.140", "v73"),
            ("yealink", "T46G", "28.73.0.50", "v73"),
            ("yealink", "T46G", "28.80.0.95", "v80"),
            ("yealink", "T46G", "28.81.0.110", "v81"),
            ("yealink", "T46S", "66.82.0.20", "v81"),
            ("yealink", "T54W", "96.86.0.100", "v83"),
            ("yealink", "W60B", "77.83.0.85", "dect"),
            ("yealink", "W52P", "25.80.0.15", "v80"),
            ("yealink", "", "", "v83"),
            ("polycom", "SPIP_335", "3.2.1.0078", "sip3"),
            ("polycom", "VVX_400", "4.1.4.7430", "ucs"),
            ("polycom", "VVX_101", "5.4.3.1014", "ucs"),
            ("polycom", "Trio_8800", "5.9.2.7727", "trio"),
            ("polycom", "", "", "ucs"),
            ("grandstream", "GXP2170", "1.0.11.85", "alias"),
            ("grandstream", "GXP2170", "1.0.9.135", "pvalue"),
            ("grandstream", "GRP2614", "1.0.5.15", "alias"),
            ("grandstream", "GXP1628", "1.0.7.6", "pvalue"),
            ("grandstream", "HT801", "1.0.17.5", "pvalue"),
            ("grandstream", "", "", "pvalue"),
            ("fanvil", "X4", "2.10.2.6887", "legacy"),
            ("fanvil", "X6V2", "1.12.2", "legacy"),
            ("fanvil", "X6U-Pro", "0.0.10", "sysconf"),
            ("fanvil", "X210", "2.4.5.2", "sysconf"),
            ("fanvil", "V67", "2.6.6.187", "sysconf"),
            ("fanvil", "", "", "sysconf"),
            ("snom", "D785", "10.1.33.33", "desk"),
            ("snom", "320", "8.4.18", "desk"),
            ("snom", "M900", "05.20.0001", "dect"),
            ("snom", "", "", "desk"),
            ("cisco", "SPA504G", "7.6.2", "spa"),
            ("cisco", "SPA-942", "6.1.5(a)", "spa"),
            ("cisco", "8841", "11.0", "mpp"),
            ("cisco", "", "", "mpp"),
            ("other", "X", "1", ""),
        ] {
            assert_eq!(
                family(vendor, model, firmware),
                want,
                "{vendor} {model} {firmware}"
            );
        }
    }

    #[test]
    fn model_keys() {
        assert_eq!(model_key("T54W"), "T54W");
        assert_eq!(model_key("X6U-Pro"), "X6U_PRO");
        assert_eq!(model_key("VVX_400"), "VVX_400");
        assert_eq!(numbers("6.1.5(a)"), [6, 1]);
    }
}
