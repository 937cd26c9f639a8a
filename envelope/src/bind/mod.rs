//! Binding: from sqlparser's AST to a logical plan over typed `fdw_api::Expr`s.
