//! Unit tests of the functions, with cases read from their C sources.
