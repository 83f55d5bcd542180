#!/usr/bin/env bash
# Builds target/debian/pjprov_*.deb: the binary, its man page, the templates (/usr/share/pjprov/templates),
# the example config and the systemd unit (installed, not enabled).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked
cargo build --release -p pjprov
./target/release/pjprov man | gzip -9n > target/pjprov.1.gz
cargo deb -p pjprov --no-build
