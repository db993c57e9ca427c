#!/usr/bin/env bash
# Refresh the vendored graphql-ws browser client of the order page (eterna/adapters/web/static/): fetch the
# npm package with `npm pack` into a temporary folder, copy its UMD build and licence, and
# record the version and checksum in eterna/adapters/web/static/VENDOR.md. Usage: scripts/vendor-graphql-ws.sh [VERSION]
set -euo pipefail
cd "$(dirname "$0")/.."

version="${1:-latest}"
web=eterna/adapters/web/static
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tarball=$(cd "$tmp" && npm pack --silent "graphql-ws@$version")
tar -xzf "$tmp/$tarball" -C "$tmp"
resolved=$(node -p "require('$tmp/package/package.json').version")
license=$(node -p "require('$tmp/package/package.json').license")

cp "$tmp/package/umd/graphql-ws.js" "$web/graphql-ws.js"
cp "$tmp/package/LICENSE.md" "$web/graphql-ws.LICENSE.md"
sha=$(sha256sum "$web/graphql-ws.js" | cut -d' ' -f1)

cat > "$web/VENDOR.md" <<MD
# Vendored code

| file | package | version | licence | from |
|---|---|---|---|---|
| \`graphql-ws.js\` | graphql-ws (npm) | $resolved | $license (\`graphql-ws.LICENSE.md\`) | \`umd/graphql-ws.js\` of the package, unmodified |

sha256 of \`graphql-ws.js\`: \`$sha\`

Refresh with \`bash scripts/vendor-graphql-ws.sh [VERSION]\`; \`tests/unit/test_order_page.py\`
checks that this note matches the file.
MD
echo "graphql-ws $resolved vendored into $web (sha256 $sha)"
