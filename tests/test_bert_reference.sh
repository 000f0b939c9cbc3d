#!/usr/bin/env bash
# `corpusmill embed-text --model DIR` on the tiny random BERT folders of
# tests/fixtures/ matches the vectors PyTorch computed for them
# (make_tiny_bert.py, which follows transformers' BertModel on one padded
# batch): within 1e-4, as documents and as queries, for CLS pooling with F32
# weights under "bert." names and for mean pooling with F16/BF16 weights and
# truncation to max_seq_length.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
F="$SRC/tests/fixtures"

for m in tiny-bert-cls tiny-bert-mean; do
  for kind in expected expected-query; do
    q=""; [ "$kind" = expected-query ] && q=--query
    for threads in 1 2; do
      "$CM" embed-text --model "$F/$m" $q --threads $threads --batch 3 --output "$m-$kind-$threads.npy" \
        < "$F/tiny-bert-texts.txt" 2>err || { cat err; fail "embed-text --model $m failed"; }
      "$PY" - "$m-$kind-$threads.npy" "$F/$m/$kind.npy" <<'PYEOF' || fail "$m $kind ($threads threads) does not match PyTorch"
import sys
import numpy as np
got, want = np.load(sys.argv[1]), np.load(sys.argv[2])
assert got.shape == want.shape == (8, 32), (got.shape, want.shape)
err = np.abs(got - want).max()
assert err < 1e-4, err
print("%s: max abs difference %.2e" % (sys.argv[1], err))
PYEOF
    done
  done
done
# the query instruction changes the cls model's vectors (it has a prompt)
"$PY" -c "
import numpy as np
a, b = np.load('tiny-bert-cls-expected-1.npy'), np.load('tiny-bert-cls-expected-query-1.npy')
assert np.abs(a - b).max() > 1e-2
" || fail "--query made no difference for a model with a query prompt"

# text output agrees with the .npy
"$CM" embed-text --model "$F/tiny-bert-mean" < "$F/tiny-bert-texts.txt" > v.txt
"$PY" -c "
import numpy as np
assert np.allclose(np.loadtxt('v.txt', dtype=np.float32), np.load('tiny-bert-mean-expected-1.npy'), atol=1e-6)
" || fail "the text output differs from the .npy"

# a folder with broken weights is a usage error naming the file
mkdir bad && cp "$F/tiny-bert-cls/"{config.json,vocab.txt} bad/ && head -c 1000 "$F/tiny-bert-cls/model.safetensors" > bad/model.safetensors
set +e
echo hi | "$CM" embed-text --model bad > /dev/null 2>err; rc=$?
set -e
assert_eq "$rc" 2 "broken weights are refused"
assert_file_contains err "bad/model.safetensors" "the error names the weights file"
echo ok
