//! Properties of Asterisk's template language: the argument splitter and the `${}` engine.

use pjprov_core::Vars;
use pjprov_core::asterisk::{FUNCTIONS, MAX_OUTPUT, Template, separate_args};
use proptest::prelude::*;

fn render(source: &[u8], vars: &Vars) -> Vec<u8> {
    let (result, _) = Template::parse("t", source).render_alone(vars, Some("192.0.2.1"));
    result.expect("renders")
}

#[test]
fn a_template_alone() {
    let mut vars = Vars::new();
    vars.set("MAC", "0004F2AABBCC");
    vars.set("USERNAME", "alice");
    assert_eq!(
        render(
            b"${TOLOWER(${MAC})}.cfg user=${USERNAME:0:3} at ${SERVER} $[1 + 2]",
            &vars
        ),
        b"0004f2aabbcc.cfg user=ali at 192.0.2.1 3"
    );
    // No phones: PP_EACH_USER yields nothing.
    assert_eq!(render(b"[${PP_EACH_USER(%{MAC}|)}]", &vars), b"[]");
}

/// Bytes without the splitter's special characters.
fn plain(extra: &'static str) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..40).prop_map(move |bytes| {
        bytes
            .into_iter()
            .filter(|b| !b"\"\\()[]".contains(b) && !extra.as_bytes().contains(b))
            .collect()
    })
}

proptest! {
    #[test]
    fn splitting_never_panics_and_respects_max(
        data in proptest::collection::vec(any::<u8>(), 0..200),
        max in 0usize..6,
        remove in any::<bool>(),
    ) {
        let args = separate_args(&data, b',', remove, max);
        prop_assert!(args.len() <= max);
        prop_assert!(data.is_empty() == args.is_empty() || max == 0);
    }

    /// Without quote removal nothing is lost: the arguments joined by the delimiter are the input.
    #[test]
    fn splitting_without_removal_is_lossless(
        data in proptest::collection::vec(any::<u8>(), 1..200),
        max in 1usize..8,
    ) {
        let args = separate_args(&data, b',', false, max);
        prop_assert_eq!(args.join(&b','), data);
    }

    /// Text without quotes, brackets or backslashes splits as a plain `splitn`.
    #[test]
    fn plain_text_splits_like_splitn(data in plain(""), max in 1usize..6) {
        let args = separate_args(&data, b',', true, max);
        let expected: Vec<Vec<u8>> = if data.is_empty() {
            Vec::new()
        } else {
            data.splitn(max, |&b| b == b',').map(<[u8]>::to_vec).collect()
        };
        prop_assert_eq!(args, expected);
    }

    /// Quoted arguments come back without their quotes, delimiters inside them kept; the last argument
    /// (here an empty one after a trailing delimiter) takes the rest verbatim.
    #[test]
    fn quoted_arguments_round_trip(parts in proptest::collection::vec(plain(""), 1..6)) {
        let mut data = Vec::new();
        for part in &parts {
            data.push(b'"');
            data.extend_from_slice(part);
            data.extend_from_slice(b"\",");
        }
        let args = separate_args(&data, b',', true, parts.len() + 1);
        prop_assert_eq!(&args[..parts.len()], &parts[..]);
        prop_assert_eq!(&args[parts.len()], &Vec::<u8>::new());
    }

    /// Any bytes parse and render without panicking, within the output bound.
    #[test]
    fn any_template_renders_within_bounds(source in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut vars = Vars::new();
        vars.set("MAC", "0004f2aabbcc");
        let template = Template::parse("t", &source);
        let (result, _) = template.render_alone(&vars, None);
        if let Ok(out) = result {
            prop_assert!(out.len() <= MAX_OUTPUT);
        }
    }

    /// Text without `$` is copied as it is (up to a NUL, where Asterisk stops reading a template).
    #[test]
    fn text_without_dollars_is_copied(text in plain("$\0")) {
        prop_assert_eq!(render(&text, &Vars::new()), text);
    }

    /// `${NAME}` is the variable's value, whatever the value holds (values are not substituted again).
    #[test]
    fn variables_substitute_their_value(
        name in "[A-Z][A-Z0-9_]{0,10}",
        value in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let value = String::from_utf8_lossy(&value).replace('\0', "");
        let mut vars = Vars::new();
        vars.set(&name, &value);
        let out = render(format!("<${{{name}}}>").as_bytes(), &vars);
        prop_assert_eq!(out, format!("<{value}>").into_bytes());
    }

    /// `$[...]` of anything renders without panicking.
    #[test]
    fn any_expression_renders(expr in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut source = b"$[".to_vec();
        source.extend_from_slice(&expr);
        source.push(b']');
        let (result, _) = Template::parse("t", &source).render_alone(&Vars::new(), None);
        prop_assert!(result.is_ok());
    }

    /// `MATH` of anything shaped like arithmetic renders without panicking.
    #[test]
    fn math_never_panics(
        expr in "[-+*/%^<>=ANDXORI0-9.eEinfa ]{0,40}",
        kind in proptest::option::of("(f|float|i|int|h|hex|c|char|x|)"),
    ) {
        let call = match kind {
            Some(kind) => format!("${{MATH({expr},{kind})}}"),
            None => format!("${{MATH({expr})}}"),
        };
        let (result, _) = Template::parse("t", call.as_bytes()).render_alone(&Vars::new(), None);
        prop_assert!(result.is_ok());
    }

    /// Every function, with arguments full of the characters its parsing cares about, renders within
    /// bounds and without panicking.
    #[test]
    fn every_function_survives_any_arguments(
        function in proptest::sample::select(FUNCTIONS),
        args in "[-a-zA-Z0-9,.%:&|\\\"()\\[\\] ?=*/+^<>#_${}]{0,60}",
    ) {
        let mut vars = Vars::new();
        vars.set("MAC", "0004f2aabbcc");
        vars.set("LIST", "a,b,c");
        let call = format!("${{{function}({args})}}");
        let (result, _) = Template::parse("t", call.as_bytes()).render_alone(&vars, None);
        if let Ok(out) = result {
            prop_assert!(out.len() <= MAX_OUTPUT);
        }
    }
}
