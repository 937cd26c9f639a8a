//! file_fdw: CSV and text files as foreign tables.
