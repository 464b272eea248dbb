#!/bin/bash
# tests/lint.sh - clang-format clean, and no banned calls anywhere in the tree.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
mapfile -t SRC < <(git ls-files -co --exclude-standard -- '*.c' '*.h' | grep -v '^build/')

bad=""
for f in "${SRC[@]}"; do
	[ -f "$f" ] || continue
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		bad="$bad $f"
	fi
done
if [ -z "$bad" ]; then t_ok "clang-format clean (${#SRC[@]} files)"; else t_fail "clang-format would change:$bad" "run: clang-format -i$bad"; fi

banned='\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|atol|sscanf|gets|system|popen)[[:space:]]*\('
hits=$(grep -nE "$banned" "${SRC[@]}" 2>/dev/null | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*|//)')
if [ -z "$hits" ]; then t_ok "no banned calls (sprintf strcpy strcat strncpy strtok atoi sscanf gets system popen)"; else t_fail "banned calls found" "$hits"; fi

# The checker itself must catch a banned call.
tmp=$(mktemp -d "$ROOT/build/lint.XXXXXX")
printf 'void f(char *d){ strcpy(d, "x"); }\n' >"$tmp/x.c"
if grep -qE "$banned" "$tmp/x.c"; then t_ok "banned-call check detects strcpy"; else t_fail "banned-call check is blind"; fi
rm -rf "$tmp"
t_done
