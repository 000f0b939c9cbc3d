# A model whose safetensors offsets point past the file's end: exit 2 naming the file and tensor.
setup() { model_copy m; python3 "$HOSTILE/safetensors_edit.py" m/model.safetensors past_end; }
cmd=(embed-text --model m); stdin="hello"; rc=2; err="model.safetensors"
check() { true; }
