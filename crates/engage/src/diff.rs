//! A line diff for matrix versions: what changed between two texts, as `-`/`+` lines with the
//! unchanged lines around each change, like `diff -u` without hunk headers.

/// The line diff of `old` and `new`: removed lines start with `-`, added lines with `+`, and
/// up to `context` unchanged lines around each change with a space. Empty when they are equal.
pub fn diff_lines(old: &str, new: &str, context: usize) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let v = if a.get(i) == b.get(j) {
                lcs.get(i + 1)
                    .and_then(|r| r.get(j + 1))
                    .copied()
                    .unwrap_or(0)
                    + 1
            } else {
                let down = lcs.get(i + 1).and_then(|r| r.get(j)).copied().unwrap_or(0);
                let right = lcs.get(i).and_then(|r| r.get(j + 1)).copied().unwrap_or(0);
                down.max(right)
            };
            if let Some(cell) = lcs.get_mut(i).and_then(|r| r.get_mut(j)) {
                *cell = v;
            }
        }
    }
    let at = |i: usize, j: usize| lcs.get(i).and_then(|r| r.get(j)).copied().unwrap_or(0);
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                ops.push((' ', x));
                i += 1;
                j += 1;
            }
            (Some(x), Some(_)) if at(i + 1, j) >= at(i, j + 1) => {
                ops.push(('-', x));
                i += 1;
            }
            (_, Some(y)) => {
                ops.push(('+', y));
                j += 1;
            }
            (Some(x), None) => {
                ops.push(('-', x));
                i += 1;
            }
            (None, None) => break,
        }
    }
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, (op, _))| *op != ' ')
        .map(|(k, _)| k)
        .collect();
    let keep = |k: usize| changed.iter().any(|c| c.abs_diff(k) <= context);
    let mut out = String::new();
    let mut skipped = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if keep(k) {
            if skipped && !out.is_empty() {
                out.push_str("...\n");
            }
            skipped = false;
            out.push(*op);
            out.push_str(line);
            out.push('\n');
        } else {
            skipped = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_changes_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\n";
        let new = "a\nb\nC\nd\ne\nf\ng\nh\n";
        assert_eq!(
            diff_lines(old, new, 1),
            "-c\n+C\n d\n...\n g\n+h\n".replacen("-c", " b\n-c", 1)
        );
        assert_eq!(diff_lines(old, old, 2), "");
    }
}
