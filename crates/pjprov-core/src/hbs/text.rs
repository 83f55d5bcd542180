//! Small text helpers for templates: fields of a dotted version, per-model variables, URLs.

use serde_json::Value;

/// Field `index` (from 0) of `text` split at `separator` (`field UA_FIRMWARE "." 1` → `86` for
/// `96.86.0.100`); "" when there is none.
pub fn field(text: &str, separator: &str, index: usize) -> String {
    if separator.is_empty() {
        return String::new();
    }
    text.split(separator)
        .nth(index)
        .unwrap_or("")
        .trim()
        .to_owned()
}

/// Whether `text` starts with `prefix`, ignoring case (`starts_with UA_MODEL "GXP17"`).
pub fn starts_with(text: &str, prefix: &str) -> bool {
    !prefix.is_empty()
        && text
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// `NAME_<MODEL>` of `root` when it is set and not empty (the model as [`super::family::model_key`]
/// writes it: `FIRMWARE_T54W`), else `NAME`, else "". One setvar per model then serves a whole profile.
pub fn model_var(root: &Value, name: &str, model: &str) -> String {
    let get = |key: &str| {
        root.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let key = super::family::model_key(model);
    (!key.is_empty())
        .then(|| get(&format!("{name}_{key}")))
        .flatten()
        .or_else(|| get(name))
        .unwrap_or_default()
}

/// `path` when it is a whole URL (has a scheme), else `path` under the directory URL `base`: a file
/// name in the profile's directory (`FIRMWARE = sip.ld` → `http://192.0.2.10:8088/phoneprov/sip.ld`).
pub fn url_join(base: &str, path: &str) -> String {
    let path = path.trim();
    if path.is_empty() {
        return String::new();
    }
    if path.contains("://") {
        return path.to_owned();
    }
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        assert_eq!(field("96.86.0.100", ".", 1), "86");
        assert_eq!(field("96.86.0.100", ".", 7), "");
        assert_eq!(field("fr_FR", "_", 0), "fr");
        assert_eq!(field("x", "", 0), "");
    }

    #[test]
    fn prefixes() {
        assert!(starts_with("GXP1782", "gxp17"));
        assert!(!starts_with("GXP2170", "GXP17"));
        assert!(!starts_with("GX", "GXP17"));
        assert!(!starts_with("GXP1782", ""));
        assert!(!starts_with("é", "e"));
    }

    #[test]
    fn per_model_variables() {
        let root = serde_json::json!({
            "FIRMWARE": "all.rom",
            "FIRMWARE_T54W": "t54w.rom",
            "FIRMWARE_X6U_PRO": " ",
        });
        assert_eq!(model_var(&root, "FIRMWARE", "T54W"), "t54w.rom");
        assert_eq!(model_var(&root, "FIRMWARE", "T46U"), "all.rom");
        assert_eq!(model_var(&root, "FIRMWARE", "X6U-Pro"), "all.rom");
        assert_eq!(model_var(&root, "FIRMWARE", ""), "all.rom");
        assert_eq!(model_var(&serde_json::json!({}), "FIRMWARE", "T54W"), "");
    }

    #[test]
    fn urls() {
        let base = "http://192.0.2.10:8088/phoneprov/";
        assert_eq!(
            url_join(base, "fw/T54W.rom"),
            "http://192.0.2.10:8088/phoneprov/fw/T54W.rom"
        );
        assert_eq!(url_join("http://h/p", "/x.rom"), "http://h/p/x.rom");
        assert_eq!(url_join(base, "https://cdn/x.rom"), "https://cdn/x.rom");
        assert_eq!(url_join(base, ""), "");
    }
}
