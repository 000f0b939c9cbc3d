#!/usr/bin/python3
"""Random-weight BERT folders shaped like real embedding models, for
bench/embed.sh (speed only: the weights mean nothing).

    /usr/bin/python3 bench/make_random_bert.py OUT_DIR minilm|bge-small-zh

minilm        all-MiniLM-L6-v2: vocab 30522, hidden 384, 6 layers, 12 heads, FFN 1536, mean pooling
bge-small-zh  bge-small-zh-v1.5: vocab 21128 (special tokens, then CJK ideographs, then ##pieces),
              hidden 512, 4 layers, 8 heads, FFN 2048, CLS pooling
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
from make_tiny_bert import random_weights, save_safetensors  # noqa: E402

SHAPES = {
    "minilm": dict(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                   intermediate_size=1536),
    "bge-small-zh": dict(vocab_size=21128, hidden_size=512, num_hidden_layers=4, num_attention_heads=8,
                         intermediate_size=2048),
}


def vocab(n):
    toks = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [chr(c) for c in range(33, 127)]
    toks += [chr(c) for c in range(0x3000, 0x3040)] + [chr(c) for c in range(0xFF01, 0xFF5F)]
    toks += [chr(c) for c in range(0x4E00, 0x4E00 + 12000)]
    i = 0
    while len(toks) < n:
        toks.append("##t%d" % i if i % 2 else "t%d" % i)
        i += 1
    return toks[:n]


def main(out, kind):
    cfg = dict(SHAPES[kind], architectures=["BertModel"], model_type="bert", max_position_embeddings=512,
               type_vocab_size=2, layer_norm_eps=1e-12, hidden_act="gelu", position_embedding_type="absolute")
    os.makedirs(out, exist_ok=True)
    json.dump(cfg, open(os.path.join(out, "config.json"), "w"), indent=2)
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab(cfg["vocab_size"])) + "\n")
    json.dump({"do_lower_case": True}, open(os.path.join(out, "tokenizer_config.json"), "w"))
    if kind == "minilm":
        os.makedirs(os.path.join(out, "1_Pooling"), exist_ok=True)
        json.dump({"pooling_mode_mean_tokens": True}, open(os.path.join(out, "1_Pooling", "config.json"), "w"))
    w = random_weights(cfg, torch.Generator().manual_seed(7))
    save_safetensors(os.path.join(out, "model.safetensors"), {k: (v, "F32") for k, v in w.items()})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
