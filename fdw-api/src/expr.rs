//! Bound, typed expressions: what the envelope evaluates and what a wrapper may inspect to
//! push a qual down.
//!
//! An `Expr` is produced by the envelope's binder after names are resolved and PostgreSQL's
//! coercion rules applied: every operand already has the type its operator expects (implicit
//! casts appear as explicit `Cast` nodes), so evaluation never guesses. `Column(i)` is the
//! i-th column of the row the expression is evaluated against; in the quals handed to a
//! wrapper (`RelInfo::quals`) it is the i-th column of the foreign table.
//!
//! Expressions are compiled once per query into a flat program (`crate::eval`) rather than
//! interpreted from this tree per row.

use crate::types::{DataType, Datum};

/// Binary operators after resolution. Operands have been coerced to a common type where the
/// operator requires one (`Eq` on `integer` and `numeric` compares two numerics).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    /// `^` (power)
    Pow,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// `IS DISTINCT FROM`
    IsDistinctFrom,
    /// `IS NOT DISTINCT FROM`
    IsNotDistinctFrom,
    And,
    Or,
    /// `||`
    Concat,
}

impl BinaryOp {
    /// The operator as SQL spells it (EXPLAIN, remote SQL deparsing).
    pub fn sql(&self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::IsDistinctFrom => "IS DISTINCT FROM",
            BinaryOp::IsNotDistinctFrom => "IS NOT DISTINCT FROM",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
            BinaryOp::Concat => "||",
        }
    }

    pub fn is_comparison(&self) -> bool {
        matches!(self, BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq)
    }

    /// `a op b` == `b commuted(op) a`.
    pub fn commuted(&self) -> Option<BinaryOp> {
        Some(match self {
            BinaryOp::Eq => BinaryOp::Eq,
            BinaryOp::NotEq => BinaryOp::NotEq,
            BinaryOp::Lt => BinaryOp::Gt,
            BinaryOp::LtEq => BinaryOp::GtEq,
            BinaryOp::Gt => BinaryOp::Lt,
            BinaryOp::GtEq => BinaryOp::LtEq,
            BinaryOp::Add | BinaryOp::Mul | BinaryOp::And | BinaryOp::Or => *self,
            BinaryOp::IsDistinctFrom | BinaryOp::IsNotDistinctFrom => *self,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Not,
    Neg,
    IsNull,
    IsNotNull,
    IsTrue,
    IsNotTrue,
    IsFalse,
    IsNotFalse,
}

/// Built-in scalar functions. Resolution from a name and argument types is
/// `crate::func::resolve_function`; evaluation is in `crate::eval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarFunc {
    Abs,
    Round,
    Trunc,
    Ceil,
    Floor,
    Sqrt,
    Power,
    Sign,
    Mod,
    Length,
    CharLength,
    OctetLength,
    Upper,
    Lower,
    Substring,
    Position,
    BTrim,
    LTrim,
    RTrim,
    Replace,
    Left,
    Right,
    Lpad,
    Rpad,
    Concat,
    ConcatWs,
    Repeat,
    Reverse,
    SplitPart,
    StrPos,
    Initcap,
    Md5,
    ToChar,
    Extract,
    DatePart,
    DateTrunc,
    Age,
    Now,
    CurrentDate,
    MakeDate,
    Greatest,
    Least,
    Random,
}

/// Aggregate functions. Resolution is `crate::func::resolve_aggregate`; the running state is
/// `crate::eval::Accumulator`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggFunc {
    /// `count(*)`
    CountStar,
    Count,
    Sum,
    Avg,
    Min,
    Max,
    BoolAnd,
    BoolOr,
    StringAgg,
    StddevSamp,
    StddevPop,
    VarSamp,
    VarPop,
}

impl AggFunc {
    /// The aggregate's SQL name, as `crate::func::resolve_aggregate` accepts it back.
    pub fn sql_name(&self) -> &'static str {
        match self {
            AggFunc::CountStar | AggFunc::Count => "count",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::BoolAnd => "bool_and",
            AggFunc::BoolOr => "bool_or",
            AggFunc::StringAgg => "string_agg",
            AggFunc::StddevSamp => "stddev_samp",
            AggFunc::StddevPop => "stddev_pop",
            AggFunc::VarSamp => "var_samp",
            AggFunc::VarPop => "var_pop",
        }
    }
}

/// What a sub-select in an expression yields (PostgreSQL's SubLink kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubLinkKind {
    /// `(SELECT x ...)`: its one value, NULL for no row, error for more than one.
    Scalar,
    /// `EXISTS (SELECT ...)`
    Exists,
    /// `lhs op ANY (SELECT ...)` / `lhs IN (SELECT ...)`; the test is `test` of `SubPlan`.
    Any,
    /// `lhs op ALL (SELECT ...)` / `lhs NOT IN` is `NOT (lhs = ANY ...)`.
    All,
}

/// A bound expression. Every node knows its result type (`Expr::data_type`).
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// The i-th column of the input row.
    Column {
        index: usize,
        ty: DataType,
    },
    Const {
        value: Datum,
        ty: DataType,
    },
    /// A query parameter: `$1` is `Param(0)`; the envelope also uses params for values passed
    /// from the outer side of a nested loop or from an outer query into a correlated subquery.
    Param {
        index: usize,
        ty: DataType,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
        ty: DataType,
    },
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
        ty: DataType,
    },
    Func {
        func: ScalarFunc,
        args: Vec<Expr>,
        ty: DataType,
    },
    Cast {
        expr: Box<Expr>,
        ty: DataType,
    },
    /// `CASE WHEN .. THEN .. ELSE .. END`. The binder turns `CASE x WHEN a` into
    /// `CASE WHEN x = a`.
    Case {
        whens: Vec<(Expr, Expr)>,
        else_expr: Option<Box<Expr>>,
        ty: DataType,
    },
    Coalesce {
        args: Vec<Expr>,
        ty: DataType,
    },
    NullIf {
        left: Box<Expr>,
        right: Box<Expr>,
        ty: DataType,
    },
    /// `expr [NOT] IN (list)`: the list is already coerced to the type of `expr`.
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// `expr [NOT] LIKE/ILIKE pattern [ESCAPE e]`
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        escape: Option<char>,
        negated: bool,
        case_insensitive: bool,
    },
    /// A sub-select, planned separately by the envelope (`id` indexes the query's sub-plan
    /// list, which also holds the parameter ids `args` are bound to and, for `Any`/`All`, the
    /// comparison of `lhs` with each row). `args` are evaluated in the current row
    /// (correlation); `lhs` is the left operand of `Any`/`All`.
    SubPlan {
        id: usize,
        kind: SubLinkKind,
        args: Vec<Expr>,
        lhs: Option<Box<Expr>>,
        ty: DataType,
    },
}

impl Expr {
    pub fn data_type(&self) -> DataType {
        match self {
            Expr::Column { ty, .. }
            | Expr::Const { ty, .. }
            | Expr::Param { ty, .. }
            | Expr::Binary { ty, .. }
            | Expr::Unary { ty, .. }
            | Expr::Func { ty, .. }
            | Expr::Cast { ty, .. }
            | Expr::Case { ty, .. }
            | Expr::Coalesce { ty, .. }
            | Expr::NullIf { ty, .. }
            | Expr::SubPlan { ty, .. } => ty.clone(),
            Expr::InList { .. } | Expr::Like { .. } => DataType::Bool,
        }
    }

    pub fn column(index: usize, ty: DataType) -> Expr {
        Expr::Column { index, ty }
    }

    pub fn constant(value: Datum, ty: DataType) -> Expr {
        Expr::Const { value, ty }
    }

    pub fn null(ty: DataType) -> Expr {
        Expr::Const { value: Datum::Null, ty }
    }

    /// Direct children, in evaluation order.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Column { .. } | Expr::Const { .. } | Expr::Param { .. } => vec![],
            Expr::Binary { left, right, .. } => vec![left, right],
            Expr::Unary { expr, .. } | Expr::Cast { expr, .. } => vec![expr],
            Expr::Func { args, .. } | Expr::Coalesce { args, .. } => args.iter().collect(),
            Expr::Case { whens, else_expr, .. } => {
                let mut v: Vec<&Expr> = Vec::new();
                for (w, t) in whens {
                    v.push(w);
                    v.push(t);
                }
                if let Some(e) = else_expr {
                    v.push(e);
                }
                v
            }
            Expr::NullIf { left, right, .. } => vec![left, right],
            Expr::InList { expr, list, .. } => std::iter::once(&**expr).chain(list.iter()).collect(),
            Expr::Like { expr, pattern, .. } => vec![expr, pattern],
            Expr::SubPlan { args, lhs, .. } => args.iter().chain(lhs.as_deref()).collect(),
        }
    }

    /// Mutable direct children (same order as `children`).
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Expr::Column { .. } | Expr::Const { .. } | Expr::Param { .. } => vec![],
            Expr::Binary { left, right, .. } => vec![left, right],
            Expr::Unary { expr, .. } | Expr::Cast { expr, .. } => vec![expr],
            Expr::Func { args, .. } | Expr::Coalesce { args, .. } => args.iter_mut().collect(),
            Expr::Case { whens, else_expr, .. } => {
                let mut v: Vec<&mut Expr> = Vec::new();
                for (w, t) in whens {
                    v.push(w);
                    v.push(t);
                }
                if let Some(e) = else_expr {
                    v.push(e);
                }
                v
            }
            Expr::NullIf { left, right, .. } => vec![left, right],
            Expr::InList { expr, list, .. } => std::iter::once(&mut **expr).chain(list.iter_mut()).collect(),
            Expr::Like { expr, pattern, .. } => vec![expr, pattern],
            Expr::SubPlan { args, lhs, .. } => args.iter_mut().chain(lhs.as_deref_mut()).collect(),
        }
    }

    /// Visits every node, parents before children.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        for c in self.children() {
            c.walk(f);
        }
    }

    /// Rewrites the tree bottom-up.
    pub fn transform(self, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
        let mut e = self;
        for c in e.children_mut() {
            let taken = std::mem::replace(c, Expr::null(DataType::Unknown));
            *c = taken.transform(f);
        }
        f(e)
    }

    /// Column indexes referenced (not counting those inside sub-selects' own plans).
    pub fn columns(&self) -> Vec<usize> {
        let mut v = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Column { index, .. } = e {
                if !v.contains(index) {
                    v.push(*index);
                }
            }
        });
        v
    }

    /// True when the expression contains a sub-select, a parameter or a volatile function,
    /// i.e. it cannot be evaluated once at plan time or shipped to a wrapper as is.
    pub fn has_subplan(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| found |= matches!(e, Expr::SubPlan { .. }));
        found
    }

    pub fn is_volatile(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| found |= matches!(e, Expr::Func { func: ScalarFunc::Random, .. } | Expr::SubPlan { .. }));
        found
    }

    /// Splits a conjunction into its conjuncts.
    pub fn split_conjunction(self) -> Vec<Expr> {
        match self {
            Expr::Binary { op: BinaryOp::And, left, right, .. } => {
                let mut v = left.split_conjunction();
                v.extend(right.split_conjunction());
                v
            }
            e => vec![e],
        }
    }

    /// Joins conjuncts with AND; `None` for an empty list.
    pub fn conjunction(mut exprs: Vec<Expr>) -> Option<Expr> {
        let first = if exprs.is_empty() {
            return None;
        } else {
            exprs.remove(0)
        };
        Some(exprs.into_iter().fold(first, |acc, e| Expr::Binary {
            op: BinaryOp::And,
            left: Box::new(acc),
            right: Box::new(e),
            ty: DataType::Bool,
        }))
    }
}
