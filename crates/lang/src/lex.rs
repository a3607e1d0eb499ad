//! The words: names, numbers, dates, strings, blanks and comments, as nom parsers over `&str`.
//!
//! Shared by the parser and the completer. These recognise text only; they never decide meaning.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while_m_n, take_while1};
use nom::character::complete::{char, digit1, one_of};
use nom::combinator::{opt, peek, recognize, verify};
use nom::sequence::preceded;
use nom::{IResult, Parser};

/// Whether `c` may continue a bare word (`EPSG:4326`, `image/tiff`, `s3://b/p`, `abc*12?`, `C1-PROV`).
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | ':' | '*' | '?' | '+' | '~' | '@' | '%' | '-' | '!' | '$')
}

/// Whether `c` may start a bare word.
pub fn is_word_start(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '/' | '*' | '?' | '~' | '.' | '@' | '$')
}

/// Whether `c` may be part of an identifier (bindings, keywords).
pub fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Spaces, tabs, newlines (inside a statement, newlines are blanks) and `#` comments.
pub fn blank(input: &str) -> IResult<&str, &str> {
    recognize(nom::multi::many0_count(alt((
        take_while1(|c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n'),
        recognize(preceded(char('#'), take_while(|c| c != '\n'))),
    ))))
    .parse(input)
}

/// An identifier: a letter or `_`, then letters, digits and `_`.
pub fn ident(input: &str) -> IResult<&str, &str> {
    recognize((take_while_m_n(1, 1, |c: char| c.is_ascii_alphabetic() || c == '_'), take_while(is_ident_char)))
        .parse(input)
}

/// A bare word; it never contains `..`, so `a..b` is a range.
pub fn word(input: &str) -> IResult<&str, &str> {
    let mut end = 0;
    for (index, c) in input.char_indices() {
        let allowed = if index == 0 { is_word_start(c) && !input.starts_with("..") } else { is_word_char(c) };
        if !allowed || input[index..].starts_with("..") {
            break;
        }
        end = index + c.len_utf8();
    }
    if end == 0 {
        return Err(nom::Err::Error(nom::error::Error::new(input, nom::error::ErrorKind::AlphaNumeric)));
    }
    Ok((&input[end..], &input[..end]))
}

/// A number: optional sign, digits with an optional fraction (`41.` too, but not `41..`), optional exponent.
/// It must not run on into a word (`3-alpha` is a word).
pub fn number(input: &str) -> IResult<&str, &str> {
    let fraction =
        recognize((char('.'), peek(nom::combinator::not(char('.'))), take_while(|c: char| c.is_ascii_digit())));
    let mantissa = alt((recognize((digit1, opt(fraction))), recognize((char('.'), digit1))));
    let exponent = recognize((one_of("eE"), opt(one_of("+-")), digit1));
    let (rest, text) = recognize((opt(one_of("+-")), mantissa, opt(exponent))).parse(input)?;
    if rest.starts_with(|c: char| is_word_char(c) && c != '.') || (rest.starts_with('.') && !rest.starts_with("..")) {
        return Err(nom::Err::Error(nom::error::Error::new(input, nom::error::ErrorKind::Digit)));
    }
    Ok((rest, text))
}

/// A date `YYYY-MM-DD`, optionally with a time `Thh:mm[:ss[.fff]]` (or a space before the time) and a zone
/// (`Z`, `+hh:mm`, `-hhmm`). Whether the values are real dates is for the checker.
pub fn datetime(input: &str) -> IResult<&str, &str> {
    let two = || take_while_m_n(2, 2, |c: char| c.is_ascii_digit());
    let date = recognize((take_while_m_n(4, 4, |c: char| c.is_ascii_digit()), char('-'), two(), char('-'), two()));
    let seconds = recognize((char(':'), two(), opt((char('.'), digit1))));
    let clock = recognize((two(), char(':'), two(), opt(seconds)));
    let separator = alt((tag("T"), tag("t"), recognize(verify(tag(" "), |_: &str| true))));
    let time = recognize((separator, clock));
    let zone = alt((tag("Z"), tag("z"), recognize((one_of("+-"), two(), opt(char(':')), two()))));
    let (rest, text) = recognize((date, opt(time), opt(zone))).parse(input)?;
    if rest.starts_with(|c: char| is_word_char(c) && c != '.') || (rest.starts_with('.') && !rest.starts_with("..")) {
        return Err(nom::Err::Error(nom::error::Error::new(input, nom::error::ErrorKind::Digit)));
    }
    Ok((rest, text))
}

/// A quoted string, `"…"` or `'…'`, with `\"`, `\'`, `\\`, `\n` and `\t` escapes.
/// Returns the unescaped text, or `None` as the value when the string is not closed before the input ends.
pub fn string(input: &str) -> IResult<&str, Option<String>> {
    let (rest, quote) = one_of("\"'").parse(input)?;
    let mut text = String::new();
    let mut chars = rest.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, 'n')) => text.push('\n'),
                Some((_, 't')) => text.push('\t'),
                Some((_, other)) => text.push(other),
                None => break,
            },
            c if c == quote => return Ok((&rest[index + 1..], Some(text))),
            c => text.push(c),
        }
    }
    Ok(("", None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole<'a>(parser: fn(&'a str) -> IResult<&'a str, &'a str>, input: &'a str) -> Option<&'a str> {
        parser(input).ok().map(|(_, text)| text)
    }

    #[test]
    fn numbers_keep_their_text_and_stop_before_ranges() {
        for (input, expected) in [
            ("40,", Some("40")),
            ("41.)", Some("41.")),
            ("-105.5 ", Some("-105.5")),
            ("10..20", Some("10")),
            ("1e-5", Some("1e-5")),
            (".5", Some(".5")),
            ("3-alpha", None),
            ("12abc", None),
        ] {
            assert_eq!(whole(number, input), expected, "{input}");
        }
    }

    #[test]
    fn dates_and_times_with_zones() {
        for (input, expected) in [
            ("2020-04-27..", Some("2020-04-27")),
            ("2020-04-27T12:30:00Z)", Some("2020-04-27T12:30:00Z")),
            ("2020-04-27 12:30 ..", Some("2020-04-27 12:30")),
            ("2020-04-27T12:30:00.25+02:00", Some("2020-04-27T12:30:00.25+02:00")),
            ("2020-04-27 ..", Some("2020-04-27")),
            ("2020-4-27", None),
        ] {
            assert_eq!(whole(datetime, input), expected, "{input}");
        }
    }

    #[test]
    fn words_cover_ids_paths_and_mime_types() {
        for (input, expected) in [
            ("C1256407609-NSIDC_CUAT bbox", Some("C1256407609-NSIDC_CUAT")),
            ("EPSG:4326 format", Some("EPSG:4326")),
            ("Soil_Moisture_Retrieval_Data/landcover_class)", Some("Soil_Moisture_Retrieval_Data/landcover_class")),
            ("s3://bucket/p", Some("s3://bucket/p")),
            ("abc*123,", Some("abc*123")),
            ("a..b", Some("a")),
            ("(x", None),
        ] {
            assert_eq!(whole(word, input), expected, "{input}");
        }
    }

    #[test]
    fn strings_unescape_and_report_unclosed() {
        assert_eq!(string(r#""a \"b\"" x"#).unwrap(), (" x", Some("a \"b\"".to_owned())));
        assert_eq!(string("'it''s'").unwrap(), ("'s'", Some("it".to_owned())));
        assert_eq!(string("\"open").unwrap(), ("", None));
    }

    #[test]
    fn blanks_swallow_comments() {
        assert_eq!(blank("  # note\n  x").unwrap().0, "x");
    }
}
