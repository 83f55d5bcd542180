//! `LANGUAGE` (`fr_FR`, `de-DE`, `it`) and `COUNTRY` (`FR`: the tone country, by default the region of
//! `LANGUAGE`) in each vendor's own words.
//!
//! Only values a source shows are listed: the locale tables of wazo-provd-plugins (`_LOCALE`,
//! `_LANGUAGE`, `_COUNTRY` in each plugin's `common.py`, at commit 2321a3f), Grandstream's configuration
//! template (the `P1362` value list) and Yealink's administrator guide (the `voice.tone.country` list).
//! A language or country a vendor's list does not have gives an empty answer, and the templates then
//! write nothing: the phone keeps its own setting rather than receiving a value it may reject.

/// The language part of a locale (`fr_FR` → `fr`), lower case.
fn language_of(locale: &str) -> String {
    locale
        .trim()
        .split(['_', '-', '.'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The region part of a locale (`fr_FR` → `FR`), upper case; empty when there is none.
fn region_of(locale: &str) -> String {
    locale
        .trim()
        .split(['_', '-', '.'])
        .nth(1)
        .unwrap_or("")
        .to_ascii_uppercase()
}

/// The `vendor`'s name for the language of `locale`, or "".
pub fn language(vendor: &str, locale: &str) -> &'static str {
    let language = language_of(locale);
    let region = region_of(locale);
    let table: &[(&str, &str)] = match vendor {
        // lang.gui / lang.wui
        "yealink" => &[
            ("en", "English"),
            ("fr", "French"),
            ("de", "German"),
            ("es", "Spanish"),
            ("it", "Italian"),
        ],
        // lcl.ml.lang
        "polycom" => {
            return match (language.as_str(), region.as_str()) {
                ("en", _) => "English_United_States",
                ("fr", _) => "French_France",
                ("de", _) => "German_Germany",
                ("es", _) => "Spanish_Spain",
                ("it", _) => "Italian_Italy",
                ("nl", _) => "Dutch_Netherlands",
                _ => "",
            };
        }
        // language / web_language
        "snom" => &[
            ("en", "English"),
            ("fr", "Français"),
            ("de", "Deutsch"),
            ("es", "Espanol"),
            ("it", "Italiano"),
            ("nl", "Nederlands"),
        ],
        // P1362 / language.gui
        "grandstream" => &[
            ("en", "en"),
            ("fr", "fr"),
            ("de", "de"),
            ("es", "es"),
            ("it", "it"),
            ("nl", "nl"),
            ("pt", "pt"),
            ("pl", "pl"),
            ("ru", "ru"),
            ("tr", "tr"),
        ],
        // DefaultLanguage (<sysConf>) / Language (legacy)
        "fanvil" => &[
            ("en", "en"),
            ("fr", "fr"),
            ("de", "de"),
            ("es", "es"),
            ("it", "it"),
            ("nl", "nl"),
        ],
        // Language_Selection
        "cisco" => &[
            ("en", "English"),
            ("fr", "French"),
            ("de", "German"),
            ("es", "Spanish"),
        ],
        _ => &[],
    };
    table
        .iter()
        .find(|(code, _)| *code == language)
        .map_or("", |(_, name)| name)
}

/// The `vendor`'s name for the tone country `country` (ISO 3166 alpha-2), else the region of `locale`;
/// "" when the vendor has none for it.
pub fn tone_country(vendor: &str, country: &str, locale: &str) -> &'static str {
    let mut code = country.trim().to_ascii_uppercase();
    if code.is_empty() {
        code = region_of(locale);
    }
    let table: &[(&str, &str)] = match vendor {
        // voice.tone.country
        "yealink" => &[
            ("US", "United States"),
            ("CA", "United States"),
            ("FR", "France"),
            ("DE", "Germany"),
            ("ES", "Spain"),
            ("IT", "Italy"),
            ("GB", "Great Britain"),
            ("NL", "Netherlands"),
        ],
        // tone_scheme
        "snom" => &[
            ("US", "USA"),
            ("CA", "USA"),
            ("FR", "FRA"),
            ("DE", "GER"),
            ("ES", "ESP"),
            ("IT", "ITA"),
            ("NL", "NLD"),
        ],
        // SelectYourTone
        "fanvil" => &[
            ("US", "11"),
            ("CA", "18"),
            ("GB", "13"),
            ("FR", "25"),
            ("DE", "2"),
            ("ES", "33"),
            ("IT", "21"),
            ("NL", "5"),
        ],
        _ => &[],
    };
    table
        .iter()
        .find(|(key, _)| *key == code)
        .map_or("", |(_, name)| name)
}

/// Cisco's `Locale` (`fr-FR`) for `locale`, or "" for a language Cisco's list above does not have.
pub fn cisco_locale(locale: &str) -> String {
    let code = language_of(locale);
    let region = region_of(locale);
    if language("cisco", locale).is_empty() || region.is_empty() {
        return String::new();
    }
    format!("{code}-{region}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_and_tones() {
        assert_eq!(language("yealink", "fr_FR"), "French");
        assert_eq!(language("polycom", "de-DE"), "German_Germany");
        assert_eq!(language("snom", "fr"), "Français");
        assert_eq!(language("grandstream", "NL_nl"), "nl");
        assert_eq!(language("yealink", "fi_FI"), "");
        assert_eq!(language("nobody", "en_US"), "");
        assert_eq!(tone_country("yealink", "", "en_GB"), "Great Britain");
        assert_eq!(tone_country("snom", "de", "fr_FR"), "GER");
        assert_eq!(tone_country("fanvil", "", "fr_FR"), "25");
        assert_eq!(tone_country("fanvil", "", "fr"), "");
        assert_eq!(cisco_locale("fr_CA"), "fr-CA");
        assert_eq!(cisco_locale("fr"), "");
        assert_eq!(cisco_locale("fi_FI"), "");
    }
}
