# Two tensors whose byte ranges overlap: refused, naming them.
setup() { model_copy m; python3 "$HOSTILE/safetensors_edit.py" m/model.safetensors overlap; }
cmd=(embed-text --model m); stdin="hello"; rc=2; err="overlap"
check() { true; }
