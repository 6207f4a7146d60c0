//! Rendering a [`Query`] as an FTS5 `MATCH` expression.
//!
//! Every word goes out as a double-quoted FTS5 string (a quote inside is doubled), a prefix as
//! `"nurs"*`, so no user text can become FTS5 syntax (column filters, `NEAR`, bare operators).
//! Words are re-split with [`model::query::tokens`], so a hand-built query with capitals or
//! punctuation still renders to what [`Query::matches`] would match. FTS5's `NOT` is binary:
//! an `And` renders as `(positives) NOT (negative) NOT (negative)`; a query that has no
//! positive side where one is needed is refused with a message rather than sent to SQLite.

use model::query::{Query, tokens};

/// The FTS5 expression for `query`, or why it cannot be searched.
pub(crate) fn fts_match(query: &Query) -> Result<String, String> {
    let mut out = String::new();
    render(query, &mut out)?;
    Ok(out)
}

fn render(query: &Query, out: &mut String) -> Result<(), String> {
    match query {
        Query::Term { text, prefix } => {
            let words = tokens(text);
            match (words.as_slice(), prefix) {
                ([], _) => return Err(format!("`{text}` has no letters or digits to search for")),
                ([word], true) => {
                    quote(word, out);
                    out.push('*');
                }
                (_, true) => return Err(format!("the prefix `{text}*` is more than one word")),
                (words, false) => quote(&words.join(" "), out),
            }
        }
        Query::Phrase(phrase) => {
            let words = tokens(&phrase.join(" "));
            if words.is_empty() {
                return Err("a phrase has no letters or digits to search for".to_owned());
            }
            quote(&words.join(" "), out);
        }
        Query::Or(parts) => {
            if parts.is_empty() {
                return Err("an OR with no parts".to_owned());
            }
            out.push('(');
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    out.push_str(" OR ");
                }
                if matches!(part, Query::Not(_)) {
                    return Err("a NOT cannot be one side of an OR".to_owned());
                }
                render(part, out)?;
            }
            out.push(')');
        }
        Query::And(parts) => {
            let (negatives, positives): (Vec<&Query>, Vec<&Query>) =
                parts.iter().partition(|p| matches!(p, Query::Not(_)));
            if positives.is_empty() {
                return Err("the query has only NOT terms; add a word that must appear".to_owned());
            }
            out.push_str("((");
            for (i, part) in positives.iter().enumerate() {
                if i > 0 {
                    out.push_str(" AND ");
                }
                render(part, out)?;
            }
            out.push(')');
            for negative in negatives {
                if let Query::Not(inner) = negative {
                    out.push_str(" NOT ");
                    out.push('(');
                    render(inner, out)?;
                    out.push(')');
                }
            }
            out.push(')');
        }
        Query::Not(_) => {
            return Err("the query has only NOT terms; add a word that must appear".to_owned());
        }
    }
    Ok(())
}

fn quote(text: &str, out: &mut String) {
    out.push('"');
    out.push_str(&text.replace('"', "\"\""));
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::query::parse;

    #[test]
    fn renders_quoted_terms_and_binary_not() {
        let q = parse("(nurs* OR midwife) \"night shift\" -agency").unwrap();
        assert_eq!(
            fts_match(&q).unwrap(),
            "(((\"nurs\"* OR \"midwife\") AND \"night shift\") NOT (\"agency\"))"
        );
        let hand_built = Query::Term {
            text: "title:NEAR(x".to_owned(),
            prefix: false,
        };
        assert_eq!(fts_match(&hand_built).unwrap(), "\"title near x\"");
        assert!(fts_match(&Query::Not(Box::new(hand_built))).is_err());
    }
}
