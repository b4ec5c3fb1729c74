#!/usr/bin/env bash
# Re-create api/static/vendor from npm (the registry, not a CDN): the exact versions in
# ui/package.json / ui/package-lock.json, copied with their licences.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/ui"
npm ci --no-audit --no-fund --silent 2>/dev/null || npm install --no-audit --no-fund --silent
vendor="$root/api/static/vendor"
rm -rf "$vendor" && mkdir -p "$vendor/cytoscape" "$vendor/yasgui"
cp node_modules/cytoscape/dist/cytoscape.min.js node_modules/cytoscape/LICENSE "$vendor/cytoscape/"
cp node_modules/@zazuko/yasgui/build/yasgui.min.js node_modules/@zazuko/yasgui/build/yasgui.min.css "$vendor/yasgui/"
# @zazuko/yasgui ships no licence file; record what its package.json declares
node -e 'const p=require("./node_modules/@zazuko/yasgui/package.json"); console.log(`${p.name} ${p.version}: licence ${p.license} (declared in its package.json); source ${(p.repository||{}).url||p.homepage||""}`)' > "$vendor/yasgui/LICENSE.txt"
sed -i 's|//# sourceMappingURL=.*||' "$vendor/yasgui/yasgui.min.js" "$vendor/cytoscape/cytoscape.min.js" || true
node -e 'const p=require("./package-lock.json").packages; for (const k of ["node_modules/cytoscape","node_modules/@zazuko/yasgui"]) console.log(k.replace("node_modules/",""), p[k].version, p[k].license || "")' > "$vendor/VERSIONS.txt"
echo "vendored into $vendor:"; cat "$vendor/VERSIONS.txt"
