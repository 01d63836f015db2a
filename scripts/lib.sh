# Shared by the scripts: strict mode, the repository root, the Swift toolchain on PATH, and
# log/error/fatal helpers (after swift-nio's scripts). Source it; do not run it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
log() { printf '%s\n' "$*" >&2; }
error() { printf 'error: %s\n' "$*" >&2; }
fatal() { error "$@"; exit 1; }
