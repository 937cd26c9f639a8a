//! Expressions to remote SQL text, and the shippability test that decides which expressions
//! may be sent at all.
//!
//! An expression is *shippable* when the remote server computes exactly what the envelope
//! would: built-in operators and immutable functions that depend on no local setting. Left
//! out on purpose: volatile or stable functions (`random`, `now`, `current_date`, 1-argument
//! `age`, `to_char`, `concat`), case mapping that depends on the remote locale (`upper`,
//! `lower`, `initcap`, `ILIKE`), `LIKE` on `char(n)` (padding rules differ), casts through
//! text output (their result depends on `DateStyle` and friends) and sub-selects.
//!
//! Collation: postgres_fdw ships text comparisons when they use the default collation,
//! assuming the remote default collation sorts like the local one. The envelope compares text
//! byte-wise (the "C" collation) and cannot know the remote's, so ordering comparisons on
//! strings (`<`, `<=`, `>`, `>=`) and remote `ORDER BY` on strings carry an explicit
//! `COLLATE "C"`: the remote then answers exactly as the envelope would, whatever its
//! default. Equality, `LIKE` and `IN` need no collation (deterministic collations agree on
//! equality) and are written as postgres_fdw writes them.
//!
//! The text follows postgres_fdw's deparser (PostgreSQL 15), so EXPLAIN VERBOSE shows the
//! same `Remote SQL`: every operator expression is parenthesized, constants carry a type label
//! unless the remote parser infers the same type (`integer`, `boolean`, a float-looking
//! `numeric`, or a quoted literal compared with a column of its type), parameters are
//! `$n::type`, and `IN` lists of constants are array literals (`a = ANY ('{1,2}'::integer[])`).

use fdw_api::{AggFunc, BinaryOp, DataType, Datum, Expr, FdwError, FdwResult, ScalarFunc, UnaryOp};

use crate::quote::{push_array_element, push_literal};

/// Whether the remote server may evaluate `expr` with the envelope's semantics.
pub fn is_shippable(expr: &Expr) -> bool {
    match expr {
        Expr::Column { .. } | Expr::Param { .. } => true,
        Expr::Const { ty, .. } => *ty != DataType::Unknown || matches!(expr, Expr::Const { value: Datum::Null, .. }),
        Expr::Binary { op, left, right, .. } => {
            let ok = match op {
                BinaryOp::Concat => left.data_type().is_string() && right.data_type().is_string(),
                _ => true,
            };
            ok && is_shippable(left) && is_shippable(right)
        }
        Expr::Unary { expr, .. } => is_shippable(expr),
        Expr::Func { func, args, .. } => func_shippable(*func, args) && args.iter().all(is_shippable),
        Expr::Cast { expr, ty } => cast_shippable(&expr.data_type(), ty) && is_shippable(expr),
        Expr::Case { .. } | Expr::Coalesce { .. } | Expr::NullIf { .. } => {
            expr.children().into_iter().all(is_shippable)
        }
        Expr::InList { expr, list, .. } => is_shippable(expr) && list.iter().all(is_shippable),
        Expr::Like { expr, pattern, case_insensitive, .. } => {
            !case_insensitive
                && matches!(expr.data_type(), DataType::Text | DataType::Varchar(_))
                && is_shippable(expr)
                && is_shippable(pattern)
        }
        Expr::SubPlan { .. } => false,
    }
}

fn func_shippable(func: ScalarFunc, args: &[Expr]) -> bool {
    use ScalarFunc as F;
    match func {
        F::Abs | F::Round | F::Trunc | F::Ceil | F::Floor | F::Sqrt | F::Power | F::Sign | F::Mod => true,
        F::Length | F::CharLength | F::OctetLength | F::Md5 | F::Reverse | F::Substring | F::StrPos => true,
        F::BTrim | F::LTrim | F::RTrim | F::Replace | F::Left | F::Right | F::Lpad | F::Rpad | F::Repeat => true,
        F::SplitPart | F::DatePart | F::DateTrunc | F::MakeDate => true,
        // EXTRACT needs its field as a plain word.
        F::Extract => matches!(args.first(), Some(Expr::Const { value: Datum::Text(f), .. })
            if !f.is_empty() && f.chars().all(|c| c.is_ascii_alphabetic())),
        F::Age => args.len() == 2,
        // Comparing strings would involve the remote collation.
        F::Greatest | F::Least => args.iter().all(|a| !a.data_type().is_string()),
        // Stable, volatile or locale-dependent.
        F::Upper | F::Lower | F::Initcap | F::ToChar | F::Concat | F::ConcatWs | F::Now | F::CurrentDate => false,
        F::Random | F::Position => false,
    }
}

fn cast_shippable(from: &DataType, to: &DataType) -> bool {
    (from.is_numeric() && to.is_numeric())
        || (from.is_string() && *from != DataType::Unknown && to.is_string())
        || matches!((from, to), (DataType::Date, DataType::Timestamp) | (DataType::Timestamp, DataType::Date))
        || matches!((from, to), (DataType::Int4, DataType::Bool) | (DataType::Bool, DataType::Int4))
}

/// Whether a sort on a value of this type needs `COLLATE "C"` to match the envelope.
pub fn needs_c_collation(ty: &DataType) -> bool {
    matches!(ty, DataType::Text | DataType::Varchar(_) | DataType::Char(_))
}

/// The SQL name of a type in a cast or label (`format_type_with_typemod`).
pub fn type_name(ty: &DataType) -> String {
    match ty {
        DataType::Unknown => "text".to_string(),
        t => t.sql_name(),
    }
}

/// Writes expressions as remote SQL. `columns[i]` is the already-quoted text standing for
/// `Expr::Column(i)` (a bare column, `r1.col`, or a grouped expression). Parameters are
/// numbered in order of first use; `params` lists the envelope's parameter index and type
/// behind each `$n`.
pub struct Deparser<'a> {
    pub columns: &'a [String],
    pub params: Vec<(usize, DataType)>,
}

impl<'a> Deparser<'a> {
    pub fn new(columns: &'a [String]) -> Self {
        Deparser { columns, params: Vec::new() }
    }

    /// Appends `expr` to `out`; fails for an expression `is_shippable` refuses.
    pub fn expr(&mut self, out: &mut String, expr: &Expr) -> FdwResult<()> {
        match expr {
            Expr::Column { index, .. } => {
                let c = self
                    .columns
                    .get(*index)
                    .ok_or_else(|| FdwError::internal(format!("remote deparse: column {index} out of range")))?;
                out.push_str(c);
            }
            Expr::Const { value, ty } => push_const(out, value, ty, true),
            Expr::Param { index, ty } => {
                let n = match self.params.iter().position(|(i, _)| i == index) {
                    Some(p) => p + 1,
                    None => {
                        self.params.push((*index, ty.clone()));
                        self.params.len()
                    }
                };
                out.push('$');
                out.push_str(&n.to_string());
                out.push_str("::");
                out.push_str(&type_name(ty));
            }
            Expr::Binary { op, left, right, .. } => self.binary(out, *op, left, right)?,
            Expr::Unary { op, expr, .. } => {
                out.push('(');
                match op {
                    UnaryOp::Not => {
                        out.push_str("NOT ");
                        self.expr(out, expr)?;
                    }
                    UnaryOp::Neg => {
                        out.push_str("- ");
                        self.expr(out, expr)?;
                    }
                    _ => {
                        self.expr(out, expr)?;
                        out.push_str(match op {
                            UnaryOp::IsNull => " IS NULL",
                            UnaryOp::IsNotNull => " IS NOT NULL",
                            UnaryOp::IsTrue => " IS TRUE",
                            UnaryOp::IsNotTrue => " IS NOT TRUE",
                            UnaryOp::IsFalse => " IS FALSE",
                            _ => " IS NOT FALSE",
                        });
                    }
                }
                out.push(')');
            }
            Expr::Func { func, args, .. } => self.func(out, *func, args)?,
            Expr::Cast { expr, ty } => {
                self.expr(out, expr)?;
                out.push_str("::");
                out.push_str(&type_name(ty));
            }
            Expr::Case { whens, else_expr, .. } => {
                out.push_str("(CASE");
                for (w, t) in whens {
                    out.push_str(" WHEN ");
                    self.expr(out, w)?;
                    out.push_str(" THEN ");
                    self.expr(out, t)?;
                }
                if let Some(e) = else_expr {
                    out.push_str(" ELSE ");
                    self.expr(out, e)?;
                }
                out.push_str(" END)");
            }
            Expr::Coalesce { args, .. } => {
                out.push_str("COALESCE(");
                self.list(out, args)?;
                out.push(')');
            }
            Expr::NullIf { left, right, .. } => {
                out.push_str("NULLIF(");
                self.expr(out, left)?;
                out.push_str(", ");
                self.expr(out, right)?;
                out.push(')');
            }
            Expr::InList { expr, list, negated } => {
                out.push('(');
                self.expr(out, expr)?;
                out.push_str(if *negated { " <> ALL (" } else { " = ANY (" });
                let elem_ty = expr.data_type();
                if list.iter().all(|e| matches!(e, Expr::Const { .. })) {
                    let mut lit = String::from("{");
                    let mut text = String::new();
                    for (i, e) in list.iter().enumerate() {
                        if i > 0 {
                            lit.push(',');
                        }
                        if let Expr::Const { value, .. } = e {
                            if value.is_null() {
                                push_array_element(&mut lit, None);
                            } else {
                                text.clear();
                                value.write_text(&mut text);
                                push_array_element(&mut lit, Some(&text));
                            }
                        }
                    }
                    lit.push('}');
                    push_literal(out, &lit);
                    out.push_str("::");
                    out.push_str(&type_name(&elem_ty.without_modifier()));
                    out.push_str("[]");
                } else {
                    out.push_str("ARRAY[");
                    self.list(out, list)?;
                    out.push(']');
                }
                out.push_str("))");
            }
            Expr::Like { expr, pattern, escape, negated, case_insensitive } => {
                if *case_insensitive {
                    return Err(not_shippable(expr));
                }
                out.push('(');
                self.expr(out, expr)?;
                match escape {
                    None | Some('\\') => {
                        out.push_str(if *negated { " !~~ " } else { " ~~ " });
                        self.operand(out, pattern, expr)?;
                    }
                    Some(c) => {
                        out.push_str(if *negated { " NOT LIKE " } else { " LIKE " });
                        self.operand(out, pattern, expr)?;
                        out.push_str(" ESCAPE ");
                        push_literal(out, &c.to_string());
                    }
                }
                out.push(')');
            }
            Expr::SubPlan { .. } => return Err(not_shippable(expr)),
        }
        Ok(())
    }

    fn list(&mut self, out: &mut String, list: &[Expr]) -> FdwResult<()> {
        for (i, e) in list.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.expr(out, e)?;
        }
        Ok(())
    }

    /// An operand next to `other`: a quoted constant compared with a column of its own type
    /// goes without a type label, as postgres_fdw 15 writes it.
    fn operand(&mut self, out: &mut String, e: &Expr, other: &Expr) -> FdwResult<()> {
        if let Expr::Const { value, ty } = e {
            let bare_ok = matches!(other, Expr::Column { .. })
                && !value.is_null()
                && !ty.is_numeric()
                && *ty != DataType::Bool
                && (other.data_type().without_modifier() == ty.without_modifier()
                    || (other.data_type().is_string() && ty.is_string()));
            if bare_ok {
                push_const(out, value, ty, false);
                return Ok(());
            }
        }
        self.expr(out, e)
    }

    fn binary(&mut self, out: &mut String, op: BinaryOp, left: &Expr, right: &Expr) -> FdwResult<()> {
        out.push('(');
        let collate = matches!(op, BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq)
            && (needs_c_collation(&left.data_type()) || needs_c_collation(&right.data_type()));
        let label_rule = op.is_comparison();
        if label_rule {
            self.operand(out, left, right)?;
        } else {
            self.expr(out, left)?;
        }
        if collate {
            out.push_str(" COLLATE \"C\"");
        }
        out.push(' ');
        out.push_str(op.sql());
        out.push(' ');
        if label_rule {
            self.operand(out, right, left)?;
        } else {
            self.expr(out, right)?;
        }
        out.push(')');
        Ok(())
    }

    fn func(&mut self, out: &mut String, func: ScalarFunc, args: &[Expr]) -> FdwResult<()> {
        use ScalarFunc as F;
        if func == F::Extract {
            if let (Some(Expr::Const { value: Datum::Text(field), .. }), Some(src)) = (args.first(), args.get(1)) {
                out.push_str("EXTRACT(");
                out.push_str(&field.to_ascii_uppercase());
                out.push_str(" FROM ");
                self.expr(out, src)?;
                out.push(')');
                return Ok(());
            }
        }
        let name = match func {
            F::Abs => "abs",
            F::Round => "round",
            F::Trunc => "trunc",
            F::Ceil => "ceil",
            F::Floor => "floor",
            F::Sqrt => "sqrt",
            F::Power => "power",
            F::Sign => "sign",
            F::Mod => "mod",
            F::Length => "length",
            F::CharLength => "char_length",
            F::OctetLength => "octet_length",
            F::Md5 => "md5",
            F::Reverse => "reverse",
            F::Substring => "substr",
            F::StrPos => "strpos",
            F::BTrim => "btrim",
            F::LTrim => "ltrim",
            F::RTrim => "rtrim",
            F::Replace => "replace",
            F::Left => "\"left\"",
            F::Right => "\"right\"",
            F::Lpad => "lpad",
            F::Rpad => "rpad",
            F::Repeat => "repeat",
            F::SplitPart => "split_part",
            F::DatePart => "date_part",
            F::DateTrunc => "date_trunc",
            F::MakeDate => "make_date",
            F::Age => "age",
            F::Greatest => "GREATEST",
            F::Least => "LEAST",
            _ => return Err(FdwError::internal(format!("remote deparse: function {func:?} is not shippable"))),
        };
        out.push_str(name);
        out.push('(');
        self.list(out, args)?;
        out.push(')');
        Ok(())
    }

    /// An aggregate call (`count(*)`, `sum(a)`, `count(DISTINCT a)`).
    pub fn aggregate(&mut self, out: &mut String, func: AggFunc, args: &[Expr], distinct: bool) -> FdwResult<()> {
        if func == AggFunc::CountStar {
            out.push_str("count(*)");
            return Ok(());
        }
        out.push_str(agg_name(func));
        out.push('(');
        if distinct {
            out.push_str("DISTINCT ");
        }
        self.list(out, args)?;
        out.push(')');
        Ok(())
    }
}

/// The SQL name of an aggregate (see `AggFunc::sql_name`).
pub fn agg_name(func: AggFunc) -> &'static str {
    func.sql_name()
}

fn not_shippable(e: &Expr) -> FdwError {
    FdwError::internal(format!("remote deparse: expression is not shippable: {e:?}"))
}

/// Appends a constant as postgres_fdw's `deparseConst` writes it; `label` false omits the
/// type label of a quoted literal (the caller checked the remote infers the same type).
pub fn push_const(out: &mut String, value: &Datum, ty: &DataType, label: bool) {
    if value.is_null() {
        out.push_str("NULL");
        if *ty != DataType::Unknown {
            out.push_str("::");
            out.push_str(&type_name(ty));
        }
        return;
    }
    let mut text = String::new();
    value.write_text(&mut text);
    let mut is_float = false;
    let numeric_ty = ty.is_numeric() || matches!(value, Datum::Int2(_) | Datum::Int4(_) | Datum::Int8(_));
    match value {
        Datum::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        _ if numeric_ty => {
            if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | 'e' | 'E' | '.'))
            {
                if text.starts_with(['+', '-']) {
                    out.push('(');
                    out.push_str(&text);
                    out.push(')');
                } else {
                    out.push_str(&text);
                }
                is_float = text.contains(['e', 'E', '.']);
            } else {
                out.push('\'');
                out.push_str(&text);
                out.push('\'');
            }
        }
        _ => push_literal(out, &text),
    }
    let needs_label = match ty {
        DataType::Bool | DataType::Int4 | DataType::Unknown => false,
        DataType::Numeric(tm) => !is_float || tm.is_some(),
        _ => label,
    };
    if needs_label {
        out.push_str("::");
        out.push_str(&type_name(ty));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(i: usize, ty: DataType) -> Expr {
        Expr::column(i, ty)
    }
    fn c(v: Datum, ty: DataType) -> Expr {
        Expr::constant(v, ty)
    }
    fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
        Expr::Binary { op, left: Box::new(l), right: Box::new(r), ty: DataType::Bool }
    }
    fn sql(e: &Expr) -> String {
        let cols: Vec<String> = ["a", "b", "c", "d", "e", "f"].iter().map(|s| s.to_string()).collect();
        let mut d = Deparser::new(&cols);
        let mut out = String::new();
        d.expr(&mut out, e).unwrap();
        out
    }

    #[test]
    fn constants_as_postgres_fdw() {
        assert_eq!(sql(&bin(BinaryOp::Gt, col(0, DataType::Int4), c(Datum::Int4(1), DataType::Int4))), "(a > 1)");
        assert_eq!(sql(&bin(BinaryOp::Eq, col(0, DataType::Int4), c(Datum::Int4(-3), DataType::Int4))), "(a = (-3))");
        assert_eq!(sql(&bin(BinaryOp::Eq, col(1, DataType::Text), c(Datum::text("x"), DataType::Text))), "(b = 'x')");
        let num = DataType::Numeric(None);
        assert_eq!(
            sql(&bin(BinaryOp::Eq, col(2, num.clone()), c(Datum::Numeric(2.into()), num.clone()))),
            "(c = 2::numeric)"
        );
        let f15 = c(Datum::Float8(1.5), DataType::Float8);
        assert_eq!(sql(&bin(BinaryOp::Eq, col(5, DataType::Float8), f15)), "(f = 1.5::double precision)");
        let big = c(Datum::Int8(5_000_000_000), DataType::Int8);
        assert_eq!(sql(&bin(BinaryOp::Eq, col(4, DataType::Int8), big)), "(e = 5000000000::bigint)");
        let nan = c(Datum::Float8(f64::NAN), DataType::Float8);
        assert_eq!(sql(&bin(BinaryOp::Eq, col(5, DataType::Float8), nan)), "(f = 'NaN'::double precision)");
        let neq = bin(BinaryOp::NotEq, col(1, DataType::Text), c(Datum::text("a\\b'c"), DataType::Text));
        assert_eq!(sql(&neq), "(b <> E'a\\\\b''c')");
        let d = c(Datum::Date(0), DataType::Date);
        assert_eq!(sql(&bin(BinaryOp::Eq, col(3, DataType::Date), d.clone())), "(d = '2000-01-01')");
        assert_eq!(sql(&d), "'2000-01-01'::date");
        assert_eq!(sql(&Expr::null(DataType::Int8)), "NULL::bigint");
        assert_eq!(sql(&c(Datum::Bool(true), DataType::Bool)), "true");
    }

    #[test]
    fn operators_lists_and_params() {
        let lt = bin(BinaryOp::Lt, col(1, DataType::Text), c(Datum::text("q"), DataType::Text));
        assert_eq!(sql(&lt), "(b COLLATE \"C\" < 'q')");
        let in_list = Expr::InList {
            expr: Box::new(col(0, DataType::Int4)),
            list: vec![c(Datum::Int4(1), DataType::Int4), c(Datum::Null, DataType::Int4)],
            negated: false,
        };
        assert_eq!(sql(&in_list), "(a = ANY ('{1,NULL}'::integer[]))");
        let not_in = Expr::InList {
            expr: Box::new(col(1, DataType::Text)),
            list: vec![c(Datum::text("a b"), DataType::Text), c(Datum::text("it's"), DataType::Text)],
            negated: true,
        };
        assert_eq!(sql(&not_in), "(b <> ALL ('{\"a b\",it''s}'::text[]))");
        let like = Expr::Like {
            expr: Box::new(col(1, DataType::Text)),
            pattern: Box::new(c(Datum::text("a%"), DataType::Text)),
            escape: None,
            negated: false,
            case_insensitive: false,
        };
        assert_eq!(sql(&like), "(b ~~ 'a%')");
        let cols = vec!["a".to_string()];
        let mut d = Deparser::new(&cols);
        let mut out = String::new();
        let p = bin(BinaryOp::Eq, col(0, DataType::Int4), Expr::Param { index: 4, ty: DataType::Int4 });
        let q = bin(
            BinaryOp::Eq,
            Expr::Param { index: 2, ty: DataType::Text },
            Expr::Param { index: 4, ty: DataType::Int4 },
        );
        d.expr(&mut out, &p).unwrap();
        out.push(' ');
        d.expr(&mut out, &q).unwrap();
        assert_eq!(out, "(a = $1::integer) ($2::text = $1::integer)");
        assert_eq!(d.params, vec![(4, DataType::Int4), (2, DataType::Text)]);
        let neg = Expr::Unary { op: UnaryOp::Neg, expr: Box::new(col(0, DataType::Int4)), ty: DataType::Int4 };
        assert_eq!(sql(&neg), "(- a)");
    }

    #[test]
    fn shippability() {
        let upper = Expr::Func { func: ScalarFunc::Upper, args: vec![col(1, DataType::Text)], ty: DataType::Text };
        assert!(!is_shippable(&upper));
        let abs = Expr::Func { func: ScalarFunc::Abs, args: vec![col(0, DataType::Int4)], ty: DataType::Int4 };
        assert!(is_shippable(&abs));
        let now = Expr::Func { func: ScalarFunc::Now, args: vec![], ty: DataType::Timestamp };
        assert!(!is_shippable(&bin(BinaryOp::Gt, col(3, DataType::Timestamp), now)));
        let ilike = Expr::Like {
            expr: Box::new(col(1, DataType::Text)),
            pattern: Box::new(c(Datum::text("a%"), DataType::Text)),
            escape: None,
            negated: false,
            case_insensitive: true,
        };
        assert!(!is_shippable(&ilike));
        let to_text = Expr::Cast { expr: Box::new(col(3, DataType::Date)), ty: DataType::Text };
        assert!(!is_shippable(&to_text));
        let to_num = Expr::Cast { expr: Box::new(col(0, DataType::Int4)), ty: DataType::Numeric(None) };
        assert!(is_shippable(&to_num));
        assert_eq!(sql(&to_num), "a::numeric");
    }
}
