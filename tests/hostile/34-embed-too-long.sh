# A document over embed.max_document_size: removed as embed:too_long, never passed to the encoder.
setup() { { records 3; python3 -c "print('{\"id\": \"long\", \"content\": \"' + 'word ' * 100000 + '\"}')"; } > in.jsonl; config in.jsonl; printf 'embed:\n  model: hash\n  max_document_size: 64KiB\n' >> c.yaml; }
cmd=(run c.yaml --progress none); rc=0; err=""
check() { [ "$(summary embed.removed.\"embed:too_long\")" = 1 ]; }
