# Overlong UTF-8 (C0 AF for '/') and a 5-byte form: replaced by U+FFFD (invalid_utf8: replace), counted.
setup() { { printf '{"id": "o", "content": "over\xc0\xaflong and \xf8\x88\x80\x80\x80 five plus enough words to keep"}\n'; } > in.jsonl; config in.jsonl; }
cmd=(clean c.yaml); rc=0; err=""
check() { [ "$(summary clean.utf8_repaired)" = 1 ] && ! find o -name '*.zst' -exec zstdcat {} + | grep -q $'\xc0\xaf'; }
