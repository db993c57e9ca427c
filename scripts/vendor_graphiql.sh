#!/usr/bin/env bash
# Refresh GraphiQL's vendored files (eterna/adapters/web/graphiql/): fetch the npm packages of
# GraphiQL, React and ReactDOM with `npm pack` into a temporary folder, copy their production
# (minified) browser builds and licences unmodified, and record each file's package, version
# and sha256 in eterna/adapters/web/graphiql/VENDOR.md. GraphiQL 3.9 is the last release with
# a browser (UMD) build; 4 and later ship ES modules for a bundler only.
# Usage: scripts/vendor_graphiql.sh [GRAPHIQL_VERSION [REACT_VERSION]]
set -euo pipefail
cd "$(dirname "$0")/.."

graphiql_version="${1:-3.9.0}"
react_version="${2:-18.3.1}"
out=eterna/adapters/web/graphiql
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# unpack NAME VERSION: leaves the package in $tmp/NAME and prints its resolved version.
unpack() {
  local tarball
  tarball=$(cd "$tmp" && npm pack --silent "$1@$2")
  mkdir -p "$tmp/$1"
  tar -xzf "$tmp/$tarball" -C "$tmp/$1" --strip-components=1
  node -p "require('$tmp/$1/package.json').version"
}

rows=()
# take PACKAGE VERSION SOURCE TARGET: copy one file and remember its manifest row.
take() {
  cp "$tmp/$1/$3" "$out/$4"
  local sha licence
  sha=$(sha256sum "$out/$4" | cut -d' ' -f1)
  licence=$(node -p "require('$tmp/$1/package.json').license")
  rows+=("| \`$4\` | $1 | $2 | $licence (\`$1.LICENSE.txt\`) | \`$3\` | \`$sha\` |")
}

graphiql=$(unpack graphiql "$graphiql_version")
react=$(unpack react "$react_version")
react_dom=$(unpack react-dom "$react_version")

take react "$react" umd/react.production.min.js react.production.min.js
take react-dom "$react_dom" umd/react-dom.production.min.js react-dom.production.min.js
take graphiql "$graphiql" graphiql.min.js graphiql.min.js
take graphiql "$graphiql" graphiql.min.css graphiql.min.css
for package in graphiql react react-dom; do
  cp "$tmp/$package/LICENSE" "$out/$package.LICENSE.txt"
done

{
  echo "# Vendored GraphiQL"
  echo
  echo "The files GraphiQL's page at \`/graphql\` loads, served by Eterna from this folder under"
  echo "a Content-Security-Policy that allows only its own origin: the page needs no network"
  echo "beyond the server. Each is its package's production build, unmodified."
  echo
  echo "| file | package | version | licence | from | sha256 |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Refresh with \`bash scripts/vendor_graphiql.sh [GRAPHIQL_VERSION [REACT_VERSION]]\`;"
  echo "\`tests/unit/test_graphiql_files.py\` checks that this note matches the files."
} > "$out/VENDOR.md"
echo "graphiql $graphiql, react $react, react-dom $react_dom vendored into $out"
